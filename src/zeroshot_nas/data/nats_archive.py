"""The official NATS-Bench archives (``NATS-sss-v1_0-50262-simple/``, ``NATS-tss-v1_0-3ffb9-simple/``)
read without the ``nats_bench`` package and without running any code from their files.

An archive is a folder of bz2-compressed pickles: ``meta.pickle.pbz2`` (the architecture
strings in NATS index order) and one ``<index:06d>.pickle.pbz2`` per architecture holding,
per training schedule ``hp`` (``01``/``12``/``90`` epochs for the size space, ``12``/``200``
for the topology space), every training run by (data set, seed): accuracies, losses and
times per epoch, parameter and FLOP counts. The only globals those pickles name are
``collections.OrderedDict`` and NumPy's float64 scalar (``numpy.core.multiarray.scalar`` with
``numpy.dtype('f8')``); :class:`_ArchiveUnpickler` builds exactly these (a dict, a Python
float) and refuses any other global, naming the file. Decompression is bounded, so a corrupt
or hostile file cannot exhaust memory.

Values are read as the official API computes them with ``is_random=False`` (mean over the
training seeds, summed in seed order), so both readers give the same numbers
(``tests/test_nats_archive.py`` compares them on the API's own fixture files).
"""

from __future__ import annotations

import bz2
import io
import math
import pickle
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError


class NatsArchiveError(UserError, ValueError):
    """A NATS-Bench archive is missing, incomplete or not the expected pickles."""


@dataclass(frozen=True)
class ArchiveSpec:
    """One official archive: its folder name, size, schedules and the project's space."""

    space: str
    folder: str
    size: int
    full_hp: str
    download: str


#: The NATS-Bench README's links (Google Drive; Baidu-Pan code e4t9 for the size space).
ARCHIVES: dict[str, ArchiveSpec] = {
    "nats_sss": ArchiveSpec(
        "nats_sss", "NATS-sss-v1_0-50262-simple", 32_768, "90",
        "https://drive.google.com/file/d/1scOMTUwcQhAMa_IMedp9lTzwmgqHLGgA/view",
    ),
    "nb201": ArchiveSpec(
        "nb201", "NATS-tss-v1_0-3ffb9-simple", 15_625, "200",
        "https://drive.google.com/file/d/17_saCsj_krKjlCBLOJEpNtzPXArMCqxU/view",
    ),
}
#: The short schedule every search simulates (NATS-Bench's ``hp="12"``).
SEARCH_HP = "12"
SEARCH_EPOCHS = 12
META_FILE = "meta.pickle.pbz2"
# The largest record of the real archives decompresses to about 90 kB (meta: 540 kB);
# anything far beyond is not one of them.
MAX_DECOMPRESSED = 16 * 1024 * 1024
_FLOAT64_STATE = (3, "<", None, None, None, -1, -1, 0)


def record_name(index: int) -> str:
    return f"{index:06d}.pickle.pbz2"


def download_help(space: str, where: str | Path) -> str:
    """What to download and where to put it, for error messages."""
    spec = ARCHIVES[space]
    return (
        f"download {spec.folder}.tar from the NATS-Bench README "
        f"(https://github.com/D-X-Y/NATS-Bench#preparation-and-download, Google Drive: "
        f"{spec.download}), unpack it with `tar xvf {spec.folder}.tar` and give the unpacked "
        f"folder (meta.pickle.pbz2 and {spec.size:,} files 000000.pickle.pbz2 ... "
        f"{record_name(spec.size - 1)}) as {where}"
    )


def missing_files(folder: str | Path, space: str) -> list[str]:
    """Names of the archive files absent from ``folder`` (empty for a complete archive)."""
    folder = Path(folder)
    spec = ARCHIVES[space]
    present = {p.name for p in folder.iterdir()} if folder.is_dir() else set()
    wanted = [META_FILE, *(record_name(i) for i in range(spec.size))]
    return [name for name in wanted if name not in present]


# ----------------------------------------------------------------------------- unpickling


class _Forbidden(pickle.UnpicklingError):
    pass


class _Float64Dtype:
    """Stands for ``numpy.dtype('f8')`` inside an archive pickle; nothing else is accepted."""

    def __setstate__(self, state: Any) -> None:
        if tuple(state) != _FLOAT64_STATE:
            raise _Forbidden(f"numpy dtype state {state!r} is not little-endian float64")


def _dtype(name: Any, align: Any = 0, copy: Any = 1) -> _Float64Dtype:
    if name != "f8":
        raise _Forbidden(f"numpy dtype {name!r} is not float64")
    return _Float64Dtype()


