"""REINFORCE and BOHB as NATS-Bench runs them (zeroshot_nas.search.algorithms.reinforce,
zeroshot_nas.search.bohb).

The NB201 benchmark is the real one built from the mirrored public files (``bench`` of
test_search). Where a test needs a learning curve (BOHB's lower fidelities), it uses a
*synthetic* size-space landscape, labelled as such: no public file has the curve for a whole
space, and the mechanics (brackets, costs, agreement with hpbandster's own master) do not
depend on the values.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from test_search import bench  # noqa: F401 - the real NB201 table, shared fixture

from zeroshot_nas.data.benchmark import curve_column
from zeroshot_nas.search import algorithms as alg
from zeroshot_nas.search import bohb as bohb_mod
from zeroshot_nas.search.evaluators import AccuracyOracle, Budget, Ledger, TrainingEvaluator
from zeroshot_nas.search.runner import SearchSettings, run_search
from zeroshot_nas.search.space import get_space
from zeroshot_nas.search.tables import build_table, compare_published, load_published, summarise

# Published NB201 rows (CIFAR-10; validation, test).
# RB Table 3: the rank-based paper as quoted in paper/published.yaml (rank_based_table3),
# 12,000 simulated seconds.
# NATS-Bench protocol: the same authors' later manuscript, OEmiliatanO/Rank-Based-NAS at
# b5244d68b81fdf0317aeb08c9762b3536819b106, paper/manuscript.tex, table "overall_201"
# (NATS-Bench-TSS), lines 733-734. Its non-weight-sharing rows are labelled 12,000 s but
# behave as NATS-Bench's own runs at NATS-Bench's CIFAR-10 budget (run-all.sh: 20,000 s): our
# REINFORCE reproduces its RL row there to 0.01 in mean and 0.02 in spread. NATS-Bench's
# paper is not available here to quote directly (docs/search.md).
NATS_PROTOCOL_SECONDS = 20000.0
MANUSCRIPT_C10 = {"REINFORCE": ((91.12, 0.25), (93.90, 0.26)),
                  "BOHB": ((91.17, 0.27), (93.94, 0.28))}


def _rb_table3_c10(method: str) -> tuple[tuple[float, float], tuple[float, float]]:
    from zeroshot_nas.search.tables import parse_cell

    (row,) = [r for r in load_published()["rank_based_table3"].rows if r["method"] == method]
    valid, test = row["cifar10"]
    return parse_cell(valid), parse_cell(test)


def _inside(runs: pd.DataFrame, published) -> list[str]:
    """The published cells our mean misses (mean +- std)."""
    misses = []
    for column, (mean, std) in zip(("valid_acc", "test_acc"), published, strict=True):
        ours = float(runs[column].mean())
        if abs(ours - mean) > std:
            misses.append(f"{column} {ours:.2f} outside {mean} +- {std}")
    return misses


def _nb201(algorithm, bench, runs, dataset="cifar10", **settings):  # noqa: F811
    return run_search(algorithm, space="nb201", dataset=dataset, runs=runs, seed=0,
                      benchmark=bench,
                      settings=SearchSettings(**{"train_seconds": 12000.0, **settings}))


# ----------------------------------------------------------------------------- REINFORCE


def test_adam_and_policy_gradient_are_torchs():
    """The numpy REINFORCE step equals torch's: autograd of −log π(a)·advantage through a
    softmax policy, then torch.optim.Adam with NATS-Bench's learning rate."""
    rng = np.random.default_rng(0)
    config = alg.ReinforceConfig()
    logits = rng.standard_normal((6, 5))
    theta = torch.tensor(logits, requires_grad=True)
    optimiser = torch.optim.Adam([theta], lr=config.learning_rate)
    adam = alg._Adam(logits.shape, config)
    for _ in range(25):
        actions = rng.integers(5, size=6)
        advantage = float(rng.normal(scale=10.0))
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        grad = -advantage * (np.eye(5)[actions] - probs)
        optimiser.zero_grad()
        log_prob = torch.log_softmax(theta, dim=1)[torch.arange(6), torch.tensor(actions)].sum()
        (-log_prob * advantage).backward()
        np.testing.assert_allclose(theta.grad.numpy(), grad, rtol=1e-12, atol=1e-12)
        optimiser.step()
        logits = adam.step(logits, grad)
        np.testing.assert_allclose(theta.detach().numpy(), logits, rtol=1e-12, atol=1e-12)


