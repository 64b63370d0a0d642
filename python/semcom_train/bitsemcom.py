"""BitSemCom (Zhang, Bo, Mo, Tao): bit-level JSCC with a learnable probabilistic bit mapper.

    image -> Encoder (models.Encoder, latent not power-normalised) -> z (N, C, H/4, W/4)
          -> BitMapper: 1-D convolutions -> Bernoulli logits (N, n_bits)
          -> bits: Gumbel-softmax sample (training) / Bernoulli sample or threshold (inference)
          -> constellation symbols (any digital.constellation, ``demapping`` labels)
          -> r = h x + n (AWGN, or Rayleigh block fading with h known at the receiver)
          -> exact soft demapping -> posteriors P(b = 1 | r) (N, n_bits)
          -> Decoder (models.Decoder) on the posteriors laid out as the bit grid -> image

Bit mapping. The mapper reads the latent's H'W' = H/4 x W/4 spatial positions,
in row-major order, as a sequence with the C latent channels as the
convolution's channels (what the paper's seed code does with its tokens) and
gives ``bit_channels`` = B logits per position. Bit i of an image is element
i of the (B, H', W') logit grid flattened in C order: i = (b * H' + y) * W' + x.
Symbols take k = bits_per_symbol consecutive bits, most significant first, the
last symbol padded with zero bits (``demapping.map_bits``); the receiver drops
the padding's posteriors. The decoder takes the posteriors reshaped back to the
(B, H', W') grid (as 2P - 1, centred soft bits). n_bits = B H' W' is a config
value; CIFAR-10 uses B = 16 on the 8 x 8 grid: 1,024 bits, 512 QPSK channel uses,
the 1/6 bandwidth ratio of ``deepjscc_cifar10_r6`` (256 uses with 16QAM,
171 with 64QAM).

Digitisation (``BitSemComConfig.bit_mapper``):

- "gumbel" (the method): logits l = log pi1 - log pi0, the binary form of the
  two-class Gumbel-softmax (the difference of two Gumbel(0, 1) draws is a
  Logistic(0, 1) draw g). Training: hard bit 1[l + g > 0] in the forward pass,
  gradient of the relaxed sigmoid((l + g) / tau) in the backward pass
  (straight-through); ``temperature`` tau is set by the training loop.
  Inference: b ~ Bernoulli(sigmoid(l)) with a seedable generator ("sample",
  the paper's), or 1[l > 0] ("threshold", deterministic).
- "uniform" (ablation Backbone-1bit): no mapper, p = sigmoid(z) with C = B.
  Training: p + U(-1/2, 1/2) (the usual additive-noise proxy of rounding);
  inference: round(p). The training values are not bits: they are modulated
  by the multilinear extension of the constellation map (below).
- "hard_sigmoid_ste" (ablation Backbone-Hard+STE): no mapper, p = sigmoid(z).
  Forward 1[p > 1/2], backward the gradient of p (straight-through).

Modulation of soft values. ``modulate`` sends x = sum_i w_i(b) x_i with
w_i = prod_j (b_j if point i's bit j is 1 else 1 - b_j): exactly the point
``map_bits`` picks when the bits are 0/1, and differentiable, so gradients
reach the bits through the channel and demapper (for hard bits, d x / d b_j is
the difference of the two points that differ in bit j).

The constellation belongs to the channel, not to the weights: a model trained
with QPSK runs with any constellation (``DigitalChannel``). Bit labels and unit
power come from ``gnuradio.semcom.demapping.Constellation``; the torch soft
demapper here is the twin of ``demapping.llrs`` (tests compare them).
"""
from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from gnuradio.semcom import demapping, modulations
from semcom_train import channels, models

BIT_MAPPERS = ("gumbel", "uniform", "hard_sigmoid_ste")
DECISIONS = ("sample", "threshold")
STAGES = ("error_free", "noisy")
SNR_DRAWS = ("batch", "image")

# Training/test constellations by name: (GNU Radio expression, factory), the runtime's
# table (the expression goes into model cards so the runtime can build the same object).
MODULATIONS = modulations.MODULATIONS


