"""A relayed link as separate processes: transmitter, relays and receiver, joined by ZMQ.

    python -m gnuradio.semcom.nodes tx --model deepjscc_cifar10_r6_df2_m5_dhd --images samples \\
        --out tcp://127.0.0.1:5550
    python -m gnuradio.semcom.nodes relay --model deepjscc_cifar10_r6_df2_m5_dhd --relay 1 \\
        --in tcp://127.0.0.1:5550 --out tcp://127.0.0.1:5551 --snr 0
    python -m gnuradio.semcom.nodes relay ... --relay 2 --in tcp://127.0.0.1:5551 --out tcp://127.0.0.1:5552
    python -m gnuradio.semcom.nodes rx --model deepjscc_cifar10_r6_df2_m5_dhd --images samples \\
        --in tcp://127.0.0.1:5552 --snr 0 --csv out/nodes/metrics.csv

Every node is a GNU Radio flowgraph in its own process. Each one sends its PDUs with
GNU Radio's ZMQ ``push_msg_sink`` (bound to ``--out``) and takes the previous node's
with a ``pull_msg_source`` (connected to ``--in``), so nodes start in any order and a
node that is restarted is reconnected by ZMQ. The channel of a hop (AWGN at ``--snr``,
``flowgraphs.awgn_hop``) sits at the node that receives it, seeded as in the
single-process ``flowgraphs.analog_point_to_point`` (``hop_seed``): the same images
through the processes give the same PSNR as through one flowgraph.

tx: image_source -> jscc_encoder -> ZMQ. relay (decode-and-forward, ``--relay k``):
ZMQ -> hop k - 1 -> relay_df k -> ZMQ; with ``--qf N_Q:b`` a quantize-and-forward
relay instead: ZMQ -> hop 0 -> relay_qf -> ZMQ, the ZMQ link then being the noiseless
bit pipeline. rx: ZMQ -> the last hop -> jscc_decoder (with ``--qf``: qf_dequantizer ->
jscc_decoder, no channel) -> image_sink, metrics_sink, scored against its own copy
of ``--images``.

tx and relays run until they are stopped (Ctrl-C, SIGTERM). rx stops when every image
of ``--images`` has been scored, or exits with status 1 and a message naming how many
arrived once ``--timeout`` seconds pass (a node upstream that died, for instance).
"""
from __future__ import annotations

import argparse
import signal
import statistics
import sys
import threading

from gnuradio import gr, zeromq

from gnuradio.semcom import bundle, flowgraphs, quantization
from gnuradio.semcom.image_sink import image_sink
from gnuradio.semcom.image_source import image_source
from gnuradio.semcom.jscc_decoder import jscc_decoder
from gnuradio.semcom.jscc_encoder import jscc_encoder
from gnuradio.semcom.metrics_sink import metrics_sink
from gnuradio.semcom.qf_dequantizer import qf_dequantizer
from gnuradio.semcom.relay_df import relay_df
from gnuradio.semcom.relay_qf import relay_qf

ROLES = ("tx", "relay", "rx")
POLL_MS = 100  # how often a ZMQ source checks for messages and for a stop


def _source(images: str, model_bundle: bundle.DeepJSCCBundle, rate: float = 0.0) -> image_source:
    policy = "resize" if model_bundle.image_size else "full"
    return image_source(images, model=str(model_bundle.path), policy=policy, rate=rate)


def _burst(model_bundle: bundle.DeepJSCCBundle, max_size) -> int:
    """Symbols of the longest burst: the model's fixed size, else ``max_size`` (H, W)."""
    size = model_bundle.image_size or max_size
    if size is None:
        raise ValueError(f"model {model_bundle.model_id} is fully convolutional: give --max-size H W, "
                         f"the largest image the link carries")
    return model_bundle.n_symbols(*size)


class transmitter(gr.top_block):
    """image_source -> jscc_encoder -> ZMQ PUSH bound to ``address``."""

    def __init__(self, model, images, address, rate=0.0, provider="auto", threads=0):
        gr.top_block.__init__(self, "semcom node tx")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        self.source = _source(images, model_bundle, rate)
        self.encoder = jscc_encoder(str(model_bundle.path), provider, threads)
        self.out = zeromq.push_msg_sink(address, POLL_MS, True)
        self.msg_connect((self.source, "image"), (self.encoder, "image"))
        self.msg_connect((self.encoder, "symbols"), (self.out, "in"))


class relay(gr.top_block):
    """ZMQ PULL from ``source`` -> AWGN hop -> relay_df ``relay_index`` (or relay_qf at rate
    ``qf``) -> ZMQ PUSH bound to ``address``."""

    def __init__(self, model, relay_index, source, address, snr_db, seed=1, qf=None, max_size=None,
                 provider="auto", threads=0):
        gr.top_block.__init__(self, f"semcom node relay {relay_index}")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        path = str(model_bundle.path)
        if qf is not None:
            if relay_index != 1:
                raise ValueError("a quantize-and-forward link has one relay (--relay 1)")
            self.relay, port = relay_qf(path, *qf), "bits"
        else:
            self.relay, port = relay_df(path, relay_index, provider, threads), "symbols"
        self.input = zeromq.pull_msg_source(source, POLL_MS, False)
        self.hop = flowgraphs.awgn_hop(snr_db, flowgraphs.hop_seed(seed, relay_index - 1),
                                       _burst(model_bundle, max_size))
        self.out = zeromq.push_msg_sink(address, POLL_MS, True)
        self.msg_connect(self.hop.connect(self, (self.input, "out")), (self.relay, "symbols"))
        self.msg_connect((self.relay, port), (self.out, "in"))


