"""What each drawn figure and generated table reproduces: its paper, the number the paper
gives it ("PS Figure 3"), its title, and what we do not reproduce and why.

Light on purpose (no numpy, no matplotlib): the workflow's rule files import it while
Snakemake parses them, to group the report by paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zeroshot_nas.spaces.common import DATASET_TITLES


@dataclass(frozen=True)
class Paper:
    key: str
    short: str
    title: str
    source: str  # file name of the paper's text under shared/papers


PAPERS: dict[str, Paper] = {p.key: p for p in (
    Paper("ps", "PS", "Improving zero-shot neural architecture search with parameters scoring",
          "parameters-scoring"),
    Paper("rb", "RB", "Rank-based training-free NAS algorithm",
          "rank-based-training-free-nas"),
    Paper("nwot", "NWOT", "Neural architecture search without training",
          "nas-without-training"),
    Paper("ssnr", "SSNR", "Layer-wise saliency signal-to-noise ratio (zero-cost NAS)",
          "layerwise-ssnr"),
)}
RUN = "run"  # items about the run itself (protocol, statistics), not one paper


@dataclass(frozen=True)
class Item:
    """A figure or table: ``label`` is the paper's own number ("PS Figure 3"); ``ours`` marks
    items the paper does not have (drawn from its numbers, or evidence we add)."""

    key: str
    paper: str
    label: str
    title: str
    ours: bool = False


FIGURES: dict[str, Item] = {i.key: i for i in (
    Item("ps_fig1", "ps", "PS Figure 1", "Monotonicity score on familiar functions"),
    Item("ps_fig2", "ps", "PS Figure 2", "Metrics score versus accuracy"),
    Item("ps_fig3", "ps", "PS Figure 3",
         "Best accuracy retrieved by each metric and evaluation time per architecture"),
    Item("ps_fig4", "ps", "PS Figure 4", "Monotonicity of each score with respect to the "
         "accuracy"),
    Item("ps_fig5", "ps", "PS Figure 5", "Slope of each score with respect to the accuracy"),
    Item("ps_percentile", "ps", "PS Section 5", "Percentile of the sample's best architecture "
         "in each score's ranking (a claim of the Discussion, drawn)", ours=True),
    Item("ps_tensors", "ps", "PS evidence", "Parameter-space scores against the number of "
         "parameter tensors they use", ours=True),
    Item("rb_table1", "rb", "RB Table 1 (drawn)", "Kendall and Spearman correlations with "
         "test accuracy, with 95% bootstrap intervals", ours=True),
    Item("nwot_fig1", "nwot", "NWOT Figure 1(b)", "Histograms of the correlations between "
         "linear maps of untrained NAS-Bench-201 architectures"),
    Item("ssnr_fig2", "ssnr", "SSNR Figure 2", "Distributions of models in score-accuracy "
         "space"),
    Item("ssnr_table1", "ssnr", "SSNR Table 1 (drawn)", "Correlations of the saliency scores "
         "with accuracy, with 95% bootstrap intervals", ours=True),
)}

TABLES: dict[str, Item] = {i.key: i for i in (
    Item("protocol", RUN, "Run protocol", "Protocol and scale of this run"),
    Item("papers_protocol", RUN, "Papers' protocols", "The protocol each paper states for the "
         "values we compare with"),
    Item("ps_table1", "ps", "PS Table 1", "Summary of scores features"),
    Item("ps_best", "ps", "PS Figure 3 (left) in numbers", "Best accuracy retrieved and "
         "percentile of the sample's best architecture", ours=True),
    Item("timing", "ps", "PS Figure 3 (right) in numbers", "Seconds per architecture",
         ours=True),
    Item("ps_quality", "ps", "PS Figures 4 and 5 in numbers", "Monotonicity and slope, all "
         "architectures and above the median score", ours=True),
    Item("rank_based_table1", "rb", "RB Table 1", "Kendall and Spearman correlation between "
         "training-free score and test accuracy"),
    Item("search_rank_based_table2", "rb", "RB Table 2", "Comparison of rank-based NAS and "
         "the other NAS algorithms (NATS-Bench size space)"),
    Item("search_rank_based_table3", "rb", "RB Table 3", "Comparison of rank-based NAS and "
         "the other NAS algorithms (NAS-Bench-201)"),
    Item("nwot_table", "nwot", "NWOT Figure 1(b) in numbers", "Kendall tau of the Jacobian "
         "score with validation accuracy", ours=True),
    Item("search_naswot_table", "nwot", "NWOT search results", "Search on NAS-Bench-201 "
         "(first version of the paper, as its authors' README prints it)"),
    Item("ssnr_table", "ssnr", "SSNR Figure 2 text and Table 1", "Spearman and Kendall "
         "correlation between score and accuracy"),
    Item("claims", RUN, "Claims checked", "The papers' claims against this run's numbers",
         ours=True),
    Item("not_reproduced", RUN, "Not reproduced", "Figures and tables of the papers this "
         "pipeline does not reproduce, and why"),
)}
# CSV twins whose name differs from their table's
TABLE_ALIASES = {"ssnr_correlations": "ssnr_table", "nwot_kendall": "nwot_table",
                 "ps_percentile": "ps_best"}


@dataclass(frozen=True)
class NotReproduced:
    paper: str
    item: str
    why: str


# Checked against the texts in shared/papers (every figure and table they print).
NOT_REPRODUCED: tuple[NotReproduced, ...] = (
    NotReproduced("ssnr", "SSNR Figure 1 (synflow score and accuracy while pruning VGG-16 "
                  "on CIFAR-10)", "It needs a trained VGG-16 and iterative pruning with "
                  "retraining; this pipeline scores untrained NAS-Bench-201 cells only."),
    NotReproduced("ssnr", "SSNR Table 1, NAS-Bench-301 and TransNAS-Bench-101 micro columns "
                  "(CIFAR-10; Jigsaw, class_object, class_scene)", "Neither benchmark (nor "
                  "its surrogate accuracies) is among the pinned data sources; only the "
                  "NAS-Bench-201 columns are compared."),
    NotReproduced("nwot", "NWOT Figure 1(a) (histograms on NAS-Bench-101)", "NAS-Bench-101 "
                  "is not among the data sources; only the NAS-Bench-201 panel (b) is drawn."),
    NotReproduced("nwot", "NWOT ablations, Appendix A histograms, NAS-Bench-101 search and "
                  "AREA on NAS-Bench-101", "The provided text of the paper stops after "
                  "Figure 1; its tables and appendix are not in it, and NAS-Bench-101 is not "
                  "available. The NAS-Bench-201 search rows are quoted from the authors' "
                  "README instead."),
    NotReproduced("rb", "RB Table 2 accuracies of our runs (NATS-Bench size space) without "
                  "the official archive", "The size space's accuracies exist only in the "
                  "official NATS-Bench archive, which has no pinnable URL: with it "
                  "(data.nats_sss_archive) our searches there get accuracies; without it "
                  "the size space is scored and its published rows are quoted only."),
    NotReproduced("rb", "RL and BOHB rows of RB Tables 2 and 3: BOHB's lower fidelities on "
                  "NAS-Bench-201", "REINFORCE and BOHB run as NATS-Bench runs them, but the "
                  "public NAS-Bench-201 files hold only the 12-epoch end point of the "
                  "learning curve, so BOHB runs there with that one fidelity (its KDE model "
                  "without Hyperband's early stopping); with the size-space archive it runs "
                  "with 1, 4 and 12 epochs."),
    NotReproduced("rb", "Weight-sharing rows of RB Table 3 (RSWS, DARTS-V1, DARTS-V2, GDAS, "
                  "SETN, ENAS)", "Weight sharing trains a super-network; this pipeline is "
                  "training-free with benchmark look-ups. Quoted only."),
    NotReproduced("rb", "RB Figures 1 and 2", "Schematic drawings of the NASWOT and noise "
                  "immunity procedures; they hold no data."),
    NotReproduced("rb", "RB Table 1 rows at NATS-Bench's scale (all 15,625 architectures, "
                  "three initialisations averaged)", "Reproduced at the scale of this run "
                  "(see the protocol table); the published values are from FreeREA's data."),
    NotReproduced("ps", "PS Discussion: the unnamed variant S = (1/N)(2/(N(N+1))) sum S_i",
                  "Not a named score of the paper and not in our proxy registry."),
    NotReproduced("ps", "PS normalisation of JS by \"the maximum and minimum values from "
                  "their experiments\"", "The paper does not print those values; our JS maps "
                  "the score to [0, 1] by its exact extremes for a B x B correlation matrix "
                  "(identity 1, rank one 0)."),
)

_PER_DATASET = re.compile(
    r"^(?P<key>ps_fig2|nwot_fig1|ssnr_fig2)_(?P<dataset>" +
    "|".join(re.escape(d) for d in DATASET_TITLES) + r")(?:_part(?P<part>\d+))?$")


@dataclass(frozen=True)
class Resolved:
    """A file name resolved to its catalogue item (and data set / part for split figures)."""

    item: Item
    dataset: str | None = None
    part: int | None = None

    @property
    def paper(self) -> str:
        return self.item.paper

    @property
    def heading(self) -> str:
        """The title line: the paper's number, the data set and the part of a split figure."""
        bits = [DATASET_TITLES.get(self.dataset, self.dataset)] if self.dataset else []
        if self.part is not None:
            bits.append(f"part {self.part}")
        return self.item.label + (f" ({', '.join(bits)})" if bits else "")


