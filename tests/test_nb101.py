"""NAS-Bench-101 cells (spaces.nb101), the paper's network and the two pinned tables.

Real data: MLFE's 2,000 rows and NASLib's 500 keys from the shared mirror; the reference
fixture holds nasbench's own graph hash of every one of them
(tests/fixtures/reference/nb101_graph_hash.json, made by nasbench's ModelSpec).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import MIRROR, REPO_ROOT

from zeroshot_nas import spaces
from zeroshot_nas.data import nb101 as tables
from zeroshot_nas.data.benchmark import BenchmarkError
from zeroshot_nas.data.sources import DownloadError, load_registry
from zeroshot_nas.spaces import ArchError, nb101

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "reference" / "nb101_graph_hash.json"
C3, C1, MP = nb101.OPS
# input -> conv3x3 -> output, plus a dangling maxpool (no path to the output)
DANGLING = ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]],
            ["input", C3, MP, "output"])


@pytest.fixture(scope="module")
def registry():
    return load_registry(REPO_ROOT / "data" / "sources.yaml")


@pytest.fixture(scope="module")
def paths(shared_data, registry) -> dict[str, Path]:
    keys = [*tables.MLFE_KEYS.values(), tables.NASLIB_KEY]
    return {k: MIRROR / registry[k].relpath for k in keys}


@pytest.fixture(scope="module")
def mlfe_rows(paths, registry):
    return tables.read_mlfe(paths, registry)


@pytest.fixture(scope="module")
def raw_mlfe(paths):
    return (np.load(paths[tables.MLFE_KEYS["matrix"]], allow_pickle=False),
            np.load(paths[tables.MLFE_KEYS["ops"]], allow_pickle=False))


# ----------------------------------------------------------------------- cells, hashes
def test_pruning_drops_vertices_off_every_input_output_path() -> None:
    cell = nb101.cell_from_spec(*DANGLING)
    assert cell.ops == ("input", C3, "output")
    assert cell.matrix == ((0, 1, 0), (0, 0, 1), (0, 0, 0))
    assert nb101.arch_from_spec(*DANGLING) == "010,001,000|input,conv3x3-bn-relu,output"


@pytest.mark.parametrize(("matrix", "ops", "why"), [
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"], "not connected"),
    ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
    ([[0, 1], [0, 0]], ["input", "conv5x5"], "first vertex must be 'input' and the last"),
    ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5", "output"], "unknown operation"),
    ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
    ([[0, 1, 1], [0, 0, 1]], ["input", C3, "output"], "square"),
])
def test_malformed_specs_are_refused_with_the_reason(matrix, ops, why) -> None:
    with pytest.raises(ArchError, match=why):
        nb101.cell_from_spec(matrix, ops)


def test_the_benchmark_limits_apply_after_pruning() -> None:
    # 8 vertices on a chain: too many; 7 vertices, every edge i < j: 21 edges, too many
    chain = [[int(j == i + 1) for j in range(8)] for i in range(8)]
    with pytest.raises(ArchError, match="8 vertices after pruning"):
        nb101.cell_from_spec(chain, ["input", *[C3] * 6, "output"])
    full = [[int(j > i) for j in range(7)] for i in range(7)]
    with pytest.raises(ArchError, match="21 edges after pruning"):
        nb101.cell_from_spec(full, ["input", *[C1] * 5, "output"])
    # the same 8 vertices with one of them dangling prune to 7: valid
    chain[6][7], chain[5][7] = 0, 1
    assert nb101.cell_from_spec(chain, ["input", *[C3] * 6, "output"]).num_vertices == 7


def test_graph_hash_is_nasbench_s_for_every_pinned_cell(mlfe_rows, paths, registry) -> None:
    reference = json.loads(FIXTURE.read_text())
    assert reference["commit"] == "b94247037ee470418a3e56dcb83814e9be83f3a8"
    assert mlfe_rows["graph_hash"].tolist() == reference["mlfe_hashes"]
    naslib = tables.read_naslib(paths[tables.NASLIB_KEY], registry)
    assert naslib["graph_hash"].tolist() == reference["naslib_hashes"]


def test_isomorphic_specs_share_one_canonical_string_and_id() -> None:
    # a 5-vertex cell with two parallel branches; every topological order of its vertices
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    ops = ["input", C1, MP, C3, "output"]
    cell = nb101.cell_from_spec(matrix, ops)
    seen = set()
    for inner in itertools.permutations(range(1, 4)):
        pos = (0, *inner, 4)
        if any(pos[x] >= pos[y] for x, y in cell.edges()):
            continue
        m = [[0] * 5 for _ in range(5)]
        for x, y in cell.edges():
            m[pos[x]][pos[y]] = 1
        o = [""] * 5
        for v, op in enumerate(ops):
            o[pos[v]] = op
        seen.add((nb101.arch_from_spec(m, o), nb101.graph_hash(nb101.cell_from_spec(m, o))))
    assert len(seen) == 1
    canonical = nb101.parse_cell(next(iter(seen))[0])
    # generate_graphs.py's first member: the smallest edge bit mask, then labelling
    assert canonical.bits == min(
        nb101.cell_from_spec(*_permuted(cell, p)).bits for p in _orders(cell))


def _orders(cell):
    n = cell.num_vertices
    for inner in itertools.permutations(range(1, n - 1)):
        pos = (0, *inner, n - 1)
        if all(pos[x] < pos[y] for x, y in cell.edges()):
            yield pos


def _permuted(cell, pos):
    n = cell.num_vertices
    m = [[0] * n for _ in range(n)]
    for x, y in cell.edges():
        m[pos[x]][pos[y]] = 1
    o = [""] * n
    for v, op in enumerate(cell.ops):
        o[pos[v]] = op
    return m, o


def test_arch_ids_round_trip_for_every_shipped_cell() -> None:
    for table in ("mlfe", "naslib"):
        archs = nb101.table_archs(table)
        assert len(archs) == nb101.TABLE_SIZES[table] == len(set(archs))
        for arch in archs:
            ident = spaces.arch_id("nb101", arch)
            assert spaces.arch_from_id("nb101", ident) == arch
            assert spaces.parse_arch("nb101", arch) == arch
    assert spaces.all_archs("nb101") == nb101.table_archs("mlfe")


@pytest.mark.parametrize("bad", ["7-zz-33333", "3-7", "3-7-mm", "3-3-m", "9-1-3333333"])
def test_bad_arch_ids_are_refused(bad) -> None:
    with pytest.raises(ArchError, match="invalid NB101 arch id"):
        spaces.arch_from_id("nb101", bad)


def test_bad_arch_strings_name_the_problem() -> None:
    with pytest.raises(ArchError, match="expected a string"):
        spaces.parse_arch("nb101", 3)  # type: ignore[arg-type]
    with pytest.raises(ArchError, match="one '|'"):
        spaces.parse_arch("nb101", "011,001,000")
    with pytest.raises(ArchError, match="0/1 digits"):
        spaces.parse_arch("nb101", "012,001,000|input,maxpool3x3,output")


def test_other_data_sets_are_refused_by_name() -> None:
    arch = spaces.all_archs("nb101")[0]
    for dataset in ("cifar100", "ImageNet16-120"):
        with pytest.raises(ValueError, match=f"data set '{dataset}' is not defined for the "
                                             "nb101 space"):
            spaces.build_network("nb101", arch, dataset)
        with pytest.raises(ValueError, match="not defined for the nb101 space"):
            spaces.params_m("nb101", arch, dataset)
    assert spaces.space_datasets("nb101") == ("cifar10",)
    assert spaces.space_datasets("nb201") == tuple(spaces.DATASETS)


# ------------------------------------------------------------------ parameter counts
def test_analytic_params_equal_the_recorded_ones_for_all_2000(mlfe_rows) -> None:
    ours = [nb101.cost(a, 10, 32)[0] for a in mlfe_rows["arch"]]
    np.testing.assert_array_equal(ours, mlfe_rows["trainable_parameters"].to_numpy(np.int64))


def test_the_trained_vertex_order_is_needed_for_the_recorded_counts(mlfe_rows, raw_mlfe) -> None:
    """Built in MLFE's own vertex order, some networks differ from the benchmark's (the
    remainder of the output split goes to other vertices): the canonical order is the one
    NAS-Bench-101 trained."""
    matrices, ops = raw_mlfe
    own_order = [nb101.cell_to_arch(nb101.cell_from_spec(m.tolist(), o.tolist()))
                 for m, o in zip(matrices, ops, strict=True)]
    counts = np.array([_cost_in_given_order(a) for a in own_order])
    recorded = mlfe_rows["trainable_parameters"].to_numpy(np.int64)
    assert (counts != recorded).sum() == 98


def _cost_in_given_order(arch: str) -> int:
    matrix, ops = nb101._parse_string(arch)
    cell = nb101.Cell(tuple(map(tuple, matrix)), tuple(ops))
    params, side, c_prev = nb101._conv_bn_cost(3, 128, 3, 1)[0], 32, 128
    for c_out in nb101.stack_channels():
        params += nb101.cell_cost(cell, c_prev, c_out, side * side)[0]
        c_prev = c_out
    return params + c_prev * 10 + 10


@pytest.mark.slow  # builds 846 networks (about 0.2 s each on the meta device)
def test_built_networks_have_the_recorded_parameter_counts(mlfe_rows) -> None:
    recorded = mlfe_rows.groupby("arch")["trainable_parameters"].first()
    for arch, count in recorded.items():
        with torch.device("meta"):
            net = spaces.build_network("nb101", arch, "cifar10")
        assert sum(p.numel() for p in net.parameters()) == int(count), arch


def test_network_shapes_flops_and_module_order() -> None:
    archs = spaces.all_archs("nb101")
    smallest = min(archs, key=lambda a: nb101.parse_cell(a).num_vertices)
    for arch in (archs[0], smallest):
        net = spaces.build_network("nb101", arch, "cifar10")
        assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
        assert spaces.count_flops_m(net, "cifar10") == pytest.approx(
            spaces.flops_m("nb101", arch, "cifar10"), abs=1e-9)
        assert spaces.count_params_m(net) == spaces.params_m("nb101", arch, "cifar10")
    # convolutions are registered in the order they run (hooks pair outputs with modules)
    net = spaces.build_network("nb101", archs[0], "cifar10")
    registered = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    called: list[torch.nn.Module] = []
    hooks = [m.register_forward_hook(lambda m, i, o: called.append(m)) for m in registered]
    net(torch.randn(2, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert called == registered


def test_vertex_channels_split_the_output_and_follow_the_widest_successor() -> None:
    # input -> a -> b -> output, input -> c -> output, a -> output: output fed by a, b, c
    cell = nb101.cell_from_spec(
        [[0, 1, 0, 1, 0], [0, 0, 1, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0] * 5],
        ["input", C3, C1, MP, "output"])
    assert nb101.vertex_channels(128, 256, cell) == [128, 86, 85, 85, 256]


# -------------------------------------------------------------------------- tables
def test_mlfe_columns_are_nasbench_query_fields(mlfe_rows, paths, registry) -> None:
    """keep_indi_all holds query()'s fields: parameters, training time, train, validation and
    test accuracy of one random run; NASLib's val_accuracy of a cell is always one of the
    validation accuracies MLFE holds for it where MLFE holds all three runs."""
    runs = {a: set(np.round(g["validation_accuracy"] * 100, 4))
            for a, g in mlfe_rows.groupby("arch")}
    naslib = tables.read_naslib(paths[tables.NASLIB_KEY], registry)
    three = [(a, v) for a, v in zip(naslib["arch"], naslib["val_accuracy"], strict=True)
             if len(runs.get(a, ())) == 3]
    assert len(three) == 220
    assert all(round(v, 4) in runs[a] for a, v in three)
    assert mlfe_rows["train_accuracy"].between(0.83, 1.0).all()
    assert mlfe_rows.attrs == {"distinct_raw_specs": 1835, "distinct_pruned_specs": 878}


def test_mlfe_table_one_row_per_cell_with_distinct_run_means(paths, registry, mlfe_rows) -> None:
    table = tables.build_nb101_table("mlfe", paths, registry)
    assert len(table) == 846 and table["arch"].tolist() == spaces.all_archs("nb101")
    assert table["n_rows"].sum() == 2000 and set(table["n_runs"]) == {1, 2, 3}
    assert table["test_acc_12"].isna().all() and table["valid_acc_12"].isna().all()
    # a cell drawn 59 times holds its three runs; its accuracy is their mean
    row = table.loc[table["n_rows"].idxmax()]
    runs = mlfe_rows[mlfe_rows["arch"] == row["arch"]].drop_duplicates(
        list(tables.INDI_COLUMNS[1:]))
    assert row["n_runs"] == len(runs) == 3
    assert row["test_acc"] == pytest.approx(100 * runs["test_accuracy"].mean(), rel=1e-12)
    assert row["train_seconds_per_epoch"] == pytest.approx(runs["training_time"].mean() / 108)
    assert table.attrs["provenance"]["distinct_pruned_specs"] == 878


def test_naslib_table_has_validation_accuracy_and_naslib_s_scores(paths, registry) -> None:
    table = tables.build_nb101_table("naslib", paths, registry)
    assert len(table) == 292 and table["n_rows"].sum() == 500
    assert table["test_acc"].isna().all() and table["valid_acc"].between(10, 100).all()
    assert {f"naslib_{s}" for s in tables.NASLIB_SCORES.values()} <= set(table.columns)
    # NASLib counted the network of its own vertex order; ours is the trained one
    differ = (table["naslib_params"] - table["params_m"]).abs() > 1e-6
    assert 0 < differ.sum() < 30


def test_a_tampered_table_source_is_refused(tmp_path, paths, registry) -> None:
    bad = dict(paths)
    copy = tmp_path / "keep_indi_all.npy"
    copy.write_bytes(paths[tables.MLFE_KEYS["indi"]].read_bytes()[:-8] + b"\0" * 8)
    bad[tables.MLFE_KEYS["indi"]] = copy
    with pytest.raises(DownloadError, match="sha256 mismatch for mlfe-nb101-indicators"):
        tables.read_mlfe(bad, registry)
    with pytest.raises(ValueError, match="unknown NB101 table"):
        tables.build_nb101_table("nb102", paths, registry)
    with pytest.raises(BenchmarkError, match="differ from spaces/nb101_archs.txt"):
        tables._check_list(spaces.all_archs("nb101")[1:], "mlfe")
