"""A new proxy is one module: the registry discovers it, the engine scores it, fused and
standalone agree, and it shares the cross-entropy pass with the built-in gradient scores."""

from __future__ import annotations

import re
import sys

import pytest
import torch
from conftest import IMAGES, REPO_ROOT

import zeroshot_nas.proxies as proxies_pkg
from zeroshot_nas.data.images import draw_batch
from zeroshot_nas.proxies import Protocol, registry, score_architecture

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"


def documented_example() -> str:
    """The example module printed in docs/proxies.md, verbatim."""
    text = (REPO_ROOT / "docs" / "proxies.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n# src/zeroshot_nas/proxies/my_proxy.py\n(.*?)```", text, re.S)
    assert match, "docs/proxies.md lost its 'Adding your own proxy' example"
    return match.group(1)


@pytest.fixture()
def extra_module(tmp_path, monkeypatch):
    """Put the documented module in an extra folder of the proxies package's search path."""
    (tmp_path / "my_proxy.py").write_text(documented_example(), encoding="utf-8")
    monkeypatch.setattr(proxies_pkg, "__path__", [*proxies_pkg.__path__, str(tmp_path)])
    yield
    registry.REGISTRY.pop("grad_l1", None)
    sys.modules.pop("zeroshot_nas.proxies.my_proxy", None)


def test_documented_proxy_module_is_discovered_and_scored(extra_module):
    if not (IMAGES / "cifar10.npz").exists():
        pytest.skip("real image samples not found")
    specs = registry.discover()
    assert "grad_l1" in specs and specs["grad_l1"].needs_labels
    x, y = draw_batch(IMAGES / "cifar10.npz", "cifar10", 16, seed=0)
    batch = (torch.from_numpy(x), torch.from_numpy(y))
    protocol = Protocol(batch_size=16, seed=0)
    fused = {r.score: r for r in score_architecture(
        "nb201", ARCH, "cifar10", batch, ["grad_l1", "grad_norm", "snip"], protocol)}
    alone = {r.score: r for r in score_architecture(
        "nb201", ARCH, "cifar10", batch, ["grad_l1"], protocol, mode="standalone")}
    assert fused["grad_l1"].status == "ok" and fused["grad_l1"].value > 0
    assert fused["grad_l1"].value == pytest.approx(alone["grad_l1"].value, rel=2e-3)
    # It really is the gradient the built-in scores use: Σ|g| ≥ ‖g‖₂ layer by layer.
    assert fused["grad_l1"].value >= fused["grad_norm"].value
