# ntkbook -- the two commands a user needs are `make book` and `make test`.
# Both create (or reuse) the local virtual environment .venv.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ntkbook-installed
PORT   ?= 8000
# The stored notebook outputs are CPU outputs: nbval, `make execute` and the build use the CPU.
export JAX_PLATFORMS ?= cpu
export PYTHONHASHSEED := 0
# Large arrays on transparent huge pages (glibc >= 2.35; ignored elsewhere). XLA on the CPU allocates every
# output afresh, and first touching a fresh 4 KiB page costs ~2 µs here: with 2 MiB pages a memory-bound
# pass runs ~3x faster (measured in `make bench`, which also runs the target case without it).
export GLIBC_TUNABLES ?= glibc.malloc.hugetlb=1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help venv book test test-fast test-portable lint format nbval verify execute reproduce lab serve bench clean distclean

help:
	@echo "make book      build the HTML book into _build/html (warnings are errors)"
	@echo "make test      run every test: unit, property, hygiene, build, browser, then test-portable"
	@echo "make test-fast unit and property tests only (no notebooks, no build)"
	@echo "make lint      ruff: lint and formatting check (part of make test); make format applies the formatting"
	@echo "make test-portable  nbval over every chapter on two perturbed machines (other instruction set,"
	@echo "               other BLAS kernel, one thread): the stored outputs must hold on any CPU"
	@echo "make nbval     nbval over every chapter on this machine as it is"
	@echo "make verify    run every registered claim (python -m ntkbook verify)"
	@echo "make execute   re-execute notebooks in place (NB=book/xx.ipynb for one)"
	@echo "make reproduce execute every notebook twice and show that the outputs are identical"
	@echo "make lab       JupyterLab on the book, with MyST rendering"
	@echo "make serve     serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make bench     run the benchmarks (not part of make test; BENCH_ARGS=--book adds the notebooks and the build)"
	@echo "make clean     remove build outputs (keeps .venv; 'make distclean' removes it too)"

# One venv with everything (the library, the book, the tests, JupyterLab): reinstalled only
# when pyproject.toml changes.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[book,test,lab]'
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/python -m ntkbook.claims.ledger
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "The book is at $(CURDIR)/_build/html/index.html  (make serve to browse it)"

# The unit tests and the portable pass at once: nbval under the stronger perturbation (XLA without any AVX,
# which caught every cell the AVX variant caught and more) on the first core, pytest on the others
# (tools/portable.py --alongside). `make test-portable` runs both variants.
test: $(STAMP) lint
	$(BIN)/python tools/portable.py --variant sse4_2 --alongside "$(BIN)/python -m pytest"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# nbval over every chapter under XLA limited to AVX and to SSE4.2, OpenBLAS's Sandy Bridge kernel and
# one thread per process (tools/portable.py): what another CPU computes must match what is stored.
test-portable: $(STAMP)
	$(BIN)/python tools/portable.py

# Unit and property tests only (no notebooks, no build): the quick loop while developing.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not build and not browser" -k "not notebook"

nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-cell-timeout=300 book

verify: $(STAMP)
	$(BIN)/python -m ntkbook verify

NB ?= $(wildcard book/*.ipynb)
execute: $(STAMP)
	$(BIN)/python -m ntkbook.notebook $(NB)

reproduce: $(STAMP)
	$(BIN)/python tools/reproduce.py $(NB)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=book $(if $(filter 0,$(shell id -u)),--allow-root,)

serve:
	@test -f _build/html/index.html || { echo "no _build/html: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

# BENCH_ARGS: e.g. --book (also time nbval per notebook and the book build), --full, --only analytic
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
