"""The CUDA path: every score on a GPU, CUDA = CPU in float64, fused ≈ standalone in float32.

CI has no GPU, so these tests skip there; run ``pytest tests/test_cuda.py`` on a CUDA host
(``ZEROSHOT_NAS_SHARED_DATA`` points at the real data when ``../shared/data`` is absent).
"""

from __future__ import annotations

import pytest
import torch
from test_proxies import CUT, GOOD, real_batch
from test_proxies_engine import TOL32

from zeroshot_nas.proxies import REGISTRY, Protocol, score_architecture

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
ALL = list(REGISTRY)
# The binary ReLU codes of NASWOT and the zero tests of the statuses compare against 0, so
# CPU and CUDA can disagree where a float64 pre-activation is within rounding of 0; none did
# on these archs. Everything else is the same maths with different kernels.
REL64 = 1e-7


def _scores(arch, batch, protocol, mode="fused"):
    res = score_architecture("nb201", arch, "ImageNet16-120", batch, ALL, protocol, mode=mode)
    return {r.score: r for r in res}


@pytest.mark.parametrize("arch", [GOOD, CUT])
def test_cuda_equals_cpu_in_float64(arch):
    batch = real_batch(n=16)
    cpu = _scores(arch, batch, Protocol(dtype="float64", ntk_batch_size=8))
    gpu = _scores(arch, batch, Protocol(dtype="float64", ntk_batch_size=8, device="cuda"))
    for name in ALL:
        c, g = cpu[name], gpu[name]
        assert g.status != "error", (name, g.extra)
        assert c.status == g.status, (name, c.value, g.value)
        if c.status == "ok":
            assert g.value == pytest.approx(c.value, rel=REL64, abs=1e-12), name


def test_cuda_fused_agrees_with_standalone_in_float32():
    batch = real_batch(n=32)
    proto = Protocol(ntk_batch_size=4, device="cuda")
    fused = _scores(GOOD, batch, proto)
    alone = _scores(GOOD, batch, proto, mode="standalone")
    for name in ALL:
        f, s = fused[name], alone[name]
        assert f.status == s.status == "ok", (name, f.extra, s.extra)
        assert f.value == pytest.approx(s.value, rel=TOL32.get(name, 1e-5)), name


def test_cuda_protocol_has_its_own_cache_key():
    assert Protocol(device="cuda").key() != Protocol(device="cpu").key()
    assert Protocol(device="cuda:0").key() == Protocol(device="cuda").key()


def test_cuda_scores_are_repeatable_and_leave_global_flags_alone():
    batch = real_batch(n=16)
    before = (torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic)
    proto = Protocol(device="cuda")
    first = _scores(GOOD, batch, proto)
    second = _scores(GOOD, batch, proto)
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cudnn.deterministic) == before
    differ = [n for n in ALL if first[n].value != second[n].value]
    assert not differ, {n: (first[n].value, second[n].value) for n in differ}
