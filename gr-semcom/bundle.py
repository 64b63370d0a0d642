#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""Model bundles: a folder with ``card.json`` and the ONNX files it names.

The card says what the model is and how to run it; each ONNX file also carries
``semcom.model_id`` and ``semcom.role`` in its metadata, so a file moved out of
its folder is still recognised. Loading validates both and names what is wrong.

The card's ``method`` selects the class that runs the bundle: ``Bundle(model)``
returns an instance of the class registered for it (a subclass of ``Bundle``
with that ``method``), and a method class called directly, e.g.
``BitSemComBundle(model)``, refuses a bundle of another method with a
``ModelError`` naming both. Blocks use the method class they run.

The card's schema (every key, its type, which method needs it, its versions) is
``card.FIELDS``; a bundle checks only what running it needs (``card.RUNTIME``, and the
keys it reads when present), so a hand-written card of model_id, method and files loads.

Precision: a bundle runs its fp32 ONNX files (``precision="fp32"``, the default), or the
int8 files of the card's ``int8`` record (``"int8"``, written by ``semcom_train.quantize``;
a ``ModelError`` for a bundle without them), or ``"auto"``: int8 when the card has int8
files and their measured PSNR loss ``int8.psnr_loss_db`` is at most
``INT8_AUTO_MAX_LOSS_DB`` (0.2 dB), else fp32. ``Bundle.precision`` is the one it runs.
"""
from __future__ import annotations

import contextlib
import math
import pathlib

import numpy as np

from . import card as card_schema
from . import images, symbols

_PACKAGE = pathlib.Path(__file__).resolve().parent
PROVIDERS = {"auto": None, "cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider",
             "tensorrt": "TensorrtExecutionProvider"}
# what onnxruntime falls back to, in order, for nodes a provider cannot run
_FALLBACKS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
PRECISIONS = ("fp32", "int8", "auto")
INT8_AUTO_MAX_LOSS_DB = 0.2  # "auto" runs int8 only when the card's measured PSNR loss is within this
_METHODS: dict[str, type] = {}  # card method -> the Bundle subclass that runs it


class ModelError(ValueError):
    """A model bundle that is missing, corrupt, or does not fit its use."""


def models_dir() -> pathlib.Path:
    """Shipped models: inside the installed package, or ``models/`` of the source tree."""
    installed = _PACKAGE / "models"
    return installed if installed.is_dir() else _PACKAGE.parent / "models"


def shipped_models() -> list[str]:
    """Names of the shipped model bundles."""
    return sorted(p.name for p in models_dir().iterdir() if (p / "card.json").is_file())


def resolve(model) -> pathlib.Path:
    """Bundle folder for ``model``: a folder, a card.json or ONNX file in one, or a shipped model's name."""
    path = pathlib.Path(str(model)).expanduser()
    if path.is_file():
        path = path.parent
    if path.is_dir():
        return path
    shipped = models_dir() / str(model)
    if shipped.is_dir():
        return shipped
    raise ModelError(f"model {str(model)!r} not found: not a folder, a file, or a shipped model "
                     f"(shipped: {', '.join(shipped_models()) or 'none'})")


def is_model(model, method: str | None = None) -> bool:
    """Whether ``model`` names a shipped model or a bundle folder (one with a readable
    card.json), of card ``method`` when given: what GRC checks before a run."""
    try:
        card = read_card(resolve(model))
    except (ModelError, OSError):
        return False
    return method is None or card["method"] == method


def has_int8(model) -> bool:
    """Whether ``model`` names a bundle whose card lists int8 files (``precision="int8"``
    runs them): what GRC checks before a run."""
    try:
        card = read_card(resolve(model))
    except (ModelError, OSError):
        return False
    record = card.get("int8")
    return isinstance(record, dict) and isinstance(record.get("files"), dict) and bool(record["files"])


def choose_providers(provider: str = "auto") -> list[str]:
    """onnxruntime execution providers, in onnxruntime's order of preference: ``auto`` every
    one of TensorRT, CUDA and CPU that is installed; ``tensorrt`` TensorRT then CUDA (when
    installed) and CPU for the nodes it cannot run; ``cuda`` CUDA then CPU; ``cpu`` the CPU."""
    import onnxruntime
    if provider not in PROVIDERS:
        raise ModelError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    available = onnxruntime.get_available_providers()
    if provider == "auto":
        return [p for p in _FALLBACKS if p in available]
    if PROVIDERS[provider] not in available:
        raise ModelError(f"onnxruntime provider {PROVIDERS[provider]} is not available here "
                         f"(available: {', '.join(available)}; pip install onnxruntime-gpu for cuda and tensorrt)")
    return [p for p in _FALLBACKS[_FALLBACKS.index(PROVIDERS[provider]):] if p in available]


