#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Ready-made flowgraphs: the point-to-point links that the demo, the
evaluation CLI and the benchmarks run.

Analog (DeepJSCC), ``analog_point_to_point``::

    image_source -> jscc_encoder -> [block_fading] -> [AWGN] -> [equalizer]
        -> jscc_decoder -> image_sink, metrics_sink

Digital (BitSemCom, any constellation), ``digital_point_to_point``::

    image_source -> bitsemcom_encoder -> bit_mapper -> qam_mapper -> [block_fading]
        -> [AWGN] -> soft_demapper -> bitsemcom_decoder -> image_sink, metrics_sink

Quantize-and-forward (a DeepJSCC model's codebooks at the relay), ``quantize_and_forward``::

    image_source -> jscc_encoder -> [AWGN] -> relay_qf -> (noiseless, or ldpc_encoder ->
        qam_mapper -> [AWGN] -> soft_demapper -> ldpc_decoder) -> qf_dequantizer -> jscc_decoder

Decode-and-forward runs in ``analog_point_to_point`` with a multi-hop model: a
relay_df and an [AWGN] hop per relay.

Separation baseline (image codec + LDPC + any constellation), ``separation_point_to_point``::

    image_source -> codec_encoder -> ldpc_encoder -> qam_mapper -> [block_fading]
        -> [AWGN] -> soft_demapper -> ldpc_decoder -> codec_decoder -> image_sink, metrics_sink

[AWGN] is the same stream path in all three (``point_to_point``):
pdu_to_tagged_stream -> (+ noise_source_c) -> tagged_stream_to_pdu. The
channel is GNU Radio's own: ``analog.noise_source_c`` gives complex Gaussian
noise of power amplitude^2, so amplitude = 10^(-SNR/20) for unit signal power.
An adder keeps every sample of a burst in place (no filter or resampler to
hold the tail of the last burst back). Metadata crosses it as stream tags.
"""
from __future__ import annotations

import math

import numpy as np
import pmt
from gnuradio import analog, blocks, channels, gr, pdu

from gnuradio.semcom import bundle, codecs, demapping, ldpc, modulations, pdus, quantization
from gnuradio.semcom.bit_mapper import bit_mapper
from gnuradio.semcom.bitsemcom_decoder import bitsemcom_decoder
from gnuradio.semcom.bitsemcom_encoder import bitsemcom_encoder
from gnuradio.semcom.block_fading import block_fading
from gnuradio.semcom.burst_rx import burst_rx
from gnuradio.semcom.burst_tx import burst_tx
from gnuradio.semcom.codec_decoder import codec_decoder
from gnuradio.semcom.codec_encoder import codec_encoder
from gnuradio.semcom.equalizer import equalizer
from gnuradio.semcom.image_sink import image_sink
from gnuradio.semcom.image_source import image_source
from gnuradio.semcom.jscc_decoder import jscc_decoder
from gnuradio.semcom.jscc_encoder import jscc_encoder
from gnuradio.semcom.ldpc_decoder import ldpc_decoder
from gnuradio.semcom.ldpc_encoder import ldpc_encoder
from gnuradio.semcom.metrics_sink import metrics_sink
from gnuradio.semcom.qam_mapper import qam_mapper
from gnuradio.semcom.qf_dequantizer import qf_dequantizer
from gnuradio.semcom.relay_qf import relay_qf
from gnuradio.semcom.relay_df import relay_df
from gnuradio.semcom.soft_demapper import soft_demapper

from . import datasets

LENGTH_TAG = "packet_len"
# Bursts over a sample-level channel (burst_tx -> channel_model -> burst_rx, ``burst_hop``):
# name -> (frequency offset in cycles per sample, sample-rate ratio, delay in samples,
# multipath taps at the sample rate, burst_rx's equaliser taps)
BURST_CHANNELS = {
    "burst": (0.0, 1.0, 0, (1.0,), 1),
    "burst_offsets": (4e-4, 1.0 + 2e-6, 1237, (1.0,), 1),
    "burst_multipath": (2e-4, 1.0, 301, (1.0, 0.0, 0.45j, 0.0, -0.2), 7),
}
SYMBOL_CHANNELS = ("awgn", "rayleigh")  # on symbol PDUs (awgn_hop, block_fading)
CHANNELS = (*SYMBOL_CHANNELS, *BURST_CHANNELS)
BURST_SPS = 4


def noise_amplitude(snr_db: float) -> float:
    """noise_source_c amplitude for ``snr_db`` at unit signal power."""
    return noise_variance(snr_db) ** 0.5


def noise_variance(snr_db: float) -> float:
    """N0 = E|n|^2 = amplitude^2 for ``snr_db`` at unit signal power; ValueError for an SNR
    that is not a finite number (NaN noise would make every image be dropped)."""
    if isinstance(snr_db, bool) or not isinstance(snr_db, (int, float, np.integer, np.floating)) \
            or not math.isfinite(snr_db):
        raise ValueError(f"snr_db must be a finite number of dB, got {snr_db!r}")
    return 10.0 ** (-snr_db / 10.0)


def awgn(sent: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``sent`` (complex64) plus complex Gaussian noise of power 10^(-snr_db/10), in numpy:
    the channel of ``awgn_hop`` where no flowgraph runs (codebook fitting, benchmarks)."""
    noise = rng.standard_normal((sent.size, 2), dtype=np.float32).view(np.complex64)[:, 0]
    return sent + noise * np.float32(noise_amplitude(snr_db) / math.sqrt(2.0))


def constellation_object(constellation):
    """A ``digital.constellation`` from a ``modulations`` name or the object itself."""
    return modulations.make(constellation) if isinstance(constellation, str) else constellation


def check_labels(source: image_source, model_bundle: bundle.DeepJSCCBundle) -> None:
    """ValueError unless ``model_bundle`` classifies and every image of ``source`` has a label among
    its classes (accuracy needs both)."""
    if not model_bundle.classes:
        raise ValueError(f"accuracy needs a model with a classifier (card classes); {model_bundle.model_id} has none")
    unknown = sorted({str(source.label_of(p)) for p in source.paths} - set(model_bundle.classes))
    if unknown:
        raise ValueError(f"accuracy needs labelled images (<class>_<n> files, e.g. cifar10-test:N): labels "
                         f"{', '.join(unknown[:5])} are not classes of {model_bundle.model_id} "
                         f"({', '.join(model_bundle.classes)})")


def hop_seed(seed: int, hop: int) -> int:
    """Noise seed of hop ``hop``: ``seed`` for the first, seed + 10 k after it (0: fresh noise)."""
    return seed + 10 * hop if seed else 0


class stream_gate(gr.basic_block):
    """Symbol PDUs in (port ``pdus``) and out, only those GNU Radio's pdu_to_tagged_stream
    after it can take: a PDU pair with a c32vector of 1..``max_symbols`` symbols. That block
    stops for good (and every PDU after it is lost) on one longer than its output buffer
    ("Buffer too small for min_noutput_items") or on a message that is not a pair, so the
    rest is dropped here, with a log line naming the image and the limit; ``refused`` counts
    them. ``what`` names the stream path in the log."""

    def __init__(self, max_symbols: int, what: str = "this hop"):
        gr.basic_block.__init__(self, name="semcom_stream_gate", in_sig=None, out_sig=None)
        self.max_symbols, self.what, self.refused = int(max_symbols), what, 0
        self.message_port_register_in(pmt.intern("pdus"))
        self.message_port_register_out(pmt.intern("pdus"))
        self.set_msg_handler(pmt.intern("pdus"), self.handle)

    @pdus.guarded
    def handle(self, msg) -> None:
        # the payload's type and length only: converting the metadata here would cost what the
        # receiving block's own parsing costs again
        problem = None
        if not pmt.is_pair(msg) or pmt.is_dict(msg):
            problem = "message is not a PDU (metadata, vector) pair"
        elif not pmt.is_c32vector(pmt.cdr(msg)):
            problem = "PDU payload is not a c32vector of symbols"
        elif not 1 <= pmt.length(pmt.cdr(msg)) <= self.max_symbols:
            problem = (f"{pmt.length(pmt.cdr(msg))} symbols, outside the 1..{self.max_symbols} {self.what}'s "
                       f"stream buffer is set up for (max_symbols)")
        if problem is not None:
            self.refused += 1
            raise ValueError(f"{problem}; refused before pdu_to_tagged_stream")
        self.message_port_pub(pmt.intern("pdus"), msg)


class awgn_hop:
    """One AWGN channel of a link: pdu_to_tagged_stream -> (+ noise_source_c) ->
    tagged_stream_to_pdu, with the stream buffers a burst of ``max_symbols`` needs, behind a
    ``stream_gate`` that drops (and logs) a PDU longer than that or malformed, which would
    stop pdu_to_tagged_stream for good. The same path for every link and hop, and for the
    processes of ``semcom_tools.nodes``."""

    def __init__(self, snr_db: float, seed: int, max_symbols: int):
        self.gate = stream_gate(max_symbols, "the AWGN hop")
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, LENGTH_TAG)
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_amplitude(snr_db), seed)
        self.add = blocks.add_cc()
        # the adder asks for volk-aligned runs and would hold back the last item of a burst
        self.add.set_alignment(1)
        self.to_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, LENGTH_TAG)
        size = pdus.burst_buffer(max_symbols)
        for block in (self.to_stream, self.add):
            block.set_min_output_buffer(size)

    def connect(self, top: gr.top_block, previous) -> tuple:
        """Wire the hop into ``top`` after message port ``previous``; returns its output port."""
        top.msg_connect(previous, (self.gate, "pdus"))
        top.msg_connect((self.gate, "pdus"), (self.to_stream, "pdus"))
        top.connect(self.to_stream, (self.add, 0))
        top.connect(self.noise, (self.add, 1))
        top.connect(self.add, self.to_pdu)
        return (self.to_pdu, "pdus")

    def set_snr_db(self, snr_db: float) -> None:
        self.noise.set_amplitude(noise_amplitude(snr_db))


