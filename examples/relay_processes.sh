#!/usr/bin/env bash
#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

# Transmitter, two decode-and-forward relays and receiver as four processes, joined by
# GNU Radio's ZMQ message blocks on loopback (semcom_tools.nodes, the semcom-node command); AWGN on every hop.
#   examples/relay_processes.sh [model] [images] [snr_db] [out_dir]
# The receiver prints the mean PSNR and SSIM (the same as the single-process
# flowgraphs.analog_point_to_point with the same seed) and writes metrics.csv, the PNGs and
# received.txt (the ids that arrived). The script ends with the receiver's status; if another
# node dies first it says which and exits 1. On exit (Ctrl-C and SIGTERM too) it stops every
# node it started. The three loopback ports are free ones the OS picks, or RELAY_PORTS="p1 p2 p3".
set -euo pipefail
model=${1:-deepjscc_cifar10_r6_df2_m5_dhd}
images=${2:-samples}
snr=${3:-0}
out=${4:-out/relay_processes}
python=${PYTHON:-.venv/bin/python}
me=$(basename "$0")

names=() pids=()
start() {  # start NAME ARGS...: a node in the background; $! is the node itself
    local name=$1
    shift
    "$python" -m semcom_tools.nodes "$@" --model "$model" &
    pids+=($!)
    names+=("$name")
}
stop_all() {
    trap - INT TERM
    local pid alive
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # a node stops within a few seconds of SIGTERM (logging what it held); give it 10 s, then kill -9
    for _ in $(seq 100); do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        kill -KILL "$pid" 2>/dev/null && echo "$me: node $pid did not stop on SIGTERM: killed" >&2
    done
    return 0
}
trap stop_all EXIT
trap 'exit 130' INT   # through the EXIT trap
trap 'exit 143' TERM

if [[ -n ${RELAY_PORTS:-} ]]; then
    read -r p1 p2 p3 <<<"$RELAY_PORTS" || true
else
    # three ports free at this moment; should another program take one before its node binds
    # it, that node says "cannot bind" and exits, and the script stops at once (below)
    read -r p1 p2 p3 < <("$python" -c '
import socket
held = [socket.socket() for _ in range(3)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))') || true
fi
for port in "${p1:-}" "${p2:-}" "${p3:-}"; do
    [[ $port =~ ^[0-9]+$ ]] && continue
    if [[ -n ${RELAY_PORTS:-} ]]; then
        echo "$me: RELAY_PORTS must be three port numbers, got '$RELAY_PORTS'" >&2
    else
        echo "$me: could not pick three free ports with $python" >&2
    fi
    exit 2
done
a=tcp://127.0.0.1:$p1 b=tcp://127.0.0.1:$p2 c=tcp://127.0.0.1:$p3
mkdir -p "$out"
rm -f "$out/received.txt"  # a fresh run waits for every image
start tx tx --images "$images" --out "$a"
start "relay 1" relay --relay 1 --in "$a" --out "$b" --snr "$snr"
start "relay 2" relay --relay 2 --in "$b" --out "$c" --snr "$snr"
start rx rx --images "$images" --in "$c" --snr "$snr" --csv "$out/metrics.csv" --out-dir "$out" \
    --received "$out/received.txt" --timeout 300

# the receiver ends the run; any other node that ends first has died (tx and relays run until stopped)
while :; do
    for i in "${!pids[@]}"; do
        kill -0 "${pids[$i]}" 2>/dev/null && continue
        status=0
        wait "${pids[$i]}" || status=$?
        [[ ${names[$i]} == rx ]] && exit "$status"
        echo "$me: ${names[$i]} (pid ${pids[$i]}) exited with status $status; stopping the other nodes" >&2
        exit 1
    done
    sleep 0.2
done
