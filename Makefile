# tosia: every target installs what it needs first.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
SAMPLE ?= samples/coughs-3_snr-25db_white_16k.wav
SHARED ?= ../shared
COUGH_DATA ?= $(SHARED)/data/covid19-cough
EXTRACT_DIR ?= .cache/extract
PYTHON ?= /usr/bin/python3

.PHONY: all install build browser shells notebook-deps notebook run test test-unit bench soak eval-segmentation fit-cough-score model model-card samples explore clean image-tools image-base image image-smoke

all: build

# Node 24 (the active LTS) is the reference; 22 is supported. A machine whose own node is another
# major gets the one asked for from the npm registry's `node` package, into .cache/node-N, put first
# on PATH for every recipe (node, npm, npx and the tests' children all run on it):
#   make test                  # Node 24
#   make test-unit NODE_MAJOR=22
NODE_MAJOR ?= 24
SYSTEM_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
ifneq ($(SYSTEM_NODE_MAJOR),$(NODE_MAJOR))
NODE_PREFIX := $(abspath .cache/node-$(NODE_MAJOR))
ifeq ($(wildcard $(NODE_PREFIX)/node_modules/node/bin/node),)
$(info installing Node $(NODE_MAJOR) from the npm registry into $(NODE_PREFIX) (this machine has $(if $(SYSTEM_NODE_MAJOR),Node $(SYSTEM_NODE_MAJOR),no node)))
$(shell mkdir -p $(NODE_PREFIX) && echo '{"private": true, "allowScripts": {"node": true}}' > $(NODE_PREFIX)/package.json && npm install --prefix $(NODE_PREFIX) --no-audit --no-fund --no-save node@$(NODE_MAJOR) >&2)
endif
export PATH := $(NODE_PREFIX)/node_modules/node/bin:$(NODE_PREFIX)/node_modules/.bin:$(PATH)
endif

# npm ci only when package-lock.json is newer than the installed tree
$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES_STAMP)

## The CLI, the server, the OpenAPI document (dist/openapi.json), the typed client generated from it (tosia/client) and the review page: npm run build.
build: install
	npm run build --silent

## Run the pipeline on a bundled sample.
run: build
	node dist/bin/tosia.js run $(SAMPLE)

## The browser tests drive Debian's chromium (never a downloaded browser); installed here when missing and root may.
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then echo "installing Debian's chromium for the browser tests"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; else echo "no $(CHROMIUM): the browser tests skip (apt-get install chromium)"; fi; }

## The completion tests ask zsh and fish too (Debian's, installed here when missing and root may; bash is always there).
shells:
	@command -v zsh >/dev/null && command -v fish >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then echo "installing Debian's zsh and fish for the completion tests"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zsh fish >/dev/null; else echo "no zsh or fish: their completion tests skip (apt-get install zsh fish)"; fi; }

## The notebook runs on the Deno kernel (deno from npm, into .cache/deno) under Jupyter's nbconvert (Debian's, installed here when missing and root may).
DENO := .cache/deno/node_modules/.bin/deno
NOTEBOOK_OUT ?= explore-out
$(DENO):
	npm install --prefix .cache/deno --no-audit --no-fund --no-save deno@2 >/dev/null
notebook-deps: $(DENO)
	@command -v jupyter-nbconvert >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then echo "installing Debian's Jupyter (nbconvert) for the notebook"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq jupyter-nbconvert jupyter-client python3-ipykernel >/dev/null; else echo "no jupyter-nbconvert: the notebook test skips (apt-get install jupyter-nbconvert)"; fi; }
	@mkdir -p .cache/jupyter/kernels/deno
	@printf '{"argv": ["%s", "jupyter", "--kernel", "--conn", "{connection_file}"], "display_name": "Deno", "language": "typescript"}\n' "$(abspath $(DENO))" > .cache/jupyter/kernels/deno/kernel.json

## Execute examples/explore.ipynb end to end (the same walk-through as make explore, in a notebook); the executed copy goes to $(NOTEBOOK_OUT)/.
notebook: build notebook-deps
	@mkdir -p $(NOTEBOOK_OUT)
	cd examples && JUPYTER_PATH=$(abspath .cache/jupyter) PATH=$(abspath .cache/deno/node_modules/.bin):$$PATH jupyter nbconvert --to notebook --execute explore.ipynb --output $(abspath $(NOTEBOOK_OUT))/explore.executed.ipynb --ExecutePreprocessor.timeout=300 --ExecutePreprocessor.kernel_name=deno

## The whole test suite (builds first: CLI tests spawn the built binary).
test: build browser notebook-deps shells
	@echo "make test: node $$(node --version)"
	npx vitest run

## The unit tests only (algos, the runtime's pure parts, the config): what CI also runs on Node 22.
test-unit: build
	@echo "make test-unit: node $$(node --version)"
	npx vitest run test/algos test/exports.test.ts test/import-side-effects.test.ts

