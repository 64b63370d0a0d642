#
# Copyright 2026 gr-semcom maintainers
#
# This file is part of gr-semcom
#
# SPDX-License-Identifier: GPL-3.0-or-later
#

"""The shared data sets by name: where they are, and the named image sets of the harness.

Named sets: "kodak" (the shared Kodak folder), "cifar10-test:N" (N test images per class,
extracted from the shared CIFAR-10 zip into the cache), "default" (Kodak when present, else
"samples"). Anything else is what ``gnuradio.semcom.images.resolve_paths`` takes ("samples", a
folder, a glob, a file, or a comma-separated list of those), which is also what ``image_source``
takes: ``locate`` turns a named set into such a spec.
"""
from __future__ import annotations

import io
import os
import pathlib
import zipfile

from PIL import Image

from gnuradio.semcom import images

_REPO = pathlib.Path(__file__).resolve().parents[2]


def dataset_root() -> pathlib.Path:
    """The shared data sets: ``$SEMCOM_DATA``, else ``../shared/datasets`` beside
    the source tree or beside the working directory."""
    if "SEMCOM_DATA" in os.environ:
        return pathlib.Path(os.environ["SEMCOM_DATA"])
    candidates = [_REPO.parent / "shared" / "datasets", pathlib.Path.cwd().parent / "shared" / "datasets"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def cifar10_test_folder(count: int) -> pathlib.Path:
    """The folder holding the first ``count`` images of each CIFAR-10 test class (in the zip's
    order) as PNG files ``<class>_<number>.png`` in the cache, extracted on first use."""
    if count <= 0:
        raise ValueError(f"CIFAR-10 image count must be positive, got {count}")
    folder = images.cache_dir() / f"cifar10-test-{count}-per-class"
    if not folder.is_dir():
        zip_path = dataset_root() / "cifar10-jpeg.zip"
        if not zip_path.is_file():
            raise FileNotFoundError(f"CIFAR-10 zip not found at {zip_path} (set SEMCOM_DATA)")
        partial = folder.with_suffix(".partial")
        partial.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path) as archive:
            names = sorted(n for n in archive.namelist() if n.startswith("test/") and n.endswith(".jpg"))
            taken: dict[str, int] = {}
            for name in names:
                label = name.split("/")[1]
                if taken.get(label, 0) < count:
                    taken[label] = taken.get(label, 0) + 1
                    picture = Image.open(io.BytesIO(archive.read(name))).convert("RGB")
                    picture.save(partial / f"{label}_{pathlib.Path(name).stem}.png")
        partial.rename(folder)
    return folder


def resolve_default(name: str) -> str:
    """``name``, with "default" made "kodak" when the Kodak set is present, else "samples"."""
    if name == "default":
        return "kodak" if (dataset_root() / "kodak").is_dir() else "samples"
    return name


def locate(spec) -> str:
    """``spec`` (a string of comma-separated items, or a list of items) with each named set
    replaced by its folder: a spec that ``image_source`` and ``images.resolve_paths`` take.
    FileNotFoundError for a missing data set."""
    if isinstance(spec, (list, tuple)):
        return ",".join(locate(item) for item in spec)
    items = []
    for item in (part.strip() for part in str(spec).split(",") if part.strip()):
        item = resolve_default(item)
        if item == "kodak":
            folder = dataset_root() / "kodak"
            if not folder.is_dir():
                raise FileNotFoundError(f"Kodak not found at {folder} (set SEMCOM_DATA)")
            item = str(folder)
        elif item.startswith("cifar10-test:"):
            count = item.split(":", 1)[1]
            if not count.isdigit():
                raise ValueError(f"cifar10-test:N needs a whole number N, got {item!r}")
            item = str(cifar10_test_folder(int(count)))
        items.append(item)
    return ",".join(items)


def resolve_paths(spec) -> list[pathlib.Path]:
    """The image files of ``spec`` (a named set or anything ``images.resolve_paths`` takes, or a
    list of those), sorted within a folder or pattern; FileNotFoundError when nothing matches."""
    if isinstance(spec, (list, tuple)):
        return [p for item in spec for p in resolve_paths(item)]
    return images.resolve_paths(locate(spec).split(","))
