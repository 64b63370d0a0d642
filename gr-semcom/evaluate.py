"""Evaluation harness: sweep models x image sets x SNRs through the GNU Radio flowgraph.

    python -m gnuradio.semcom.evaluate --models deepjscc_bsds_r16 --images kodak \\
        --snr 0 5 10 20 --out out/eval

Writes ``<out>/metrics.csv`` (one row per image and SNR: model, images, image,
snr_db, psnr_db, ssim, n_symbols, height, width), ``<out>/summary.md`` (mean
PSNR and SSIM per model, image set and SNR), ``<out>/psnr_vs_snr.png``, and
with ``--save-images`` the decoded PNGs under ``<out>/images/``. Prints the
summary table.

Image sets: "kodak", "samples" (scikit-image's photos), "default" (Kodak when
``../shared/datasets/kodak`` exists, else the samples), a folder or a glob.
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import re
import statistics

from gnuradio.semcom import bundle, images

COLUMNS = ("model", "images", "image", "snr_db", "psnr_db", "ssim", "n_symbols", "height", "width")


def resolve_set(name: str) -> str:
    """Image set spec for ``name``; "default" picks Kodak when present."""
    if name == "default":
        return "kodak" if (images.dataset_root() / "kodak").is_dir() else "samples"
    return name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "set"


def run(models, image_sets, snrs, out: pathlib.Path | None = None, save_images=False, seed=1,
        timeout=1800.0) -> list[dict]:
    """Every (model, image set, SNR) through ``flowgraphs.awgn_point_to_point``;
    returns one row per image (keys ``COLUMNS``)."""
    from gnuradio.semcom.flowgraphs import awgn_point_to_point
    rows = []
    for model in models:
        model_id = bundle.Bundle(model).model_id
        for image_set in image_sets:
            spec = resolve_set(image_set)
            for snr_db in snrs:
                folder = ""
                if save_images and out is not None:
                    folder = str(out / "images" / _slug(model_id) / _slug(spec) / f"snr{snr_db:g}")
                graph = awgn_point_to_point(model, spec, snr_db=snr_db, out_dir=folder, seed=seed)
                for row in graph.run_images(timeout):
                    rows.append({**{k: row[k] for k in COLUMNS if k in row}, "model": model_id,
                                 "images": spec, "snr_db": snr_db})
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Mean PSNR and SSIM per (model, images, snr_db), in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["images"], row["snr_db"]), []).append(row)
    return [{"model": m, "images": s, "snr_db": snr, "n": len(g),
             "psnr_db": statistics.fmean(r["psnr_db"] for r in g),
             "ssim": statistics.fmean(r["ssim"] for r in g)} for (m, s, snr), g in groups.items()]


def markdown(summary: list[dict]) -> str:
    lines = ["| model | images | SNR (dB) | n | PSNR (dB) | SSIM |", "|---|---|---:|---:|---:|---:|"]
    lines += [f"| {s['model']} | {s['images']} | {s['snr_db']:g} | {s['n']} | {s['psnr_db']:.2f} | {s['ssim']:.4f} |"
              for s in summary]
    return "\n".join(lines) + "\n"


def plot(summary: list[dict], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    figure, axis = pyplot.subplots(figsize=(6, 4))
    curves: dict[tuple, list] = {}
    for s in summary:
        curves.setdefault((s["model"], s["images"]), []).append((s["snr_db"], s["psnr_db"]))
    for (model, image_set), points in curves.items():
        points.sort()
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{model} / {image_set}")
    axis.set_xlabel("SNR (dB)")
    axis.set_ylabel("PSNR (dB)")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def write(rows: list[dict], out: pathlib.Path) -> list[dict]:
    """metrics.csv, summary.md and psnr_vs_snr.png in ``out``; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    summary = summarize(rows)
    (out / "summary.md").write_text(markdown(summary))
    plot(summary, out / "psnr_vs_snr.png")
    return summary


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", required=True, help="bundle folders or shipped model names")
    parser.add_argument("--images", nargs="+", default=["default"], help="image sets (see module doc)")
    parser.add_argument("--snr", nargs="+", type=float, default=[0.0, 5.0, 10.0, 20.0], help="SNRs in dB")
    parser.add_argument("--out", default="out/eval", help="output folder")
    parser.add_argument("--save-images", action="store_true", help="write the decoded PNGs")
    parser.add_argument("--seed", type=int, default=1, help="noise seed")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    rows = run(args.models, args.images, args.snr, out, args.save_images, args.seed)
    summary = write(rows, out)
    print(markdown(summary), end="")
    print(f"wrote {out / 'metrics.csv'}, {out / 'summary.md'}, {out / 'psnr_vs_snr.png'}")
    return summary


if __name__ == "__main__":
    main()
