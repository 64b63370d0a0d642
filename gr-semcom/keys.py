#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""PDU metadata keys, the one place they are defined.

Every PDU is a pmt pair (metadata dict, uniform vector). Blocks copy the
metadata they receive and add their own keys, so a sink can match an output to
its source by ``IMAGE_ID``.

===================  =========================  ==================================================
key                  value                      set by
===================  =========================  ==================================================
``image_id``         string, unique in a run    image_source
``image_shape``      s32 vector [H, W, 3]       image_source (shape of the image PDU)
``source``           string, file or sample     image_source
``model_id``         string                     jscc_encoder, bitsemcom_encoder (the encoder's card)
``n_symbols``        int, complex symbols       jscc_encoder, qam_mapper
``padded_shape``     s32 vector [Hp, Wp]        jscc_encoder (image size the model saw)
``snr_db``           float                      whoever knows the channel SNR
``decoder_model``    string                     jscc_decoder, bitsemcom_decoder
``hop``              int, 0 .. hops - 1         jscc_encoder (0), relay_df (its hop): the hop whose
                                                encoder made the symbols; relay_df and jscc_decoder
                                                of a multi-hop model check it is the hop they decode
``n_bits``           int, real (unpadded) bits  bitsemcom_encoder, bit_mapper, qam_mapper;
                                                soft_demapper keeps that many LLRs
``bits_per_symbol``  int                        qam_mapper (the constellation's)
``noise_var``        float > 0, N0 = E|n|^2     whoever knows the channel (per complex symbol,
                                                at unit signal power); read by soft_demapper
``channel_gain``     complex, or c32 vector     whoever knows the channel (h of r = h x + n,
                     with one per symbol        one per PDU for block fading); read by
                                                soft_demapper
``soft_bits``        "llr" or "posterior"       soft_demapper: what its f32vector holds;
                                                bitsemcom_decoder refuses the other kind
===================  =========================  ==================================================

Fading and LDPC (block_fading, equalizer, ldpc_encoder, ldpc_decoder):

======================  =========================  ===============================================
key                     value                      set by
======================  =========================  ===============================================
``coherence_symbols``   int > 0                    block_fading: ``channel_gain`` is a c32 vector
                                                   with one entry per block of this many symbols
                                                   (the last may be short); soft_demapper expands it
``equalized_gain``      as ``channel_gain``            equalizer: the gain it removed (``channel_gain``
                                                   is dropped, so nothing applies it twice)
``equalized_coherence_symbols``  int > 0           equalizer: the block length of ``equalized_gain``
``qf_codebook``         string, e.g. "nq4_b0.75"   relay_qf: the codebook its bits index; qf_dequantizer
                                                   checks it is its own
``qf_symbols``          int                        relay_qf: the complex symbols it quantised, which
                                                   qf_dequantizer restores (its own key: a digital
                                                   link's qam_mapper rewrites n_symbols on the way)
``ldpc_code``           string                     ldpc_encoder (a name of ``ldpc.CODES`` or an alist
                                                   path); ldpc_decoder checks it is its own
``ldpc_info_bits``      int                        ldpc_encoder: information bits before the zero
                                                   padding of the last frame; ldpc_decoder keeps them
``ldpc_frames``         int                        ldpc_encoder: codewords in the PDU
``ldpc_frame_ok``       u8 vector, one per frame   ldpc_decoder: 1 where the decoded frame has a
                                                   zero syndrome, 0 where decoding failed
``ldpc_failed_frames``  int                        ldpc_decoder: how many frames failed
``ldpc_iterations``     s32 vector, one per frame  ldpc_decoder: belief-propagation iterations used
======================  =========================  ===============================================

Bursts over the air (burst_tx, burst_rx; see ``framing``):

======================  =========================  ===============================================
key                     value                      set by
======================  =========================  ===============================================
``burst_cfo``           float, cycles per sample   burst_rx: the frequency offset it corrected
``burst_start``         float, stream sample       burst_rx: where the burst's preamble starts
``burst_drift``         float                      burst_rx: the timing drift it corrected, samples
                                                   per sample (the sample-rate offset; 0 for bursts
                                                   too short to measure it); stream_to_symbols: the
                                                   same (1 - epsilon of Channel Model; 0 when the
                                                   frame was taken as it came)
======================  =========================  ===============================================

burst_rx also sets image_id, image_shape, n_symbols and bits_per_symbol from the burst's
header, snr_db and noise_var from its estimates, and equalized_gain (the gain it removed).

Frames in a sample stream (symbols_to_stream, stream_to_symbols; see ``stream_frames``):
stream_to_symbols keeps the sender's metadata and sets noise_var, burst_cfo, burst_start and
burst_drift from its estimates, and

======================  =========================  ===============================================
key                     value                      set by
======================  =========================  ===============================================
``estimated_snr_db``    float                      stream_to_symbols: 10 log10(1 / noise_var), the
                                                   SNR it measured on the pilots after equalisation
                                                   (``snr_db`` stays the channel's nominal SNR, for
                                                   whoever sets it, e.g. metrics_sink's parameter)
======================  =========================  ===============================================

Separation baseline (codec_encoder, codec_decoder; see ``codecs``):

======================  =========================  ===============================================
key                     value                      set by
======================  =========================  ===============================================
``codec``               string, a ``codecs`` name  codec_encoder; codec_decoder checks it is its own
``codec_quality``       int, -1 when nothing fit   codec_encoder: the quality setting it chose
``codec_bytes``         int, 0 when nothing fit    codec_encoder: the stream's length; the rest of
                                                   the ``n_bits`` payload is zero fill
``decode_failed``       int, 0 or 1                codec_decoder: 1 when the LDPC decoder reported
                                                   failed frames or the stream did not decode, and
                                                   the image is the fallback; metrics_sink records it
======================  =========================  ===============================================

Variational and classifying models (jscc_encoder, jscc_decoder, image_source, metrics_sink):

======================  =========================  ===============================================
key                     value                      set by
======================  =========================  ===============================================
``variance_symbols``    int                        jscc_encoder sending the variance (VSCC test mode
                                                   "transmitted"): the last this many of the
                                                   n_symbols are the encoder's variances, as real
                                                   pairs in the latent's order, after the mean's
``resampling``          string                     jscc_decoder: "off", "transmitted" or
                                                   "knowledge_base", the variance it sampled with
``sample``, ``samples``  int, int                  jscc_decoder: this image is draw ``sample``
                                                   (0 .. samples - 1) of ``samples`` of one
                                                   received PDU; metrics_sink waits for all
``label``               string, a class name       image_source (``labels``): the source's class
``class_probs``         f32 vector                 jscc_decoder of a model with a classifier: the
                                                   class probabilities (the card's ``classes``)
``class_label``         string                     jscc_decoder: the most probable class
======================  =========================  ===============================================

Image PDUs carry a u8vector of H*W*3 bytes, row-major RGB. Symbol PDUs carry a
c32vector of ``n_symbols`` complex symbols. Bit PDUs carry a u8vector of 0/1
values, one bit per byte. Probability PDUs (bitsemcom_encoder) carry an
f32vector of ``n_bits`` Bernoulli probabilities P(b=1) that bit_mapper makes
bits of. Soft-bit PDUs carry an f32vector of ``n_bits`` LLRs
log P(b=1|r)/P(b=0|r) or posteriors P(b=1|r) (see ``demapping``).
"""
IMAGE_ID = "image_id"
IMAGE_SHAPE = "image_shape"
SOURCE = "source"
MODEL_ID = "model_id"
N_SYMBOLS = "n_symbols"
PADDED_SHAPE = "padded_shape"
SNR_DB = "snr_db"
DECODER_MODEL = "decoder_model"
HOP = "hop"
N_BITS = "n_bits"
BITS_PER_SYMBOL = "bits_per_symbol"
NOISE_VAR = "noise_var"
CHANNEL_GAIN = "channel_gain"
SOFT_BITS = "soft_bits"
COHERENCE_SYMBOLS = "coherence_symbols"
EQUALIZED_GAIN = "equalized_gain"
QF_CODEBOOK = "qf_codebook"
QF_SYMBOLS = "qf_symbols"
EQUALIZED_COHERENCE_SYMBOLS = "equalized_coherence_symbols"
LDPC_CODE = "ldpc_code"
LDPC_INFO_BITS = "ldpc_info_bits"
LDPC_FRAMES = "ldpc_frames"
LDPC_FRAME_OK = "ldpc_frame_ok"
LDPC_FAILED_FRAMES = "ldpc_failed_frames"
LDPC_ITERATIONS = "ldpc_iterations"
CODEC = "codec"
CODEC_QUALITY = "codec_quality"
CODEC_BYTES = "codec_bytes"
DECODE_FAILED = "decode_failed"
BURST_CFO = "burst_cfo"
BURST_START = "burst_start"
BURST_DRIFT = "burst_drift"
ESTIMATED_SNR_DB = "estimated_snr_db"
VARIANCE_SYMBOLS = "variance_symbols"
RESAMPLING = "resampling"
SAMPLE = "sample"
SAMPLES = "samples"
LABEL = "label"
CLASS_PROBS = "class_probs"
CLASS_LABEL = "class_label"
