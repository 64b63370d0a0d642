#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The harness's results: metrics.csv rows, their summary per link and SNR, Markdown tables and plots.

Rows are dicts keyed by ``COLUMNS`` (one per image, link and SNR, as ``evaluate.run`` makes them);
``write`` turns a run's rows into ``metrics.csv``, ``summary.md`` and the PSNR/SSIM-versus-SNR plots,
``read_rows`` reads a ``metrics.csv`` back (``semcom-eval --merge``).
"""
from __future__ import annotations

import csv
import pathlib
import re
import statistics

COLUMNS = ("model", "images", "image", "modulation", "channel", "snr_db", "psnr_db", "ssim", "lpips", "hash_cosine",
           "hash_hamming", "channel_uses",
           "height", "width", "decode_failed", "payload_bits", "relays", "bpp", "samples", "psnr_min", "psnr_max",
           "ssim_min", "ssim_max", "accuracy", "ib_bpp")
# metrics.csv files written before relays and bpp, and before the draws' columns, existed still merge
_OLD_COLUMNS = (COLUMNS[:-9], COLUMNS[:-7])
SAMPLE_COLUMNS = ("psnr_min", "psnr_max", "ssim_min", "ssim_max")
ANALOG = "analog"  # the modulation column of DeepJSCC rows
GAUSSIAN = "gaussian"  # the modulation column of capacity rows

def burst_markdown(stats: list[dict]) -> str:
    """The burst links' detection and header error rates as a Markdown table."""
    lines = ["| model | images | modulation | channel | SNR (dB) | bursts | detected | header errors | delivered |",
             "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for s in stats:
        lines.append(f"| {s['model']} | {s['images']} | {s['modulation']} | {s['channel']} | {s['snr_db']:g} "
                     f"| {s['sent']} | {s['detected'] / s['sent']:.3f} | {s['header_errors']} "
                     f"| {s['delivered'] / s['sent']:.3f} |")
    return "\n".join(lines) + "\n"


def summarize(rows: list[dict]) -> list[dict]:
    """Mean PSNR and SSIM (fallback images included) and the failure rate
    (mean decode_failed; None for models that do not report it) per
    (model, images, modulation, channel, snr_db), in first-seen order."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = (row["model"], row["images"], row.get("modulation", ANALOG), row.get("channel", "awgn"), row["snr_db"])
        groups.setdefault(key, []).append(row)
    summary = []
    for (m, s, mod, ch, snr), g in groups.items():
        failed = [int(r["decode_failed"]) for r in g if r.get("decode_failed", "") != ""]
        extra = {key: [float(r[key]) for r in g if r.get(key, "") != ""]
                 for key in ("lpips", "hash_cosine", "hash_hamming", "accuracy", "ib_bpp", *SAMPLE_COLUMNS)}
        summary.append({"model": m, "images": s, "modulation": mod, "channel": ch, "snr_db": snr, "n": len(g),
                        "relays": g[0].get("relays", ""), "bpp": g[0].get("bpp", ""),
                        "samples": max(int(r.get("samples") or 1) for r in g),
                        "psnr_db": statistics.fmean(r["psnr_db"] for r in g),
                        "ssim": statistics.fmean(r["ssim"] for r in g),
                        **{key: statistics.fmean(v) if v else None for key, v in extra.items()},
                        # lost bursts have no channel uses of their own
                        "channel_uses": statistics.fmean([int(r["channel_uses"]) for r in g
                                                          if r.get("channel_uses", "") != ""] or [0]),
                        "decode_failed": statistics.fmean(failed) if failed else None})
    return summary


def markdown(summary: list[dict]) -> str:
    """The summary as a Markdown table; the draws' columns (PSNR and SSIM min - max, means over
    images of each image's extremes) show for links decoded more than once."""
    lines = ["| model | images | modulation | channel | relays | bpp | SNR (dB) | n | PSNR (dB) | SSIM | LPIPS | "
             "hash cos | hash Hamming | failed | draws | PSNR min - max | SSIM min - max | accuracy | IB bpp |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in summary:
        failed = "-" if s.get("decode_failed") is None else f"{s['decode_failed']:.2f}"
        extra = " | ".join("-" if s.get(key) is None else f"{s[key]:{form}}"
                           for key, form in (("lpips", ".4f"), ("hash_cosine", ".4f"), ("hash_hamming", ".2f")))
        relays, bpp = (s.get(key) if s.get(key) not in (None, "") else "-" for key in ("relays", "bpp"))
        samples = s.get("samples", 1)
        spread = (f"{s['psnr_min']:.2f} - {s['psnr_max']:.2f} | {s['ssim_min']:.4f} - {s['ssim_max']:.4f}"
                  if samples > 1 and s.get("psnr_min") is not None else "- | -")
        tail = " | ".join("-" if s.get(key) is None else f"{s[key]:{form}}"
                          for key, form in (("accuracy", ".3f"), ("ib_bpp", ".3f")))
        lines.append(f"| {s['model']} | {s['images']} | {s['modulation']} | {s['channel']} | {relays} | {bpp} "
                     f"| {s['snr_db']:g} "
                     f"| {s['n']} | {s['psnr_db']:.2f} | {s['ssim']:.4f} | {extra} | {failed} | {samples} | {spread} "
                     f"| {tail} |")
    return "\n".join(lines) + "\n"


def plot(summary: list[dict], path: pathlib.Path, metric: str = "psnr_db") -> None:
    """``metric`` ("psnr_db", "ssim" or "accuracy") against SNR, one curve per model, image set and
    link; shaded between the mean minimum and maximum over the draws of links decoded several times."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    figure, axis = pyplot.subplots(figsize=(10, 4.5))
    colours = pyplot.get_cmap("tab20").colors  # more curves than the default ten colours
    curves: dict[tuple, list] = {}
    for s in summary:
        link = {GAUSSIAN: (), ANALOG: (s["channel"],)}.get(s["modulation"], (s["modulation"], s["channel"]))
        if s.get(metric) is None:
            continue
        low, high = (s.get(f"{metric.split('_')[0]}_{end}") for end in ("min", "max"))
        spread = (low, high) if s.get("samples", 1) > 1 and low is not None else None
        curves.setdefault((s["model"], s["images"], *link), []).append((s["snr_db"], s[metric], spread))
    for index, (label, points) in enumerate(curves.items()):
        points.sort(key=lambda p: p[0])
        style = "--" if re.search(r"@(capacity|ib)$", label[0]) else "-"
        colour = colours[index % 20]
        axis.plot([p[0] for p in points], [p[1] for p in points], style, marker="o", color=colour,
                  label=" / ".join(label))
        if all(p[2] for p in points):
            axis.fill_between([p[0] for p in points], [p[2][0] for p in points], [p[2][1] for p in points],
                              color=colour, alpha=0.2)
    axis.set_xlabel("SNR (dB)")
    axis.set_ylabel({"psnr_db": "PSNR (dB)", "ssim": "SSIM", "accuracy": "classification accuracy"}[metric])
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)


def plot_relays(summary: list[dict], path: pathlib.Path) -> bool:
    """PSNR and LPIPS (SSIM without it) against the number of decode-and-forward relays
    (models named ``<family>_df<r>...``, r = 0 for the family's single-hop model) and
    against the bits per pixel of quantize-and-forward relays, one curve per family and
    SNR; returns False (no file) when the summary has neither."""
    relayed = [s for s in summary if s.get("relays") not in (None, "")]
    df = [s for s in relayed if s.get("bpp") in (None, "")]
    qf = [s for s in relayed if s.get("bpp") not in (None, "")]
    if not any(int(s["relays"]) for s in df) and not qf:
        return False
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    second = "lpips" if all(s.get("lpips") is not None for s in relayed) else "ssim"
    panels = [(rows, key) for rows, key in ((df, "relays"), (qf, "bpp")) if rows and (key == "bpp" or any(
        int(s["relays"]) for s in rows))]
    figure, axes = pyplot.subplots(2, len(panels), figsize=(6 * len(panels), 7), squeeze=False)
    for column, (rows, key) in enumerate(panels):
        curves: dict[tuple, list] = {}
        for s in rows:
            family = re.sub(r"_df\d+", "", s["model"].split("@")[0])
            curves.setdefault((family, s["modulation"], s["snr_db"]), []).append(s)
        for (family, modulation, snr), points in curves.items():
            points.sort(key=lambda s: float(s[key]))
            for row, metric in enumerate(("psnr_db", second)):
                axes[row][column].plot([float(s[key]) for s in points], [s[metric] for s in points], marker="o",
                                       label=f"{family} {'' if modulation in (ANALOG, 'noiseless') else modulation} "
                                             f"{snr:g} dB")
        for row, metric in enumerate(("psnr_db", second)):
            axis = axes[row][column]
            axis.set_xlabel({"relays": "decode-and-forward relays", "bpp": "quantize-and-forward bits per pixel"}[key])
            axis.set_ylabel({"psnr_db": "PSNR (dB)", "lpips": "LPIPS (lower is better)", "ssim": "SSIM"}[metric])
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    pyplot.close(figure)
    return True


def write(rows: list[dict], out: pathlib.Path) -> list[dict]:
    """metrics.csv, summary.md, psnr_vs_snr.png, ssim_vs_snr.png, accuracy_vs_snr.png (when a
    link scored accuracy) and, for relayed links, relays.png (``plot_relays``) in ``out``;
    returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "metrics.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
    summary = summarize(rows)
    (out / "summary.md").write_text(markdown(summary))
    plot(summary, out / "psnr_vs_snr.png")
    plot(summary, out / "ssim_vs_snr.png", "ssim")
    if any(s.get("accuracy") is not None for s in summary):
        plot(summary, out / "accuracy_vs_snr.png", "accuracy")
    plot_relays(summary, out / "relays.png")
    return summary


def read_rows(path: pathlib.Path) -> list[dict]:
    """The rows of a metrics.csv that ``write`` made, numbers as numbers (ValueError naming
    the file when its columns are not ``COLUMNS``)."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) not in (COLUMNS, *_OLD_COLUMNS):
            raise ValueError(f"{path} is not a metrics.csv of this harness: columns {reader.fieldnames}")
        rows = [{**dict.fromkeys(COLUMNS, ""), **row} for row in reader]
    for row in rows:
        for key in ("snr_db", "psnr_db", "ssim"):
            row[key] = float(row[key])
    return rows
