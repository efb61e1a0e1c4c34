"""The FreeREA image batches: read without running their pickled code, converted exactly."""

from __future__ import annotations

import collections
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import IMAGES, MIRROR

from zeroshot_nas import cli
from zeroshot_nas.data import freerea
from zeroshot_nas.data.freerea import FreeREAFormatError, convert_batches, read_batch_file
from zeroshot_nas.data.sources import DownloadError, load_registry

COMMIT = "a044d1df2c7c2bb7d9b1e901a07a54c39bf7d67f"
BATCHES = MIRROR / "fracapuano" / "FreeREA" / COMMIT / "data"


def batch_files(prefix: str) -> list[Path]:
    """The data set's 20 batch files in file-name order (the order the converter uses)."""
    return sorted(BATCHES / f"{prefix}__batch{b}_{i}" for b in (64, 32) for i in range(10))


@pytest.mark.parametrize("prefix", ["cifar10", "cifar100", "imagenet"])
def test_restricted_reader_equals_torch_on_every_batch(prefix):
    for path in batch_files(prefix):
        x, y = read_batch_file(path)
        with path.open("rb") as handle:  # the lab's own copy: trusted, sha256 in its README
            ref_x, ref_y = pickle.load(handle)
        assert np.array_equal(x, ref_x.numpy()) and x.dtype == ref_x.numpy().dtype
        assert np.array_equal(y, ref_y.numpy())


def test_cifar_pixels_are_recovered_exactly():
    images = convert_batches("cifar10", batch_files("cifar10"))
    assert images.x.shape == (960, 32, 32, 3) and images.x.dtype == np.uint8
    assert set(np.unique(images.y)) == set(range(10))
    # Normalising the recovered pixels gives FreeREA's tensor back to float32 round-off.
    first = batch_files("cifar10")[0]
    x, _ = read_batch_file(first)
    mean = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32)[:, None, None]
    std = np.array([0.2023, 0.1994, 0.2010], dtype=np.float32)[:, None, None]
    pixels = images.x[images.origin == f"freerea:{first.name}"]
    again = (pixels.transpose(0, 3, 1, 2).astype(np.float32) / 255 - mean) / std
    assert np.abs(again - x).max() < 1e-5
    assert set(images.origin) == {f"freerea:{p.name}" for p in batch_files("cifar10")}


def test_imagenet16_labels_map_to_the_120_class_subset():
    images = convert_batches("ImageNet16-120", batch_files("imagenet"))
    raw = np.concatenate([read_batch_file(p)[1] for p in batch_files("imagenet")])
    assert images.x.shape == (960, 16, 16, 3)
    assert np.array_equal(images.y[raw <= 120], raw[raw <= 120] - 1)
    assert (images.y[raw > 120] == -1).all()
    assert int((images.y >= 0).sum()) == 106  # the lab README: 226 labelled, 120 not FreeREA's
    # The same 960 images as the lab's converted sample (origin "imagenet16").
    with np.load(IMAGES / "ImageNet16-120.npz") as npz:
        lab = npz["x"][npz["origin"] == "imagenet16"]
    assert {bytes(a) for a in lab} == {bytes(a) for a in images.x}


class _Boom:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_a_pickle_naming_any_other_global_is_refused_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    evil = tmp_path / "cifar10__batch64_0"
    evil.write_bytes(pickle.dumps([torch.zeros(1, 3, 32, 32), _Boom()]))
    with pytest.raises(FreeREAFormatError, match=f"{evil}.*forbidden global"):
        read_batch_file(evil)
    assert not (tmp_path / "PWNED").exists()


def test_truncated_and_wrong_content_name_the_file(tmp_path):
    good = batch_files("cifar10")[0].read_bytes()
    cut = tmp_path / "cut"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(FreeREAFormatError, match=str(cut)):
        read_batch_file(cut)
    wrong = tmp_path / "wrong"
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)  # a zip archive, not FreeREA's legacy pickle
    wrong.write_bytes(buffer.getvalue())
    with pytest.raises(FreeREAFormatError, match=str(wrong)):
        read_batch_file(wrong)
    with pytest.raises(FreeREAFormatError, match="expected B x 3 x 32 x 32 float32"):
        convert_batches("cifar10", batch_files("imagenet")[:1])


def test_registry_groups_the_batches_by_dataset():
    registry = load_registry()
    for dataset, prefix in (("cifar10", "cifar10"), ("cifar100", "cifar100"),
                            ("ImageNet16-120", "imagenet")):
        group = [s for s in registry.values() if s.group == f"images-{dataset}"]
        assert sorted(s.path for s in group) == sorted(f"data/{p.name}" for p in batch_files(prefix))
        assert all(s.commit == COMMIT and not s.optional for s in group)


def test_prepare_images_command_writes_the_converted_set(tmp_path):
    out = tmp_path / "ImageNet16-120.npz"
    files = [str(p) for p in batch_files("imagenet")]
    assert cli.main(["prepare-images", "--dataset", "ImageNet16-120", "--freerea-batches",
                     *files, "--out", str(out)]) == 0
    with np.load(out) as npz:
        assert npz["x"].shape == (960, 16, 16, 3) and int((npz["y"] >= 0).sum()) == 106


class _Capture(pickle.Unpickler):
    """Unpickles a batch file into its parts: (storage bytes, offset, size, stride) per
    tensor, without building anything."""

    def find_class(self, module, name):
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return lambda raw: raw
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda raw, offset, size, stride, *_: (raw, offset, size, stride)
        return super().find_class(module, name)


class _Storage:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __reduce__(self):
        return (torch.storage._load_from_bytes, (self.raw,))


class _Tensor:
    def __init__(self, raw: bytes, offset, size, stride) -> None:
        self.args = (_Storage(raw), offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def crafted_batch(path: Path, x_view=None, x_bytes=None) -> Path:
    """A copy of a real CIFAR-10 batch with x's view (offset, size, stride) or storage bytes
    replaced, pickled exactly as FreeREA's files are."""
    with batch_files("cifar10")[0].open("rb") as handle:
        (x_raw, *x_geometry), y = _Capture(handle).load()
    x_geometry = x_view or x_geometry
    with batch_files("cifar10")[0].open("rb") as handle:
        y_parts = _Capture(handle).load()[1]
    path.write_bytes(pickle.dumps([_Tensor(x_bytes(x_raw) if x_bytes else x_raw, *x_geometry),
                                   _Tensor(*y_parts)], protocol=4))
    return path


@pytest.mark.parametrize(("view", "message"), [
    ((0, (64, 3, 32, 32), (-3072, 1024, 32, 1)), "non-negative integers"),
    ((-3072, (64, 3, 32, 32), (3072, 1024, 32, 1)), "offset"),
    ((3072, (64, 3, 32, 32), (3072, 1024, 32, 1)), "reaches past its storage"),
    ((0, (10**9, 3, 32, 32), (0, 1024, 32, 1)), "reaches past its storage"),
])
def test_a_tensor_reaching_outside_its_storage_is_refused(tmp_path, view, message):
    # Issue 20: negative strides passed, so the reader copied pixels from outside the file's
    # storage (and a direct read could segfault).
    evil = crafted_batch(tmp_path / "cifar10__batch64_0", x_view=view)
    with pytest.raises(FreeREAFormatError, match=f"refusing FreeREA batch {evil}.*{message}"):
        read_batch_file(evil)


def test_the_crafted_file_itself_reads_like_the_original(tmp_path):
    plain = crafted_batch(tmp_path / "cifar10__batch64_0")
    assert all(np.array_equal(a, b) for a, b in
               zip(read_batch_file(plain), read_batch_file(batch_files("cifar10")[0]), strict=True))


def test_non_finite_pixels_are_refused(tmp_path):
    def first_pixel_nan(raw: bytes) -> bytes:
        data = bytearray(raw)
        start = len(data) - 64 * 3 * 32 * 32 * 4  # the storage's float32 values come last
        data[start : start + 4] = np.float32("nan").tobytes()
        return bytes(data)

    nan = crafted_batch(tmp_path / "cifar10__batch64_0", x_bytes=first_pixel_nan)
    x, _ = read_batch_file(nan)
    assert np.isnan(x).sum() == 1
    with pytest.raises(FreeREAFormatError, match="non-finite"):
        freerea._cifar_pixels(x, nan)


def test_a_registered_batch_changed_after_download_is_refused(tmp_path):
    # Issue 20: a verified download edited afterwards (labels shifted) was read silently.
    original = batch_files("cifar10")[0]
    copy = tmp_path / "downloads" / original.relative_to(MIRROR)
    copy.parent.mkdir(parents=True)
    _, labels = read_batch_file(original)
    data = bytearray(original.read_bytes())
    # The last label's int64 inside the labels' storage bytes: the file stays a valid batch.
    last = data.rfind(labels.astype("<i8").tobytes()) + 8 * (len(labels) - 1)
    data[last] = (data[last] + 1) % 10
    copy.write_bytes(bytes(data))
    shifted = read_batch_file(copy)[1]
    assert (shifted[:-1] == labels[:-1]).all() and shifted[-1] == (labels[-1] + 1) % 10
    with pytest.raises(DownloadError, match=f"{copy}.*changed after it was downloaded"):
        convert_batches("cifar10", [copy])
    stray = tmp_path / "cifar10__batch64_0"
    stray.write_bytes(original.read_bytes())
    with pytest.raises(FreeREAFormatError, match="not a FreeREA batch pinned"):
        convert_batches("cifar10", [stray])