def _scalar(dtype: Any, data: Any) -> float:
    if not isinstance(dtype, _Float64Dtype) or not isinstance(data, bytes) or len(data) != 8:
        raise _Forbidden("numpy scalar that is not a float64")
    return struct.unpack("<d", data)[0]


class _ArchiveUnpickler(pickle.Unpickler):
    """Builds dicts, lists, tuples, sets, numbers and strings, plus the two globals above."""

    _ALLOWED = {
        ("collections", "OrderedDict"): dict,
        ("numpy", "dtype"): _dtype,
        ("numpy.core.multiarray", "scalar"): _scalar,
        ("numpy._core.multiarray", "scalar"): _scalar,
    }

    def find_class(self, module: str, name: str) -> Any:
        target = self._ALLOWED.get((module, name))
        if target is None:
            raise _Forbidden(f"forbidden global {module}.{name}")
        return target

    def persistent_load(self, pid: Any) -> Any:
        raise _Forbidden(f"unexpected persistent id {pid!r}")


def read_pbz2(path: str | Path) -> Any:
    """The object of one archive file, decompressed within a bound and unpickled safely."""
    path = Path(path)
    try:
        data = path.read_bytes()
        decompressor = bz2.BZ2Decompressor()
        raw = decompressor.decompress(data, max_length=MAX_DECOMPRESSED)
        if not decompressor.eof:
            raise NatsArchiveError(f"NATS archive file {path}: not a complete bz2 stream of at "
                                   f"most {MAX_DECOMPRESSED // 2**20} MiB")
        return _ArchiveUnpickler(io.BytesIO(raw)).load()
    except _Forbidden as err:
        raise NatsArchiveError(f"refusing NATS archive file {path}: {err}") from None
    except (OSError, EOFError, ValueError, pickle.UnpicklingError) as err:
        if isinstance(err, NatsArchiveError | FileNotFoundError):
            raise
        raise NatsArchiveError(f"cannot read NATS archive file {path}: {err}") from err


# ----------------------------------------------------------------------------- meta


def read_meta(folder: str | Path, space: str) -> list[str]:
    """The architecture strings of the archive in NATS index order, checked to be the
    project's space (canonical strings, every architecture once)."""
    from .. import spaces

    spec = ARCHIVES[space]
    path = Path(folder) / META_FILE
    meta = read_pbz2(path)
    if not (isinstance(meta, dict) and isinstance(meta.get("meta_archs"), list)):
        raise NatsArchiveError(f"{path}: expected a dict with the list 'meta_archs'")
    archs = meta["meta_archs"]
    if len(archs) != spec.size or not all(isinstance(a, str) for a in archs):
        raise NatsArchiveError(f"{path}: {len(archs)} architecture strings, expected "
                               f"{spec.size:,} ({spec.folder})")
    canonical = [spaces.parse_arch(space, a) for a in archs]
    if canonical != archs or set(archs) != set(spaces.all_archs(space)):
        raise NatsArchiveError(f"{path}: the architecture strings are not the {space} space")
    return archs


# ----------------------------------------------------------------------------- records


_SETS = {"accuracy": "eval_acc1es", "loss": "eval_losses", "time": "eval_times"}


