"""Images for scoring: one loader, one normalisation per dataset, seeded batches.

Sources (all give uint8 ``x`` of shape N x H x W x 3 and int64 labels ``y``):

* the real image batches FreeREA published (the default; ``freerea.py`` reads them without
  running their pickled code);
* a sample folder (or one ``.npz``): ``<dataset>.npz`` with ``x``, ``y``; ``y == -1`` marks
  an image without a label in the dataset's classes;
* the official CIFAR-10/100 python tarballs (read with tarfile + pickle, md5-checked);
* a folder of official ImageNet16 batch files (``train_data_batch_*``, ``val_data``), of
  which, like xautodl's ImageNet16-120, only classes 1..120 are kept, as labels 0..119.

Prepared files are ``data/images/<dataset>.npz`` with ``x``, ``y`` and ``origin`` (the
batch file or sample origin of each image).
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..spaces.common import DATASETS, get_dataset
from .sources import Source, file_hash, load_registry, publish

log = logging.getLogger(__name__)

# xautodl's per-dataset channel statistics (RGB, scaled to [0, 1]); one per dataset so a
# score never depends on which images happened to be loaded.
MEAN: dict[str, np.ndarray] = {
    "cifar10": np.array([125.3, 123.0, 113.9], dtype=np.float32) / 255,
    "cifar100": np.array([129.3, 124.1, 112.4], dtype=np.float32) / 255,
    "ImageNet16-120": np.array([122.68, 116.66, 104.01], dtype=np.float32) / 255,
}
STD: dict[str, np.ndarray] = {
    "cifar10": np.array([63.0, 62.1, 66.7], dtype=np.float32) / 255,
    "cifar100": np.array([68.2, 65.4, 70.4], dtype=np.float32) / 255,
    "ImageNet16-120": np.array([63.22, 61.26, 65.09], dtype=np.float32) / 255,
}

CIFAR_TARBALL_KEYS = {"cifar10": "cifar10-python", "cifar100": "cifar100-python"}
_CIFAR_MEMBERS = {
    "cifar10": (
        "cifar-10-batches-py",
        [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
        b"labels",
    ),
    "cifar100": ("cifar-100-python", ["train", "test"], b"fine_labels"),
}
IMAGENET16_CLASSES = 120
# The version of what a prepared file holds for the same source files: bump it when the
# conversion changes, so that the workflow prepares every data set anew.
PREPARED_VERSION = 1
_IMAGENET16_FILE = re.compile(r"^(train_data_batch_(\d+)|val_data)$")


class ImageSet(NamedTuple):
    """Images (N x H x W x 3 uint8), labels (int64, -1 = unlabelled) and per-image origin."""

    x: np.ndarray
    y: np.ndarray
    origin: np.ndarray


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler for the CIFAR/ImageNet16 batch files: dicts, lists and numpy arrays only.

    The batch files are pickles; refusing every other global means a tampered file cannot
    run code while being read.
    """

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"): ("numpy._core.multiarray", "scalar"),
        ("numpy._core.numeric", "_frombuffer"): ("numpy._core.numeric", "_frombuffer"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
        # Python 3 protocol-2 pickles spell bytes as _codecs.encode(text, "latin1").
        ("_codecs", "encode"): ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        target = self._ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"forbidden global {module}.{name} in an image batch")
        return super().find_class(*target)


def _unpickle(data: bytes | io.BufferedIOBase, what: str) -> dict[str, Any]:
    handle = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        obj = _ArrayUnpickler(handle, encoding="bytes").load()
    except Exception as err:
        raise ValueError(f"cannot read image batch {what}: {err}") from err
    if not isinstance(obj, dict):
        raise ValueError(f"image batch {what} is not a dict but {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _planes_to_hwc(data: Any, size: int, what: str) -> np.ndarray:
    """Official batch layout (N x 3*size*size, R then G then B planes) to N x H x W x 3."""
    arr = np.asarray(data)
    if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != 3 * size * size:
        raise ValueError(f"image batch {what}: data has shape {arr.shape} {arr.dtype}, "
                         f"expected N x {3 * size * size} uint8")
    return np.ascontiguousarray(arr.reshape(-1, 3, size, size).transpose(0, 2, 3, 1))


def _check(dataset: str, images: ImageSet, what: str) -> ImageSet:
    """Shapes, dtypes and label range of a loaded set, against the dataset's spec."""
    spec = DATASETS[dataset]
    x, y = images.x, images.y
    size = spec.image_size
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (size, size, 3):
        raise ValueError(f"{what}: x has shape {x.shape} {x.dtype}, expected "
                         f"N x {size} x {size} x 3 uint8 for {dataset}")
    if y.shape != (len(x),):
        raise ValueError(f"{what}: y has shape {y.shape}, expected ({len(x)},)")
    if len(y) and (y.min() < -1 or y.max() >= spec.num_classes):
        raise ValueError(f"{what}: labels span {y.min()}..{y.max()}, expected -1 (unlabelled) "
                         f"or 0..{spec.num_classes - 1} for {dataset}")
    if len(x) == 0:
        raise ValueError(f"{what}: no images")
    return images


def _check_dataset(dataset: str) -> None:
    get_dataset(dataset)


def load_sample(dataset: str, path: str | Path) -> ImageSet:
    """Read a sample ``.npz`` (``x``, ``y``, optional ``origin``); ``path`` may be the folder
    holding ``<dataset>.npz``."""
    _check_dataset(dataset)
    path = Path(path)
    if path.is_dir():
        path = path / f"{dataset}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"image sample {path} not found")
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in ("x", "y"):
                if key not in npz.files:
                    raise ValueError(f"image sample {path} has no array {key!r} "
                                     f"(has {npz.files})")
            x = npz["x"]
            y = npz["y"].astype(np.int64)
            origin = npz["origin"].astype(str) if "origin" in npz.files else np.full(
                len(x), path.name)
    except (OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"image sample {path} cannot be read ({err}); if the workflow wrote "
                         f"it, delete it and run again to prepare it anew") from None
    return _check(dataset, ImageSet(x, y, origin), f"image sample {path}")


def load_cifar_tarball(dataset: str, path: str | Path, verify_md5: bool = True) -> ImageSet:
    """Read the official CIFAR-10/100 python tarball: training batches first, then test.

    With ``verify_md5`` the tarball must have the md5 of the official page (registered in
    ``data/sources.yaml``) before anything in it is unpickled.
    """
    _check_dataset(dataset)
    if dataset not in _CIFAR_MEMBERS:
        raise ValueError(f"a CIFAR tarball holds cifar10 or cifar100, not {dataset}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"CIFAR tarball {path} not found")
    if verify_md5:
        expected = load_registry()[CIFAR_TARBALL_KEYS[dataset]].md5
        actual = file_hash(path, "md5")
        if actual != expected:
            raise ValueError(f"CIFAR tarball {path} has md5 {actual}, expected the official "
                             f"{expected} for {dataset}")
    folder, members, label_key = _CIFAR_MEMBERS[dataset]
    xs, ys, origins = [], [], []
    with tarfile.open(path, "r:*") as tar:
        for name in members:
            member = f"{folder}/{name}"
            try:
                handle = tar.extractfile(member)
            except KeyError:
                handle = None
            if handle is None:
                raise ValueError(f"CIFAR tarball {path} lacks {member}")
            batch = _unpickle(handle.read(), f"{path}:{member}")
            key = label_key.decode()
            if "data" not in batch or key not in batch:
                raise ValueError(f"{path}:{member} lacks 'data' or {key!r}")
            x = _planes_to_hwc(batch["data"], 32, f"{path}:{member}")
            y = np.asarray(batch[key], dtype=np.int64)
            if y.shape != (len(x),):
                raise ValueError(f"{path}:{member}: {len(y)} labels for {len(x)} images")
            xs.append(x)
            ys.append(y)
            origins.append(np.full(len(x), name))
    images = ImageSet(np.concatenate(xs), np.concatenate(ys), np.concatenate(origins))
    return _check(dataset, images, f"CIFAR tarball {path}")


def imagenet16_files(folder: Path) -> list[Path]:
    """``train_data_batch_<k>`` in numeric order, then ``val_data`` (none if the folder is
    missing)."""
    found = []
    if not folder.is_dir():
        return []
    for child in folder.iterdir():
        match = _IMAGENET16_FILE.match(child.name)
        if match and child.is_file():
            order = (0, int(match.group(2))) if match.group(2) else (1, 0)
            found.append((order, child))
    return [child for _, child in sorted(found)]


def load_imagenet16_folder(dataset: str, folder: str | Path) -> ImageSet:
    """Read official ImageNet16 batch files (``data`` N x 768 uint8, ``labels`` 1-based).

    Keeps classes 1..120 as labels 0..119 and drops the rest, as xautodl's ImageNet16-120.
    """
    _check_dataset(dataset)
    if dataset != "ImageNet16-120":
        raise ValueError(f"an ImageNet16 folder holds ImageNet16-120, not {dataset}")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"ImageNet16 folder {folder} not found")
    files = imagenet16_files(folder)
    if not files:
        raise FileNotFoundError(f"ImageNet16 folder {folder} has no train_data_batch_* or "
                                "val_data files")
    xs, ys, origins = [], [], []
    for file in files:
        with file.open("rb") as handle:
            batch = _unpickle(handle.read(), str(file))
        if "data" not in batch or "labels" not in batch:
            raise ValueError(f"ImageNet16 batch {file} lacks 'data' or 'labels'")
        x = _planes_to_hwc(batch["data"], 16, str(file))
        labels = np.asarray(batch["labels"], dtype=np.int64)
        if labels.shape != (len(x),) or (len(labels) and labels.min() < 1):
            raise ValueError(f"ImageNet16 batch {file}: labels must be 1-based, one per image")
        keep = labels <= IMAGENET16_CLASSES
        xs.append(x[keep])
        ys.append(labels[keep] - 1)
        origins.append(np.full(int(keep.sum()), file.name))
    images = ImageSet(np.concatenate(xs), np.concatenate(ys), np.concatenate(origins))
    return _check(dataset, images, f"ImageNet16 folder {folder}")


def _detect(dataset: str, source: Path) -> str:
    if source.is_dir():
        if (source / f"{dataset}.npz").is_file():
            return "sample"
        if imagenet16_files(source):
            return "imagenet16-dir"
        raise FileNotFoundError(f"{source} holds neither {dataset}.npz nor ImageNet16 batches")
    if source.suffix == ".npz":
        return "sample"
    if tarfile.is_tarfile(source):
        return "cifar-tarball"
    raise ValueError(f"cannot tell what kind of image source {source} is")


def read_images(
    dataset: str,
    source: str | Path | list[str | Path],
    kind: str | None = None,
    verify_md5: bool = True,
    registry: dict[str, Source] | None = None,
) -> ImageSet:
    """Load ``dataset`` from ``source`` with its per-image origin.

    ``kind`` is ``sample``, ``cifar-tarball``, ``imagenet16-dir`` or ``freerea-batches``
    (then ``source`` is the list of batch files, each verified against ``registry``);
    ``None`` guesses from the path.
    """
    _check_dataset(dataset)
    if kind == "freerea-batches":
        from .freerea import convert_batches

        files = [source] if isinstance(source, str | Path) else list(source)
        return _check(dataset, ImageSet(*convert_batches(dataset, files, registry)),
                      f"FreeREA batches of {dataset}")
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"image source {source} not found")
    kind = kind or _detect(dataset, source)
    if kind == "sample":
        return load_sample(dataset, source)
    if kind == "cifar-tarball":
        return load_cifar_tarball(dataset, source, verify_md5=verify_md5)
    if kind == "imagenet16-dir":
        return load_imagenet16_folder(dataset, source)
    raise ValueError(f"unknown image source kind {kind!r}")


def load_images(dataset: str, source: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(x uint8 N x H x W x 3, y int64)`` of ``dataset`` from a sample folder or ``.npz``,
    an official CIFAR tarball or an ImageNet16 batch folder (kind guessed from the path)."""
    images = read_images(dataset, source)
    return images.x, images.y


def write_images(images: ImageSet, out: str | Path) -> Path:
    """Write ``x``, ``y``, ``origin`` to an uncompressed ``.npz`` atomically."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, x=images.x, y=images.y, origin=images.origin.astype(str))
        publish(tmp_name, out)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return out


def prepare_images(
    dataset: str,
    source: str | Path | list[str | Path],
    out: str | Path,
    kind: str | None = None,
    registry: dict[str, Source] | None = None,
) -> Path:
    """Load ``dataset`` from ``source`` and write ``out`` (``data/images/<dataset>.npz``)."""
    images = read_images(dataset, source, kind=kind, registry=registry)
    where = f"{len(source)} FreeREA batch files" if isinstance(source, list) else source
    log.info("%s: %d images (%d labelled) from %s", dataset, len(images.y),
             int((images.y >= 0).sum()), where)
    return write_images(images, out)


def normalise(x: np.ndarray, dataset: str) -> np.ndarray:
    """uint8 N x H x W x 3 to float32 N x 3 x H x W with the dataset's mean and std."""
    _check_dataset(dataset)
    scaled = x.astype(np.float32) / np.float32(255)
    scaled = (scaled - MEAN[dataset]) / STD[dataset]
    return np.ascontiguousarray(scaled.transpose(0, 3, 1, 2))


def draw_batch(
    npz_path: str | Path, dataset: str, batch_size: int, seed: int, labelled: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A normalised batch drawn without replacement, the same for the same ``seed``.

    Returns ``(x float32 B x 3 x H x W, y int64 B)``. With ``labelled`` only images with a
    label (``y >= 0``) are drawn; a batch larger than the images available is an error.
    """
    images = load_sample(dataset, npz_path)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    pool = np.flatnonzero(images.y >= 0) if labelled else np.arange(len(images.y))
    if batch_size > len(pool):
        which = "labelled images" if labelled else "images"
        raise ValueError(f"batch of {batch_size} requested but {npz_path} has only "
                         f"{len(pool)} {which} for {dataset}")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(pool, size=batch_size, replace=False)
    return normalise(images.x[chosen], dataset), images.y[chosen].astype(np.int64)