class burst_hop:
    """One hop over the air, simulated: burst_tx (pulse-shaped bursts, ``BURST_SPS`` samples
    per symbol) -> delay -> GNU Radio's ``channels.channel_model`` (noise for Es/N0 =
    snr_db after the matched filter, the frequency offset, sample-rate offset and multipath
    of ``BURST_CHANNELS[channel]``) -> burst_rx (detection, synchronisation, equalisation;
    its SNR and N0 estimates go into the metadata; ``model``: the link's bundle, whose id it
    checks and sets). burst_tx and burst_rx get ``max_symbols``: the sender drops a longer PDU,
    the receiver refuses a header that claims more. The same interface as ``awgn_hop``."""

    def __init__(self, channel: str, snr_db: float, seed: int, max_symbols: int, model: str = ""):
        frequency_offset, epsilon, delay, taps, equalizer_taps = BURST_CHANNELS[channel]
        taps = np.asarray(taps, complex) / np.linalg.norm(taps)  # multipath keeps the signal power
        self.tx = burst_tx(BURST_SPS, max_symbols=max_symbols)
        self.delay = blocks.delay(gr.sizeof_gr_complex, delay)
        self.channel = channels.channel_model(self.noise_voltage(snr_db), frequency_offset, epsilon, taps.tolist(),
                                              seed if seed else int(np.random.default_rng().integers(1, 2 ** 31)))
        self.rx = burst_rx(BURST_SPS, model=model, equalizer_taps=equalizer_taps, max_symbols=max_symbols)

    @staticmethod
    def noise_voltage(snr_db: float) -> float:
        """channel_model's noise voltage for Es/N0 = ``snr_db`` (burst_tx's unit-power samples)."""
        return math.sqrt(BURST_SPS * noise_variance(snr_db))

    def connect(self, top: gr.top_block, previous) -> tuple:
        top.msg_connect(previous, (self.tx, "symbols"))
        top.connect(self.tx, self.delay, self.channel, self.rx)
        return (self.rx, "symbols")

    def set_snr_db(self, snr_db: float) -> None:
        self.channel.set_noise_voltage(self.noise_voltage(snr_db))


