#!/usr/bin/env bash
# Transmitter, two decode-and-forward relays and receiver as four processes, joined by
# GNU Radio's ZMQ message blocks on loopback (gnuradio.semcom.nodes); AWGN on every hop.
#   examples/relay_processes.sh [model] [images] [snr_db] [out_dir]
# The receiver prints the mean PSNR and SSIM (the same as the single-process
# flowgraphs.analog_point_to_point with the same seed) and writes metrics.csv and the PNGs.
set -euo pipefail
model=${1:-deepjscc_cifar10_r6_df2_m5_dhd}
images=${2:-samples}
snr=${3:-0}
out=${4:-out/relay_processes}
python=${PYTHON:-.venv/bin/python}
pids=()
start() { "$python" -m gnuradio.semcom.nodes "$@" --model "$model" & pids+=($!); }  # $!: the node itself
a=tcp://127.0.0.1:5550 b=tcp://127.0.0.1:5551 c=tcp://127.0.0.1:5552
mkdir -p "$out"
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start tx --images "$images" --out "$a"
start relay --relay 1 --in "$a" --out "$b" --snr "$snr"
start relay --relay 2 --in "$b" --out "$c" --snr "$snr"
"$python" -m gnuradio.semcom.nodes rx --model "$model" --images "$images" --in "$c" --snr "$snr" \
    --csv "$out/metrics.csv" --out-dir "$out" --timeout 300
