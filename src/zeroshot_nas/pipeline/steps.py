"""The steps the workflow's rules run: one function per rule, named as the rule.

Every rule runs ``workflow/scripts/step.py``, which calls :func:`run` with the Snakemake
object. A step only maps the rule's declared ``input``, ``output`` and tracked ``params``
(settings taken from the validated configuration) to a library call: no command line is
built, so no value of the configuration ever reaches a shell, and every setting that
changes an output is a tracked parameter of its rule.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zeroshot_nas import io
from zeroshot_nas.errors import UserError

log = logging.getLogger(__name__)


def run(smk: Any) -> None:
    """Run the step named as the rule, logging into the rule's log file.

    A user error ends the job with its message (also on the terminal); anything else keeps
    its traceback in the log.
    """
    step: Callable[[Any], None] = STEPS[smk.rule]
    log_path = Path(smk.log[0])
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as handle, \
            contextlib.redirect_stderr(handle), contextlib.redirect_stdout(handle):
        logging.basicConfig(level=logging.INFO, stream=handle, force=True,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            step(smk)
        except (UserError, ValueError, FileNotFoundError) as err:
            handle.write(f"error: {err}\n")
            message = f"{smk.rule}: {err} (log: {log_path})"
        except Exception:
            handle.write(traceback.format_exc())
            raise
        else:
            return
    print(message, file=sys.stderr)
    raise SystemExit(1)


# ------------------------------------------------------------------------ data
def fetch_source(smk: Any) -> None:
    from zeroshot_nas.data.sources import fetch, load_registry

    registry = load_registry(smk.params.registry)
    if registry[smk.params.key].known_hash != smk.params.digest:
        raise ValueError(f"{smk.params.registry} changed while the workflow ran "
                         f"({smk.params.key}); run again")
    # Where the bytes come from is not a parameter of what they are: the mirror is read
    # from the configuration (or $ZEROSHOT_NAS_MIRROR), untracked.
    mirror = (smk.config.get("data") or {}).get("mirror")
    path = fetch(smk.params.key, smk.params.downloads, mirror=mirror, registry=registry)
    if Path(path) != Path(smk.output[0]):
        raise RuntimeError(f"{smk.params.key} landed at {path}, not {smk.output[0]}")


def build_benchmark(smk: Any) -> None:
    from zeroshot_nas.data.benchmark import build_nb201_table, write_table
    from zeroshot_nas.data.sources import load_registry

    paths = {key: Path(path) for key, path in smk.input.items()}
    table = build_nb201_table(paths, registry=load_registry(smk.params.registry))
    write_table(table, smk.output[0])


def build_nats_sss_benchmark(smk: Any) -> None:
    from zeroshot_nas.data.benchmark import build_nats_sss_table, write_table

    write_table(build_nats_sss_table(smk.params.archive), smk.output[0])


def build_benchmark_nb101(smk: Any) -> None:
    from zeroshot_nas.data.benchmark import write_table
    from zeroshot_nas.data.nb101 import TABLE_FILES, build_nb101_table
    from zeroshot_nas.data.sources import load_registry

    source = {name: key for key, name in TABLE_FILES.items()}[smk.wildcards.table]
    paths = {key: Path(path) for key, path in smk.input.items()}
    table = build_nb101_table(source, paths, registry=load_registry(smk.params.registry))
    write_table(table, smk.output[0])


def prepare_images(smk: Any) -> None:
    from zeroshot_nas.data.digests import write_companion
    from zeroshot_nas.data.images import prepare_images as prepare
    from zeroshot_nas.data.sources import load_registry

    kind, value = next(iter(smk.params.source.items()))
    dataset, out = smk.wildcards.dataset, smk.output.npz
    if kind == "freerea_batches":
        prepare(dataset, list(smk.input), out, kind="freerea-batches",
                registry=load_registry(smk.params.registry))
    elif kind == "imagenet16_dir":
        prepare(dataset, value, out, kind="imagenet16-dir")
    else:
        prepare(dataset, smk.input[0], out,
                kind="sample" if kind == "sample_dir" else "cifar-tarball")
    # checked when the workflow starts: a prepared file changed since is prepared anew
    write_companion(out)


# --------------------------------------------------------------------- scoring
def sample_archs(smk: Any) -> None:
    from zeroshot_nas.spaces.sampling import sample_from_settings

    sample = smk.params.sample
    archs = sample_from_settings(sample)
    io.write_text(smk.output[0], "\n".join(archs) + "\n")
    log.info("sampled %d %s architectures", len(archs), sample["space"])


def _score(smk: Any, archs: list[str], seed: int, mode: str, cache_dir: str,
           cache_numerics: str = "exact") -> None:
    from zeroshot_nas.proxies import Protocol
    from zeroshot_nas.proxies.numerics import resolve_device
    from zeroshot_nas.scoring import score_archs

    # The protocol's thread count, not the job's: Snakemake scales a job's threads down to
    # --cores, and the values must not depend on it.
    settings = smk.params.protocol
    device = resolve_device(settings["device"]).type
    protocol = Protocol.from_experiment(settings, seed=seed, device=device)
    score_archs(smk.params.space, smk.wildcards.dataset, seed, archs, list(smk.params.proxies),
                protocol, smk.input.images, cache_dir, smk.output[0], mode=mode,
                cache_numerics=cache_numerics)


def score_shard(smk: Any) -> None:
    from zeroshot_nas.spaces.sampling import read_archs

    size, shard = smk.params.shard_size, int(smk.wildcards.shard)
    archs = read_archs(smk.input.archs)[shard * size : (shard + 1) * size]
    _score(smk, archs, int(smk.wildcards.seed), "fused", smk.params.cache_dir,
           smk.params.cache_numerics)


def time_standalone(smk: Any) -> None:
    from zeroshot_nas.spaces.sampling import read_archs

    archs = read_archs(smk.input.archs)[: smk.params.n_archs]
    # Standalone timings get their own cache: a fused result must never stand in for them.
    _score(smk, archs, smk.params.seed, "standalone", f"{smk.params.cache_dir}/standalone")


def merge_scores(smk: Any) -> None:
    from zeroshot_nas.scoring import merge_scores as merge

    merge([Path(p) for p in smk.input.shards], Path(smk.input.benchmark), Path(smk.output[0]))


# ------------------------------------------------------------------ statistics
def stats(smk: Any) -> None:
    import pandas as pd

    from zeroshot_nas.data.freerea_scores import SOURCE_KEYS, read_freerea_scores
    from zeroshot_nas.stats import analysis

    cfg = analysis.StatsConfig.from_config(smk.params.stats)
    timings = pd.read_parquet(smk.input.timings) if "timings" in smk.input.keys() else None
    scores = analysis.load_scores(smk.input.scores)
    space = str(scores["space"].iloc[0]) if "space" in scores and len(scores) else "nb201"
    benchmark = _space_table(smk.input.benchmark, space)
    # FreeREA's files are inputs only where stats.freerea_check asks for them (NB201 runs)
    files = {key: path for key, path in smk.input.items() if key in SOURCE_KEYS}
    tables, summary = analysis.compute_stats(
        scores, cfg, benchmark=benchmark, timings=timings,
        freerea=read_freerea_scores(files, benchmark) if files else None)
    analysis.write_stats(tables, summary, smk.output[0])


def figures(smk: Any) -> None:
    from zeroshot_nas.plots.figures import draw_figures

    draw_figures(smk.input.scores, smk.input.stats, smk.output[0])


# ---------------------------------------------------------------------- search
def _space_table(path: str, space: str) -> Any:
    """The benchmark table at ``path`` if it holds ``space``'s accuracies, else None (a
    size-space run without the NATS archive is handed the NB201 table: no rows of its own)."""
    from zeroshot_nas.data.benchmark import load_table

    table = load_table(path)
    return table if table.attrs["provenance"].get("space", "nb201") == space else None


def search(smk: Any) -> None:
    import pandas as pd

    from zeroshot_nas.search.runner import SearchSettings, live_scorer_for, run_search

    settings = SearchSettings.from_config(smk.params.search, smk.params.rank_combination)
    # The run's seeds are combined as the statistics combine them (stats.seed_aggregation).
    seeds, aggregation = list(smk.params.score_seeds), smk.params.seed_aggregation
    live = None
    if smk.params.live:
        live = live_scorer_for(smk.params.space, smk.wildcards.dataset, seeds,
                               settings.score_names(smk.wildcards.algorithm),
                               smk.input.images, smk.params.cache_dir, smk.params.protocol,
                               aggregation)
    runs = run_search(
        smk.wildcards.algorithm, space=smk.params.space, dataset=smk.wildcards.dataset,
        runs=smk.params.search["runs"], seed=smk.params.search["seed"],
        benchmark=_space_table(smk.input.benchmark, smk.params.space),
        scores=pd.read_parquet(smk.input.scores), settings=settings, live=live,
        score_seeds=seeds, seed_aggregation=aggregation)
    io.write_parquet(smk.output[0], runs)


def search_tables(smk: Any) -> None:
    from zeroshot_nas.search.report import write_search_outputs

    benchmarks = {smk.params.space: _space_table(smk.input.benchmark, smk.params.space)}
    write_search_outputs([Path(p) for p in smk.input.runs], benchmarks, Path(smk.output.tables),
                         Path(smk.output.figures))


# ----------------------------------------------------------------------- paper
def paper_tables(smk: Any) -> None:
    from zeroshot_nas.paper.assemble import write_paper_tables
    from zeroshot_nas.paper.protocol import image_counts

    # A named input of one path is that path (a str, not a list of one); searches disabled
    # declare none (an empty list). A rule without NB101 experiments may leave out
    # space_stats (the NAS-Bench-101 section then says so).
    search = smk.input.get("search")
    run = dict(smk.params.run)
    # the protocol section states how many images each data set's batches were drawn from
    run["images"] = image_counts(run.pop("image_sources", {}), list(smk.input.images))
    write_paper_tables(smk.input.stats, smk.output[0], smk.input.figures,
                       search_dir=search if isinstance(search, str) else None, run=run,
                       space_stats=dict(smk.params.get("space_stats") or {}),
                       sample_stats=dict(smk.params.get("sample_stats") or {}))


def paper_pdf(smk: Any) -> None:
    from zeroshot_nas.paper.build import build_pdf

    build_pdf(Path(smk.input.main), Path(smk.input.generated), Path(smk.output.pdf))


STEPS: dict[str, Callable[[Any], None]] = {
    "fetch_source": fetch_source,
    "build_benchmark": build_benchmark,
    "build_nats_sss_benchmark": build_nats_sss_benchmark,
    "build_benchmark_nb101": build_benchmark_nb101,
    "prepare_images": prepare_images,
    "sample_archs": sample_archs,
    "score_shard": score_shard,
    "merge_scores": merge_scores,
    "time_standalone": time_standalone,
    "merge_timing": merge_scores,
    "stats": stats,
    "figures": figures,
    "search": search,
    "search_tables": search_tables,
    "paper_tables": paper_tables,
    "paper_pdf": paper_pdf,
}
