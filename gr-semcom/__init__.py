#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""gr-semcom: neural joint source-channel coding blocks for GNU Radio.

Blocks (one per module): image_source, jscc_encoder, jscc_decoder,
image_sink, metrics_sink, qam_mapper, soft_demapper, block_fading, equalizer,
ldpc_encoder, ldpc_decoder, bitsemcom_encoder, bit_mapper, bitsemcom_decoder,
codec_encoder, codec_decoder, relay_qf, qf_dequantizer, relay_df, burst_tx, burst_rx,
symbols_to_stream, stream_to_symbols, image_display.
Shared pieces: bundle (model bundles), card (their card.json schema), images, metrics, symbols, demapping
(bit mapping and soft demapping), modulations (constellations by name), ldpc
(LDPC codes), framing (over-the-air bursts), stream_frames (symbol PDUs as
frames in a sample stream, for GNU Radio's channel blocks), quantization (quantize-and-forward codebooks), lpips (LPIPS),
codecs (image codecs and link budgets of the separation baseline), keys (PDU
metadata), pdus.
"""
from .image_source import image_source
from .jscc_encoder import jscc_encoder
from .jscc_decoder import jscc_decoder
from .image_sink import image_sink
from .metrics_sink import metrics_sink
from .qam_mapper import qam_mapper
from .soft_demapper import soft_demapper
from .block_fading import block_fading
from .equalizer import equalizer
from .ldpc_encoder import ldpc_encoder
from .ldpc_decoder import ldpc_decoder
from .bitsemcom_encoder import bitsemcom_encoder
from .bit_mapper import bit_mapper
from .bitsemcom_decoder import bitsemcom_decoder
from .codec_encoder import codec_encoder
from .codec_decoder import codec_decoder
from .relay_qf import relay_qf
from .qf_dequantizer import qf_dequantizer
from .relay_df import relay_df
from .burst_tx import burst_tx
from .burst_rx import burst_rx
from .symbols_to_stream import symbols_to_stream
from .stream_to_symbols import stream_to_symbols
from .image_display import image_display