def test_reinforce_on_nb201_lands_inside_the_published_rows(bench):  # noqa: F811
    """100 runs, as the rank-based paper's searches: the mean's standard error (about
    0.03) is a tenth of the published spread, so landing inside is not luck."""
    runs = _nb201("reinforce", bench, 100)
    assert (runs["seconds"] <= 12000.0).all() and (runs["seconds"] > 11000.0).all()
    assert runs["train_evals"].between(90, 130).all()  # ~104 trainings of ~115 s each
    assert not _inside(runs, _rb_table3_c10("RL"))
    nats = _nb201("reinforce", bench, 100, train_seconds=NATS_PROTOCOL_SECONDS)
    assert not _inside(nats, MANUSCRIPT_C10["REINFORCE"])
    again = _nb201("reinforce", bench, 3)
    assert list(again["arch"]) == list(runs["arch"][:3])  # run r depends on [seed, r] only


def test_reinforce_learns_the_policy(bench):  # noqa: F811
    """Without a time budget, 1,000 trainings concentrate the policy: the last 200 draws are
    far better than the first 200 (the reward is the 12-epoch accuracy; the draws' spread
    is about 6 points, so the means' difference has a standard error of about 0.6)."""
    space = get_space("nb201")
    oracle = AccuracyOracle(bench, space, "cifar10")
    trainer = TrainingEvaluator(oracle, Ledger(Budget(train_evals=1000)))
    alg.reinforce(space, trainer, np.random.default_rng(3))
    rewards = np.array([acc for _, acc in trainer.history])
    assert len(rewards) == 1000
    assert rewards[-200:].mean() > rewards[:200].mean() + 4.0


# ----------------------------------------------------------------------------- BOHB


@pytest.mark.slow
def test_bohb_on_nb201_lands_inside_the_published_row(bench):  # noqa: F811
    """30 runs at NATS-Bench's CIFAR-10 budget (hpbandster's KDE sampling costs about 5 s
    per run here, so 100 would take many minutes): the mean's standard error (about 0.09)
    is a third of the published spread. The public NB201 files have no learning curve, so
    BOHB runs with its one fidelity, 12 epochs (docs/search.md)."""
    runs = _nb201("bohb", bench, 30, train_seconds=NATS_PROTOCOL_SECONDS)
    assert (runs["seconds"] <= NATS_PROTOCOL_SECONDS).all()
    settings = json.loads(runs["settings"].iloc[0])["config"]
    assert settings["fidelities"] == [12] and "single fidelity" in settings["note"]
    assert not _inside(runs, MANUSCRIPT_C10["BOHB"])
    # RB Table 3's BOHB row (12,000 s) lies below its own random search; ours does not.
    (rb_valid, rb_std), _ = _rb_table3_c10("BOHB")
    (rs_valid, _), _ = _rb_table3_c10("RS")
    assert rb_valid + rb_std < rs_valid < runs["valid_acc"].mean()


def synthetic_size_space() -> pd.DataFrame:
    """A SYNTHETIC size-space benchmark (not NATS-Bench's numbers): accuracy peaks at 40
    channels everywhere, the 12-epoch curve rises linearly to it, wider networks train
    slower. Used only for BOHB's mechanics."""
    space = get_space("nats_sss")
    archs = [space.arch_at(i) for i in range(space.size)]
    channels = np.array([[int(c) for c in a.split(":")] for a in archs], dtype=float)
    final = 80.0 - ((channels - 40.0) ** 2).sum(axis=1) / 100.0
    table = pd.DataFrame({"arch": archs, "dataset": "cifar10", "valid_acc": final + 3.0,
                          "test_acc": final + 2.0, "valid_acc_12": final, "test_acc_12": final,
                          "train_seconds_per_epoch": channels.sum(axis=1) / 10.0,
                          "valid_seconds_per_epoch": 1.0})
    for epoch in range(1, 13):
        table[curve_column(epoch)] = final * (0.5 + epoch / 24.0)
    return table


@pytest.fixture(scope="module")
def synthetic():
    return synthetic_size_space()


def _recording_trainer(table, budget):
    space = get_space("nats_sss")
    trainer = TrainingEvaluator(AccuracyOracle(table, space, "cifar10"), Ledger(budget))
    calls = []
    train = trainer.train

    def recorded(arch, epochs=None):
        accuracy = train(arch, epochs)  # a training the budget refused is not recorded
        calls.append((arch, epochs))
        return accuracy

    trainer.train = recorded
    return space, trainer, calls


