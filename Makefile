# CNNs from Scratch — the commands of the README. Each creates or reuses the virtual
# environment .venv and installs what it needs (pinned by constraints.txt) on first use.
#
#   make book        build the HTML book into _build/html/index.html
#   make test        run every test: unit and oracle tests, strict nbval over every chapter
#                    notebook, lint and types, the book build with warnings as errors, its
#                    internal links, and every page in a real browser (Chromium, offline)
#   make learner     write the learner notebooks (exercise stubs) into learner/
#   make lab         open the learner notebooks in JupyterLab
#   make notebooks   re-execute the chapter notebooks and store their outputs (contributors)
#   make bench       benchmarks/: convolution, max pooling and a LeNet-5 training step,
#                    cnnlib vs loops vs PyTorch (CPU), 1 thread
#   make clean       remove build products (keeps .venv)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
PIP    := $(PY) -m pip --disable-pip-version-check

.PHONY: book test learner lab notebooks bench install-book install-test install-learn install-bench clean

$(PY):
	@$(PYTHON) -c 'import sys; v = sys.version_info; sys.exit(0 if v >= (3, 11) else f"Python >= 3.11 is needed, {sys.executable} is {v.major}.{v.minor}: run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)

# One stamp per extra: re-installs when pyproject.toml or constraints.txt change.
$(VENV)/.installed-%: pyproject.toml constraints.txt | $(PY)
	$(PIP) install --quiet --constraint constraints.txt --editable ".[$*]"
	@touch $@

install-book: $(VENV)/.installed-book
install-test: $(VENV)/.installed-test
install-learn: $(VENV)/.installed-learn
install-bench: $(VENV)/.installed-bench

book: install-book
	$(BIN)/jupyter-book build . -W -n --keep-going

test: install-test
	$(PY) -m pytest

learner: install-learn
	$(PY) tools/learner.py

lab: learner
	$(BIN)/jupyter lab learner

notebooks: install-test
	$(PY) tools/execute_notebooks.py

bench: install-bench
	$(PIP) install --quiet torch==2.13.0
	$(PY) benchmarks/conv_benchmark.py
	$(PY) benchmarks/pool_benchmark.py
	$(PY) benchmarks/lenet_benchmark.py

clean:
	rm -rf _build learner .hypothesis
