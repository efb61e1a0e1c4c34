"""Image loading, normalisation and seeded batches, on the real image samples."""

from __future__ import annotations

import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
from conftest import IMAGES, WHERE

from zeroshot_nas.data import images
from zeroshot_nas.data.images import draw_batch, load_images, read_images

SIZES = {"cifar10": 32, "cifar100": 32, "ImageNet16-120": 16}


@pytest.fixture(scope="module")
def sample_dir() -> Path:
    if not IMAGES.is_dir():
        pytest.skip(f"real image samples not found at {IMAGES} ({WHERE})")
    return IMAGES


def test_mean_and_std_are_xautodls() -> None:
    expected = {
        "cifar10": ([125.3, 123.0, 113.9], [63.0, 62.1, 66.7]),
        "cifar100": ([129.3, 124.1, 112.4], [68.2, 65.4, 70.4]),
        "ImageNet16-120": ([122.68, 116.66, 104.01], [63.22, 61.26, 65.09]),
    }
    for dataset, (mean, std) in expected.items():
        np.testing.assert_allclose(images.MEAN[dataset] * 255, mean, rtol=1e-6)
        np.testing.assert_allclose(images.STD[dataset] * 255, std, rtol=1e-6)


def test_sample_label_facts(sample_dir: Path) -> None:
    c10 = read_images("cifar10", sample_dir)
    assert c10.x.shape == (6187, 32, 32, 3) and c10.x.dtype == np.uint8
    assert c10.y.dtype == np.int64 and set(c10.y.tolist()) == set(range(10))
    assert c10.y[c10.origin == "test_batch"][:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]
    assert c10.y[c10.origin == "data_batch_1"][:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]
    counts = np.bincount(c10.y)
    assert counts.min() == 571 and counts.max() == 647

    c100 = read_images("cifar100", sample_dir)
    assert c100.x.shape == (2033, 32, 32, 3)
    assert set(c100.y.tolist()) == set(range(100))
    assert c100.y[c100.origin == "test"][:10].tolist() == [49, 33, 72, 51, 71, 92, 15, 14, 23, 0]

    x, y = load_images("ImageNet16-120", sample_dir / "ImageNet16-120.npz")
    assert x.shape == (1080, 16, 16, 3)
    assert int((y == -1).sum()) == 854 and int((y >= 0).sum()) == 226
    assert y.min() == -1 and y.max() <= 119


@pytest.mark.parametrize("dataset", list(SIZES))
def test_normalisation_centres_the_real_images(sample_dir: Path, dataset: str) -> None:
    x, _ = load_images(dataset, sample_dir)
    z = images.normalise(x, dataset)
    assert z.dtype == np.float32 and z.shape == (len(x), 3, SIZES[dataset], SIZES[dataset])
    # The published statistics are of the full training sets; a real sample sits close.
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0.0, atol=0.05)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1.0, atol=0.05)
    pixel = x[:1, :1, :1, :].astype(np.float64)[0, 0, 0]
    expected = (pixel / 255 - images.MEAN[dataset]) / images.STD[dataset]
    np.testing.assert_allclose(z[0, :, 0, 0], expected, rtol=1e-5)


@pytest.mark.parametrize("dataset", list(SIZES))
def test_draws_are_deterministic(sample_dir: Path, dataset: str) -> None:
    npz = sample_dir / f"{dataset}.npz"
    x1, y1 = draw_batch(npz, dataset, 32, seed=7)
    x2, y2 = draw_batch(npz, dataset, 32, seed=7)
    x3, _ = draw_batch(npz, dataset, 32, seed=8)
    assert x1.dtype == np.float32 and y1.dtype == np.int64
    assert x1.shape == (32, 3, SIZES[dataset], SIZES[dataset]) and y1.shape == (32,)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_labelled_draws_never_contain_unlabelled(sample_dir: Path) -> None:
    npz = sample_dir / "ImageNet16-120.npz"
    _, y = load_images("ImageNet16-120", npz)
    labelled = np.sort(y[y >= 0])
    for seed in range(5):
        _, drawn = draw_batch(npz, "ImageNet16-120", 64, seed=seed)
        assert (drawn >= 0).all()
    # All 226 labelled images at once: without replacement, so exactly the labelled set.
    _, everything = draw_batch(npz, "ImageNet16-120", 226, seed=0)
    assert np.array_equal(np.sort(everything), labelled)
    _, unlabelled_too = draw_batch(npz, "ImageNet16-120", 1080, seed=0, labelled=False)
    assert np.array_equal(np.sort(unlabelled_too), np.sort(y))


def test_oversize_batch_is_an_error(sample_dir: Path) -> None:
    npz = sample_dir / "ImageNet16-120.npz"
    with pytest.raises(ValueError, match="only 226 labelled images"):
        draw_batch(npz, "ImageNet16-120", 227, seed=0)
    with pytest.raises(ValueError, match="only 1080 images"):
        draw_batch(npz, "ImageNet16-120", 1081, seed=0, labelled=False)
    with pytest.raises(ValueError, match="positive integer"):
        draw_batch(npz, "ImageNet16-120", 0, seed=0)