class point_to_point(gr.top_block):
    """What the point-to-point links share: the image source, the AWGN stream
    path, image_sink and metrics_sink, the wiring between them, and ``run_images``.

    A subclass makes its source and its transmitter and receiver chains, then
    calls ``_wire``. snr_db, seed: the noise. max_symbols: the longest burst,
    for the stream buffers. out_dir, csv_path, score, lpips, hash_model: as for
    analog_point_to_point. channel: a name of ``CHANNELS``, which picks the hops'
    kind (``awgn_hop``, or ``burst_hop`` for the burst channels; Rayleigh fading is the
    subclasses' ``_fade``). model: the link's bundle, for the burst receiver's check.
    """

    def __init__(self, name, source, snr_db, seed, max_symbols, out_dir, csv_path, score, lpips=False,
                 hash_model="", channel="awgn", model="", accuracy=False):
        gr.top_block.__init__(self, name)
        self.source, self.channel, self.model = source, channel, model
        self.image_sink = image_sink(out_dir)
        self.metrics = metrics_sink(snr_db, csv_path, lpips, hash_model, accuracy)
        self.snr_db, self.seed, self.max_symbols = snr_db, seed, max_symbols
        self.hops: list[awgn_hop] = []
        self.fadings: list = []
        self.score = score
        self.samples = 1  # images the receiver makes of each one sent (a resampling decoder's draws)

    @property
    def noise(self):
        """The first hop's noise source."""
        return self.hops[0].noise

    def _fade(self, channel: str, coherence_symbols: int, seed: int) -> list:
        """A sender's tail for ``channel``: [] for AWGN, a block_fading seeded with
        seed + 2 (appended to ``self.fadings``) for Rayleigh."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        if channel != "rayleigh":
            return []
        self.fadings.append(block_fading(coherence_symbols, seed + 2 if seed else 0))
        return [(self.fadings[-1], "symbols", "symbols")]

    @property
    def fading(self):
        """The first hop's fading block (Rayleigh)."""
        return self.fadings[0]

    def _wire(self, transmitter, receiver, relays=()) -> None:
        """Connect source -> ``transmitter`` -> AWGN -> [relay -> AWGN ...] -> ``receiver`` -> sinks.

        transmitter, each of ``relays``, receiver: lists of (block, input port,
        output port), in order; the transmitter's and each relay's last output is a
        symbol PDU, the receiver's an image PDU. Hop k's noise (``self.hops[k]``)
        is seeded ``hop_seed(seed, k)``."""
        previous = (self.source, "image")
        for index, chain in enumerate((transmitter, *relays, receiver)):
            if index:  # the hop into this chain
                hop = (burst_hop(self.channel, self.snr_db, hop_seed(self.seed, index - 1), self.max_symbols,
                                 self.model)
                       if self.channel in BURST_CHANNELS else
                       awgn_hop(self.snr_db, hop_seed(self.seed, index - 1), self.max_symbols))
                self.hops.append(hop)
                previous = hop.connect(self, previous)
            for block, port_in, port_out in chain:
                self.msg_connect(previous, (block, port_in))
                previous = (block, port_out)
        self.msg_connect(previous, (self.image_sink, "image"))
        if self.score:
            self.msg_connect((self.source, "image"), (self.metrics, "reference"))
            self.msg_connect(previous, (self.metrics, "decoded"))

    def set_snr_db(self, snr_db: float) -> None:
        """The SNR of every hop (and the metrics' record of it)."""
        for hop in self.hops:
            hop.set_snr_db(snr_db)
        self.metrics.set_snr_db(snr_db)

    def run_images(self, timeout: float = 600.0, idle: float | None = None, window: int = 32) -> list[dict]:
        """Start, wait until every image of one pass is scored, stop; returns the metric rows.

        Raises TimeoutError naming how many images arrived when some did not. With
        ``idle`` (a link that may lose images, e.g. bursts that are not detected), it
        stops once the source has sent everything and no image has arrived for ``idle``
        seconds, and scores the lost ones as the fallback image with decode_failed 1
        (``metrics_sink.score_lost``). ``window``: images the source may send ahead of
        the last one scored (saved, without scoring): GNU Radio's message queues have no
        back-pressure, so an unpaced source would queue the whole image set at the
        encoder; 0 for none. A file the source fails to read lowers the number waited
        for at once (``image_source.count``); the rows are the whole run's (metrics_sink
        keeps at least one pass of them).
        """
        import time  # here, not at the top: this harness's waiting is the only user

        done_by = self.metrics if self.score else self.image_sink
        # on a lossy link, a run of lost images must not hold the source for long
        self.source.pace(window, idle / 2 if idle else None)
        if window and not getattr(self, "_paced", False):
            done_by.add_done_port()
            self.msg_connect((done_by, "done"), (self.source, "done"))
            self._paced = True
        self.metrics.keep_latest(max(self.metrics.keep_rows, self.source.count))

        def wait_all(arrivals, per_image: int) -> bool:
            """Wait until ``arrivals`` holds per_image per image of the source's (falling) count."""
            deadline = time.monotonic() + timeout
            while arrivals.count < self.source.count * per_image:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # short waits: a file that fails to decode lowers source.count mid-run
                arrivals.wait(self.source.count * per_image, min(left, 0.25))
            return True

        self.start()
        try:
            if idle is not None and self.score:
                arrivals = self.metrics.arrivals
                while arrivals.count < self.source.count and (
                        arrivals.wait(arrivals.count + 1, idle) or self.source.sending):
                    pass
                saved = arrivals.count * self.samples
                # image_sink handles its messages in its own thread: stopping now could drop the last PNG
                arrived = self.image_sink.arrivals.wait(saved, timeout)
            else:
                arrived = (not self.score or wait_all(self.metrics.arrivals, 1)) and \
                    wait_all(self.image_sink.arrivals, self.samples)
        finally:
            self.stop()
            self.wait()
        if not arrived:
            done = done_by.arrivals.count
            raise TimeoutError(f"{done} of {self.source.count} images arrived in {timeout} s")
        if idle is not None and self.score:
            self.metrics.score_lost()
        return self.metrics.rows


