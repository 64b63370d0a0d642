"""PDU metadata keys, the one place they are defined.

Every PDU is a pmt pair (metadata dict, uniform vector). Blocks copy the
metadata they receive and add their own keys, so a sink can match an output to
its source by ``IMAGE_ID``.

=================  =========================  =============================================
key                value                      set by
=================  =========================  =============================================
``image_id``       string, unique in a run    image_source
``image_shape``    s32 vector [H, W, 3]       image_source (shape of the image PDU)
``source``         string, file or sample     image_source
``model_id``       string                     jscc_encoder (the encoder's card)
``n_symbols``      int, complex symbols       jscc_encoder
``padded_shape``   s32 vector [Hp, Wp]        jscc_encoder (image size the model saw)
``snr_db``         float                      whoever knows the channel SNR
``decoder_model``  string                     jscc_decoder
=================  =========================  =============================================

Image PDUs carry a u8vector of H*W*3 bytes, row-major RGB. Symbol PDUs carry a
c32vector of ``n_symbols`` complex symbols.
"""
IMAGE_ID = "image_id"
IMAGE_SHAPE = "image_shape"
SOURCE = "source"
MODEL_ID = "model_id"
N_SYMBOLS = "n_symbols"
PADDED_SHAPE = "padded_shape"
SNR_DB = "snr_db"
DECODER_MODEL = "decoder_model"