def read_card(path: pathlib.Path) -> dict:
    """The card of bundle folder ``path`` with the keys every method needs checked
    (``card.check_runtime``)."""
    card_path = path / "card.json"
    if not card_path.is_file():
        raise ModelError(f"{path} is not a model bundle: card.json is missing")
    with _as_model_error():
        card = card_schema.read(card_path)
        card_schema.check_runtime(card, card_path)
    return card


@contextlib.contextmanager
def _as_model_error():
    """A context in which a ``card.CardError`` is raised as the ModelError blocks expect."""
    try:
        yield
    except card_schema.CardError as error:
        raise ModelError(str(error)) from error


def _image_input(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> float32 (1, 3, H, W) in [0, 1], what the encoders take."""
    return (image.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def _to_pixels(image: np.ndarray) -> np.ndarray:
    """float (3, H, W) in [0, 1] -> uint8 (H, W, 3), rounded and clipped."""
    return np.round(image.transpose(1, 2, 0) * 255.0).clip(0, 255).astype(np.uint8)


class Bundle:
    """A validated model bundle; sessions for each role are made on first use.

    ``Bundle(model)`` returns the subclass for the card's method (see the
    module docstring). ``provider``: "auto", "cpu", "cuda" or "tensorrt" (``choose_providers``). ``threads``:
    onnxruntime intra-op threads, 0 for its default. ``precision``: "fp32",
    "int8" or "auto" (the module docstring); ``self.precision`` is "fp32" or "int8".

    A subclass sets ``method`` (the card method it runs, registering it),
    ``blocks`` (the blocks that run it, for error messages) and ``pair_keys``
    (what encoder and decoder must agree on), and may extend ``_check_card`` and
    ``_check_session``; the card keys it needs are ``card.RUNTIME[method]``.
    """

    method = ""
    blocks: tuple[str, ...] = ()
    pair_keys: tuple[str, ...] = ("image_size",)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.method:
            _METHODS[cls.method] = cls

    def __new__(cls, model, provider: str = "auto", threads: int = 0, precision: str = "fp32"):
        path = resolve(model)
        card = read_card(path)
        kind = _METHODS.get(card["method"])
        if kind is None:
            raise ModelError(f"{path / 'card.json'}: method {card['method']!r} is not one gr-semcom runs "
                             f"(known: {', '.join(sorted(_METHODS))})")
        if not issubclass(kind, cls):
            raise ModelError(f"model {card['model_id']} is a {kind.method} model, for "
                             f"{' and '.join(kind.blocks)}; this needs a {cls.method} model, for "
                             f"{' and '.join(cls.blocks)}")
        self = super().__new__(kind)
        self.path, self.card = path, card
        return self

    def __init__(self, model, provider: str = "auto", threads: int = 0, precision: str = "fp32"):
        # __new__ has resolved the folder and read the card
        self._check_card(self.card, self.path / "card.json")
        self.model_id = self.card["model_id"]
        self.provider = provider  # as asked ("auto", ...); providers: what it resolved to here
        self.providers = choose_providers(provider)
        if threads < 0:
            raise ModelError(f"threads must be >= 0, got {threads}")
        self.threads = threads
        self.precision = self._choose_precision(precision)
        self._sessions = {}

    # -- precision ------------------------------------------------------------------
    @property
    def int8_files(self) -> dict:
        """role -> int8 ONNX file of the card's ``int8`` record ({} when it has none)."""
        return dict((self.card.get("int8") or {}).get("files") or {})

    @property
    def int8_loss_db(self) -> float | None:
        """The card's measured largest PSNR loss of the int8 files in dB, or None when unmeasured."""
        return (self.card.get("int8") or {}).get("psnr_loss_db")

    def _choose_precision(self, precision: str) -> str:
        """"fp32" or "int8" for ``precision`` (one of ``PRECISIONS``); ModelError for "int8"
        without int8 files."""
        if precision not in PRECISIONS:
            raise ModelError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if "int8" in card_schema.FIELDS[self.method]:
            with _as_model_error():
                card_schema.check_present(self.card, self.path / "card.json", ("int8",), self.method)
        if precision == "fp32":
            return "fp32"
        if precision == "int8":
            if not self.int8_files:
                note = (self.card.get("int8") or {}).get("note")
                raise ModelError(f"model {self.model_id} has no int8 files: "
                                 + (note or "its card has no int8 record (make them with python -m "
                                            "semcom_train.quantize --model <bundle>)"))
            return "int8"
        loss = self.int8_loss_db
        return "int8" if self.int8_files and loss is not None and loss <= INT8_AUTO_MAX_LOSS_DB else "fp32"

    def _check_card(self, card: dict, card_path: pathlib.Path) -> None:
        """Raise ModelError unless ``card`` has what this method needs (``card.RUNTIME``)."""
        with _as_model_error():
            card_schema.require(card, card_path, card_schema.RUNTIME[self.method], self.method)

    # -- geometry -----------------------------------------------------------------
    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) the model needs, or None when it is fully convolutional."""
        size = self.card.get("image_size")
        return tuple(size) if size else None

    def check_image(self, image: np.ndarray) -> None:
        """Raise ValueError unless ``image`` is uint8 (H, W, 3) of a size this model takes."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")
        if self.image_size and image.shape[:2] != self.image_size:
            raise ValueError(f"model {self.model_id} takes {self.image_size[0]}x{self.image_size[1]} "
                             f"images, got {image.shape[0]}x{image.shape[1]}")

    def fit(self, image: np.ndarray, policy: str) -> np.ndarray:
        """``images.fit`` to this model's size ("full" only for fully convolutional models)."""
        if policy == "full" and self.image_size:
            raise ValueError(f"model {self.model_id} is fixed-size {self.image_size}: "
                             f"size policy 'full' needs a fully convolutional model")
        return images.fit(image, policy, self.image_size)

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """Size the encoder runs at: the image padded up to a multiple of the card's
        ``downsampling`` (fully convolutional models; fixed sizes are multiples already)."""
        step = self.card.get("downsampling", 1)
        return math.ceil(height / step) * step, math.ceil(width / step) * step

    def pad(self, image: np.ndarray) -> np.ndarray:
        """Pad (H, W, 3) ``image`` by edge replication to ``padded_size``."""
        height, width = image.shape[:2]
        padded_h, padded_w = self.padded_size(height, width)
        if (padded_h, padded_w) == (height, width):
            return image
        return np.pad(image, ((0, padded_h - height), (0, padded_w - width), (0, 0)), mode="edge")

    # -- inference ------------------------------------------------------------------
    def session(self, role: str):
        """The onnxruntime session of ``role`` ("encoder" or "decoder")."""
        if role not in self._sessions:
            self._sessions[role] = self._load(role)
        return self._sessions[role]

    def run(self, role: str, outputs: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """The ``outputs`` (names; None: all) of ``role``'s session for ``feeds`` (name -> array),
        as host arrays, through onnxruntime's IO binding: on a GPU provider the inputs go to the
        device once and the outputs are written straight into host memory, with no copy through
        Python; on the CPU it is the same as ``session.run``."""
        session = self.session(role)
        binding = session.io_binding()
        for name, array in feeds.items():
            binding.bind_cpu_input(name, np.ascontiguousarray(array))
        for name in outputs or [output.name for output in session.get_outputs()]:
            binding.bind_output(name, "cpu")
        session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()

    def _load(self, role: str):
        import onnxruntime
        name = self.card["files"].get(role)
        if not name:
            raise ModelError(f"model {self.model_id} has no {role} (card files: {sorted(self.card['files'])})")
        if self.precision == "int8":
            name = self.int8_files.get(role)
            if not name:
                raise ModelError(f"model {self.model_id} has no int8 {role} (card int8 files: "
                                 f"{sorted(self.int8_files)})")
        path = self.path / name
        if not path.is_file():
            raise ModelError(f"model {self.model_id}: {self.precision} {role} file {path} is missing")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.log_severity_level = 3
        try:
            session = onnxruntime.InferenceSession(str(path), options, providers=self.providers)
        except Exception as error:  # onnxruntime raises its own Fail/InvalidGraph types
            raise ModelError(f"model {self.model_id}: {path} is not a loadable ONNX model: {error}") from error
        meta = session.get_modelmeta().custom_metadata_map
        if meta.get("semcom.model_id") != self.model_id or meta.get("semcom.role") != role:
            raise ModelError(f"{path} is the {meta.get('semcom.role')} of model {meta.get('semcom.model_id')}, "
                             f"but the card expects the {role} of {self.model_id}")
        if meta.get("semcom.precision", "fp32") != self.precision:
            raise ModelError(f"{path} is {meta.get('semcom.precision', 'fp32')}, but the card names it as the "
                             f"{self.precision} {role} of {self.model_id}")
        self._check_session(role, session, path)
        return session

    def _check_session(self, role: str, session, path: pathlib.Path) -> None:
        """Raise ModelError unless ``session`` has the inputs and outputs this method feeds it."""


class DeepJSCCBundle(Bundle):
    """DeepJSCC: image -> latent -> complex channel symbols -> latent -> image."""

    method = "deepjscc"
    blocks = ("jscc_encoder", "jscc_decoder")
    pair_keys = ("image_size", "downsampling", "latent_channels", "hops")

    RESAMPLING = ("auto", "off", "transmitted", "knowledge_base")

    def _check_card(self, card: dict, card_path: pathlib.Path) -> None:
        super()._check_card(card, card_path)
        if card["latent_channels"] % 2:
            raise ModelError(f"{card_path}: latent_channels must be even (two per complex symbol)")
        with _as_model_error():
            card_schema.check_present(card, card_path, ("hops", "classes"), self.method)
        kb = card.get("knowledge_base_variance")
        if kb is not None and not (isinstance(kb, list) and len(kb) == card["latent_channels"] and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0 for v in kb)):
            raise ModelError(f"{card_path}: knowledge_base_variance must be {card['latent_channels']} variances >= 0 "
                             f"(one per latent channel), got {kb!r}")

    @property
    def variational(self) -> bool:
        """Whether the encoder also gives a variance per latent element (VSCC, VAE)."""
        return bool(self.card.get("variance", False))

    @property
    def classes(self) -> list[str] | None:
        """The class names of the decoder's classifier, or None without one."""
        return self.card.get("classes")

    def resampling(self, mode: str) -> str:
        """The receiver's resampling for ``mode`` (one of ``RESAMPLING``): "auto" is "knowledge_base"
        for a variational model and "off" otherwise; ModelError when the model cannot do ``mode``."""
        if mode not in self.RESAMPLING:
            raise ModelError(f"resampling must be one of {', '.join(self.RESAMPLING)}, got {mode!r}")
        if mode == "auto":
            mode = "knowledge_base" if self.variational else "off"
        if mode != "off" and not self.variational:
            raise ModelError(f"resampling {mode!r} needs a variational model (card variance true); model "
                             f"{self.model_id} was trained without a variance ({self.card.get('objective', 'mse')})")
        if mode == "knowledge_base" and self.card.get("knowledge_base_variance") is None:
            raise ModelError(f"model {self.model_id}: resampling 'knowledge_base' needs the card's "
                             f"knowledge_base_variance, which is missing")
        return mode

    @property
    def hops(self) -> int:
        """Channel hops the model was trained over: 1, or relays + 1 for decode-and-forward."""
        return self.card.get("hops", 1)

    @property
    def relays(self) -> int:
        return self.hops - 1

    def role(self, kind: str, hop: int) -> str:
        """The file role of hop ``hop``'s ``kind`` ("encoder" or "decoder"): plain for a
        single-hop model, "<kind>_hop<k>" for a multi-hop one; ModelError for a hop it lacks."""
        if not 0 <= hop < self.hops:
            raise ModelError(f"model {self.model_id} has {self.hops} hop{'s' * (self.hops > 1)} "
                             f"(0 .. {self.hops - 1}), not hop {hop}")
        return kind if self.hops == 1 else f"{kind}_hop{hop}"

    # -- geometry -----------------------------------------------------------------
    def latent_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(C, H', W') of the latent of an image of ``height`` x ``width``."""
        padded_h, padded_w = self.padded_size(height, width)
        step = self.card["downsampling"]
        return self.card["latent_channels"], padded_h // step, padded_w // step

    def n_symbols(self, height: int, width: int) -> int:
        """Complex channel symbols for an image of ``height`` x ``width``."""
        c, h, w = self.latent_shape(height, width)
        return c * h * w // 2

    # -- inference ------------------------------------------------------------------
    def encode(self, image: np.ndarray, hop: int = 0) -> np.ndarray:
        """uint8 (H, W, 3) image -> (n_symbols(H, W),) complex64 with unit average power,
        through hop ``hop``'s encoder (0: the source's; a relay re-encodes for its hop).

        Fully convolutional models pad the image (edge replication) up to a
        multiple of the downsampling; ``decode`` crops it back.
        """
        return self.encode_latent(image, hop)[0]

    def encode_latent(self, image: np.ndarray, hop: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
        """(symbols as ``encode`` gives them, the variance (n_symbols,) complex64, i.e. sigma^2 of
        each real latent element as real pairs in the same order, or None for a model without one)."""
        self.check_image(image)
        names = ["latent", "variance"] if self.variational else ["latent"]
        outputs = self.run(self.role("encoder", hop), names, {"image": _image_input(self.pad(image))})
        return (symbols.latent_to_symbols(outputs[0][0]),
                symbols.latent_to_symbols(outputs[1][0]) if self.variational else None)

    def _check_session(self, role: str, session, path: pathlib.Path) -> None:
        outputs = [o.name for o in session.get_outputs()]
        if role.startswith("encoder"):
            expected = ["latent", "variance"] if self.variational else ["latent"]
        else:
            expected = ["image", "class_probs"] if self.classes else ["image"]
        if outputs != expected:
            raise ModelError(f"model {self.model_id}: {path} has outputs {outputs}, the card "
                             f"(variance {self.variational}, classes {bool(self.classes)}) expects {expected}")

    def decode_samples(self, mean: np.ndarray, height: int, width: int, variance: np.ndarray | None,
                       samples: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray | None]:
        """Decode ``samples`` draws y = mean + sqrt(variance) x eps, eps ~ N(0, 1) from ``rng``,
        in one decoder run. mean: (n_symbols,) complex64 received; variance: the same shape
        (complex64 of real variance pairs, negative values taken as 0) or a (C,) per-channel
        float array; None decodes the mean itself (``samples`` must be 1).

        Returns (uint8 (height, width, 3) images, float32 (samples, classes) class probabilities
        or None for a model without a classifier)."""
        if samples < 1 or (variance is None and samples != 1):
            raise ValueError(f"samples must be >= 1 (1 without resampling), got {samples}")
        shape = self.latent_shape(height, width)
        latent = symbols.symbols_to_latent(mean, shape)[None]
        if variance is not None:
            if np.iscomplexobj(variance):
                sigma2 = symbols.symbols_to_latent(variance, shape)
            else:
                sigma2 = np.asarray(variance, dtype=np.float32).reshape(-1, 1, 1)
            std = np.sqrt(np.maximum(sigma2, 0.0)).astype(np.float32)
            latent = latent + std * rng.standard_normal((samples, *shape), dtype=np.float32)
        names = ["image", "class_probs"] if self.classes else ["image"]
        outputs = self.run(self.role("decoder", self.hops - 1), names, {"latent": latent})
        images_out = [_to_pixels(image[:, :height, :width]) for image in outputs[0]]
        return images_out, (outputs[1] if self.classes else None)

    def knowledge_base_variance(self) -> np.ndarray:
        """The card's knowledge_base_variance, float32 (C,) (ModelError when missing)."""
        self.resampling("knowledge_base")
        return np.asarray(self.card["knowledge_base_variance"], dtype=np.float32)

    def decode(self, received: np.ndarray, height: int, width: int, hop: int | None = None) -> np.ndarray:
        """(n_symbols,) complex64 received on hop ``hop`` (default the last: the destination's
        decoder) -> uint8 (height, width, 3) image."""
        hop = self.hops - 1 if hop is None else hop
        latent = symbols.symbols_to_latent(received, self.latent_shape(height, width))
        (image,) = self.run(self.role("decoder", hop), ["image"], {"latent": latent[None]})
        return _to_pixels(image[0, :, :height, :width])


