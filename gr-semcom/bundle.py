"""Model bundles: a folder with ``card.json`` and the ONNX files it names.

The card says what the model is and how to run it; each ONNX file also carries
``semcom.model_id`` and ``semcom.role`` in its metadata, so a file moved out of
its folder is still recognised. Loading validates both and names what is wrong.

Card keys used at run time::

    model_id          str    e.g. "deepjscc_cifar10_r6"
    method            str    "deepjscc"
    files             dict   role ("encoder", "decoder") -> ONNX file name
    image_size        [H, W] or null (fully convolutional)
    downsampling      int    image side / latent side
    latent_channels   int    real channels of the latent (2 per complex symbol)

Everything else in the card (data, SNR range, steps, measured PSNR) is for people.
"""
from __future__ import annotations

import json
import math
import pathlib

import numpy as np

from gnuradio.semcom import images, symbols

_PACKAGE = pathlib.Path(__file__).resolve().parent
_REQUIRED = {"model_id": str, "method": str, "files": dict, "downsampling": int, "latent_channels": int}
PROVIDERS = {"auto": None, "cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


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


def choose_providers(provider: str = "auto") -> list[str]:
    """onnxruntime execution providers: CUDA when available (``auto``), else CPU."""
    import onnxruntime
    if provider not in PROVIDERS:
        raise ModelError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    available = onnxruntime.get_available_providers()
    if provider == "auto":
        return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    if PROVIDERS[provider] not in available:
        raise ModelError(f"onnxruntime provider {PROVIDERS[provider]} is not available here "
                         f"(available: {', '.join(available)})")
    return [PROVIDERS[provider]]


class Bundle:
    """A validated model bundle; sessions for each role are made on first use.

    ``provider``: "auto", "cpu" or "cuda". ``threads``: onnxruntime intra-op
    threads, 0 for its default.
    """

    def __init__(self, model, provider: str = "auto", threads: int = 0):
        self.path = resolve(model)
        self.card = self._read_card()
        self.model_id = self.card["model_id"]
        self.providers = choose_providers(provider)
        if threads < 0:
            raise ModelError(f"threads must be >= 0, got {threads}")
        self.threads = threads
        self._sessions = {}

    def _read_card(self) -> dict:
        card_path = self.path / "card.json"
        if not card_path.is_file():
            raise ModelError(f"{self.path} is not a model bundle: card.json is missing")
        try:
            card = json.loads(card_path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ModelError(f"{card_path} is not valid JSON: {error}") from error
        for key, kind in _REQUIRED.items():
            if not isinstance(card.get(key), kind):
                raise ModelError(f"{card_path}: key {key!r} missing or not a {kind.__name__}")
        size = card.get("image_size")
        if size is not None and not (isinstance(size, list) and len(size) == 2
                                     and all(isinstance(v, int) and v > 0 for v in size)):
            raise ModelError(f"{card_path}: image_size must be [height, width] or null, got {size!r}")
        if card["latent_channels"] % 2:
            raise ModelError(f"{card_path}: latent_channels must be even (two per complex symbol)")
        return card

    # -- geometry -----------------------------------------------------------------
    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) the model needs, or None when it is fully convolutional."""
        size = self.card.get("image_size")
        return tuple(size) if size else None

    def padded_size(self, height: int, width: int) -> tuple[int, int]:
        """Size the encoder runs at: the image padded up to a multiple of the downsampling."""
        step = self.card["downsampling"]
        return math.ceil(height / step) * step, math.ceil(width / step) * step

    def latent_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(C, H', W') of the latent of an image of ``height`` x ``width``."""
        padded_h, padded_w = self.padded_size(height, width)
        step = self.card["downsampling"]
        return self.card["latent_channels"], padded_h // step, padded_w // step

    def n_symbols(self, height: int, width: int) -> int:
        """Complex channel symbols for an image of ``height`` x ``width``."""
        c, h, w = self.latent_shape(height, width)
        return c * h * w // 2

    def check_image(self, image: np.ndarray) -> None:
        """Raise ValueError unless ``image`` is uint8 (H, W, 3) of a size this model takes."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"image must be uint8 (H, W, 3) RGB, got {image.dtype} {image.shape}")
        if self.image_size and image.shape[:2] != self.image_size:
            raise ValueError(f"model {self.model_id} takes {self.image_size[0]}x{self.image_size[1]} "
                             f"images, got {image.shape[0]}x{image.shape[1]}")

    # -- inference ------------------------------------------------------------------
    def session(self, role: str):
        """The onnxruntime session of ``role`` ("encoder" or "decoder")."""
        if role not in self._sessions:
            self._sessions[role] = self._load(role)
        return self._sessions[role]

    def _load(self, role: str):
        import onnxruntime
        name = self.card["files"].get(role)
        if not name:
            raise ModelError(f"model {self.model_id} has no {role} (card files: {sorted(self.card['files'])})")
        path = self.path / name
        if not path.is_file():
            raise ModelError(f"model {self.model_id}: {role} file {path} is missing")
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
        return session

    def encode(self, image: np.ndarray) -> np.ndarray:
        """uint8 (H, W, 3) image -> (n_symbols(H, W),) complex64 with unit average power.

        Fully convolutional models pad the image (edge replication) up to a
        multiple of the downsampling; ``decode`` crops it back.
        """
        self.check_image(image)
        x = (self.pad(image).astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        (latent,) = self.session("encoder").run(None, {"image": x})
        return symbols.latent_to_symbols(latent[0])

    def pad(self, image: np.ndarray) -> np.ndarray:
        """Pad (H, W, 3) ``image`` by edge replication to ``padded_size``."""
        height, width = image.shape[:2]
        padded_h, padded_w = self.padded_size(height, width)
        if (padded_h, padded_w) == (height, width):
            return image
        return np.pad(image, ((0, padded_h - height), (0, padded_w - width), (0, 0)), mode="edge")

    def decode(self, received: np.ndarray, height: int, width: int) -> np.ndarray:
        """(n_symbols,) complex64 -> uint8 (height, width, 3) image."""
        latent = symbols.symbols_to_latent(received, self.latent_shape(height, width))
        (image,) = self.session("decoder").run(None, {"latent": latent[None]})
        pixels = np.round(image[0, :, :height, :width].transpose(1, 2, 0) * 255.0)
        return pixels.clip(0, 255).astype(np.uint8)

    def fit(self, image: np.ndarray, policy: str) -> np.ndarray:
        """``images.fit`` to this model's size ("full" only for fully convolutional models)."""
        if policy == "full" and self.image_size:
            raise ValueError(f"model {self.model_id} is fixed-size {self.image_size}: "
                             f"size policy 'full' needs a fully convolutional model")
        return images.fit(image, policy, self.image_size)


def check_pair(encoder: Bundle, decoder: Bundle) -> None:
    """Raise ModelError unless ``decoder`` decodes what ``encoder`` sends."""
    if encoder.model_id != decoder.model_id:
        raise ModelError(f"encoder model {encoder.model_id} and decoder model {decoder.model_id} differ")
    for key in ("image_size", "downsampling", "latent_channels"):
        if encoder.card.get(key) != decoder.card.get(key):
            raise ModelError(f"encoder and decoder of {encoder.model_id} disagree on {key}: "
                             f"{encoder.card.get(key)} vs {decoder.card.get(key)}")