def test_wrong_dataset_for_a_sample_is_refused(sample_dir: Path) -> None:
    with pytest.raises(ValueError, match="16 x 16 x 3"):
        load_images("ImageNet16-120", sample_dir / "cifar10.npz")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_images("mnist", sample_dir)


# --- the official file formats, written from the real sample images ---------------------


def to_planes(x: np.ndarray) -> np.ndarray:
    """N x H x W x 3 to the official N x (3*H*W) layout (R, G, B planes)."""
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), -1))


def cifar_tarball(path: Path, folder: str, batches: dict[str, dict]) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, content in batches.items():
            data = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_cifar10_tarball_format(sample_dir: Path, tmp_path: Path) -> None:
    sample = read_images("cifar10", sample_dir)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    batches = {
        name: {b"batch_label": name.encode(), b"data": to_planes(sample.x[sample.origin == name]),
               b"labels": sample.y[sample.origin == name].tolist()}
        for name in names
    }
    tarball = cifar_tarball(tmp_path / "cifar-10-python.tar.gz", "cifar-10-batches-py", batches)
    got = images.load_cifar_tarball("cifar10", tarball, verify_md5=False)
    assert np.array_equal(got.x, sample.x) and np.array_equal(got.y, sample.y)
    assert np.array_equal(got.origin, sample.origin)
    # By default only the official tarball (its md5) is unpickled.
    with pytest.raises(ValueError, match="c58f30108f718f92721af3b95e74349a"):
        read_images("cifar10", tarball)


def test_cifar100_tarball_format(sample_dir: Path, tmp_path: Path) -> None:
    sample = read_images("cifar100", sample_dir)
    batches = {
        name: {b"data": to_planes(sample.x[sample.origin == name]),
               b"fine_labels": sample.y[sample.origin == name].tolist(),
               b"coarse_labels": [0] * int((sample.origin == name).sum())}
        for name in ("train", "test")
    }
    tarball = cifar_tarball(tmp_path / "cifar-100-python.tar.gz", "cifar-100-python", batches)
    got = read_images("cifar100", tarball, kind="cifar-tarball", verify_md5=False)
    order = np.argsort(sample.origin != "train", kind="stable")  # train first, then test
    assert np.array_equal(got.x, sample.x[order]) and np.array_equal(got.y, sample.y[order])


def test_imagenet16_folder_keeps_the_120_classes(sample_dir: Path, tmp_path: Path) -> None:
    with np.load(sample_dir / "ImageNet16-120.npz") as npz:
        keep = npz["origin"] == "imagenet16"
        x, y, y1000 = npz["x"][keep], npz["y"][keep], npz["y_imagenet1000"][keep]
    parts = {"val_data": slice(0, 300), "train_data_batch_10": slice(300, 600),
             "train_data_batch_2": slice(600, None)}
    folder = tmp_path / "imagenet16"
    folder.mkdir()
    for name, part in parts.items():
        content = {"data": to_planes(x[part]), "labels": y1000[part].tolist(), "mean": None}
        (folder / name).write_bytes(pickle.dumps(content))
    (folder / "README").write_text("not a batch")
    got = images.load_imagenet16_folder("ImageNet16-120", folder)
    # Numeric batch order (2 before 10), validation last.
    order = np.r_[np.arange(600, len(x)), np.arange(300, 600), np.arange(0, 300)]
    kept = order[y1000[order] <= 120]
    assert len(got.y) == len(kept) == int((y >= 0).sum())
    assert np.array_equal(got.x, x[kept])
    assert np.array_equal(got.y, y[kept])  # the sample's 0..119 labels
    assert got.origin[0] == "train_data_batch_2" and got.origin[-1] == "val_data"


class _Marker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


def test_batch_files_cannot_run_code(tmp_path: Path) -> None:
    folder = tmp_path / "imagenet16"
    folder.mkdir()
    marker = tmp_path / "ran"
    (folder / "val_data").write_bytes(pickle.dumps({"data": _Marker(marker), "labels": [1]}))
    with pytest.raises(ValueError, match="forbidden global"):
        images.load_imagenet16_folder("ImageNet16-120", folder)
    assert not marker.exists()


def test_prepare_images_writes_the_npz(sample_dir: Path, tmp_path: Path) -> None:
    out = images.prepare_images("cifar100", sample_dir, tmp_path / "images" / "cifar100.npz")
    assert sorted(p.name for p in out.parent.iterdir()) == ["cifar100.npz"]
    with np.load(out, allow_pickle=False) as npz:
        assert set(npz.files) == {"x", "y", "origin"}
        sample = read_images("cifar100", sample_dir)
        assert np.array_equal(npz["x"], sample.x) and np.array_equal(npz["y"], sample.y)
    a = draw_batch(out, "cifar100", 16, seed=3)
    b = draw_batch(sample_dir / "cifar100.npz", "cifar100", 16, seed=3)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