class analog_point_to_point(point_to_point):
    """Send images through encoder, channel and decoder; score and optionally save them.

    model: bundle folder or shipped name (encoder and decoder; a DeepJSCC
    model). A decode-and-forward model (card ``hops`` > 1) runs over all its
    hops: encoder -> hop 0 -> relay_df 1 -> hop 1 -> ... -> relay_df r -> hop r
    -> decoder, every hop its own channel at ``snr_db`` (noise seeds
    ``hop_seed``); ``relays`` holds the relay blocks. images, policy: as for
    image_source ("full" needs a fully convolutional model; fixed-size models
    default to "resize"). snr_db: channel SNR. channel: "awgn", or "rayleigh":
    block_fading before the noise and a coherent ``equalizer`` (``equalization``
    "zf" or "mmse", N0 from snr_db) after it, on every hop. coherence_symbols:
    fading block length (0: one coefficient per image). out_dir: where
    image_sink writes PNGs ("" for none). csv_path: metrics CSV ("" for none).
    seed: noise seed, the fading takes seed + 2 (0 draws fresh ones).
    provider, threads: onnxruntime. score: connect metrics_sink (PSNR, SSIM);
    False leaves the bare link, for timing it (``run_images`` then returns no
    rows). lpips, hash_model: metrics_sink also scores LPIPS and hash agreement.
    resampling, samples: a variational model's receiver (jscc_decoder); "transmitted"
    also makes the encoder send the variance; the draws are seeded with seed + 3 (0:
    fresh ones). accuracy: the images are labelled by their file name prefix
    (image_source "file_prefix", the cifar10-test:N files) and metrics_sink scores the
    classifier's accuracy (ValueError for a model without one, or a label it does not know).
    precision: the encoder's, relays' and decoder's ("fp32", "int8" or "auto", bundle.Bundle).
    """

    def __init__(self, model, images="samples", policy=None, snr_db=10.0, out_dir="", csv_path="",
                 seed=1, provider="auto", threads=0, score=True, channel="awgn", coherence_symbols=0,
                 equalization="zf", lpips=False, hash_model="", resampling="auto", samples=1, accuracy=False,
                 precision="fp32"):
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads, precision)
        policy = policy or ("resize" if model_bundle.image_size else "full")
        source = image_source(datasets.locate(images), model=str(model_bundle.path), policy=policy,
                              labels="file_prefix" if accuracy else "none")
        if accuracy:
            check_labels(source, model_bundle)
        path = str(model_bundle.path)
        send_variance = model_bundle.resampling(resampling) == "transmitted"
        super().__init__("semcom analog point to point", source, snr_db, seed,
                         model_bundle.n_symbols(*source.max_shape()) * (2 if send_variance else 1), out_dir,
                         csv_path, score, lpips, hash_model, channel, path, accuracy)
        self.equalizers = []
        self.encoder = jscc_encoder(path, provider, threads, send_variance, precision)
        self.relays = [relay_df(path, k, provider, threads, precision) for k in range(1, model_bundle.hops)]
        self.decoder = jscc_decoder(path, provider, threads, resampling, samples, seed + 3 if seed else 0, precision)
        self.samples = self.decoder.samples
        chains = [[(self.encoder, "image", "symbols")], *([(relay, "symbols", "symbols")] for relay in self.relays),
                  [(self.decoder, "symbols", "image")]]
        for hop in range(model_bundle.hops):  # fading after each sender, equalisation before each receiver
            chains[hop] += self._fade(channel, coherence_symbols, hop_seed(seed, hop))
            if channel == "rayleigh":
                self.equalizers.append(equalizer(equalization, noise_variance(snr_db)))
                chains[hop + 1].insert(0, (self.equalizers[-1], "symbols", "symbols"))
        self._wire(chains[0], chains[-1], chains[1:-1])

    @property
    def equalizer(self):
        """The destination's equaliser (Rayleigh)."""
        return self.equalizers[-1]

    def set_snr_db(self, snr_db: float) -> None:
        super().set_snr_db(snr_db)
        for block in self.equalizers:
            block.set_noise_var(noise_variance(snr_db))