def test_bohb_runs_hyperbands_brackets_and_pays_natss_costs(synthetic):
    space, trainer, calls = _recording_trainer(synthetic, Budget(seconds=3000.0))
    result = alg.bohb(space, trainer, np.random.default_rng(0))
    epochs = [e for _, e in calls]
    # Brackets of eta = 3 between 1 and 12 epochs: 9 x 1 -> 3 x 4 -> 1 x 12, then 3 x 4 ->
    # 1 x 12, then 3 x 12, and again.
    assert epochs[:20] == [1] * 9 + [4] * 3 + [12] + [4] * 3 + [12] + [12] * 3
    assert result.info["config"]["fidelities"] == [1, 4, 12]
    oracle = trainer.oracle
    charged = sum(e * oracle.value(a, "train_seconds_per_epoch") + 1.0 for a, e in calls)
    assert trainer.ledger.train_seconds == pytest.approx(charged) and charged <= 3000.0
    # The promoted configurations are the best of their rung (successive halving).
    def after_one_epoch(part):
        return sorted(oracle.accuracy_after(a, "valid_acc_12", 1) for a, _ in part)

    assert after_one_epoch(calls[9:12]) == after_one_epoch(calls[:9])[-3:]
    # The returned architecture is the best accuracy seen at any budget (NATS-Bench's rule).
    best = max(trainer.history, key=lambda h: h[1])[0]
    assert result.arch == best


@pytest.mark.timeout(180)
def test_driver_evaluates_what_hpbandsters_own_master_evaluates(synthetic, monkeypatch):
    """hpbandster's BOHB master, with a Pyro4 name server and one worker bound to 127.0.0.1,
    against our in-process driver: same seeds, three Hyperband iterations, the same
    architectures at the same budgets in the same order."""
    import hpbandster.core.nameserver as hpns
    from hpbandster.core.worker import Worker
    from hpbandster.optimizers import bohb as hpb_bohb

    config = bohb_mod.BOHBConfig()
    cs_seed, np_seed, run_id = 7, 11, "zeroshot-nas-test"
    space, trainer, ours = _recording_trainer(synthetic, Budget())
    brackets = bohb_mod.Brackets(bohb_mod.kde_generator(space, config, cs_seed), config.eta,
                                 config.min_budget, config.max_budget)
    bohb_mod.drive(space, trainer, brackets, np_seed, iterations=3)

    _, master_trainer, theirs = _recording_trainer(synthetic, Budget())

    class LookupWorker(Worker):
        def compute(self, config, budget, **kwargs):
            arch = bohb_mod.decode_config(space, config)
            return {"loss": float(100.0 - master_trainer.train(arch, int(budget))), "info": None}

    # BOHB's master builds hpbandster's generator; ours only converts NumPy strings to str.
    monkeypatch.setattr(hpb_bohb, "CG_BOHB", bohb_mod.plain_kde_generator_class())
    server = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = server.start()
    worker = master = None
    try:
        worker = LookupWorker(run_id=run_id, nameserver=host, nameserver_port=port,
                              host="127.0.0.1", timeout=60)
        worker.run(background=True)
        master = hpb_bohb.BOHB(
            configspace=bohb_mod.config_space(space, cs_seed), run_id=run_id, eta=config.eta,
            min_budget=config.min_budget, max_budget=config.max_budget,
            nameserver=host, nameserver_port=port, host="127.0.0.1", ping_interval=1,
            num_samples=config.num_samples, random_fraction=config.random_fraction,
            bandwidth_factor=config.bandwidth_factor, min_bandwidth=config.min_bandwidth)
        # Pyro's serializer cannot carry NumPy 2 floats (hpbandster predates NumPy 2): the
        # same budgets as Python floats. (Our driver needs no transport.)
        master.budgets = master.budgets.tolist()
        with bohb_mod.global_numpy_seed(np_seed):
            master.run(n_iterations=3, min_n_workers=1)
    finally:
        if master is not None:
            master.shutdown(shutdown_workers=True)
        server.shutdown()
    assert len(ours) == 9 + 3 + 1 + 3 + 1 + 3
    assert theirs == ours


