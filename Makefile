# Two commands do all the set-up on a machine with Python 3.11+:
#   make run    simulate the example portfolio into results/portfolio-2027/
#   make test   lint, type-check and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
TESTED := $(VENV)/.test-extras-stamp

.PHONY: run test bench figures clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# the test suite also covers the optional extras (Dask, Excel, parquet, Optuna, .mpp through MPXJ: its
# tests skip, saying why, where there is no Java runtime)
$(TESTED): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dask,excel,mpp,parquet,search]'
	touch $(TESTED)

run: $(STAMP)
	$(BIN)/pmosim run scenarios/portfolio-2027.yaml --out results/portfolio-2027 --force --jobs -1

test: $(TESTED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto --maxprocesses 4

# the README's chart images, from the example scenario
figures: $(STAMP)
	$(BIN)/pmosim run scenarios/portfolio-2027.yaml --out results/portfolio-2027 --force -q
	$(BIN)/pmosim compare scenarios/portfolio-2027.yaml --out results/portfolio-2027-compare --force -q
	mkdir -p docs/images
	cp results/portfolio-2027/portfolio.png results/portfolio-2027/finish-s-curves.png \
	   results/portfolio-2027/capacity.png results/portfolio-2027/drivers.png \
	   results/portfolio-2027-compare/comparison.png docs/images/

bench: $(TESTED)
	$(BIN)/python tests/benchmarks/bench_portfolio.py

clean:
	rm -rf $(VENV) results .pytest_cache .ruff_cache .mypy_cache .hypothesis
