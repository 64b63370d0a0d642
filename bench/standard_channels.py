#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""GNU Radio's own channel blocks between Symbols to Stream and Stream to Symbols: every
image delivered, and the PSNR against the evaluation harness's symbol-level AWGN link.

    python bench/standard_channels.py                        # both shipped sizes, 10 dB
    python bench/standard_channels.py --snr 0 10 --out       # also bench/results/standard_channels.md
    python bench/standard_channels.py --images kodak         # any image_source images

For each channel below, examples/standard_channel.grc is rewritten with that channel in
place of its Channel Model (the blocks' GRC defaults, but for the noise voltage
10**(-snr/20) and the settings named), compiled with grcc and run headless. The harness
column is ``flowgraphs.analog_point_to_point`` with the same images at the same SNR
(plus 10 log10 |h|^2 where the channel has a gain h): noise only, the two must agree.
"""
from __future__ import annotations

import argparse
import importlib.util
import pathlib
import tempfile

import numpy as np
import yaml
from PIL import Image

from gnuradio.semcom import bundle, images as imaging
from semcom_tools import flowgraphs, grc

import common


ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "standard_channel.grc"
NOISE = "10**(-snr_db/20)"
# the Fading Models' default Doppler, 10.0/samp_rate, at GRC's default samp_rate of 32 kHz
FADING_DOPPLER = "10.0/32000"

# name -> (blocks in the stream's order: (GRC block id, parameters, noise added on input 1),
#          channel power gain in dB for the harness's SNR (None: no harness comparison))
CHANNELS = {
    "wire (no noise)": ([], 0.0),
    "multiply_const_cc 0.5-0.3j (no noise)": ([("blocks_multiply_const_vxx", {"type": "complex",
                                                                              "const": "0.5-0.3j"}, False)], 0.0),
    "channel_model, noise only": ([("channels_channel_model", {"noise_voltage": NOISE, "taps": "1.0"}, False)], 0.0),
    "channel_model, defaults (taps 1+1j)": ([("channels_channel_model", {"noise_voltage": NOISE}, False)],
                                            10 * np.log10(2)),
    "channel_model, CFO 1e-3, taps 1": ([("channels_channel_model", {"noise_voltage": NOISE, "taps": "1.0",
                                                                     "freq_offset": "1e-3"}, False)], 0.0),
    "channel_model, epsilon 1+1e-6, taps 1": ([("channels_channel_model", {"noise_voltage": NOISE, "taps": "1.0",
                                                                           "epsilon": "1 + 1e-6"}, False)], None),
    "channel_model, epsilon 1+1e-5, taps 1": ([("channels_channel_model", {"noise_voltage": NOISE, "taps": "1.0",
                                                                           "epsilon": "1 + 1e-5"}, False)], None),
    "noise_source_c + add_cc (defaults)": ([("blocks_add_xx", {"type": "complex"}, True)], 0.0),
    "fading_model (defaults) + noise": ([("channels_fading_model", {"fDTs": FADING_DOPPLER}, False),
                                         ("blocks_add_xx", {"type": "complex"}, True)], None),
    "selective_fading_model (defaults) + noise": ([("channels_selective_fading_model", {"fDTs": FADING_DOPPLER},
                                                    False), ("blocks_add_xx", {"type": "complex"}, True)], None),
}
# model -> image_source settings: the 32x32 model on the sample photos resized, the
# fully convolutional one on them at full size (symbol counts 29,403 .. 49,152, most not
# a multiple of 8)
MODELS = {"deepjscc_cifar10_r6": {"policy": "resize"}, "deepjscc_bsds_r16": {"policy": "full"}}
# the default images: the sample photos, two at Kodak's 768x512 (73,728 symbols for
# deepjscc_bsds_r16) and two of odd sizes (symbol counts not a multiple of 8, which GNU
# Radio's adder used to hold back)
PHOTO_SIZES = ((512, 768), (512, 768), (300, 452), (92, 60))
COLUMNS = ("channel", "model", "delivered", "PSNR (dB)", "harness (dB)", "difference (dB)")


def photo_set(folder: pathlib.Path) -> pathlib.Path:
    """Write the default images (PHOTO_SIZES) into ``folder`` as PNG files; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    for path, size in zip(imaging.sample_paths(), PHOTO_SIZES):
        picture, _ = imaging.load_image(path)
        Image.fromarray(imaging.fit(picture, "resize", size)).save(folder / f"{path.stem}.png")
    return folder


def _block(name: str, block_id: str, parameters: dict, coordinate) -> dict:
    return {"name": name, "id": block_id, "parameters": dict(parameters),
            "states": {"coordinate": list(coordinate), "rotation": 0, "state": "enabled"}}


