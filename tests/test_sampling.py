"""Architecture samples: the uniform one and the rank-based authors' sampler (issue 21's NI
gap: their Table 1 script scored architectures drawn this way, not uniformly)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO_ROOT, tiny_config

from zeroshot_nas.config import ConfigError, validate_config
from zeroshot_nas.spaces import nb201
from zeroshot_nas.spaces.sampling import (
    _rank_based_codes,
    rank_based_probability,
    rank_based_reachable,
    rank_based_sample,
    sample_architectures,
)

SCHEMA = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"


def test_rank_based_probabilities_sum_to_one_over_the_cells_with_a_path():
    archs = nb201.all_archs()
    probs = np.array([rank_based_probability(a) for a in archs])
    assert probs.sum() == pytest.approx(1.0, abs=1e-12)
    # its four paths are all the input-to-output paths of the cell, so it draws exactly the
    # cells that have one: 15,625 - 341 cut-off cells
    assert [p > 0 for p in probs] == [nb201.has_path(a) for a in archs]
    assert int((probs > 0).sum()) == 15_284 == rank_based_reachable()


def test_rank_based_probability_hand_computed():
    # only the direct edge 3<-0 is a path of non-'none' ops: 1/4 (that path) * 1/4 (its op)
    # * (1/5)^5 (the five other edges, each any of the five ops)
    only_direct = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    assert rank_based_probability(only_direct) == pytest.approx(1 / 50_000, rel=1e-12)
    # no 'none' at all: every path qualifies
    full = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|skip_connect~1|" \
           "nor_conv_3x3~2|"
    expected = 0.25 * (1 / 16 * 0.2**4 + 1 / 4 * 0.2**5 + 1 / 64 * 0.2**3 + 1 / 16 * 0.2**4)
    assert rank_based_probability(full) == pytest.approx(expected, rel=1e-12)


def test_rank_based_codes_follow_the_exact_distribution():
    # the number of 'none' edges per drawn cell, from 200,000 codes, against the exact law
    codes = _rank_based_codes(np.random.default_rng(0), 200_000)
    drawn = np.bincount((codes == 0).sum(axis=1), minlength=7) / len(codes)
    exact = np.zeros(7)
    for arch in nb201.all_archs():
        exact[nb201.parse_ops(arch).count("none")] += rank_based_probability(arch)
    assert exact[0] == pytest.approx(0.41472, abs=1e-12)  # 26.2% uniformly: 0.8**6
    assert np.abs(drawn - exact).max() < 0.005


def test_rank_based_sample_is_seeded_distinct_and_never_cut_off():
    sample = sample_architectures("nb201", 300, 3, sampler="rank-based-authors")
    assert sample == rank_based_sample(300, 3) != rank_based_sample(300, 4)
    assert len(set(sample)) == 300 and all(nb201.has_path(a) for a in sample)
    assert sample != sample_architectures("nb201", 300, 3)
    with pytest.raises(ValueError, match="15284"):
        rank_based_sample(15_285, 0)
    with pytest.raises(ValueError, match="unknown sampler"):
        sample_architectures("nb201", 3, 0, sampler="sobol")


def _tiny(**experiment) -> dict:
    config = tiny_config()
    config["experiments"]["tiny"].update(experiment)
    return config


@pytest.mark.parametrize("experiment", [
    {"space": "nats_sss", "proxies": ["naswot"]},
    {"n_archs": "all"},
])
def test_rank_based_sampler_is_refused_outside_an_nb201_sample(experiment):
    with pytest.raises(ConfigError, match=r"'experiments\.tiny\.sampler'"):
        validate_config(_tiny(sampler="rank-based-authors", **experiment), SCHEMA)


def test_a_sample_larger_than_the_sampler_can_draw_is_refused_at_validation():
    with pytest.raises(ConfigError, match=r"'experiments\.tiny\.n_archs'.*can draw 15,284"):
        validate_config(_tiny(sampler="rank-based-authors", n_archs=15_285), SCHEMA)


def test_sampler_changes_the_sample_settings_only_when_not_uniform():
    from zeroshot_nas.pipeline.plan import Plan

    uniform = Plan(validate_config(_tiny(), SCHEMA), REPO_ROOT).experiments["tiny"]
    rb = Plan(validate_config(_tiny(sampler="rank-based-authors"), SCHEMA),
              REPO_ROOT).experiments["tiny"]
    # the runs made before the option keep their sample settings and fingerprint
    assert "sampler" not in uniform.sample
    assert rb.sample["sampler"] == "rank-based-authors"
    assert rb.fingerprint != uniform.fingerprint
