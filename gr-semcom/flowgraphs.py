"""Ready-made flowgraphs: the point-to-point AWGN link that the demo, the
evaluation CLI and the examples run.

    image_source -> jscc_encoder -> pdu_to_tagged_stream -> (+ noise_source_c)
        -> tagged_stream_to_pdu -> jscc_decoder -> image_sink, metrics_sink

The channel is GNU Radio's own: ``analog.noise_source_c`` gives complex
Gaussian noise of power amplitude^2, so amplitude = 10^(-SNR/20) for unit
signal power. An adder keeps every sample of a burst in place (no filter or
resampler to hold the tail of the last burst back).
"""
from __future__ import annotations

import math

from gnuradio import analog, blocks, gr, pdu

from gnuradio.semcom import bundle
from gnuradio.semcom.image_sink import image_sink
from gnuradio.semcom.image_source import image_source
from gnuradio.semcom.jscc_decoder import jscc_decoder
from gnuradio.semcom.jscc_encoder import jscc_encoder
from gnuradio.semcom.metrics_sink import metrics_sink

LENGTH_TAG = "packet_len"


def noise_amplitude(snr_db: float) -> float:
    """noise_source_c amplitude for ``snr_db`` at unit signal power."""
    return 10.0 ** (-snr_db / 20.0)


def burst_buffer(n_symbols: int) -> int:
    """Items a stream buffer needs so that tagged_stream_to_pdu sees a whole burst."""
    # a circular buffer offers at most half its size to one call of work
    return 1 << max(12, math.ceil(math.log2(2 * n_symbols)))


class awgn_point_to_point(gr.top_block):
    """Send images through encoder, AWGN and decoder; score and optionally save them.

    model: bundle folder or shipped name (encoder and decoder). images,
    policy: as for image_source ("full" needs a fully convolutional model;
    fixed-size models default to "resize"). snr_db: channel SNR. out_dir:
    where image_sink writes PNGs ("" for none). csv_path: metrics CSV ("" for
    none). seed: noise seed (0 draws one). provider, threads: onnxruntime.
    score: connect metrics_sink (PSNR, SSIM); False leaves the bare link,
    for timing it (``run_images`` then returns no rows).
    """

    def __init__(self, model, images="samples", policy=None, snr_db=10.0, out_dir="", csv_path="",
                 seed=1, provider="auto", threads=0, score=True):
        gr.top_block.__init__(self, "semcom awgn point to point")
        model_bundle = bundle.Bundle(model, provider, threads)
        policy = policy or ("resize" if model_bundle.image_size else "full")
        self.source = image_source(images, model=str(model_bundle.path), policy=policy)
        self.encoder = jscc_encoder(str(model_bundle.path), provider, threads)
        self.decoder = jscc_decoder(str(model_bundle.path), provider, threads)
        self.image_sink = image_sink(out_dir)
        self.metrics = metrics_sink(snr_db, csv_path)
        self.to_stream = pdu.pdu_to_tagged_stream(gr.types.complex_t, LENGTH_TAG)
        self.noise = analog.noise_source_c(analog.GR_GAUSSIAN, noise_amplitude(snr_db), seed)
        self.add = blocks.add_cc()
        # the adder asks for volk-aligned runs and would hold back the last item of a burst
        self.add.set_alignment(1)
        self.to_pdu = pdu.tagged_stream_to_pdu(gr.types.complex_t, LENGTH_TAG)
        size = burst_buffer(model_bundle.n_symbols(*self.source.max_shape()))
        for block in (self.to_stream, self.add):
            block.set_min_output_buffer(size)

        self.score = score
        self.msg_connect((self.source, "image"), (self.encoder, "image"))
        self.msg_connect((self.encoder, "symbols"), (self.to_stream, "pdus"))
        self.connect(self.to_stream, (self.add, 0))
        self.connect(self.noise, (self.add, 1))
        self.connect(self.add, self.to_pdu)
        self.msg_connect((self.to_pdu, "pdus"), (self.decoder, "symbols"))
        self.msg_connect((self.decoder, "image"), (self.image_sink, "image"))
        if score:
            self.msg_connect((self.source, "image"), (self.metrics, "reference"))
            self.msg_connect((self.decoder, "image"), (self.metrics, "decoded"))

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