def test_bohb_single_fidelity_where_the_benchmark_has_no_curve(bench):  # noqa: F811
    space = get_space("nb201")
    oracle = AccuracyOracle(bench, space, "cifar10")
    assert oracle.fidelities() == [12]
    assert bohb_mod.fidelity_epochs(bohb_mod.BOHBConfig(), oracle.fidelities()) == [12]
    assert list(bohb_mod.hyperband_budgets(1, 12, 3)) == pytest.approx([12 / 9, 4, 12])
    with pytest.raises(ValueError, match="no valid_acc_12 after 4 of 12 epochs"):
        oracle.accuracy_after(space.arch_at(0), "valid_acc_12", 4)
    counted = run_search("bohb", space="nb201", dataset="cifar100", runs=2, seed=0,
                         benchmark=bench, settings=SearchSettings(train_evals=40))
    assert (counted["train_evals"] == 40).all() and (counted["seconds"] == 0).all()
    again = run_search("bohb", space="nb201", dataset="cifar100", runs=2, seed=0,
                       benchmark=bench, settings=SearchSettings(train_evals=40))
    assert list(again["arch"]) == list(counted["arch"])  # seeded: the same runs again
    state = np.random.get_state()  # noqa: NPY002
    run_search("bohb", space="nb201", dataset="cifar100", runs=1, seed=1, benchmark=bench,
               settings=SearchSettings(train_evals=20))
    after = np.random.get_state()  # noqa: NPY002
    assert all(np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
               for a, b in zip(state, after, strict=True))  # the global state is restored


# ----------------------------------------------------------------------------- tables


def test_reinforce_and_bohb_sit_beside_the_published_rl_and_bohb_rows(bench):  # noqa: F811
    runs = pd.concat([_nb201("reinforce", bench, 3, train_seconds=3000.0),
                      _nb201("bohb", bench, 2, train_seconds=3000.0)], ignore_index=True)
    summary = summarise(runs)
    table = build_table(summary, "nb201", load_published()["rank_based_table3"], {})
    ours = table[table["source"] == "this run"]
    assert list(ours["method"]) == ["REINFORCE", "BOHB"]
    assert set(ours["group"]) == {"Training-based (benchmark lookup)"}
    pairs = compare_published(table)
    assert set(zip(pairs["method"], pairs["published_method"], strict=True)) == {
        ("REINFORCE", "RL"), ("BOHB", "BOHB")}
    c10 = pairs[(pairs["dataset"] == "cifar10") & (pairs["split"] == "valid")]
    assert c10["difference"].notna().all() and not math.isnan(float(c10["ours_mean"].iloc[0]))
    assert summary.loc[summary["algorithm"] == "bohb", "fidelities"].iloc[0] == "12"


def test_size_space_searches_fill_rb_table2_where_the_benchmark_has_accuracies(synthetic):
    """With a size-space benchmark table (here the SYNTHETIC one; the real one comes from
    the official archive), GA-rk, SA-rk and the training-based searches get rows of ours in
    RB Table 2, beside the printed ones; the budget is in seconds on every data set."""

    def live(archs):  # a score that is the synthetic accuracy itself
        values = synthetic.set_index("arch").loc[archs, "valid_acc_12"].to_numpy()
        return {a: (np.array([v, v, v]), np.array([0.1, 0.1, 0.1]))
                for a, v in zip(archs, values, strict=True)}

    directions = {name: True for name in ("ni", "naswot", "logsynflow")}
    runs = pd.concat([
        run_search(algorithm, space="nats_sss", dataset="cifar10", runs=2, seed=0,
                   benchmark=synthetic, live=live, directions=directions,
                   settings=SearchSettings(budget=60, train_seconds=3000.0))
        for algorithm in ("ga_rank", "sa_rank", "reinforce", "bohb")], ignore_index=True)
    assert runs["valid_acc"].notna().all() and runs["time_simulated"].iloc[-1]
    bohb = json.loads(runs.loc[runs["algorithm"] == "bohb", "settings"].iloc[0])["config"]
    assert bohb["fidelities"] == [1, 4, 12]
    table = build_table(summarise(runs), "nats_sss", load_published()["rank_based_table2"],
                        {"cifar10": (83.0, 82.0)})
    assert list(table.loc[table["source"] == "this run", "method"]) == [
        "REINFORCE", "BOHB", "GA-rk", "SA-rk"]
    pairs = compare_published(table)
    assert {"GA-rk", "SA-rk", "REINFORCE", "BOHB"} <= set(pairs["method"])
