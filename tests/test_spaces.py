"""Search spaces: arch strings, networks, and counts checked against the official NATS numbers."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import MIRROR
from torch import nn

from zeroshot_nas import spaces
from zeroshot_nas.spaces import ArchError, nats_sss, nb201
from zeroshot_nas.spaces import cells as modules

REPO_ROOT = Path(__file__).resolve().parents[1]
NATS_CSV = MIRROR / (
    "v-tao/nats-bench-landscape/b307ae5fe6e8d7043cd4fe7d1c3532288271adb7/nats_bench.csv"
)
FREEREA = MIRROR / "NiccoloCavagnero/FreeREA/9c2a726cd3adf526c43ae52a515a8fc5ea927fe7"
DATASET_NAMES = ["cifar10", "cifar100", "ImageNet16-120"]
BEST_CIFAR10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
# Official ranges from ../shared/data/README.md (M FLOPs per image).
OFFICIAL_FLOPS_RANGE = {
    "cifar10": (7.78305, 220.11969),
    "cifar100": (7.78890, 220.12554),
    "ImageNet16-120": (1.95340, 55.03756),
}
# NATS-SSS parameter counts on CIFAR-10 from the same README (M).
OFFICIAL_SSS_PARAMS = {"8:8:8:8:8": 0.011714, "8:8:16:40:40": 0.107826, "64:64:64:64:64": 0.713674}


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"real benchmark data missing: {path} (expected the shared data mirror)")
    return path


@pytest.fixture(scope="module")
def nats_archs() -> list[str]:
    """Arch strings in NATS topology index order."""
    return pd.read_csv(_need(NATS_CSV))["ArchitectureString"].tolist()


@pytest.fixture(scope="module")
def official_params() -> dict[str, np.ndarray]:
    """Official parameter counts in millions, by NATS index."""
    out = {}
    for dataset in DATASET_NAMES:
        table = pd.read_csv(_need(FREEREA / "cached_metrics/nats" / dataset / "params.csv"))
        assert table["index"].tolist() == list(range(nb201.NUM_ARCHS))
        values = table["params"].to_numpy(dtype=np.float64)
        # FreeREA stores ImageNet16-120 as raw counts and CIFAR in millions.
        out[dataset] = values / 1e6 if dataset == "ImageNet16-120" else values
    return out


def _sample(items: list[str], k: int, seed: int) -> list[str]:
    return random.Random(seed).sample(items, k)


# ------------------------------------------------------------------------ NB201 strings


def test_all_archs_nb201_product_order_and_round_trip() -> None:
    archs = spaces.all_archs("nb201")
    assert len(archs) == len(set(archs)) == 15_625
    ids = [spaces.arch_id("nb201", a) for a in archs]
    assert ids == ["".join(d) for d in itertools.product("01234", repeat=6)]
    assert archs[0] == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    assert archs[-1] == (
        "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+"
        "|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|"
    )
    for a, i in zip(archs, ids, strict=True):
        assert spaces.parse_arch("nb201", a) == a
        assert spaces.arch_from_id("nb201", i) == a


def test_official_arch_strings_are_the_space(nats_archs: list[str]) -> None:
    assert len(nats_archs) == 15_625
    assert [spaces.parse_arch("nb201", a) for a in nats_archs] == nats_archs
    assert set(nats_archs) == set(spaces.all_archs("nb201"))


def test_arch_id_known_example() -> None:
    assert spaces.arch_id("nb201", BEST_CIFAR10) == "333133"
    assert spaces.arch_from_id("nb201", "333133") == BEST_CIFAR10
    # Surrounding whitespace is tolerated and dropped.
    assert spaces.parse_arch("nb201", f"  {BEST_CIFAR10}\n") == BEST_CIFAR10


@pytest.mark.parametrize(
    ("arch", "reason"),
    [
        ("", "expected 3 node groups"),
        ("|none~0|+|none~0|none~1|", "expected 3 node groups"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|", "found 4"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2", "must start and end with '|'"),
        ("|none~0|+|none~0|+|none~0|none~1|none~2|", "node 2 must have 2 incoming edges"),
        ("|none~0|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "node 1 must have 1"),
        ("|none|+|none~0|none~1|+|none~0|none~1|none~2|", "not of the form 'op~input'"),
        ("|none~0~1|+|none~0|none~1|+|none~0|none~1|none~2|", "not of the form 'op~input'"),
        ("|conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv_3x3'"),
        ("|none~0|+|none~0|max_pool_3x3~1|+|none~0|none~1|none~2|", "unknown operation"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "must come from node 0"),
        ("|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", "found '~1'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~x|", "found '~x'"),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~02|", "found '~02'"),
        ("|None~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'None'"),
        ("|none~0| + |none~0|none~1|+|none~0|none~1|none~2|", "must start and end with '|'"),
    ],
)
def test_nb201_parse_errors_quote_string_and_reason(arch: str, reason: str) -> None:
    with pytest.raises(ArchError) as info:
        spaces.parse_arch("nb201", arch)
    message = str(info.value)
    assert repr(arch) in message
    assert reason in message
    assert isinstance(info.value, ValueError)
    with pytest.raises(ArchError):
        spaces.build_network("nb201", arch, "cifar10")
    with pytest.raises(ArchError):
        spaces.params_m("nb201", arch, "cifar10")


@pytest.mark.parametrize("bad", ["33313", "3331333", "333135", "33313a", "", 333133])
def test_nb201_bad_ids(bad: object) -> None:
    with pytest.raises(ArchError, match="invalid NB201 arch id"):
        spaces.arch_from_id("nb201", bad)  # type: ignore[arg-type]


def test_non_string_arch_is_an_arch_error() -> None:
    with pytest.raises(ArchError, match="expected a string, got tuple"):
        spaces.parse_arch("nb201", ("none",) * 6)  # type: ignore[arg-type]
    with pytest.raises(ArchError, match="expected a string"):
        spaces.parse_arch("nats_sss", [8, 8, 8, 8, 8])  # type: ignore[arg-type]


def test_unknown_space_and_dataset_are_named() -> None:
    with pytest.raises(ValueError, match="unknown search space 'nb301'"):
        spaces.all_archs("nb301")
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        spaces.build_network("nb201", BEST_CIFAR10, "imagenet")
    with pytest.raises(ValueError, match="unknown dataset 'cifar-10'"):
        spaces.flops_m("nb201", BEST_CIFAR10, "cifar-10")


def test_datasets() -> None:
    assert spaces.DATASETS == {
        "cifar10": spaces.DatasetSpec(10, 32, "CIFAR-10"),
        "cifar100": spaces.DatasetSpec(100, 32, "CIFAR-100"),
        "ImageNet16-120": spaces.DatasetSpec(120, 16, "ImageNet16-120"),
    }


# ------------------------------------------------------------------------- SSS strings


def test_all_archs_sss_product_order_and_round_trip() -> None:
    archs = spaces.all_archs("nats_sss")
    assert len(archs) == len(set(archs)) == 32_768
    assert archs[:2] == ["8:8:8:8:8", "8:8:8:8:16"]
    assert archs[-1] == "64:64:64:64:64"
    for a in archs:
        ident = spaces.arch_id("nats_sss", a)
        assert ident == a.replace(":", "-")
        assert spaces.arch_from_id("nats_sss", ident) == a
        assert spaces.parse_arch("nats_sss", a) == a


@pytest.mark.parametrize(
    ("arch", "reason"),
    [
        ("8:16:32:48", "expected 5 channel counts"),
        ("8:16:32:48:64:64", "found 6"),
        ("8-16-32-48-64", "found 1"),
        ("8:16:32:48:72", "channel count '72' is not one of"),
        ("8:16:32:48:12", "channel count '12'"),
        ("8:16:32:48:", "channel count ''"),
        ("8:16:32:48:-8", "channel count '-8'"),
        ("8:16:32:48:6.4e1", "channel count '6.4e1'"),
    ],
)
def test_sss_parse_errors(arch: str, reason: str) -> None:
    with pytest.raises(ArchError) as info:
        spaces.parse_arch("nats_sss", arch)
    assert repr(arch) in str(info.value)
    assert reason in str(info.value)


def test_sss_bad_id() -> None:
    with pytest.raises(ArchError, match=r"invalid NATS-SSS arch id '8:16:32:48:64'"):
        spaces.arch_from_id("nats_sss", "8:16:32:48:64")


def test_sss_genotype_is_nats_index_9930(nats_archs: list[str]) -> None:
    # NATS-SSS fixes every cell to the topology with NATS index 9930.
    assert nats_archs[9930] == nats_sss.GENOTYPE


# ------------------------------------------------------------------ counts vs official


@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_analytic_params_equal_official_for_all_archs(
    dataset: str, nats_archs: list[str], official_params: dict[str, np.ndarray]
) -> None:
    ours = np.array([spaces.params_m("nb201", a, dataset) for a in nats_archs])
    official = official_params[dataset]
    # Official CIFAR values are rounded to 6 decimals; ImageNet16-120 ones are exact counts.
    assert np.abs(ours - official).max() <= 1e-6
    if dataset == "ImageNet16-120":
        assert np.array_equal(np.rint(ours * 1e6), np.rint(official * 1e6))


@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_flops_range_equals_official(dataset: str) -> None:
    archs = spaces.all_archs("nb201")
    flops = np.array([spaces.flops_m("nb201", a, dataset) for a in archs])
    lo, hi = OFFICIAL_FLOPS_RANGE[dataset]
    assert flops.min() == pytest.approx(lo, abs=1e-5)
    assert flops.max() == pytest.approx(hi, abs=1e-5)
    # The maximum is the all-3x3 cell alone; the minimum is every cell without convolutions.
    assert [archs[i] for i in np.flatnonzero(flops == flops.max())] == [
        spaces.arch_from_id("nb201", "333333")
    ]
    conv_free = {a for a in archs if "conv" not in a}
    assert {archs[i] for i in np.flatnonzero(flops == flops.min())} == conv_free
    assert len(conv_free) == 3**6


@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_built_networks_match_analytic_and_official(
    dataset: str, nats_archs: list[str], official_params: dict[str, np.ndarray]
) -> None:
    torch.manual_seed(0)
    for index in sorted(random.Random(201).sample(range(len(nats_archs)), 100)):
        arch = nats_archs[index]
        net = spaces.build_network("nb201", arch, dataset)
        params = spaces.count_params_m(net)
        assert params == spaces.params_m("nb201", arch, dataset)
        assert abs(params - official_params[dataset][index]) <= 1e-6
        assert spaces.count_flops_m(net, dataset) == spaces.flops_m("nb201", arch, dataset)


def test_extreme_archs_built_flops_equal_official_range() -> None:
    for dataset, (lo, hi) in OFFICIAL_FLOPS_RANGE.items():
        for ident, expected in (("000000", lo), ("333333", hi), ("141041", lo)):
            net = spaces.build_network("nb201", spaces.arch_from_id("nb201", ident), dataset)
            assert spaces.count_flops_m(net, dataset) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("arch", sorted(OFFICIAL_SSS_PARAMS))
def test_sss_params_equal_official(arch: str) -> None:
    expected = OFFICIAL_SSS_PARAMS[arch]
    assert spaces.params_m("nats_sss", arch, "cifar10") == pytest.approx(expected, abs=5e-7)
    net = spaces.build_network("nats_sss", arch, "cifar10")
    assert spaces.count_params_m(net) == spaces.params_m("nats_sss", arch, "cifar10")


@pytest.mark.parametrize("dataset", DATASET_NAMES)
def test_sss_built_networks_match_analytic(dataset: str) -> None:
    torch.manual_seed(0)
    archs = _sample(spaces.all_archs("nats_sss"), 25, seed=32) + ["8:64:8:64:8", "64:8:64:8:64"]
    for arch in archs:
        net = spaces.build_network("nats_sss", arch, dataset)
        assert spaces.count_params_m(net) == spaces.params_m("nats_sss", arch, dataset)
        assert spaces.count_flops_m(net, dataset) == spaces.flops_m("nats_sss", arch, dataset)


def test_meta_device_build_counts_like_cpu() -> None:
    arch = spaces.arch_from_id("nb201", "301243")
    with torch.device("meta"):
        net = spaces.build_network("nb201", arch, "cifar100")
    assert next(net.parameters()).is_meta
    assert spaces.count_params_m(net) == spaces.params_m("nb201", arch, "cifar100")
    assert spaces.count_flops_m(net, "cifar100") == spaces.flops_m("nb201", arch, "cifar100")


# -------------------------------------------------------------------------- networks


FORWARD_CASES = [
    ("nb201", BEST_CIFAR10),
    ("nb201", spaces.arch_from_id("nb201", "000000")),
    ("nb201", spaces.arch_from_id("nb201", "124124")),
    ("nb201", spaces.arch_from_id("nb201", "401230")),
    ("nats_sss", "8:16:32:48:64"),
    ("nats_sss", "64:8:40:16:24"),
]


@pytest.mark.parametrize("dataset", DATASET_NAMES)
@pytest.mark.parametrize(("space", "arch"), FORWARD_CASES)
def test_forward_shapes(space: str, arch: str, dataset: str) -> None:
    spec = spaces.DATASETS[dataset]
    torch.manual_seed(0)
    net = spaces.build_network(space, arch, dataset)
    x = torch.randn(2, 3, spec.image_size, spec.image_size)
    out = net(x)
    assert out.shape == (2, spec.num_classes)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())


def test_nb201_network_structure() -> None:
    net = spaces.build_network("nb201", BEST_CIFAR10, "cifar10")
    cells = [m for m in net.cells if isinstance(m, modules.InferCell)]
    blocks = [m for m in net.cells if isinstance(m, modules.ResNetBasicBlock)]
    assert len(cells) == 15 and len(blocks) == 2
    assert [c.out_dim for c in cells] == [16] * 5 + [32] * 5 + [64] * 5
    assert [(b.in_dim, b.out_dim) for b in blocks] == [(16, 32), (32, 64)]
    assert net.classifier.in_features == 64 and net.classifier.out_features == 10
    # Stage outputs: 16×32×32 -> 32×16×16 -> 64×8×8.
    shapes = []
    for block in blocks:
        block.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
    net(torch.zeros(1, 3, 32, 32))
    assert shapes == [(32, 16, 16), (64, 8, 8)]


ALLOWED_LEAVES = (
    nn.ReLU,
    nn.Conv2d,
    nn.BatchNorm2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.Linear,
    nn.Identity,
    modules.Zero,
)


@pytest.mark.parametrize(
    ("space", "arch"),
    [("nb201", spaces.arch_from_id("nb201", "012341")), ("nats_sss", "8:16:8:48:32")],
)
def test_networks_use_plain_modules(space: str, arch: str) -> None:
    net = spaces.build_network(space, arch, "cifar10")
    leaves = [m for m in net.modules() if not list(m.children())]
    assert all(isinstance(m, ALLOWED_LEAVES) for m in leaves), {type(m) for m in leaves}
    assert all(not m.inplace for m in leaves if isinstance(m, nn.ReLU))
    assert all(m.bias is None for m in leaves if isinstance(m, nn.Conv2d))
    bns = [m for m in leaves if isinstance(m, nn.BatchNorm2d)]
    assert all(m.affine and m.track_running_stats for m in bns)
    assert all(m.momentum == 0.1 and m.eps == 1e-5 for m in bns)
    pools = [m for m in leaves if isinstance(m, nn.AvgPool2d) and m.kernel_size == 3]
    assert all(not m.count_include_pad and m.stride == 1 and m.padding == 1 for m in pools)


def test_cell_edges_follow_the_arch_string() -> None:
    cell = modules.InferCell(nb201.parse_ops(spaces.arch_from_id("nb201", "012341")), 16, 16)
    kinds = [type(m) for m in cell.layers]
    assert kinds == [
        modules.Zero,
        nn.Identity,
        modules.ReLUConvBN,
        modules.ReLUConvBN,
        modules.AvgPool3x3,
        nn.Identity,
    ]
    assert isinstance(cell.layers[4], nn.AvgPool2d)
    assert cell.layers[2].op[1].kernel_size == (1, 1)
    assert cell.layers[3].op[1].kernel_size == (3, 3)
    # node 1 = none(x) = 0; node 2 = skip(x) + conv1x1(node 1);
    # node 3 = conv3x3(x) + pool(node 1) + skip(node 2).
    cell.eval()
    x = torch.randn(2, 16, 8, 8)
    with torch.no_grad():
        node1 = torch.zeros_like(x)
        node2 = x + cell.layers[2](node1)
        expected = cell.layers[3](x) + cell.layers[4](node1) + node2
        assert torch.allclose(cell(x), expected)


def test_zero_op_shapes_and_gradient() -> None:
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    same = modules.Zero(8, 8)(x)
    assert same.shape == x.shape and not same.any()
    same.sum().backward()
    assert x.grad is not None and not x.grad.any()
    wider = modules.Zero(8, 16)(x)
    assert wider.shape == (2, 16, 5, 5) and not wider.any()


def test_sss_network_structure() -> None:
    net = spaces.build_network("nats_sss", "8:16:32:48:64", "cifar100")
    assert net.stem[0].out_channels == 8
    kinds = [type(m) for m in net.cells]
    assert kinds == [
        modules.InferCell,
        modules.ResNetBasicBlock,
        modules.InferCell,
        modules.ResNetBasicBlock,
        modules.InferCell,
    ]
    assert [(m.in_dim, m.out_dim) for m in net.cells] == [
        (8, 8),
        (8, 16),
        (16, 32),
        (32, 48),
        (48, 64),
    ]
    # A width-changing cell maps the skip edge from its input with Conv1x1+BN.
    assert isinstance(net.cells[2].layers[3], modules.Conv1x1BN)
    assert isinstance(net.cells[0].layers[3], nn.Identity)
    assert net.classifier.in_features == 64 and net.classifier.out_features == 100


def test_count_flops_leaves_network_untouched() -> None:
    net = spaces.build_network("nb201", BEST_CIFAR10, "cifar10")
    net.train()
    net.cells[3].eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    hooks_before = sum(len(m._forward_hooks) for m in net.modules())
    spaces.count_flops_m(net, "cifar10")
    assert net.training and not net.cells[3].training and net.cells[4].training
    after = net.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert sum(len(m._forward_hooks) for m in net.modules()) == hooks_before


def test_analytic_counts_are_fast() -> None:
    # The benchmark builder computes FLOPs for every (arch, dataset); that must stay cheap.
    import time

    archs = spaces.all_archs("nb201")
    nb201.network_cost.cache_clear()
    nb201.cell_cost.cache_clear()
    start = time.perf_counter()
    for dataset in DATASET_NAMES:
        for a in archs:
            nb201.cost(a, spaces.DATASETS[dataset].num_classes, spaces.DATASETS[dataset].image_size)
    assert time.perf_counter() - start < 20


def test_avg_pool_op_equals_torch_pooling_forward_and_backward() -> None:
    # The op runs its pooling channels_last on CPU (speed): values and gradients must be
    # those of nn.AvgPool2d(3, 1, 1, count_include_pad=False) on the NCHW tensor.
    reference = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    for dtype in (torch.float32, torch.float64):
        x = torch.randn(4, 8, 9, 7, dtype=dtype, generator=torch.Generator().manual_seed(0))
        a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        out_a, out_b = modules.AvgPool3x3()(a), reference(b)
        assert out_a.is_contiguous() and out_a.shape == out_b.shape
        torch.testing.assert_close(out_a, out_b, rtol=0, atol=4 * torch.finfo(dtype).eps)
        weights = torch.randn(out_a.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
        (out_a * weights).sum().backward()
        (out_b * weights).sum().backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=16 * torch.finfo(dtype).eps)


def test_avg_pool_op_sends_its_gradient_back_channels_last_and_differentiates_twice() -> None:
    # The pooling's backward runs its fast channels_last kernel only when the gradient it
    # receives is channels_last; GraSP differentiates that backward again, and the
    # forward-over-forward Hessian product runs it in nested forward mode: all must equal
    # plain NCHW pooling; so must torch.func's reverse-mode transforms (jacrev vmaps the
    # backward, where no channels_last tensor can exist).
    from torch.func import grad, jacrev, jvp

    reference = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    op = modules.AvgPool3x3()
    seeded = torch.Generator().manual_seed(2)
    x = torch.randn(3, 5, 8, 6, dtype=torch.float64, generator=seeded)
    w = torch.randn(3, 5, 8, 6, dtype=torch.float64, generator=seeded)
    v = torch.randn(3, 5, 8, 6, dtype=torch.float64, generator=seeded)
    xi = x.clone().requires_grad_(True)
    out = op(xi)
    pooling_backward = out.grad_fn.next_functions[0][0]
    assert "AvgPool2D" in pooling_backward.name()
    arriving: list[torch.Tensor] = []
    pooling_backward.register_prehook(lambda grads: arriving.append(grads[0]))
    out.backward(w)
    assert arriving[0].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(arriving[0], w)

    second = []
    for pool in (op, reference):
        xi, wi = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(pool(xi), xi, wi, create_graph=True)
        second.append(torch.autograd.grad((g * v).sum(), wi)[0])
    torch.testing.assert_close(second[0], second[1], rtol=0, atol=16 * torch.finfo(x.dtype).eps)

    def mixed(pool: nn.Module) -> torch.Tensor:
        # d/ds d/dt of Σ pool((x + s·w + t·v)²)²: nested forward mode, as GraSP's memory-bound
        # Hessian product runs the network
        def along_v(point: torch.Tensor) -> torch.Tensor:
            return jvp(lambda y: (pool(y * y) ** 2).sum(), (point,), (v,))[1]

        with torch.no_grad():
            return jvp(along_v, (x,), (w,))[1]

    torch.testing.assert_close(mixed(op), mixed(reference), rtol=1e-12, atol=0)
    torch.testing.assert_close(grad(lambda t: op(t).pow(3).sum())(x),
                               grad(lambda t: reference(t).pow(3).sum())(x), rtol=1e-12, atol=0)
    torch.testing.assert_close(jacrev(lambda t: op(t).sum((1, 2, 3)))(x),
                               jacrev(lambda t: reference(t).sum((1, 2, 3)))(x), rtol=0, atol=0)
