"""Names shared by every search space: data sets, the arch error type, small helpers."""

from __future__ import annotations

from dataclasses import dataclass


class ArchError(ValueError):
    """An architecture string that cannot be parsed; the message quotes it and says why."""


@dataclass(frozen=True)
class DatasetSpec:
    """What a network needs to know about a data set (classifier width, input size) and
    how tables and figures name it."""

    num_classes: int
    image_size: int
    title: str


# The one list of data sets, in the order every table and figure shows them.
DATASETS: dict[str, DatasetSpec] = {
    "cifar10": DatasetSpec(num_classes=10, image_size=32, title="CIFAR-10"),
    "cifar100": DatasetSpec(num_classes=100, image_size=32, title="CIFAR-100"),
    "ImageNet16-120": DatasetSpec(num_classes=120, image_size=16, title="ImageNet16-120"),
}
DATASET_TITLES: dict[str, str] = {name: spec.title for name, spec in DATASETS.items()}
SPACE_TITLES: dict[str, str] = {"nb201": "NAS-Bench-201 (NATS topology space)",
                                "nats_sss": "NATS size space",
                                "nb101": "NAS-Bench-101 (subset: MLFE's 2,000-architecture table)"}


def get_dataset(dataset: str) -> DatasetSpec:
    """Return the spec of `dataset`, or raise ValueError listing the known names."""
    try:
        return DATASETS[dataset]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}"
        ) from None
