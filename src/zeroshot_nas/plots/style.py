"""One shared figure style: Okabe–Ito colour-blind-safe palette, sizes, and saving each
figure as PNG + PDF + a caption text file."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on cluster nodes or CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import Locator  # noqa: E402

from zeroshot_nas.spaces.common import DATASET_TITLES  # noqa: E402

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
DATASET_COLOURS = {"cifar10": PALETTE[0], "cifar100": PALETTE[1], "ImageNet16-120": PALETTE[2]}
DATASET_LABELS = DATASET_TITLES
OPTIMUM_COLOUR = "#8B0000"  # the papers' "dark red" benchmark optimum line
POINT_COLOUR = PALETTE[0]

RC = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "pdf.fonttype": 42,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
}


def apply_style() -> None:
    """Set the shared matplotlib style (idempotent)."""
    plt.rcParams.update(RC)


def dataset_label(name: str) -> str:
    return DATASET_LABELS.get(name, name)


def dataset_colour(name: str, i: int = 0) -> str:
    return DATASET_COLOURS.get(name, PALETTE[(3 + i) % len(PALETTE)])


def save_figure(fig: plt.Figure, out_dir: Path | str, name: str, caption: str) -> list[Path]:
    """Write ``name``.png, ``name``.pdf and ``name``.txt (caption) into ``out_dir``; close."""
    from zeroshot_nas import io

    out = Path(out_dir)
    paths = [out / f"{name}.png", out / f"{name}.pdf", out / f"{name}.txt"]
    try:
        for path in paths[:2]:
            # the temporary name has no image suffix: say the format
            io.atomic_write(path, lambda tmp, fmt=path.suffix[1:]: fig.savefig(
                tmp, format=fmt, bbox_inches="tight"))
    finally:
        plt.close(fig)
    io.write_text(paths[2], caption.strip() + "\n")
    return paths


def spans_decades(values, factor: float = 100.0) -> bool:
    """Whether positive ``values`` run over more than ``factor`` (then a log axis is the one
    on which the small ones stay readable); False when any value is not positive."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return bool(v.size) and bool(v.min() > 0) and float(v.max() / v.min()) > factor


def readable_log_axis(axis) -> None:
    """Ticks at 1, 2 and 5 times each power of ten, written as plain numbers, and no labels on
    the minor ticks: over less than two decades matplotlib labels every minor tick in
    scientific notation, and the labels run into each other. Where the axis is too short for
    1-2-5 labels (a narrow panel), 1-3 or the powers of ten alone (:class:`ReadableLogLocator`)."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_locator(ReadableLogLocator())
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def _log_ticks(vmin: float, vmax: float, subs: tuple[float, ...]) -> list[float]:
    """``s · 10^e`` for every s in ``subs`` and every decade from below ``vmin`` to above
    ``vmax`` (one tick past each end, so the axis can autoscale to them)."""
    low, high = math.floor(math.log10(vmin)) - 1, math.ceil(math.log10(vmax)) + 1
    return [s * 10.0**e for e in range(low, high + 1) for s in subs]


class ReadableLogLocator(Locator):
    """Log ticks at 1-2-5, 1-3 or 1 times each power of ten: the densest of the three whose
    labels fit along the axis (its length in the figure, at about LABEL_INCHES a label)."""

    # Room one plain tick label ("0.05", "20") needs along the axis at the figure font size,
    # with a gap to its neighbour.
    LABEL_INCHES = 0.45
    SUBS = ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,))

    def __call__(self):
        vmin, vmax = self.axis.get_view_interval()
        return self.tick_values(vmin, vmax)

    def tick_values(self, vmin: float, vmax: float):
        from matplotlib.ticker import LogLocator

        vmin, vmax = sorted((vmin, vmax))
        if not (vmin > 0 and np.isfinite(vmax)):
            return LogLocator(base=10.0).tick_values(vmin, vmax)
        room = self._labels_that_fit()
        for subs in self.SUBS:
            ticks = _log_ticks(vmin, vmax, subs)
            if sum(vmin <= t <= vmax for t in ticks) <= room:
                return np.array(ticks)
        return LogLocator(base=10.0, numticks=room + 1).tick_values(vmin, vmax)

    def _labels_that_fit(self) -> int:
        if self.axis is None or self.axis.axes is None:
            return 12
        ax = self.axis.axes
        box = ax.get_position()
        horizontal = self.axis.axis_name == "x"
        inches = (box.width * ax.figure.get_figwidth() if horizontal
                  else box.height * ax.figure.get_figheight())
        return max(2, int(inches / self.LABEL_INCHES))


def dodge(i: int, n: int, width: float = 0.7) -> float:
    """Offset of the ``i``-th of ``n`` series around a category, so markers do not overlap."""
    return (i - (n - 1) / 2) * (width / max(n, 1))
