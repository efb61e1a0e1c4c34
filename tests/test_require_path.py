"""stats.require_path: the architectures without a path from input to output, which the
rank-based authors' NB201 search space leaves out, dropped before the statistics; checked on
hand-made cells and a hand-computed correlation."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from zeroshot_nas import cli, spaces
from zeroshot_nas.spaces import nb201
from zeroshot_nas.stats import analysis, connectivity

# Connected cells (a path 0 -> 3 avoiding 'none'), each by another route.
DIRECT = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"  # edge 0 -> 3
VIA_1 = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"  # 0 -> 1 -> 3
VIA_2 = "|none~0|+|nor_conv_1x1~0|none~1|+|none~0|none~1|skip_connect~2|"  # 0 -> 2 -> 3
CHAIN = "|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_1x1~2|"  # 0-1-2-3
# Cut off: node 1 and 2 are reached but nothing leaves them towards 3, or nothing leaves 0.
DEAD_END = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
ISLAND = "|none~0|+|none~0|skip_connect~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"
CONNECTED, CUT = [DIRECT, VIA_1, VIA_2, CHAIN], [DEAD_END, ISLAND]
INFO = {"s": analysis.ScoreInfo("s", True, False)}


def test_cells_with_and_without_a_path():
    assert all(nb201.has_path(a) for a in CONNECTED)
    assert not any(nb201.has_path(a) for a in CUT)
    # the rank-based authors' encoder keeps 15,284 of the 15,625 (has_backbone)
    assert sum(map(nb201.has_path, nb201.all_archs())) == 15_284
    assert spaces.has_path("nats_sss", "8:16:24:32:40")  # every size-space network has one
    with pytest.raises(ValueError, match="invalid NB201 arch string"):
        spaces.has_path("nb201", "8:16:24:32:40")


def table(archs: list[str], values: list[float], acc: list[float], space=True) -> pd.DataFrame:
    df = pd.DataFrame({"arch": archs, "dataset": "cifar10", "seed": 0, "score": "s",
                       "value": values, "status": "ok", "test_acc": acc, "valid_acc": acc})
    return df.assign(space="nb201") if space else df


def kendall(tables: dict[str, pd.DataFrame]) -> pd.Series:
    c = tables["correlations"]
    return c[(c.method == "kendall") & (c.target == "test_acc") & (c.policy == "kept_worst")
             & (c.subset == "all")].iloc[0]


def stats_of(df: pd.DataFrame, required: bool):
    return analysis.compute_stats(df, analysis.StatsConfig(
        bootstrap=0, best_of_n=2, best_of_runs=1, rank_combination=(), require_path=required,
        info=INFO.__getitem__))


def test_the_statistics_drop_the_cells_without_a_path_when_asked():
    # The four connected cells are scored in accuracy order; the two cut cells (chance
    # accuracy, tied) get the highest scores, as a score blind to the cut would give them.
    df = table([*CONNECTED, *CUT], [1, 2, 3, 4, 5, 6], [60, 70, 80, 90, 10, 10])
    kept, summary = stats_of(df, False)
    # 15 pairs: 6 concordant (connected), 8 discordant (connected vs cut), one tied in
    # accuracy (the two cut cells): tau-b = (6 - 8) / sqrt(15 * 14)
    assert kendall(kept)["value"] == pytest.approx(-2 / math.sqrt(210))
    assert kendall(kept)["n"] == 6
    assert summary["require_path"] == {"required": False, "rule": connectivity.KEPT,
                                       "without_path": {"cifar10": 2},
                                       "dropped": {"cifar10": 0}}
    dropped, summary = stats_of(df, True)
    assert kendall(dropped)["value"] == pytest.approx(1.0) and kendall(dropped)["n"] == 4
    assert summary["require_path"]["dropped"] == {"cifar10": 2}
    assert summary["require_path"]["rule"] == connectivity.RULE
    assert summary["n_archs"] == {"cifar10": 4}
    assert int(dropped["nonfinite"]["n_rows"].sum()) == 4


def test_other_spaces_and_unchecked_tables():
    sss = table(["8:16:24:32:40", "16:16:24:32:40", "24:16:24:32:40"], [1, 2, 3], [1, 2, 3])
    _, summary = stats_of(sss.assign(space="nats_sss"), True)
    assert summary["require_path"]["dropped"] == {"cifar10": 0}
    # without a space column the strings are NB201's: checked only when asked
    df = table([*CONNECTED, *CUT], [1, 2, 3, 4, 5, 6], [60, 70, 80, 90, 10, 10], space=False)
    assert stats_of(df, False)[1]["require_path"]["without_path"] is None
    assert stats_of(df, True)[1]["require_path"]["dropped"] == {"cifar10": 2}
    bad = table(["arch0", "arch1", "arch2"], [1, 2, 3], [1, 2, 3], space=False)
    with pytest.raises(ValueError, match="require_path: architecture 'arch0'.*nb201"):
        stats_of(bad, True)
    with pytest.raises(ValueError, match="none of the 2 scored architectures has a path"):
        stats_of(table(CUT, [1, 2], [10, 10]), True)


def test_the_stats_command_takes_the_option(tmp_path):
    df = table([*CONNECTED, *CUT], [1, 2, 3, 4, 5, 6], [60, 70, 80, 90, 10, 10])
    df.assign(score="params").to_parquet(tmp_path / "scores.parquet")
    assert cli.main(["stats", "--scores", str(tmp_path / "scores.parquet"), "--out",
                     str(tmp_path / "stats"), "--bootstrap", "0", "--best-of-n", "2",
                     "--rank-combination", "--require-path"]) == 0
    _, summary = analysis.read_stats(tmp_path / "stats")
    assert summary["require_path"]["dropped"] == {"cifar10": 2}
    assert summary["n_archs"] == {"cifar10": 4}
