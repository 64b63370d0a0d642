"""Ready-made flowgraphs: the point-to-point links that the demo, the
evaluation CLI and the examples run.

Analog (DeepJSCC), ``analog_point_to_point``::

    image_source -> jscc_encoder -> [block_fading] -> [AWGN] -> [equalizer]
        -> jscc_decoder -> image_sink, metrics_sink

Digital (BitSemCom, any constellation), ``digital_point_to_point``::

    image_source -> bitsemcom_encoder -> bit_mapper -> qam_mapper -> [block_fading]
        -> [AWGN] -> soft_demapper -> bitsemcom_decoder -> image_sink, metrics_sink

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

from gnuradio import analog, blocks, gr, pdu

from gnuradio.semcom import bundle, codecs, demapping, ldpc, modulations
from gnuradio.semcom.bit_mapper import bit_mapper
from gnuradio.semcom.bitsemcom_decoder import bitsemcom_decoder
from gnuradio.semcom.bitsemcom_encoder import bitsemcom_encoder
from gnuradio.semcom.block_fading import block_fading
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
from gnuradio.semcom.soft_demapper import soft_demapper

LENGTH_TAG = "packet_len"
CHANNELS = ("awgn", "rayleigh")


def noise_amplitude(snr_db: float) -> float:
    """noise_source_c amplitude for ``snr_db`` at unit signal power."""
    return 10.0 ** (-snr_db / 20.0)


def noise_variance(snr_db: float) -> float:
    """N0 = E|n|^2 = amplitude^2 for ``snr_db`` at unit signal power."""
    return 10.0 ** (-snr_db / 10.0)


def burst_buffer(n_symbols: int) -> int:
    """Items a stream buffer needs so that tagged_stream_to_pdu sees a whole burst."""
    # a circular buffer offers at most half its size to one call of work
    return 1 << max(12, math.ceil(math.log2(2 * n_symbols)))


def constellation_object(constellation):
    """A ``digital.constellation`` from a ``modulations`` name or the object itself."""
    return modulations.make(constellation) if isinstance(constellation, str) else constellation


class point_to_point(gr.top_block):
    """What the point-to-point links share: the image source, the AWGN stream
    path, image_sink and metrics_sink, the wiring between them, and ``run_images``.

    A subclass makes its source and its transmitter and receiver chains, then
    calls ``_wire``. snr_db, seed: the noise. max_symbols: the longest burst,
    for the stream buffers. out_dir, csv_path, score, lpips, hash_model: as for
    analog_point_to_point.
    """

    def __init__(self, name, source, snr_db, seed, max_symbols, out_dir, csv_path, score, lpips=False,
                 hash_model=""):
        gr.top_block.__init__(self, name)
        self.source = source
        self.image_sink = image_sink(out_dir)
        self.metrics = metrics_sink(snr_db, csv_path, lpips, hash_model)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, LENGTH_TAG)
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_amplitude(snr_db), seed)
        self.add = blocks.add_cc()
        # the adder asks for volk-aligned runs and would hold back the last item of a burst
        self.add.set_alignment(1)
        self.to_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, LENGTH_TAG)
        size = burst_buffer(max_symbols)
        for block in (self.to_stream, self.add):
            block.set_min_output_buffer(size)
        self.score = score

    def _fade(self, channel: str, coherence_symbols: int, seed: int) -> list:
        """The transmitter's tail for ``channel``: [] for AWGN, block_fading (as
        ``self.fading``, seeded with seed + 2) for Rayleigh."""
        if channel not in CHANNELS:
            raise ValueError(f"channel must be one of {CHANNELS}, got {channel!r}")
        if channel == "awgn":
            return []
        self.fading = block_fading(coherence_symbols, seed + 2 if seed else 0)
        return [(self.fading, "symbols", "symbols")]

    def _wire(self, transmitter, receiver) -> None:
        """Connect source -> ``transmitter`` -> AWGN -> ``receiver`` -> sinks.

        transmitter, receiver: lists of (block, input port, output port), in
        order; the transmitter's last output is a symbol PDU, the receiver's an
        image PDU."""
        previous = (self.source, "image")
        for block, port_in, port_out in transmitter:
            self.msg_connect(previous, (block, port_in))
            previous = (block, port_out)
        self.msg_connect(previous, (self.to_stream, "pdus"))
        self.connect(self.to_stream, (self.add, 0))
        self.connect(self.noise, (self.add, 1))
        self.connect(self.add, self.to_pdu)
        previous = (self.to_pdu, "pdus")
        for block, port_in, port_out in receiver:
            self.msg_connect(previous, (block, port_in))
            previous = (block, port_out)
        self.msg_connect(previous, (self.image_sink, "image"))
        if self.score:
            self.msg_connect((self.source, "image"), (self.metrics, "reference"))
            self.msg_connect(previous, (self.metrics, "decoded"))

    def set_snr_db(self, snr_db: float) -> None:
        self.noise.set_amplitude(noise_amplitude(snr_db))
        self.metrics.set_snr_db(snr_db)

    def run_images(self, timeout: float = 600.0) -> list[dict]:
        """Start, wait until every image of one pass is scored, stop; returns the metric rows.

        Raises TimeoutError naming how many images arrived when some did not.
        """
        expected = self.source.count
        self.start()
        try:
            arrived = not self.score or self.metrics.arrivals.wait(expected, timeout)
            # image_sink handles its messages in its own thread: stopping now could drop the last PNG
            arrived = arrived and self.image_sink.arrivals.wait(expected, timeout)
        finally:
            self.stop()
            self.wait()
        if not arrived:
            done = (self.metrics if self.score else self.image_sink).arrivals.count
            raise TimeoutError(f"{done} of {expected} images arrived in {timeout} s")
        return self.metrics.rows


class analog_point_to_point(point_to_point):
    """Send images through encoder, channel and decoder; score and optionally save them.

    model: bundle folder or shipped name (encoder and decoder; a DeepJSCC
    model). images, policy: as for image_source ("full" needs a fully
    convolutional model; fixed-size models default to "resize"). snr_db:
    channel SNR. channel: "awgn", or "rayleigh": block_fading before the
    noise and a coherent ``equalizer`` (``equalization`` "zf" or "mmse",
    N0 from snr_db) before the decoder. coherence_symbols: fading block
    length (0: one coefficient per image). out_dir: where image_sink writes
    PNGs ("" for none). csv_path: metrics CSV ("" for none). seed: noise seed,
    the fading takes seed + 2 (0 draws fresh ones). provider, threads:
    onnxruntime. score: connect metrics_sink (PSNR, SSIM); False leaves the
    bare link, for timing it (``run_images`` then returns no rows). lpips,
    hash_model: metrics_sink also scores LPIPS and hash agreement.
    """

    def __init__(self, model, images="samples", policy=None, snr_db=10.0, out_dir="", csv_path="",
                 seed=1, provider="auto", threads=0, score=True, channel="awgn", coherence_symbols=0,
                 equalization="zf", lpips=False, hash_model=""):
        model_bundle = bundle.DeepJSCCBundle(model, provider, threads)
        policy = policy or ("resize" if model_bundle.image_size else "full")
        source = image_source(images, model=str(model_bundle.path), policy=policy)
        super().__init__("semcom analog point to point", source, snr_db, seed,
                         model_bundle.n_symbols(*source.max_shape()), out_dir, csv_path, score, lpips,
                         hash_model)
        self.channel = channel
        self.encoder = jscc_encoder(str(model_bundle.path), provider, threads)
        self.decoder = jscc_decoder(str(model_bundle.path), provider, threads)
        transmitter = [(self.encoder, "image", "symbols"), *self._fade(channel, coherence_symbols, seed)]
        receiver = [(self.decoder, "symbols", "image")]
        if channel == "rayleigh":
            self.equalizer = equalizer(equalization, noise_variance(snr_db))
            receiver.insert(0, (self.equalizer, "symbols", "symbols"))
        self._wire(transmitter, receiver)

    def set_snr_db(self, snr_db: float) -> None:
        super().set_snr_db(snr_db)
        if self.channel == "rayleigh":
            self.equalizer.set_noise_var(noise_variance(snr_db))


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
    seeds everywhere). out_dir, csv_path, provider, threads, score, lpips, hash_model: as for
    analog_point_to_point.

    ``bits_per_symbol`` and ``channel_uses`` (complex symbols of the largest
    image; the metrics' n_symbols has each image's) describe the link.
    """

    def __init__(self, model, images="samples", constellation="qpsk", channel="awgn", snr_db=10.0,
                 out_dir="", csv_path="", seed=1, deterministic=None, coherence_symbols=0, method="exact",
                 policy=None, provider="auto", threads=0, score=True, lpips=False, hash_model=""):
        model_bundle = bundle.BitSemComBundle(model, provider, threads)
        constellation = constellation_object(constellation)
        bits_per_symbol = demapping.Constellation.from_gnuradio(constellation).bits_per_symbol
        policy = policy or ("resize" if model_bundle.image_size else "full")
        source = image_source(images, model=str(model_bundle.path), policy=policy)
        # the longest burst, for the stream buffers (fully convolutional: the largest image's)
        channel_uses = model_bundle.channel_uses(bits_per_symbol, *source.max_shape())
        super().__init__("semcom digital point to point", source, snr_db, seed, channel_uses,
                         out_dir, csv_path, score, lpips, hash_model)
        self.bits_per_symbol, self.channel_uses, self.channel = bits_per_symbol, channel_uses, channel
        if deterministic is None:
            deterministic = model_bundle.deterministic_bits
        self.encoder = bitsemcom_encoder(str(model_bundle.path), provider, threads)
        self.bit_mapper = bit_mapper(seed + 1 if seed else 0, deterministic)
        self.mapper = qam_mapper(constellation)
        self.demapper = soft_demapper(constellation, noise_variance(snr_db), method, "llr")
        self.decoder = bitsemcom_decoder(str(model_bundle.path), provider, threads, input="llr")
        transmitter = [(self.encoder, "image", "probs"), (self.bit_mapper, "probs", "bits"),
                       (self.mapper, "bits", "symbols"), *self._fade(channel, coherence_symbols, seed)]
        self._wire(transmitter, [(self.demapper, "symbols", "soft_bits"), (self.decoder, "soft_bits", "image")])

    def set_snr_db(self, snr_db: float) -> None:
        super().set_snr_db(snr_db)
        self.demapper.set_noise_var(noise_variance(snr_db))


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
            source = image_source(images, policy="full")
        else:
            source = image_source(images, policy=policy, size=size)
        self.bits_per_symbol, self.code, self.channel = bits_per_symbol, encoder.code, channel
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
                         hash_model)
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