def build(channel: str, model: str, out: pathlib.Path) -> pathlib.Path:
    """examples/standard_channel.grc with ``channel`` (a name of CHANNELS) in place of its
    Channel Model and the image source set for ``model``; written to ``out``."""
    flowgraph = yaml.safe_load(EXAMPLE.read_text())
    chain, _ = CHANNELS[channel]
    old = "channels_channel_model_0"
    x, y = next(b for b in flowgraph["blocks"] if b["name"] == old)["states"]["coordinate"]
    flowgraph["blocks"] = [b for b in flowgraph["blocks"] if b["name"] != old]
    flowgraph["connections"] = [c for c in flowgraph["connections"] if old not in c]
    previous = "semcom_symbols_to_stream_0"
    for index, (block_id, parameters, noisy) in enumerate(chain):
        name = f"channel_{index}"
        flowgraph["blocks"].append(_block(name, block_id, parameters, (x + 200 * index, y)))
        flowgraph["connections"].append([previous, "0", name, "0"])
        if noisy:
            flowgraph["blocks"].append(_block(f"noise_{index}", "analog_noise_source_x",
                                              {"type": "complex", "amp": NOISE, "seed": "1"},
                                              (x + 200 * index, y + 200)))
            flowgraph["connections"].append([f"noise_{index}", "0", name, "1"])
        previous = name
    flowgraph["connections"].append([previous, "0", "semcom_stream_to_symbols_0", "0"])
    next(b for b in flowgraph["blocks"] if b["name"] == "model")["parameters"]["value"] = model
    next(b for b in flowgraph["blocks"] if b["id"] == "semcom_image_source")["parameters"].update(MODELS[model])
    out.write_text(yaml.safe_dump(flowgraph, sort_keys=False))
    return out


def compile_grc(grc_file: pathlib.Path, out_dir: pathlib.Path) -> pathlib.Path:
    """grcc ``grc_file`` with this tree's blocks into ``out_dir``; the script."""
    result = grc.compile_flowgraph(grc_file, out_dir)
    script = out_dir / "standard_channel.py"
    if result.returncode or not script.is_file():
        raise RuntimeError(f"grcc {grc_file.name} failed:\n{result.stdout}\n{result.stderr}")
    return script


def run(script: pathlib.Path, images: str, snr_db: float, timeout: float = 120.0) -> dict:
    """Run the compiled flowgraph until every image is scored (or none arrives for
    ``timeout`` s); delivered and sent images, mean PSNR, and the frames stream_to_symbols dropped."""
    spec = importlib.util.spec_from_file_location(f"standard_channel_{abs(hash(script))}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tb = module.standard_channel(images=images, snr_db=snr_db, out_dir="")
    sent = tb.semcom_image_source_0.count
    arrivals = tb.semcom_metrics_sink_0.arrivals
    tb.start()
    try:
        while arrivals.count < sent and arrivals.wait(arrivals.count + 1, timeout):
            pass
    finally:
        tb.stop()
        tb.wait()
    rows = tb.semcom_metrics_sink_0.rows
    return {"sent": sent, "delivered": len(rows), "dropped": tb.semcom_stream_to_symbols_0.dropped,
            "psnr_db": float(np.mean([r["psnr_db"] for r in rows])) if rows else float("nan")}


def harness(model: str, images: str, snr_db: float) -> float:
    """Mean PSNR of the evaluation harness's AWGN link (symbol PDUs plus GNU Radio's noise)."""
    link = flowgraphs.analog_point_to_point(str(bundle.DeepJSCCBundle(model).path), images,
                                            policy=MODELS[model]["policy"], snr_db=snr_db)
    return float(np.mean([r["psnr_db"] for r in link.run_images()]))


def measure(channels, models, snrs, images: str, work: pathlib.Path) -> list[dict]:
    rows, references = [], {}
    for channel in channels:
        for model in models:
            script = compile_grc(build(channel, model, work / f"{len(rows)}.grc"), work / f"gen{len(rows)}")
            for snr_db in snrs:
                result = run(script, images, snr_db)
                gain_db = CHANNELS[channel][1]
                reference = float("nan")
                if gain_db is not None:
                    key = (model, snr_db + gain_db if "no noise" not in channel else 100.0)
                    if key not in references:
                        references[key] = harness(model, images, key[1])
                    reference = references[key]
                rows.append({"channel": channel, "model": model, "snr_db": snr_db, **result,
                             "harness_db": reference})
    return rows


def _cell(row: dict, column: str) -> str:
    if column == "channel":
        return row["channel"] + ("" if "no noise" in row["channel"] else f", {row['snr_db']:g} dB")
    if column == "model":
        return row["model"]
    if column == "delivered":
        return f"{row['delivered']} / {row['sent']}"
    value = {"PSNR (dB)": row["psnr_db"], "harness (dB)": row["harness_db"],
             "difference (dB)": row["psnr_db"] - row["harness_db"]}[column]
    return "-" if np.isnan(value) else f"{value:+.2f}" if column.startswith("difference") else f"{value:.2f}"


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", nargs="+", default=list(CHANNELS), choices=list(CHANNELS))
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--snr", nargs="+", type=float, default=[10.0], help="SNR(s) in dB (default 10)")
    parser.add_argument("--images", help="image_source images (default: the sample photos at "
                                         "768x512, 768x512, 300x452 and 92x60)")
    common.add_out_option(parser, "standard_channels.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        images = args.images or str(photo_set(pathlib.Path(work) / "photos"))
        rows = measure(args.channels, args.models, args.snr, images, pathlib.Path(work))
    shown_images = args.images or "the sample photos at " + ", ".join(f"{w}x{h}" for h, w in PHOTO_SIZES)
    title = (f"GNU Radio channel blocks between Symbols to Stream and Stream to Symbols "
             f"(images: {shown_images}; harness: the symbol-level AWGN link at the same SNR, "
             f"plus the channel's power gain):")
    shown = [{column: _cell(row, column) for column in COLUMNS} for row in rows]
    common.publish([title, common.table(COLUMNS, shown, lambda column, text: text)], args.out, "standard_channels.md")
    return rows


if __name__ == "__main__":
    main()
