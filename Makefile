# Two commands for a fresh machine with Python 3.11:
#   make run    set up .venv (when missing) and run the embedded default pipeline
#   make test   set up .venv (when missing) and run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
CORES  ?= all
BIN     = $(VENV)/bin
SNAKEMAKE = $(BIN)/snakemake --profile profiles/default --cores $(CORES)

# The figures README.md shows, copied from the paper-scale run by `make readme-figures`.
README_RUN ?= results/paper-cpu/figures
README_FIGURES = ps_fig3 ps_fig4 nwot_fig1_cifar10 ssnr_fig2_cifar10

.PHONY: run test lint venv report clean paper-cpu progress readme-figures
venv: $(VENV)/.installed

# torch is installed on its own first, pinned, so no resolver can pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,slurm,natsbench]"
	touch $@

run: venv
	$(SNAKEMAKE)

report: venv
	$(SNAKEMAKE) --report results/report.html

# The papers' scale on this CPU (hours; resumable): workflow/presets/paper-cpu.yaml.
paper-cpu: venv
	$(SNAKEMAKE) --configfile workflow/presets/paper-cpu.yaml

progress: venv
	$(BIN)/zeroshot-nas progress --configfile workflow/presets/paper-cpu.yaml

readme-figures:
	mkdir -p docs/figures
	for f in $(README_FIGURES); do cp "$(README_RUN)/$$f.png" "$(README_RUN)/$$f.txt" docs/figures/; done

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs
