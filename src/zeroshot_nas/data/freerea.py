"""The real image batches FreeREA published (``fracapuano/FreeREA``, ``data/<set>__batch<B>_<k>``).

Each file is a plain Python pickle of ``[x, y]``, two torch tensors saved with torch's legacy
storage format (``torch.storage._load_from_bytes``). Unpickling such a file with ``pickle``
or ``torch.load`` would run whatever globals the file names, so this module reads them with
two restricted unpicklers that know exactly the handful of globals a tensor needs and build
NumPy arrays from the raw storage bytes; torch is never called, and any other global is
refused with an error naming the file. Every rebuilt tensor is checked before its bytes are
read (dtype, shape, non-negative strides, storage offset and extent inside the storage), so
a crafted file cannot make the reader touch memory outside the storage it carries.
:func:`convert_batches` reads only the batches pinned in ``data/sources.yaml`` and verifies
each one's sha256 when it reads it (a download changed afterwards is refused).

Content (``/shared/data/README.md`` of the lab, checked by the tests):

* CIFAR-10/100: ``x`` float32 (B, 3, 32, 32), normalised with mean (0.4914, 0.4822, 0.4465)
  and std (0.2023, 0.1994, 0.2010), so ``round((x·std + mean)·255)`` gives the uint8 pixels
  back; ``y`` int64 class labels.
* ImageNet16: ``x`` uint8 (B, 3, 16, 16); ``y`` int32 ImageNet-1000 labels, 1-based. Labels
  1..120 are ImageNet16-120's classes (0..119 here); the rest stay as unlabelled images (-1).
"""

from __future__ import annotations

import io
import math
import pickle
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ..spaces.common import DATASETS, get_dataset
from .sources import Source, load_registry, registered_source, verify

# torch's legacy serialization header (torch/serialization.py).
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "ByteStorage": np.uint8,
    "CharStorage": np.int8,
    "ShortStorage": np.int16,
    "IntStorage": np.int32,
    "LongStorage": np.int64,
}
CIFAR_MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float64)
CIFAR_STD = np.array([0.2023, 0.1994, 0.2010], dtype=np.float64)
IMAGENET16_120_CLASSES = 120
# Rounding slack when undoing the float32 normalisation (exact pixels land within ~1e-4).
_PIXEL_TOLERANCE = 1e-2


class FreeREAFormatError(ValueError):
    """A FreeREA batch file is not the expected pickle of two tensors."""


class _StorageRef(NamedTuple):
    dtype: type
    key: str
    numel: int


class _Forbidden(pickle.UnpicklingError):
    pass


class _StorageUnpickler(pickle.Unpickler):
    """The inner legacy pickle: storage types as globals, storages as persistent ids."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        raise _Forbidden(f"forbidden global {module}.{name}")

    def persistent_load(self, pid: Any) -> _StorageRef:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise _Forbidden(f"unexpected persistent id {pid!r}")
        dtype, key, numel = pid[1], pid[2], pid[4]
        if dtype not in _STORAGE_DTYPES.values() or not isinstance(numel, int):
            raise _Forbidden(f"unexpected storage {pid!r}")
        return _StorageRef(dtype, str(key), numel)


class _PlainUnpickler(pickle.Unpickler):
    """Header pickles: numbers, strings, dicts and lists only."""

    def find_class(self, module: str, name: str) -> Any:
        raise _Forbidden(f"forbidden global {module}.{name}")


def _storage_from_bytes(data: bytes) -> np.ndarray:
    """One storage in torch's legacy format: header pickles, then numel + raw bytes."""
    stream = io.BytesIO(data)
    if _PlainUnpickler(stream).load() != _LEGACY_MAGIC:
        raise _Forbidden("storage bytes lack torch's legacy magic number")
    if _PlainUnpickler(stream).load() != _LEGACY_PROTOCOL:
        raise _Forbidden("unknown legacy storage protocol")
    sys_info = _PlainUnpickler(stream).load()
    if not (isinstance(sys_info, dict) and sys_info.get("little_endian", False)):
        raise _Forbidden("storage was not written little-endian")
    ref = _StorageUnpickler(stream).load()
    keys = _PlainUnpickler(stream).load()
    if not isinstance(ref, _StorageRef) or keys != [ref.key]:
        raise _Forbidden("a storage file must hold exactly one storage")
    (numel,) = struct.unpack("<q", stream.read(8))
    itemsize = np.dtype(ref.dtype).itemsize
    raw = stream.read(numel * itemsize)
    if numel != ref.numel or len(raw) != numel * itemsize:
        raise _Forbidden("storage is truncated")
    return np.frombuffer(raw, dtype=ref.dtype)


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_tensor(storage: Any, offset: Any, size: Any, stride: Any) -> None:
    """Refuse a tensor whose view would read outside its storage (or build a huge array)."""
    if not isinstance(storage, np.ndarray) or storage.dtype not in map(np.dtype,
                                                                        _STORAGE_DTYPES.values()):
        raise _Forbidden("tensor without a storage of a known dtype")
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and len(size) == len(stride)
            and len(size) <= 8 and all(map(_is_index, size)) and all(map(_is_index, stride))):
        raise _Forbidden(f"tensor shape {size!r} / strides {stride!r} are not "
                         "non-negative integers of equal length")
    if not _is_index(offset):
        raise _Forbidden(f"tensor storage offset {offset!r} is not a non-negative integer")
    numel = math.prod(size)
    if numel == 0:
        return
    extent = offset + sum(st * (n - 1) for st, n in zip(stride, size, strict=True)) + 1
    if extent > len(storage) or numel > len(storage):
        raise _Forbidden(f"tensor of shape {size} (strides {stride}, offset {offset}) reaches "
                         f"past its storage of {len(storage)} elements")


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None, *rest):
    """``torch._utils._rebuild_tensor_v2`` for NumPy: a strided view, checked, then copied."""
    _check_tensor(storage, offset, size, stride)
    if math.prod(size) == 0:
        return np.empty(size, dtype=storage.dtype)
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=size, strides=tuple(s * storage.itemsize for s in stride),
        writeable=False,
    )
    return np.array(view)


class _BatchUnpickler(pickle.Unpickler):
    """The outer pickle: a list of tensors rebuilt from legacy storage bytes."""

    _ALLOWED = {
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
        ("collections", "OrderedDict"): dict,
    }

    def find_class(self, module: str, name: str) -> Any:
        target = self._ALLOWED.get((module, name))
        if target is None:
            raise _Forbidden(f"forbidden global {module}.{name}")
        return target


def read_batch_file(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` arrays of one FreeREA batch file, read without running any of its code."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            obj = _BatchUnpickler(handle).load()
    except FileNotFoundError:
        raise
    except _Forbidden as err:
        raise FreeREAFormatError(f"refusing FreeREA batch {path}: {err}") from None
    except Exception as err:  # truncated or not a pickle at all
        raise FreeREAFormatError(f"cannot read FreeREA batch {path}: {err}") from err
    if not (isinstance(obj, list) and len(obj) == 2 and all(isinstance(a, np.ndarray) for a in obj)):
        raise FreeREAFormatError(f"FreeREA batch {path} is not a list [x, y] of two tensors")
    return obj[0], obj[1]


def _cifar_pixels(x: np.ndarray, path: Path) -> np.ndarray:
    if x.dtype != np.float32 or x.ndim != 4 or x.shape[1:] != (3, 32, 32):
        raise FreeREAFormatError(f"FreeREA batch {path}: x is {x.shape} {x.dtype}, "
                                 "expected B x 3 x 32 x 32 float32")
    if not np.isfinite(x).all():
        raise FreeREAFormatError(f"FreeREA batch {path}: x holds {int((~np.isfinite(x)).sum())} "
                                 "non-finite values (NaN or inf), not normalised pixels")
    scaled = (x.astype(np.float64) * CIFAR_STD[:, None, None] + CIFAR_MEAN[:, None, None]) * 255
    pixels = np.rint(scaled)
    if np.abs(scaled - pixels).max() > _PIXEL_TOLERANCE or pixels.min() < 0 or pixels.max() > 255:
        raise FreeREAFormatError(f"FreeREA batch {path}: x is not normalised uint8 pixels with "
                                 "the CIFAR mean and std")
    return pixels.astype(np.uint8)


def _imagenet16_pixels(x: np.ndarray, path: Path) -> np.ndarray:
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[1:] != (3, 16, 16):
        raise FreeREAFormatError(f"FreeREA batch {path}: x is {x.shape} {x.dtype}, "
                                 "expected B x 3 x 16 x 16 uint8")
    return x


def _labels(dataset: str, y: np.ndarray, path: Path) -> np.ndarray:
    y = y.astype(np.int64)
    if dataset == "ImageNet16-120":
        if y.min() < 1:
            raise FreeREAFormatError(f"FreeREA batch {path}: ImageNet labels must be 1-based")
        return np.where(y <= IMAGENET16_120_CLASSES, y - 1, -1)
    classes = DATASETS[dataset].num_classes
    if y.min() < 0 or y.max() >= classes:
        raise FreeREAFormatError(f"FreeREA batch {path}: labels {y.min()}..{y.max()} outside "
                                 f"0..{classes - 1} of {dataset}")
    return y


class ConvertedBatches(NamedTuple):
    """Images (N x H x W x 3 uint8), labels (int64, -1 = unlabelled) and per-image origin."""

    x: np.ndarray
    y: np.ndarray
    origin: np.ndarray


def convert_batches(dataset: str, paths: Sequence[str | Path],
                    registry: dict[str, Source] | None = None) -> ConvertedBatches:
    """The images (uint8 N×H×W×3), labels and origins (file names) of the FreeREA batch files
    of ``dataset``, in file-name order (so the result, and every batch drawn from it, does
    not depend on the order the files were given in).

    Each file must be a batch registered in ``data/sources.yaml`` (found by its path's
    ending, ``<owner>/<repo>/<commit>/<path>``, as under ``data/downloads`` or a mirror) and
    is verified against its sha256 before it is unpickled.
    """
    get_dataset(dataset)
    if not paths:
        raise ValueError(f"no FreeREA batch files given for {dataset}")
    registry = registry if registry is not None else load_registry()
    xs, ys, origins = [], [], []
    for p in sorted(map(Path, paths), key=lambda path: path.name):
        source = registered_source(p, registry)
        if source is None:
            raise FreeREAFormatError(f"{p} is not a FreeREA batch pinned in data/sources.yaml "
                                     "(only the registered batches are read)")
        verify(p, source)
        x, y = read_batch_file(p)
        if y.shape != (len(x),):
            raise FreeREAFormatError(f"FreeREA batch {p}: {y.shape} labels for {len(x)} images")
        pixels = _imagenet16_pixels(x, p) if dataset == "ImageNet16-120" else _cifar_pixels(x, p)
        xs.append(np.ascontiguousarray(pixels.transpose(0, 2, 3, 1)))
        ys.append(_labels(dataset, y, p))
        origins.append(np.full(len(x), f"freerea:{p.name}"))
    return ConvertedBatches(np.concatenate(xs), np.concatenate(ys), np.concatenate(origins))
