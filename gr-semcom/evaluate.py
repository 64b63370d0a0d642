"""Evaluation harness: sweep models x image sets x links x SNRs through the GNU Radio flowgraphs.

    python -m gnuradio.semcom.evaluate --models deepjscc_bsds_r16 --images kodak \\
        --snr 0 5 10 20 --out out/eval
    python -m gnuradio.semcom.evaluate --models bitsemcom_cifar10 --images samples \\
        --modulation qpsk 16qam 64qam --channel awgn rayleigh --snr 0 5 10

DeepJSCC models run over ``flowgraphs.awgn_point_to_point`` (analog symbols,
AWGN only: ``--modulation`` does not apply, and ``--channel rayleigh`` is
skipped for them with a note). BitSemCom models run over
``flowgraphs.digital_point_to_point`` once per ``--modulation`` (names of
``modulations.MODULATIONS``) and ``--channel`` ("awgn", or "rayleigh": block
fading, one coefficient per image, known to the receiver): one trained bundle,
any constellation.

Writes ``<out>/metrics.csv`` (one row per image, link and SNR: model, images,
image, modulation ("analog" for DeepJSCC), channel, snr_db, psnr_db, ssim,
channel_uses (complex symbols per image), height, width), ``<out>/summary.md``
(mean PSNR and SSIM per model, image set, modulation, channel and SNR),
``<out>/psnr_vs_snr.png``, and with ``--save-images`` the decoded PNGs under
``<out>/images/``. Prints the summary table.

Image sets: "kodak", "samples" (scikit-image's photos), "default" (Kodak when
``../shared/datasets/kodak`` exists, else the samples), a folder or a glob.
"""
from __future__ import annotations

import argparse
import csv
import pathlib
import re
import statistics
import sys

from gnuradio.semcom import bundle, flowgraphs, images, modulations

COLUMNS = ("model", "images", "image", "modulation", "channel", "snr_db", "psnr_db", "ssim", "channel_uses",
           "height", "width")
ANALOG = "analog"  # the modulation column of DeepJSCC rows
CHANNELS = flowgraphs.CHANNELS


def resolve_set(name: str) -> str:
    """Image set spec for ``name``; "default" picks Kodak when present."""
    if name == "default":
        return "kodak" if (images.dataset_root() / "kodak").is_dir() else "samples"
    return name


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "set"


def links(model_bundle: bundle.Bundle, modulation_names, channels) -> list[tuple[str, str]]:
    """(modulation, channel) pairs ``model_bundle`` runs over: BitSemCom every
    modulation over every channel; DeepJSCC analog symbols over AWGN alone."""
    if isinstance(model_bundle, bundle.BitSemComBundle):
        return [(m, c) for m in modulation_names for c in channels]
    return [(ANALOG, "awgn")] if "awgn" in channels else []


def make_graph(model, spec: str, modulation: str, channel: str, snr_db: float, folder: str, seed: int):
    """The flowgraph of one link: awgn_point_to_point for ANALOG, else digital_point_to_point."""
    if modulation == ANALOG:
        return flowgraphs.awgn_point_to_point(model, spec, snr_db=snr_db, out_dir=folder, seed=seed)
    return flowgraphs.digital_point_to_point(model, spec, constellation=modulation, channel=channel,
                                             snr_db=snr_db, out_dir=folder, seed=seed)


def run(models, image_sets, snrs, out: pathlib.Path | None = None, save_images=False, seed=1,
        timeout=1800.0, modulation_names=("qpsk",), channels=("awgn",)) -> list[dict]:
    """Every (model, image set, link, SNR) through its flowgraph (see ``links``);
    returns one row per image (keys ``COLUMNS``)."""
    for name in modulation_names:
        modulations.expression(name)  # KeyError naming the known ones
    for channel in channels:
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
    rows = []
    for model in models:
        model_bundle = bundle.Bundle(model)
        model_links = links(model_bundle, modulation_names, channels)
        skipped = sorted(set(channels) - {channel for _, channel in model_links})
        if skipped:
            print(f"note: {model_bundle.model_id} is a {model_bundle.method} model, run over awgn only: "
                  f"skipped {', '.join(skipped)}", file=sys.stderr)
        for image_set in image_sets:
            spec = resolve_set(image_set)
            for modulation, channel in model_links:
                for snr_db in snrs:
                    folder = ""
                    if save_images and out is not None:
                        link = [] if modulation == ANALOG else [f"{modulation}_{channel}"]
                        folder = str(out.joinpath("images", _slug(model_bundle.model_id), _slug(spec), *link,
                                                  f"snr{snr_db:g}"))
                    graph = make_graph(model, spec, modulation, channel, snr_db, folder, seed)
                    for row in graph.run_images(timeout):
                        rows.append({**{k: row[k] for k in COLUMNS if k in row}, "model": model_bundle.model_id,
                                     "images": spec, "modulation": modulation, "channel": channel,
                                     "snr_db": snr_db, "channel_uses": row["n_symbols"]})
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Mean PSNR and SSIM per (model, images, modulation, channel, snr_db), in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["model"], row["images"], row.get("modulation", ANALOG), row.get("channel", "awgn"), row["snr_db"])
        groups.setdefault(key, []).append(row)
    return [{"model": m, "images": s, "modulation": mod, "channel": ch, "snr_db": snr, "n": len(g),
             "psnr_db": statistics.fmean(r["psnr_db"] for r in g),
             "ssim": statistics.fmean(r["ssim"] for r in g)} for (m, s, mod, ch, snr), g in groups.items()]


def markdown(summary: list[dict]) -> str:
    lines = ["| model | images | modulation | channel | SNR (dB) | n | PSNR (dB) | SSIM |",
             "|---|---|---|---|---:|---:|---:|---:|"]
    lines += [f"| {s['model']} | {s['images']} | {s['modulation']} | {s['channel']} | {s['snr_db']:g} | {s['n']} "
              f"| {s['psnr_db']:.2f} | {s['ssim']:.4f} |" for s in summary]
    return "\n".join(lines) + "\n"


def plot(summary: list[dict], path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    figure, axis = pyplot.subplots(figsize=(6, 4))
    curves: dict[tuple, list] = {}
    for s in summary:
        link = () if s["modulation"] == ANALOG else (s["modulation"], s["channel"])
        curves.setdefault((s["model"], s["images"], *link), []).append((s["snr_db"], s["psnr_db"]))
    for label, points in curves.items():
        points.sort()
        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=" / ".join(label))
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
    parser.add_argument("--modulation", nargs="+", default=["qpsk"], choices=list(modulations.MODULATIONS),
                        help="constellations for BitSemCom models (DeepJSCC models send analog symbols)")
    parser.add_argument("--channel", nargs="+", default=["awgn"], choices=CHANNELS,
                        help="awgn, or rayleigh block fading with CSI (BitSemCom models only)")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (bits and fading: seed + 1, seed + 2)")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    rows = run(args.models, args.images, args.snr, out, args.save_images, args.seed,
               modulation_names=args.modulation, channels=args.channel)
    summary = write(rows, out)
    print(markdown(summary), end="")
    print(f"wrote {out / 'metrics.csv'}, {out / 'summary.md'}, {out / 'psnr_vs_snr.png'}")
    return summary


if __name__ == "__main__":
    main()