# -- configuration and registry ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class BitSemComConfig:
    """Hyper-parameters that fix a BitSemCom network.

    latent_channels: C of the encoder's latent. bit_channels: B, bits per latent
    position (n_bits = B x H/4 x W/4). width: backbone width (models.Encoder/Decoder).
    image_size: (H, W) for fixed-size models (the ONNX files take (N, n_bits) vectors), or
    None for fully convolutional ones (any size; the decoder takes the (N, B, H', W') grid).
    bit_mapper: one of BIT_MAPPERS; the ablations have no mapper and need C = B.
    mapper_width, mapper_kernel: the mapper's hidden channels and 1-D kernel size.
    """
    latent_channels: int
    bit_channels: int
    width: int
    image_size: tuple[int, int] | None
    bit_mapper: str = "gumbel"
    mapper_width: int = 32
    mapper_kernel: int = 3

    def __post_init__(self):
        if self.bit_mapper not in BIT_MAPPERS:
            raise ValueError(f"bit_mapper must be one of {BIT_MAPPERS}, got {self.bit_mapper!r}")
        if self.bit_mapper != "gumbel" and self.latent_channels != self.bit_channels:
            raise ValueError(f"ablation {self.bit_mapper!r} digitises the latent itself: latent_channels "
                             f"({self.latent_channels}) must equal bit_channels ({self.bit_channels})")
        if self.image_size is not None and any(s % models.DOWNSAMPLING for s in self.image_size):
            raise ValueError(f"image_size must be (H, W), multiples of {models.DOWNSAMPLING}, or None; "
                             f"got {self.image_size}")

    def grid_for(self, height: int, width: int) -> tuple[int, int, int]:
        """(B, H', W'): the layout of the bits of an image of ``height`` x ``width``
        (padded up to a multiple of the downsampling)."""
        step = models.DOWNSAMPLING
        return self.bit_channels, -(-height // step), -(-width // step)

    @property
    def grid(self) -> tuple[int, int, int]:
        """(B, H', W') of the config's image size."""
        if self.image_size is None:
            raise ValueError("a fully convolutional model has no fixed bit grid: use grid_for(height, width)")
        return self.grid_for(*self.image_size)

    def bits_for(self, height: int, width: int) -> int:
        """Bits per image of ``height`` x ``width``."""
        return math.prod(self.grid_for(height, width))

    @property
    def n_bits(self) -> int:
        return math.prod(self.grid)

    @property
    def decision(self) -> str:
        """How inference makes bits of the probabilities: "sample" (the method) or "threshold"."""
        return "sample" if self.bit_mapper == "gumbel" else "threshold"

    def channel_uses(self, bits_per_symbol: int) -> int | None:
        """Complex symbols per image with a constellation of ``bits_per_symbol`` (None:
        fully convolutional, it depends on the image)."""
        return None if self.image_size is None else -(-self.n_bits // bits_per_symbol)

    def bandwidth_ratio(self, bits_per_symbol: int) -> float:
        """Channel uses / (3 x H x W) (for images whose sides are multiples of the downsampling)."""
        if self.image_size is None:
            return self.bit_channels / bits_per_symbol / (3 * models.DOWNSAMPLING ** 2)
        return self.channel_uses(bits_per_symbol) / (3 * self.image_size[0] * self.image_size[1])

    def build(self) -> "BitSemCom":
        return BitSemCom(self)


_CIFAR = dict(latent_channels=16, bit_channels=16, width=48, image_size=(32, 32))
# 16 x 8 x 8 = 1,024 bits = 512 QPSK symbols = ratio 1/6, the backbone of deepjscc_cifar10_r6
REGISTRY = {
    "bitsemcom_cifar10": BitSemComConfig(**_CIFAR),
    "bitsemcom_cifar10_uniform": BitSemComConfig(**_CIFAR, bit_mapper="uniform"),
    "bitsemcom_cifar10_hardste": BitSemComConfig(**_CIFAR, bit_mapper="hard_sigmoid_ste"),
    # 32 x 8 x 8 = 2,048 bits: 512 16QAM symbols, the same 1/6 ratio as QPSK with 1,024 bits
    "bitsemcom_cifar10_16qam": BitSemComConfig(**{**_CIFAR, "bit_channels": 32}),
    # fully convolutional, the backbone of deepjscc_bsds_r16: 6 bits per 4 x 4 pixels =
    # 3 QPSK symbols per 48 values = ratio 1/16 (Kodak 768 x 512: 147,456 bits)
    "bitsemcom_bsds": BitSemComConfig(latent_channels=6, bit_channels=6, width=48, image_size=None),
}


# -- bit mapper -------------------------------------------------------------------------------
class BitMapper(nn.Module):
    """Latent (N, C, H', W') -> Bernoulli logits (N, B, H', W') by 1-D convolutions
    over the H'W' positions (row-major), channels as convolution channels."""

    def __init__(self, latent_channels: int, bit_channels: int, width: int, kernel: int):
        super().__init__()
        pad = kernel // 2
        self.net = nn.Sequential(
            nn.Conv1d(latent_channels, width, kernel, padding=pad), nn.PReLU(width),
            nn.Conv1d(width, width, kernel, padding=pad), nn.PReLU(width),
            nn.Conv1d(width, bit_channels, kernel, padding=pad),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        n, _, h, w = latent.shape
        return self.net(latent.flatten(2)).reshape(n, -1, h, w)


def logistic_noise(shape, generator=None, device=None) -> torch.Tensor:
    """Logistic(0, 1) samples: the difference of two Gumbel(0, 1) draws."""
    u = torch.rand(shape, generator=generator, device=device).clamp_(1e-6, 1 - 1e-6)
    return torch.log(u) - torch.log1p(-u)


def gumbel_bits(logits: torch.Tensor, temperature: float, generator=None) -> torch.Tensor:
    """Straight-through binary Gumbel-softmax: values exactly 0/1, gradient of
    sigmoid((logits + g) / temperature), g ~ Logistic(0, 1)."""
    noisy = logits + logistic_noise(logits.shape, generator, logits.device)
    soft = torch.sigmoid(noisy / temperature)
    hard = (noisy > 0).to(logits.dtype)
    return hard + (soft - soft.detach())  # exactly hard in value


def sample_bits(probs: torch.Tensor, generator=None) -> torch.Tensor:
    """b ~ Bernoulli(probs) as float 0/1."""
    return (torch.rand(probs.shape, generator=generator, device=probs.device) < probs).to(probs.dtype)


# -- constellations, modulation, soft demapping -----------------------------------------------
def constellation(spec) -> demapping.Constellation:
    """A ``demapping.Constellation`` from a MODULATIONS name, a ``digital.constellation``
    or a ``demapping.Constellation``."""
    if isinstance(spec, demapping.Constellation):
        return spec
    if isinstance(spec, str):
        spec = modulations.make(spec)
    return demapping.Constellation.from_gnuradio(spec)


class TorchConstellation:
    """Torch tensors of a ``demapping.Constellation`` (its points and bit tables, not re-derived).

    bits_per_symbol k; points_re, points_im (M,); bits (M, k) float; ones, zeros (k, M/2) long.
    """

    def __init__(self, spec, dtype=torch.float32):
        table = constellation(spec)
        self.table = table
        self.bits_per_symbol = table.bits_per_symbol
        self.points_re = torch.tensor(table.points.real, dtype=dtype)
        self.points_im = torch.tensor(table.points.imag, dtype=dtype)
        self.bits = torch.tensor(table.bits, dtype=dtype)
        self.ones = torch.tensor(table.ones, dtype=torch.long)
        self.zeros = torch.tensor(table.zeros, dtype=torch.long)

    def n_symbols(self, n_bits: int) -> int:
        return -(-n_bits // self.bits_per_symbol)

    def __repr__(self) -> str:
        return f"TorchConstellation({self.table!r})"


def modulate(bits: torch.Tensor, table: TorchConstellation) -> torch.Tensor:
    """(N, n_bits) bits -> (N, ceil(n_bits / k)) complex symbols, the last one padded
    with zero bits: ``demapping.map_bits`` for 0/1 bits, its multilinear extension
    (differentiable) for other values."""
    k = table.bits_per_symbol
    n, n_bits = bits.shape
    padded = nn.functional.pad(bits, (0, table.n_symbols(n_bits) * k - n_bits))
    b = padded.reshape(n, -1, 1, k)  # (N, S, 1, k)
    labels = table.bits.to(bits.device)  # (M, k)
    weights = (labels * b + (1 - labels) * (1 - b)).prod(dim=-1)  # (N, S, M)
    re = weights @ table.points_re.to(bits.device)
    im = weights @ table.points_im.to(bits.device)
    return torch.complex(re, im)


def soft_demap(received: torch.Tensor, table: TorchConstellation, noise_var, gain=1.0,
               method: str = "exact", n_bits: int | None = None) -> torch.Tensor:
    """Per-bit LLRs log P(b=1|r) - log P(b=0|r) of r = h x + n, n ~ CN(0, N0); the twin of
    ``demapping.llrs``, differentiable in r and h.

    received: (N, S) complex. noise_var: N0, a number or a tensor broadcasting to (N, S)
    (e.g. (N, 1)). gain: h, a number or complex tensor broadcasting to (N, S) (coherent).
    Returns (N, n_bits) (default S k), the bits of symbol 0 first, MSB first.
    """
    if method not in demapping.METHODS:
        raise ValueError(f"method must be one of {demapping.METHODS}, got {method!r}")
    device, real = received.device, received.real.dtype
    gain = torch.as_tensor(gain, device=device).to(received.dtype if received.is_complex() else torch.complex64)
    noise_var = torch.as_tensor(noise_var, dtype=real, device=device)
    p_re, p_im = table.points_re.to(device, real), table.points_im.to(device, real)
    h_re, h_im = gain.real.unsqueeze(-1), gain.imag.unsqueeze(-1)
    d_re = received.real.unsqueeze(-1) - (h_re * p_re - h_im * p_im)  # (N, S, M)
    d_im = received.imag.unsqueeze(-1) - (h_re * p_im + h_im * p_re)
    metric = -(d_re ** 2 + d_im ** 2) / noise_var.unsqueeze(-1)
    reduce = (lambda m: torch.logsumexp(m, dim=-1)) if method == "exact" else (lambda m: m.amax(dim=-1))
    ones = reduce(metric[..., table.ones.to(device)])  # (N, S, k)
    zeros = reduce(metric[..., table.zeros.to(device)])
    llr = (ones - zeros).flatten(-2)
    return llr if n_bits is None else llr[..., :n_bits]


# -- channels on bits -------------------------------------------------------------------------
class ErrorFree:
    """Stage 1 of training: the decoder gets the bits themselves as posteriors."""

    def __init__(self, generator: torch.Generator | None = None):
        self.generator = generator

    def __call__(self, bits: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"posteriors": bits}


class DigitalChannel(channels.Channel):
    """Bits -> symbols of ``constellation`` -> r = h x + n -> exact posteriors P(b=1|r).

    constellation: a MODULATIONS name, ``digital.constellation`` or ``demapping.Constellation``
    (points at unit average power). snr_db: a number or (low, high), drawn uniformly
    per batch (``snr_per="batch"``, the paper's) or per image. fading: "awgn" (h = 1) or
    "rayleigh" (one h ~ CN(0, 1) per image, known to the receiver). N0 = 10^(-SNR/10).
    method: "exact" or "maxlog" demapping. ``generator`` makes draws reproducible.
    """

    def __init__(self, constellation, snr_db, fading: str = "awgn", snr_per: str = "batch",
                 method: str = "exact", generator: torch.Generator | None = None):
        super().__init__(snr_db, generator)
        if fading not in ("awgn", "rayleigh"):
            raise ValueError(f"fading must be 'awgn' or 'rayleigh', got {fading!r}")
        if snr_per not in SNR_DRAWS:
            raise ValueError(f"snr_per must be one of {SNR_DRAWS}, got {snr_per!r}")
        if method not in demapping.METHODS:
            raise ValueError(f"method must be one of {demapping.METHODS}, got {method!r}")
        self.table = constellation if isinstance(constellation, TorchConstellation) else TorchConstellation(constellation)
        self.fading, self.snr_per, self.method = fading, snr_per, method

    def draw_snr_db(self, n: int, device) -> torch.Tensor:
        if self.snr_per == "image":
            return super().draw_snr_db(n, device)
        return super().draw_snr_db(1, device).expand(n, 1)

    def draw_gain(self, n: int, device) -> torch.Tensor:
        """(N, 1) complex h: ones (AWGN) or CN(0, 1) per image (Rayleigh block fading)."""
        if self.fading == "awgn":
            return torch.ones(n, 1, dtype=torch.complex64, device=device)
        re = torch.randn(n, 1, generator=self.generator, device=device)
        im = torch.randn(n, 1, generator=self.generator, device=device)
        return torch.complex(re, im) / 2.0 ** 0.5

    def transmit(self, symbols, snr_db, gain=1.0):
        return gain * symbols + self.noise(symbols, snr_db)

    def __call__(self, bits: torch.Tensor) -> dict[str, torch.Tensor]:
        """bits: (N, n_bits). Returns {"symbols", "received" (N, S) complex, "gain" (N, 1),
        "snr_db", "noise_var" (N, 1), "posteriors" (N, n_bits)}."""
        n = bits.shape[0]
        symbols = modulate(bits, self.table)
        snr_db = self.draw_snr_db(n, bits.device)
        gain = self.draw_gain(n, bits.device)
        received = self.transmit(symbols, snr_db, gain)
        noise_var = 10.0 ** (-snr_db / 10.0)
        llr = soft_demap(received, self.table, noise_var, gain, self.method, bits.shape[1])
        return {"symbols": symbols, "received": received, "gain": gain, "snr_db": snr_db,
                "noise_var": noise_var, "posteriors": torch.sigmoid(llr)}


def make_channel(fading: str, snr_db, stage: str = "noisy", modulation="qpsk", snr_per: str = "batch",
                 generator: torch.Generator | None = None):
    """The bit channel of training ``stage``: ErrorFree, or a DigitalChannel."""
    if stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
    if stage == "error_free":
        return ErrorFree(generator)
    return DigitalChannel(modulation, snr_db, fading, snr_per, generator=generator)


def temperature_schedule(start: float, end: float, steps: int):
    """step -> Gumbel-softmax temperature, exponential from ``start`` to ``end`` over ``steps``."""
    if start <= 0 or end <= 0:
        raise ValueError(f"temperatures must be > 0, got {start} and {end}")
    return lambda step: start * (end / start) ** (min(step, steps) / steps)


# -- the model --------------------------------------------------------------------------------
class BitSemCom(nn.Module):
    """Encoder, bit mapper, bit channel and decoder; ``forward`` returns a dict with stable keys.

    ``temperature``: the Gumbel-softmax temperature used in training mode.
    ``decision``: inference bits, "sample" or "threshold" (default: the config's).
    """

    def __init__(self, config: BitSemComConfig):
        super().__init__()
        self.config = config
        self.encoder = models.Encoder(config.latent_channels, config.width, normalize=False)
        self.mapper = (BitMapper(config.latent_channels, config.bit_channels, config.mapper_width,
                                 config.mapper_kernel) if config.bit_mapper == "gumbel" else nn.Identity())
        self.decoder = models.Decoder(config.bit_channels, config.width)
        self.temperature = 1.0
        self.decision = config.decision

    def logits(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, n_bits) logits of P(b = 1)."""
        return self.mapper(self.encoder(image)).flatten(1)

    def encode_probs(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> (N, n_bits) P(b = 1): what encoder.onnx computes."""
        return torch.sigmoid(self.logits(image))

    def decode_posteriors(self, posteriors: torch.Tensor, grid: tuple[int, int, int] | None = None) -> torch.Tensor:
        """(N, n_bits) P(b = 1 | r) -> (N, 3, H, W) in [0, 1]: what decoder.onnx computes.

        grid: the (B, H/4, W/4) bit grid, by default the config's image size (the torch
        networks are fully convolutional; the exported ONNX files take the config's size).
        """
        soft = posteriors.reshape(posteriors.shape[0], *(grid or self.config.grid))
        return self.decoder(2.0 * soft - 1.0)

    def digitize(self, logits: torch.Tensor, generator=None, decision: str | None = None) -> torch.Tensor:
        """Bits (training: relaxed per ``bit_mapper``; inference: ``decision``)."""
        probs = torch.sigmoid(logits)
        if self.training:
            kind = self.config.bit_mapper
            if kind == "gumbel":
                return gumbel_bits(logits, self.temperature, generator)
            if kind == "uniform":
                return probs + torch.rand(probs.shape, generator=generator, device=probs.device) - 0.5
            hard = (logits > 0).to(probs.dtype)
            return hard + (probs - probs.detach())
        decision = decision or self.decision
        if decision not in DECISIONS:
            raise ValueError(f"decision must be one of {DECISIONS}, got {decision!r}")
        return sample_bits(probs, generator) if decision == "sample" else (logits > 0).to(probs.dtype)

    def forward(self, image: torch.Tensor, channel, generator: torch.Generator | None = None,
                decision: str | None = None) -> dict[str, torch.Tensor]:
        """image: (N, 3, H, W) in [0, 1]; channel: ErrorFree or DigitalChannel (any
        constellation). ``generator`` (default: the channel's) draws the bits.

        Returns {"latent", "logits", "probs", "bits", "posteriors", "image_hat"} (bits-shaped
        tensors (N, n_bits)) and the channel's extras ("symbols", "received", ...).
        """
        latent = self.encoder(image)
        logits = self.mapper(latent).flatten(1)
        bits = self.digitize(logits, generator if generator is not None else channel.generator, decision)
        out = channel(bits)
        return {"latent": latent, "logits": logits, "probs": torch.sigmoid(logits), "bits": bits, **out,
                "image_hat": self.decode_posteriors(out["posteriors"], (self.config.bit_channels, *latent.shape[2:]))}


class ProbsEncoder(nn.Module):
    """encoder.onnx: image (N, 3, H, W) float32 in [0, 1] -> probs (N, n_bits) float32."""

    def __init__(self, model: BitSemCom):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode_probs(image)


class PosteriorDecoder(nn.Module):
    """decoder.onnx: posteriors float32 P(b=1|r) -> image (N, 3, H, W) in [0, 1]; the
    posteriors are (N, n_bits) for fixed-size models, the (N, B, H/4, W/4) grid for
    fully convolutional ones (a flat vector does not say the image's size)."""

    def __init__(self, model: BitSemCom):
        super().__init__()
        self.model = model

    def forward(self, posteriors):
        if self.model.config.image_size is None:
            return self.model.decoder(2.0 * posteriors - 1.0)
        return self.model.decode_posteriors(posteriors)


def card_fields(config: BitSemComConfig, train_args: dict) -> dict:
    """The model-card keys of a bit-level bundle (documented in ``semcom_train.export``);
    ``train_args``: the training run's options (``semcom_train.train``)."""
    modulation, stage = train_args["modulation"], train_args["stage"]
    k = constellation(modulation).bits_per_symbol
    fixed = config.image_size is not None
    return {
        "method": "bitsemcom",
        "image_size": list(config.image_size) if fixed else None,
        "fully_convolutional": not fixed,
        "downsampling": models.DOWNSAMPLING,
        "latent_channels": config.bit_channels,  # channels of the bit grid, for bundle geometry
        "bit_channels": config.bit_channels,
        "bit_grid": list(config.grid) if fixed else None,
        "n_bits": config.n_bits if fixed else None,
        "width": config.width,
        "bit_mapper": config.bit_mapper,
        "ablation": None if config.bit_mapper == "gumbel" else config.bit_mapper,
        "inference_bits": config.decision,
        "onnx_io": {"encoder": {"input": "image", "output": "probs"},
                    "decoder": {"input": "posteriors", "output": "image"}},
        "posterior_layout": "(N, n_bits)" if fixed else "(N, B, H/4, W/4) grid, image padded to multiples of 4",
        "bit_order": "bit i = (b, y, x) of the (B, H/4, W/4) grid flattened in C order; symbols take "
                     "bits_per_symbol consecutive bits MSB first, the last zero-padded (demapping.map_bits)",
        "normalization": "input RGB uint8 / 255 in [0, 1]; output sigmoid in [0, 1]",
        "power": "constellation points scaled to unit average power (demapping.Constellation)",
        "demapping": "exact (log-sum-exp) posteriors P(b=1|r) = sigmoid(demapping.llrs)",
        "stage": stage,
        "channel": "error_free" if stage == "error_free" else train_args["channel"],
        "csi": "coherent: h known at the receiver" if train_args["channel"] == "rayleigh" else None,
        "train_modulation": modulation,
        "train_constellation": MODULATIONS[modulation][0],
        "train_bits_per_symbol": k,
        "train_channel_uses": config.channel_uses(k),
        "bandwidth_ratio": config.bandwidth_ratio(k),
        "train_snr_db": [train_args["snr_low"], train_args["snr_high"]],
        "snr_draw": train_args["snr_per"],
        "temperature": [train_args["tau"], train_args["tau_end"]] if config.bit_mapper == "gumbel" else None,
        "init": train_args["init"],
    }


models.REGISTRY.update(REGISTRY)  # models.build and the CLIs see the bit-level models
