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

.PHONY: help venv book test test-fast test-portable lint format nbval verify execute reproduce memory lab serve bench bench-peer clean distclean

# Every target of .PHONY is listed here (tests/test_readme.py checks it).
help:
	@echo "make venv      create or update the virtual environment .venv (every other target does it first)"
	@echo "make book      build the HTML book into _build/html (warnings are errors)"
	@echo "make test      run every test: unit, property, hygiene, build, browser, JupyterLab, and nbval on a"
	@echo "               perturbed machine alongside (about 10 minutes on 2 cores)"
	@echo "make test-fast unit and property tests only (no notebooks, no build, no browser)"
	@echo "make test-portable  nbval over every chapter on two perturbed machines (other instruction set,"
	@echo "               other BLAS kernel, one thread): the stored outputs must hold on any CPU"
	@echo "make nbval     nbval over every chapter on this machine as it is"
	@echo "make lint      ruff: lint and formatting check (part of make test)"
	@echo "make format    apply ruff's formatting and fixes"
	@echo "make verify    run every registered claim (python -m ntkbook verify)"
	@echo "make execute   re-execute notebooks in place and store their outputs (NB=book/xx.ipynb for one;"
	@echo "               adds the notebook preamble first: tools/notebook_preamble.py)"
	@echo "make reproduce execute notebooks twice and show that the outputs are identical"
	@echo "               (NB=book/xx.ipynb for one; without NB every chapter: 10-20 minutes)"
	@echo "make memory    peak memory and time of executing each chapter (NB=... for some)"
	@echo "make lab       JupyterLab on the book, with MyST rendering"
	@echo "make serve     serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make bench     run the benchmarks (not part of make test; BENCH_ARGS=--book adds the notebooks and the build)"
	@echo "make bench-peer  neural-tangents 0.6.5 beside ntkbook, as users call them (own venv .venv-peer; not in make test)"
	@echo "make clean     remove build outputs (keeps .venv)"
	@echo "make distclean remove build outputs and .venv"

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
# which caught every cell the AVX variant caught and more) on the first core, the unit tests on the others
# (tools/portable.py --alongside); once nbval is done, the first core takes the build, browser and mutation
# tests and the quadrature tests (--then), so both halves end together (measured here: nbval 282 s, then 480 s on
# the first core; 640 s of unit tests on the second).
# `make test-portable` runs both variants.
LATE_TESTS := tests/test_book_build.py tests/test_browser.py tests/test_jupyterlab.py tests/test_mutations.py \
  tests/test_quadrature.py
test: $(STAMP) lint
	$(BIN)/python tools/portable.py --variant sse4_2 \
	  --alongside "$(BIN)/python -m pytest $(addprefix --ignore=,$(LATE_TESTS))" \
	  --then "$(BIN)/python -m pytest $(LATE_TESTS)"

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
# The preamble (the book's TeX macros and the install cell, tools/notebook_preamble.py) first: a new chapter
# gets it, and the execution counts then run 1, 2, 3, ... over it.
execute: $(STAMP)
	$(BIN)/python tools/notebook_preamble.py $(NB)
	$(BIN)/python -m ntkbook.notebook $(NB)
	$(BIN)/python tools/hide_plot_inputs.py $(NB)

reproduce: $(STAMP)
	$(BIN)/python tools/reproduce.py $(NB)

memory: $(STAMP)
	$(BIN)/python tools/peak_memory.py $(NB)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=book $(if $(filter 0,$(shell id -u)),--allow-root,)

serve:
	@test -f _build/html/index.html || { echo "no _build/html: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

# BENCH_ARGS: e.g. --book (also time nbval per notebook and the book build), --full, --only analytic
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# neural-tangents 0.6.5 needs its own JAX (0.4.23) and TensorFlow: its own venv, from benchmarks/peer-requirements.txt
# (PEER_PYTHON: an interpreter <= 3.11). Both libraries run without GLIBC_TUNABLES first, then with it. PEER_ARGS: e.g. --repeats 9
PEER_VENV   ?= .venv-peer
PEER_PYTHON ?= $(PYTHON)
$(PEER_VENV)/.installed: benchmarks/peer-requirements.txt
	@test -x $(PEER_VENV)/bin/python || $(PEER_PYTHON) -m venv $(PEER_VENV)
	$(PEER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEER_VENV)/bin/python -m pip install --quiet -r benchmarks/peer-requirements.txt
	@touch $@

bench-peer: $(STAMP) $(PEER_VENV)/.installed
	env -u GLIBC_TUNABLES $(BIN)/python -m benchmarks.peer --peer-python $(PEER_VENV)/bin/python $(PEER_ARGS)

clean:
	rm -rf _build .pytest_cache .hypothesis
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