class BitSemComBundle(Bundle):
    """BitSemCom: image -> Bernoulli probabilities of its bits; bit posteriors P(b=1|r) -> image.

    The bits, the constellation and the channel are the link's (bit_mapper,
    qam_mapper, soft_demapper): one bundle runs with any constellation.
    Fixed-size models send ``n_bits`` bits per image; fully convolutional ones
    ``bits_for(H, W)`` = bit_channels x ceil(H/4) x ceil(W/4), the image padded
    by edge replication like DeepJSCC's.
    """

    method = "bitsemcom"
    blocks = ("bitsemcom_encoder", "bitsemcom_decoder")
    pair_keys = ("image_size", "n_bits", "bit_grid", "bit_channels", "downsampling")
    _IO = {"encoder": {"input": "image", "output": "probs"}, "decoder": {"input": "posteriors", "output": "image"}}

    def _check_card(self, card: dict, card_path: pathlib.Path) -> None:
        super()._check_card(card, card_path)
        with _as_model_error():
            card_schema.require(card, card_path, ("n_bits",) if card.get("image_size") else (), self.method)
            card_schema.check_present(card, card_path, ("inference_bits",), self.method)
        io = card.get("onnx_io", self._IO)
        if not (isinstance(io, dict) and all(isinstance(io.get(role), dict)
                                             and all(isinstance(io[role].get(k), str) for k in ("input", "output"))
                                             for role in self._IO)):
            raise ModelError(f"{card_path}: onnx_io must give the input and output tensor names of "
                             f"encoder and decoder, got {io!r}")

    # -- geometry -----------------------------------------------------------------
    @property
    def n_bits(self) -> int | None:
        """Bits per image of a fixed-size model; None for a fully convolutional one (``bits_for``)."""
        return self.card["n_bits"] if self.image_size else None

    def bit_grid(self, height: int, width: int) -> tuple[int, int, int]:
        """(B, H', W'): the layout of the bits of an image of ``height`` x ``width``."""
        padded_h, padded_w = self.padded_size(height, width)
        step = self.card["downsampling"]
        return self.card["bit_channels"], padded_h // step, padded_w // step

    def bits_for(self, height: int, width: int) -> int:
        """Bits per image of ``height`` x ``width`` (ValueError: not this fixed-size model's size)."""
        if self.image_size:
            if (height, width) != self.image_size:
                raise ValueError(f"model {self.model_id} takes {self.image_size[0]}x{self.image_size[1]} "
                                 f"images, not {height}x{width}")
            return self.n_bits
        return math.prod(self.bit_grid(height, width))

    @property
    def deterministic_bits(self) -> bool:
        """Whether the card asks for thresholded bits (``inference_bits`` "threshold",
        the ablations) rather than Bernoulli samples (the method)."""
        return self.card.get("inference_bits", "sample") == "threshold"

    def channel_uses(self, bits_per_symbol: int, height: int | None = None, width: int | None = None) -> int:
        """Complex symbols per image with ``bits_per_symbol`` bits each (the last one zero-padded);
        ``height`` and ``width`` default to the model's fixed size."""
        return -(-self.bits_for(*self._size(height, width)) // bits_per_symbol)

    def _size(self, height: int | None, width: int | None) -> tuple[int, int]:
        """(height, width), defaulting to the fixed model's size (ValueError when fully convolutional)."""
        if height is not None and width is not None:
            return height, width
        if not self.image_size:
            raise ValueError(f"model {self.model_id} is fully convolutional: give the image's height and width")
        return self.image_size

    # -- inference ------------------------------------------------------------------
    def _io(self, role: str) -> dict:
        return self.card.get("onnx_io", self._IO)[role]

    def _check_session(self, role: str, session, path: pathlib.Path) -> None:
        io = self._io(role)
        inputs, outputs = session.get_inputs(), session.get_outputs()
        names = ([i.name for i in inputs], [o.name for o in outputs])
        if len(inputs) != 1 or len(outputs) != 1 or names != ([io["input"]], [io["output"]]):
            raise ModelError(f"model {self.model_id}: {path} has inputs {names[0]} and outputs {names[1]}, "
                             f"the card expects {io['input']!r} -> {io['output']!r}")
        bits = outputs[0] if role == "encoder" else inputs[0]
        dims = list(bits.shape)  # ints, or names / None for dynamic axes
        if not self.image_size:
            # fully convolutional: probs (N, n) out of the encoder, the (N, B, H', W') grid into the decoder
            if role == "encoder" and any(isinstance(d, int) for d in inputs[0].shape[2:]):
                raise ModelError(f"model {self.model_id}: {path} takes images of fixed size {inputs[0].shape}, "
                                 f"the card says fully convolutional (image_size null)")
            rank, expected = (2, "(N, n_bits)") if role == "encoder" else (4, f"(N, {self.card['bit_channels']}, H', W')")
            if len(dims) != rank or (role == "decoder" and dims[1] != self.card["bit_channels"]):
                raise ModelError(f"model {self.model_id}: {role} tensor {bits.name!r} has shape {dims}, "
                                 f"the card says {expected}")
            return
        if role == "encoder" and len(dims) == 2 and not isinstance(dims[1], int):
            # the exporter names the traced length: run the encoder once to see it
            probe = np.zeros((1, 3, *self.image_size), np.float32)
            dims[1] = int(session.run(None, {io["input"]: probe})[0].shape[1])
        if len(dims) != 2 or (isinstance(dims[1], int) and dims[1] != self.n_bits):
            raise ModelError(f"model {self.model_id}: {role} tensor {bits.name!r} has shape {dims}, "
                             f"the card says (N, n_bits = {self.n_bits})")

    def encode_probs(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) image (the model's size, any size if fully convolutional) ->
        float32 (bits_for(H, W),) P(b = 1)."""
        self.check_image(image)
        io = self._io("encoder")
        (probs,) = self.run("encoder", [io["output"]], {io["input"]: _image_input(self.pad(image))})
        # onnxruntime's float32 sigmoid can overshoot 1 by an ulp; bit_mapper refuses anything outside [0, 1]
        probs = np.clip(np.ascontiguousarray(probs, dtype=np.float32).reshape(-1), 0.0, 1.0)
        expected = self.bits_for(*image.shape[:2])
        if probs.size != expected:
            raise ValueError(f"model {self.model_id}: encoder gave {probs.size} probabilities, "
                             f"the card says {expected} for a {image.shape[0]}x{image.shape[1]} image")
        return probs

    def decode_soft(self, posteriors: np.ndarray, height: int | None = None, width: int | None = None) -> np.ndarray:
        """(bits_for(H, W),) posteriors P(b = 1 | r) in [0, 1] -> uint8 (H, W, 3) image;
        ``height`` and ``width`` default to the model's fixed size."""
        height, width = self._size(height, width)
        posteriors = np.asarray(posteriors, dtype=np.float32).reshape(-1)
        expected = self.bits_for(height, width)
        if posteriors.size != expected:
            raise ValueError(f"{posteriors.size} posteriors, model {self.model_id} takes {expected} "
                             f"for a {height}x{width} image")
        outside = ~((posteriors >= 0) & (posteriors <= 1))  # NaN too
        if outside.any():
            raise ValueError(f"posteriors must be probabilities in [0, 1]: {np.count_nonzero(outside)} of "
                             f"{posteriors.size} are not, e.g. {posteriors[outside][0]}")
        io = self._io("decoder")
        shape = (1, -1) if self.image_size else (1, *self.bit_grid(height, width))
        (image,) = self.run("decoder", [io["output"]], {io["input"]: posteriors.reshape(shape)})
        return _to_pixels(image[0, :, :height, :width])


class HashBundle(Bundle):
    """A deep hash network (DHD, ``semcom_train.dhd``): image -> continuous hash in (-1, 1);
    sign() gives the binary hash. metrics_sink scores hash agreement with it."""

    method = "dhd"
    blocks = ("metrics_sink",)

    def _check_session(self, role: str, session, path: pathlib.Path) -> None:
        names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
        if names != (["image"], ["hash"]):
            raise ModelError(f"model {self.model_id}: {path} has inputs {names[0]} and outputs {names[1]}, "
                             f"a hash network takes 'image' -> 'hash'")

    def hash(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) image of the model's size -> float32 (n_bits,) continuous hash."""
        self.check_image(image)
        (hashes,) = self.run("hash", None, {"image": _image_input(image)})
        return hashes[0]


def check_pair(encoder: Bundle, decoder: Bundle) -> None:
    """Raise ModelError unless ``decoder`` decodes what ``encoder`` sends."""
    if encoder.model_id != decoder.model_id:
        raise ModelError(f"encoder model {encoder.model_id} and decoder model {decoder.model_id} differ")
    for key in ("method", *type(encoder).pair_keys):
        if encoder.card.get(key) != decoder.card.get(key):
            raise ModelError(f"encoder and decoder of {encoder.model_id} disagree on {key}: "
                             f"{encoder.card.get(key)} vs {decoder.card.get(key)}")