class digital_point_to_point(point_to_point):
    """Send images through BitSemCom over a digital link on any constellation.

    model: bundle folder or shipped name of a BitSemCom model (encoder and
    decoder). images, policy: as for image_source (default: "resize" to a
    fixed-size model's size, "full" for a fully convolutional one). constellation: a ``modulations`` name ("qpsk", "16qam",
    "64qam", ...) or a ``digital.constellation``. channel: "awgn", or
    "rayleigh" (block_fading before the noise, CSI to the demapper).
    coherence_symbols: fading block length (0: one coefficient per image).
    snr_db: channel SNR (Es/N0 at unit signal power; the mean over fades);
    the soft demapper's N0 follows it. deterministic: threshold the
    probabilities instead of sampling bits (default: the card's
    ``inference_bits``). method: "exact" or "maxlog" demapping. seed: noise
    seed; the bit mapper and the fading take seed + 1 and seed + 2 (0: fresh
    seeds everywhere). out_dir, csv_path, provider, threads, score, lpips, hash_model, precision:
    as for analog_point_to_point.

    ``bits_per_symbol`` and ``channel_uses`` (complex symbols of the largest
    image; the metrics' n_symbols has each image's) describe the link.
    """

    def __init__(self, model, images="samples", constellation="qpsk", channel="awgn", snr_db=10.0,
                 out_dir="", csv_path="", seed=1, deterministic=None, coherence_symbols=0, method="exact",
                 policy=None, provider="auto", threads=0, score=True, lpips=False, hash_model="",
                 precision="fp32"):
        model_bundle = bundle.BitSemComBundle(model, provider, threads, precision)
        constellation = constellation_object(constellation)
        bits_per_symbol = demapping.Constellation.from_gnuradio(constellation).bits_per_symbol
        policy = policy or ("resize" if model_bundle.image_size else "full")
        source = image_source(datasets.locate(images), model=str(model_bundle.path), policy=policy)
        # the longest burst, for the stream buffers (fully convolutional: the largest image's)
        channel_uses = model_bundle.channel_uses(bits_per_symbol, *source.max_shape())
        super().__init__("semcom digital point to point", source, snr_db, seed, channel_uses,
                         out_dir, csv_path, score, lpips, hash_model, channel, str(model_bundle.path))
        self.bits_per_symbol, self.channel_uses = bits_per_symbol, channel_uses
        if deterministic is None:
            deterministic = model_bundle.deterministic_bits
        self.encoder = bitsemcom_encoder(str(model_bundle.path), provider, threads, precision)
        self.bit_mapper = bit_mapper(seed + 1 if seed else 0, deterministic)
        self.mapper = qam_mapper(constellation)
        # over bursts the receiver's N0 estimate (metadata noise_var) is what a radio would have
        self.demapper = soft_demapper(constellation, 0.0 if channel in BURST_CHANNELS else noise_variance(snr_db),
                                      method, "llr")
        self.decoder = bitsemcom_decoder(str(model_bundle.path), provider, threads, input="llr", precision=precision)
        transmitter = [(self.encoder, "image", "probs"), (self.bit_mapper, "probs", "bits"),
                       (self.mapper, "bits", "symbols"), *self._fade(channel, coherence_symbols, seed)]
        self._wire(transmitter, [(self.demapper, "symbols", "soft_bits"), (self.decoder, "soft_bits", "image")])

    def set_snr_db(self, snr_db: float) -> None:
        super().set_snr_db(snr_db)
        if self.channel not in BURST_CHANNELS:
            self.demapper.set_noise_var(noise_variance(snr_db))


