"""Names shared by every search space: data sets, the arch error type, small helpers."""

from __future__ import annotations

from dataclasses import dataclass


class ArchError(ValueError):
    """An architecture string that cannot be parsed; the message quotes it and says why."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a network needs to know about a data set: classifier width and input size."""

    num_classes: int
    image_size: int


DATASETS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec(num_classes=10, image_size=32),
    "cifar100": DatasetSpec(num_classes=100, image_size=32),
    "ImageNet16-120": DatasetSpec(num_classes=120, image_size=16),
}


def get_dataset(dataset: str) -> DatasetSpec:
    """Return the spec of `dataset`, or raise ValueError listing the known names."""
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}"
        ) from None