def resolve_figure(name: str) -> Resolved:
    """The catalogue entry of a figure file's stem (``ps_fig2_cifar10_part2``, ``ps_fig3``);
    unknown names get an item of their own so that nothing drawn goes unlisted."""
    m = _PER_DATASET.match(name)
    if m:
        part = int(m["part"]) if m["part"] else None
        return Resolved(FIGURES[m["key"]], m["dataset"], part)
    if name in FIGURES:
        return Resolved(FIGURES[name])
    if name.startswith("search_anytime"):
        return Resolved(Item(name, "rb", "Search curves", "Anytime search curves: best test "
                             "accuracy found against charged search seconds (training-free "
                             "methods are charged the measured seconds of their scores, "
                             "training-based ones the simulated training time), mean over runs",
                             ours=True))
    return Resolved(Item(name, RUN, name, name, ours=True))


def resolve_table(name: str) -> Resolved:
    """The catalogue entry of a generated table (its .tex or .csv stem)."""
    key = TABLE_ALIASES.get(name, name)
    if key in TABLES:
        return Resolved(TABLES[key])
    return Resolved(Item(name, RUN, name, name, ours=True))


def category(paper: str) -> str:
    """The report category of a paper key: "PS: <title>"; the run's own items apart."""
    if paper in PAPERS:
        return f"{PAPERS[paper].short}: {PAPERS[paper].title}"
    return "Run: protocol, statistics, document"


def figure_category(name: str) -> str:
    return category(resolve_figure(name).paper)


def table_category(name: str) -> str:
    return category(resolve_table(name).paper)


def figure_labels(name: str) -> dict[str, str]:
    r = resolve_figure(name)
    return {"item": r.heading, "title": r.item.title}


def table_labels(name: str) -> dict[str, str]:
    r = resolve_table(name)
    return {"item": r.heading, "title": r.item.title}


def rst_escape(text: str) -> str:
    """Plain text as reStructuredText that renders as the same text: every ASCII mark is
    backslash-escaped (``|slope|`` would otherwise be a substitution) and whitespace runs
    become one space (an indented line would otherwise open a block quote)."""
    flat = " ".join(str(text).split())
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", flat)