class quantize_and_forward(point_to_point):
    """Send images over a quantize-and-forward relay: the source's DeepJSCC symbols cross
    an AWGN hop to ``relay_qf``, which forwards the bits of their nearest codebook centres
    over a noiseless pipeline (``link`` "noiseless", the multi-hop paper's) or a real
    digital link (``link`` "digital": LDPC ``code`` on ``constellation`` over AWGN at
    ``link_snr_db``); the destination dequantises and decodes.

    model: a single-hop DeepJSCC bundle with codebooks (``semcom_train.qf_codebooks``).
    dimension, bits_per_real: the rate (N_Q, b); ``bits_per_pixel`` = 2 k b / (H W) for
    k symbols per H x W image. snr_db: the first hop's SNR (what the metrics record);
    link_snr_db: the digital hop's (default snr_db). max_iterations: the LDPC decoder's.
    images, policy, out_dir, csv_path, seed (the digital hop's noise takes
    ``hop_seed(seed, 1)``), provider, threads, score, lpips, hash_model: as for
    analog_point_to_point. ``link_symbols`` is the digital hop's burst (0 when noiseless).
    """

    LINKS = ("noiseless", "digital")

    def __init__(self, model, dimension=4, bits_per_real=0.75, images="samples", link="noiseless",
                 constellation="qpsk", code=ldpc.DEFAULT_CODE, snr_db=10.0, link_snr_db=None, policy=None,
                 out_dir="", csv_path="", seed=1, max_iterations=50, provider="auto", threads=0, score=True,
                 lpips=False, hash_model=""):
        if link not in self.LINKS:
            raise ValueError(f"link must be one of {self.LINKS}, got {link!r}")
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        if model_bundle.hops != 1:
            raise ValueError(f"model {model_bundle.model_id} is a {model_bundle.hops}-hop decode-and-forward "
                             f"model: quantize-and-forward relays a single-hop model's symbols")
        codebook = quantization.load_codebook(model_bundle, int(dimension), float(bits_per_real))
        policy = policy or ("resize" if model_bundle.image_size else "full")
        source = image_source(datasets.locate(images), model=str(model_bundle.path), policy=policy)
        height, width = source.max_shape()
        analog_symbols = model_bundle.n_symbols(height, width)
        self.bits_per_pixel = codebook.n_bits(analog_symbols) / (height * width)
        self.link, self.link_symbols = link, 0
        path = str(model_bundle.path)
        # the Python blocks must live as long as the flowgraph: every one is an attribute
        self.relay = relay_qf(path, dimension, bits_per_real)
        self.dequantizer = qf_dequantizer(path, dimension, bits_per_real)
        self.decoder = jscc_decoder(path, provider, threads)
        relay = [(self.relay, "symbols", "bits")]
        receiver = [(self.dequantizer, "bits", "symbols"), (self.decoder, "symbols", "image")]
        if link == "digital":
            constellation = constellation_object(constellation)
            bits_per_symbol = demapping.Constellation.from_gnuradio(constellation).bits_per_symbol
            self.ldpc_encoder, self.mapper = ldpc_encoder(code), qam_mapper(constellation)
            frames = -(-codebook.n_bits(analog_symbols) // self.ldpc_encoder.code.k)
            self.link_symbols = -(-frames * self.ldpc_encoder.code.n // bits_per_symbol)
            self.link_snr_db = snr_db if link_snr_db is None else link_snr_db
            self.demapper = soft_demapper(constellation, noise_variance(self.link_snr_db), "exact", "llr")
            self.ldpc_decoder = ldpc_decoder(code, max_iterations)
            relay += [(self.ldpc_encoder, "bits", "bits"), (self.mapper, "bits", "symbols")]
            receiver[:0] = [(self.demapper, "symbols", "soft_bits"), (self.ldpc_decoder, "soft_bits", "bits")]
        super().__init__("semcom quantize and forward", source, snr_db, seed,
                         max(analog_symbols, self.link_symbols), out_dir, csv_path, score, lpips, hash_model)
        self.encoder = jscc_encoder(path, provider, threads)
        transmitter = [(self.encoder, "image", "symbols")]
        if link == "noiseless":  # the relay's bits go straight to the dequantiser: one hop
            self._wire(transmitter, relay + receiver)
        else:
            self._wire(transmitter, receiver, [relay])
            self.hops[1].set_snr_db(self.link_snr_db)

    def set_snr_db(self, snr_db: float) -> None:
        """The first (analog) hop's SNR; the digital hop keeps ``link_snr_db``."""
        self.hops[0].set_snr_db(snr_db)
        self.metrics.set_snr_db(snr_db)


class separation_point_to_point(point_to_point):
    """Send images through the separation baseline: an image codec, an LDPC code
    and a constellation, at the channel uses of a JSCC model.

    codec: a ``codecs`` name ("jpeg", "webp", "avif"). code: an ``ldpc.CODES``
    name (or an alist path). images: as for image_source. size: (height, width)
    the images are fitted to with ``policy`` (e.g. (32, 32), "resize" for
    CIFAR-size images); None sends each image at its own size.
    bandwidth_ratio: channel uses per image = floor(ratio x 3 x H x W), the
    JSCC model's (1/16: 73,728 for 768x512; 1/6: 512 for 32x32); the codec
    gets the bits of the whole codewords they carry (``codecs.budget_bits``).
    constellation, channel, coherence_symbols, snr_db, method: as for
    digital_point_to_point. max_iterations: belief-propagation iterations of
    the LDPC decoder. fallback: codec_decoder's image for a failed decode
    ("mean": mid-grey). seed: noise seed; the fading takes seed + 2. out_dir,
    csv_path, score, lpips, hash_model: as for analog_point_to_point; metrics rows add
    decode_failed and codec_bytes.

    Raises ``codecs.NoCodeword`` (a ValueError) when an image's channel uses
    cannot carry one codeword.
    ``symbols(height, width)`` gives the complex symbols sent per image (at
    most the channel uses: the coded bits of whole codewords).
    """

    def __init__(self, codec="jpeg", code=ldpc.DEFAULT_CODE, images="samples", constellation="qpsk", channel="awgn",
                 snr_db=10.0, bandwidth_ratio=1 / 16, size=None, policy="resize", out_dir="", csv_path="", seed=1,
                 coherence_symbols=0, method="exact", max_iterations=50, fallback="mean", score=True,
                 lpips=False, hash_model=""):
        if channel not in CHANNELS:  # before the NoCodeword check below
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        constellation = constellation_object(constellation)
        bits_per_symbol = demapping.Constellation.from_gnuradio(constellation).bits_per_symbol
        ldpc.load(code)  # ValueError naming the known codes
        encoder = codec_encoder(codec, bandwidth_ratio=bandwidth_ratio, bits_per_symbol=bits_per_symbol, code=code)
        if size is None:
            source = image_source(datasets.locate(images), policy="full")
        else:
            source = image_source(datasets.locate(images), policy=policy, size=size)
        self.bits_per_symbol, self.code = bits_per_symbol, encoder.code
        self.encoder = encoder
        shapes = source.shapes()
        for height, width in sorted(set(shapes)):
            if encoder.budget(height, width) <= 0:
                uses = encoder.uses(height, width)
                raise codecs.NoCodeword(
                    f"a {height}x{width} image gets {uses} channel uses at ratio {bandwidth_ratio:g}: "
                    f"{uses * bits_per_symbol} coded bits hold no {self.code.name} codeword of "
                    f"{self.code.n} bits (use a shorter code or more bits per symbol)")
        super().__init__("semcom separation point to point", source, snr_db, seed,
                         max(self.symbols(h, w) for h, w in shapes), out_dir, csv_path, score, lpips,
                         hash_model, channel)
        self.ldpc_encoder = ldpc_encoder(code)
        self.mapper = qam_mapper(constellation)
        self.demapper = soft_demapper(constellation, noise_variance(snr_db), method, "llr")
        self.ldpc_decoder = ldpc_decoder(code, max_iterations)
        self.decoder = codec_decoder(codec, fallback)
        transmitter = [(self.encoder, "image", "bits"), (self.ldpc_encoder, "bits", "bits"),
                       (self.mapper, "bits", "symbols"), *self._fade(channel, coherence_symbols, seed)]
        self._wire(transmitter, [(self.demapper, "symbols", "soft_bits"), (self.ldpc_decoder, "soft_bits", "bits"),
                                 (self.decoder, "bits", "image")])

    def symbols(self, height: int, width: int) -> int:
        """Complex symbols sent for an image of ``height`` x ``width``."""
        frames = self.encoder.budget(height, width) // self.code.k
        return -(-frames * self.code.n // self.bits_per_symbol)

    def set_snr_db(self, snr_db: float) -> None:
        super().set_snr_db(snr_db)
        self.demapper.set_noise_var(noise_variance(snr_db))