class receiver(gr.top_block):
    """ZMQ PULL from ``source`` -> the last AWGN hop -> jscc_decoder (or, with ``qf``,
    qf_dequantizer -> jscc_decoder) -> image_sink, metrics_sink; references from its own
    image_source of ``images``."""

    def __init__(self, model, images, source, snr_db, seed=1, qf=None, out_dir="", csv_path="",
                 provider="auto", threads=0, lpips=False, hash_model=""):
        gr.top_block.__init__(self, "semcom node rx")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        path = str(model_bundle.path)
        self.references = _source(images, model_bundle)
        self.input = zeromq.pull_msg_source(source, POLL_MS, False)
        self.decoder = jscc_decoder(path, provider, threads)
        self.image_sink = image_sink(out_dir)
        self.metrics = metrics_sink(snr_db, csv_path, lpips, hash_model)
        if qf is not None:
            self.dequantizer = qf_dequantizer(path, *qf)
            self.msg_connect((self.input, "out"), (self.dequantizer, "bits"))
            self.msg_connect((self.dequantizer, "symbols"), (self.decoder, "symbols"))
        else:
            self.hop = flowgraphs.awgn_hop(snr_db, flowgraphs.hop_seed(seed, model_bundle.hops - 1),
                                           model_bundle.n_symbols(*self.references.max_shape()))
            self.msg_connect(self.hop.connect(self, (self.input, "out")), (self.decoder, "symbols"))
        self.msg_connect((self.decoder, "image"), (self.image_sink, "image"))
        self.msg_connect((self.decoder, "image"), (self.metrics, "decoded"))
        self.msg_connect((self.references, "image"), (self.metrics, "reference"))

    def run_images(self, timeout: float) -> list[dict]:
        """Start, wait until every image of ``images`` is scored and saved, stop; returns the
        metric rows. TimeoutError naming how many arrived when some did not in ``timeout`` s."""
        expected = self.references.count
        self.start()
        try:
            arrived = self.metrics.arrivals.wait(expected, timeout) and \
                self.image_sink.arrivals.wait(expected, timeout)
        finally:
            self.stop()
            self.wait()
        if not arrived:
            raise TimeoutError(f"{self.metrics.arrivals.count} of {expected} images arrived in {timeout:g} s: "
                               f"is every node upstream running?")
        return self.metrics.rows


def run_until_stopped(top: gr.top_block, name: str) -> None:
    """Run ``top`` until SIGINT or SIGTERM."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    top.start()
    print(f"{name} running", flush=True)
    stopped.wait()
    top.stop()
    top.wait()


def main(argv=None) -> list[dict] | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--model", required=True, help="a DeepJSCC bundle (decode-and-forward: a multi-hop one)")
    parser.add_argument("--images", default="samples", help="tx: what to send; rx: the references (the same set)")
    parser.add_argument("--in", dest="source", help="relay, rx: the previous node's --out address")
    parser.add_argument("--out", help="tx, relay: the address to bind, e.g. tcp://127.0.0.1:5550")
    parser.add_argument("--relay", type=int, default=1, help="relay: its place on the route, 1 .. hops - 1")
    parser.add_argument("--qf", type=quantization.rate, metavar="N_Q:b",
                        help="relay, rx: quantize-and-forward at this rate instead of decode-and-forward")
    parser.add_argument("--snr", type=float, default=10.0, help="relay, rx: SNR (dB) of the hop into the node")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (hop k: seed + 10 k, as in one flowgraph)")
    parser.add_argument("--rate", type=float, default=0.0, help="tx: images per second (0: as fast as possible)")
    parser.add_argument("--max-size", type=int, nargs=2, metavar=("H", "W"),
                        help="relay: largest image, for a fully convolutional model's buffers")
    parser.add_argument("--csv", default="", help="rx: metrics CSV")
    parser.add_argument("--out-dir", default="", help="rx: where to write the decoded PNGs")
    parser.add_argument("--timeout", type=float, default=600.0, help="rx: seconds to wait for every image")
    parser.add_argument("--lpips", action="store_true", help="rx: also score LPIPS")
    parser.add_argument("--hash-model", default="", help="rx: a DHD bundle, also score hash agreement")
    args = parser.parse_args(argv)
    needs = {"tx": ("out",), "relay": ("source", "out"), "rx": ("source",)}[args.role]
    missing = [f"--{'in' if key == 'source' else key}" for key in needs if not getattr(args, key)]
    if missing:
        parser.error(f"{args.role} needs {' and '.join(missing)}")
    try:
        if args.role == "tx":
            run_until_stopped(transmitter(args.model, args.images, args.out, args.rate), "tx")
            return None
        if args.role == "relay":
            node = relay(args.model, args.relay, args.source, args.out, args.snr, args.seed, args.qf, args.max_size)
            run_until_stopped(node, f"relay {args.relay}")
            return None
        node = receiver(args.model, args.images, args.source, args.snr, args.seed, args.qf, args.out_dir, args.csv,
                        lpips=args.lpips, hash_model=args.hash_model)
        print("rx running", flush=True)
        rows = node.run_images(args.timeout)
    except (ValueError, bundle.ModelError) as error:
        parser.error(str(error))
    except TimeoutError as error:
        print(f"rx: {error}", file=sys.stderr)
        sys.exit(1)
    print(f"rx: {len(rows)} images, mean PSNR {statistics.fmean(r['psnr_db'] for r in rows):.2f} dB, "
          f"SSIM {statistics.fmean(r['ssim'] for r in rows):.4f}", flush=True)
    return rows


if __name__ == "__main__":
    main()