@dataclass(frozen=True)
class ArchRecord:
    """The training runs of one architecture: ``runs[hp][dataset]`` lists the state of each
    seed's run, in the order of ``seeds[hp][dataset]`` (sorted, as the API's dataset_seed)."""

    index: int
    arch: str
    runs: dict[str, dict[str, list[dict[str, Any]]]]
    seeds: dict[str, dict[str, list[int]]]

    def _runs(self, hp: str, dataset: str) -> list[dict[str, Any]]:
        try:
            return self.runs[hp][dataset]
        except KeyError:
            raise NatsArchiveError(f"NATS record {self.index} ({self.arch}) has no hp={hp} "
                                   f"training on {dataset}") from None

    def metric(self, hp: str, dataset: str, setname: str, epoch: int | None = None,
               field: str = "accuracy") -> float:
        """Mean over seeds of an evaluation set's accuracy (or ``field`` loss/time) after
        ``epoch`` epochs (1-based; None = the schedule's last)."""
        values = []
        for run in self._runs(hp, dataset):
            key = f"{setname}@{_epoch_index(run, epoch, self)}"
            try:
                values.append(_number(run[_SETS[field]][key], self, key))
            except (KeyError, TypeError):
                raise NatsArchiveError(f"NATS record {self.index} ({self.arch}): hp={hp} "
                                       f"{dataset} has no {setname} {field} {key}") from None
        return _mean(values)

    def seconds_per_epoch(self, hp: str, dataset: str, setname: str | None = None) -> float:
        """Mean over seeds of the per-epoch training time (``setname`` None) or of one
        evaluation set's per-epoch time."""
        values = []
        for run in self._runs(hp, dataset):
            epochs = int(run["epochs"])
            try:
                times = [run["train_times"][i] for i in range(epochs)] if setname is None \
                    else [run["eval_times"][f"{setname}@{i}"] for i in range(epochs)]
            except (KeyError, TypeError):
                raise NatsArchiveError(f"NATS record {self.index} ({self.arch}): hp={hp} "
                                       f"{dataset} lacks {setname or 'train'} times") from None
            values.append(_mean([_number(t, self, "time") for t in times]))
        return _mean(values)

    def costs(self, hp: str, dataset: str) -> tuple[float, float]:
        """(params in millions, FLOPs in millions) as the API's ``get_cost_info``."""
        runs = self._runs(hp, dataset)
        seeds = self.seeds[hp][dataset]
        out = []
        for field in ("params", "flop"):
            raw = [_number(run[field], self, field) for run in runs]
            # The API's legacy fix: seeds that disagree (to 5 decimals) use seed 888's value.
            if len(raw) > 1 and len({f"{x:.5f}" for x in raw}) > 1:
                raw = [raw[seeds.index(888)]]
            out.append(_mean(raw))
        return out[0], out[1]


def _mean(values: Sequence[float]) -> float:
    # The API's own mean: a left-to-right sum over seeds, divided by the count.
    return sum(values) / len(values)


def _number(value: Any, record: ArchRecord, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise NatsArchiveError(f"NATS record {record.index} ({record.arch}): {what} is "
                               f"{value!r}, not a finite number")
    return float(value)


def _epoch_index(run: dict[str, Any], epoch: int | None, record: ArchRecord) -> int:
    epochs = int(run["epochs"])
    if epoch is None:
        return epochs - 1
    if not 1 <= epoch <= epochs:
        raise NatsArchiveError(f"NATS record {record.index} ({record.arch}): epoch {epoch} "
                               f"outside 1..{epochs}")
    return epoch - 1


def read_record(folder: str | Path, index: int, arch: str) -> ArchRecord:
    """The record of architecture ``index`` (whose meta string is ``arch``), checked to be
    that architecture's training runs."""
    path = Path(folder) / record_name(index)
    data = read_pbz2(path)
    if not isinstance(data, dict) or not data:
        raise NatsArchiveError(f"{path}: expected a dict of training schedules")
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    seeds: dict[str, dict[str, list[int]]] = {}
    for hp, results in data.items():
        _check_results(path, hp, results, index, arch)
        seeds[hp] = {d: list(s) for d, s in results["dataset_seed"].items()}
        runs[hp] = {
            dataset: [results["all_results"][(dataset, seed)] for seed in ds_seeds]
            for dataset, ds_seeds in seeds[hp].items()
        }
    return ArchRecord(index, arch, runs, seeds)


def _check_results(path: Path, hp: Any, results: Any, index: int, arch: str) -> None:
    expected = {"arch_index", "arch_str", "all_results", "dataset_seed", "clear_net_done"}
    if not isinstance(hp, str) or not isinstance(results, dict) or set(results) != expected:
        raise NatsArchiveError(f"{path}: schedule {hp!r} is not an ArchResults state")
    if results["arch_index"] != index or results["arch_str"] != arch:
        raise NatsArchiveError(f"{path}: holds architecture {results['arch_index']} "
                               f"({results['arch_str']!r}), expected {index} ({arch!r})")
    for dataset, seeds in results["dataset_seed"].items():
        for seed in seeds:
            run = results["all_results"].get((dataset, seed))
            if not isinstance(run, dict) or not {"eval_acc1es", "eval_times", "train_times",
                                                 "epochs", "params", "flop"} <= set(run):
                raise NatsArchiveError(f"{path}: hp={hp} {dataset} seed {seed} is not a "
                                       "training run")


def read_records(folder: str | Path, archs: Sequence[str],
                 indices: Iterable[int]) -> Iterable[ArchRecord]:
    """The records of ``indices`` in order (``archs`` from :func:`read_meta`)."""
    for index in indices:
        yield read_record(folder, index, archs[index])