## The container image with podman (Debian's podman and runc, installed here when missing and root may). No registry is
## reachable here, so the base is made locally with debootstrap (deploy/image/make-base.sh); elsewhere,
## IMAGE_BASE=docker.io/library/debian:bookworm-slim uses the official one. Node 24 comes from the npm registry.
IMAGE ?= localhost/tosia:latest
IMAGE_BASE ?= localhost/bookworm-base:local
PODMAN := podman --runtime /usr/sbin/runc
PODMAN_LIMITS := --ulimit nofile=4096:4096 --ulimit nproc=4096:4096
image-tools:
	@command -v podman >/dev/null && test -x /usr/sbin/runc && command -v debootstrap >/dev/null || { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then echo "installing Debian's podman, runc and debootstrap"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap >/dev/null; else echo "podman, runc and debootstrap are needed: apt-get install podman runc debootstrap"; exit 2; fi; }

image-base: image-tools
	@if [ "$(IMAGE_BASE)" = localhost/bookworm-base:local ]; then deploy/image/make-base.sh $(IMAGE_BASE) .cache/image-base; fi

image: image-base
	$(PODMAN) build --network host $(PODMAN_LIMITS) $(if $(NODE_EXTRA_CA_CERTS),-v $(NODE_EXTRA_CA_CERTS):/etc/ssl/certs/build-ca.crt:ro) --build-arg BASE=$(IMAGE_BASE) -t $(IMAGE) .
	@$(PODMAN) image inspect $(IMAGE) --format '{{.Size}}' | awk '{printf "$(IMAGE): %.0f MB\n", $$1/1e6}'

## Run the image two ways, as the Kubernetes manifests do (uid 1000, read-only root): tosia run on a sample, tosia serve answering /health.
image-smoke: image
	deploy/image/smoke.sh $(IMAGE)

## Benchmarks: prints the figures and appends a dated entry to BENCHMARKS.md. librosa is timed
## in the same run, from a venv made here once (pip install librosa); without it that column says why.
BENCH_VENV := .cache/bench-venv
$(BENCH_VENV)/bin/python:
	-$(PYTHON) -m venv $(BENCH_VENV) && $(BENCH_VENV)/bin/pip install -q librosa || rm -rf $(BENCH_VENV)

bench: build $(BENCH_VENV)/bin/python
	node dist/bench/bench.js

## Batch soak: covid19-cough killed with SIGKILL at random and re-run until it completes, 20 times; appends to BENCHMARKS.md.
soak: build
	node dist/bench/soak.js

## Segmentation quality of every method on the annotated covid19-cough recordings (held-out and tuned-on halves, per source), the cough_score's ROC AUC, the synthetic evaluation set, and the counts on all of covid19-cough; appends to BENCHMARKS.md.
eval-segmentation: build
	node dist/bench/eval-segmentation.js

## The demo model's card figures by tosia eval: the shipped model on its validation split, per source, with the confound audit and the duplicates (writes models/tosia-cough-demo.eval.json and .html; prints the card's table).
model-card: build
	COUGH_DATA=$(COUGH_DATA) node dist/bench/model-card.js

## Refit the onset segmenter's cough score on the annotated recordings' dev half and a synthetic training draw (rewrites algos/segment/cough-score-model.ts; rebuild after).
fit-cough-score: build
	node dist/bench/fit-cough-score.js
	$(MAKE) build

## The pipeline one stage at a time (decode, segments, one mel spectrogram, the model input, the model, the figure), figures into explore-out/.
explore: build
	node dist/examples/explore.js $(SAMPLE) explore-out

## Regenerate the bundled synthetic samples (deterministic).
samples: build
	node dist/samples/generator/generate.js samples
	node dist/samples/generator/generate.js --eval samples/eval

## Reproduce the demo model: extract tensors from the covid19-cough data, then train with Debian's PyTorch.
model: build
	@test -d $(COUGH_DATA) || { echo "$(COUGH_DATA) not found: the demo model is trained on ../shared/data/covid19-cough"; exit 2; }
	@$(PYTHON) -c 'import torch, onnx' 2>/dev/null || { echo "PyTorch missing: apt-get install python3-torch python3-onnx"; exit 3; }
	rm -rf $(EXTRACT_DIR)
	node dist/bin/tosia.js extract $(COUGH_DATA)/raw --out $(EXTRACT_DIR) --labels $(COUGH_DATA)/metadata.json --label-key covid19 || test $$? -eq 1
	$(PYTHON) models/train/train.py --extract $(EXTRACT_DIR) --metadata $(COUGH_DATA)/metadata.json --raw $(COUGH_DATA)/raw --out models

clean:
	rm -rf dist .cache
