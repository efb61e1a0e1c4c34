# Two commands for a fresh machine with Python 3.11:
#   make run    set up .venv (when missing) and run the embedded default pipeline
#   make test   set up .venv (when missing) and run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
CORES  ?= all
BIN     = $(VENV)/bin
SNAKEMAKE = $(BIN)/snakemake --profile profiles/default --cores $(CORES)
# `make run CONFIG=workflow/presets/paper.yaml`: another configuration instead of config.yaml.
# It is validated first: Snakemake reads a --configfile before any workflow code runs, and
# its own message for a YAML error has no line number (a missing file is its traceback).
CONFIG ?=
CONFIG_ARGS = $(if $(CONFIG),--configfile "$(CONFIG)",)

# `make figures EXPERIMENT=default` copies that run's figures into figures/default/.
EXPERIMENT ?= default
# The figures README.md shows, copied from the paper-scale run by `make readme-figures`.
README_EXPERIMENT ?= paper-cpu
README_FIGURES = ps_fig3 ps_fig4 nwot_fig1_cifar10 ssnr_fig2_cifar10

.PHONY: run test lint venv report clean paper-cpu progress figures readme-figures
venv: $(VENV)/.installed

# torch is installed on its own first, pinned, so no resolver can pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,slurm,natsbench]"
	touch $@

run: venv
	$(BIN)/zeroshot-nas validate-config "$(or $(CONFIG),config.yaml)"
	$(SNAKEMAKE) $(CONFIG_ARGS)

report: venv
	$(SNAKEMAKE) $(CONFIG_ARGS) --report results/report.html

# The papers' scale on this CPU (hours; resumable): workflow/presets/paper-cpu.yaml.
paper-cpu:
	$(MAKE) run CONFIG=workflow/presets/paper-cpu.yaml

progress: venv
	$(BIN)/zeroshot-nas progress --configfile workflow/presets/paper-cpu.yaml

# A run never writes figures/: these copy a finished run's figures there, replacing only
# files an earlier copy wrote (figures/<experiment>/copied.json), never yours.
figures: venv
	$(BIN)/zeroshot-nas copy-figures --experiment "$(EXPERIMENT)"

readme-figures: venv
	$(BIN)/zeroshot-nas copy-figures --experiment "$(README_EXPERIMENT)" --only $(README_FIGURES)

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs
