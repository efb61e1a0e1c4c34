# Two commands for a fresh machine with Python 3.11:
#   make run    set up .venv (when missing) and run the embedded default pipeline
#   make test   set up .venv (when missing) and run the test suite
PYTHON ?= python3.11
VENV   ?= .venv
CORES  ?= all
BIN     = $(VENV)/bin
SNAKEMAKE = $(BIN)/snakemake --profile profiles/default --cores $(CORES)

.PHONY: run test lint venv report clean
venv: $(VENV)/.installed

# torch is installed on its own first, pinned, so no resolver can pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,slurm]"
	touch $@

run: venv
	$(SNAKEMAKE)

report: venv
	$(SNAKEMAKE) --report results/report.html

test: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/snakemake --lint

clean:
	rm -rf results logs figures/*.png figures/*.pdf paper/build paper/generated/*.tex
