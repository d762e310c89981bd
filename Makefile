# Task runner. `make run` and `make test` each do all set-up they need (see scripts/bootstrap.sh).
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python
SPHINX := .venv/bin/sphinx-build
SITE := build/site
HOST ?= 127.0.0.1
PORT ?= 8000
PROMETHEUS ?= 0
PROMETHEUS_PORT ?= 9090
SEED ?= ../shared/seeds/000_cf57a7d67fd07831.txt

.PHONY: help setup run site check lint lint-api test test-fast acceptance export clients chat ops bench eval-assistant reset lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install the venv (from requirements.lock) and the system tools when missing
	@scripts/bootstrap.sh python graphviz

site: setup ## build the spec site into build/site (warnings are errors)
	$(SPHINX) -W --keep-going -q -b html docs $(SITE)

run: setup ## set up, build the site (with the latest acceptance results) and serve it with the sandbox (PROMETHEUS=1: and a Prometheus)
	@$(MAKE) --no-print-directory acceptance || echo "run: some acceptance scenarios failed; the site shows which"
	$(MAKE) --no-print-directory site
	@if [ "$(PROMETHEUS)" = 1 ]; then $(MAKE) --no-print-directory ops; fi
	$(PY) -m futurebank.serve --site $(SITE) --host $(HOST) --port $(PORT) $(if $(filter 1,$(PROMETHEUS)),--prometheus-port $(PROMETHEUS_PORT))

chat: setup ## re-parse the chat seed into docs/chat/messages.yaml
	.venv/bin/futurebank chat parse --seed $(SEED)

check: setup ## fast data checks: chat drift, ids, rollout flagd files; the suspect items of the last site build
	.venv/bin/futurebank chat check --seed $(SEED)
	.venv/bin/futurebank flags check
	@if [ -f $(SITE)/_workshop/state.json ]; then .venv/bin/futurebank suspects --skip-stale --site $(SITE); \
	else echo "check: no site build yet, so no suspect list (make site writes it)"; fi

lint: setup ## ruff, mypy and the import rules (lint-imports)
	.venv/bin/ruff check src tests
	.venv/bin/ruff format --check src tests
	.venv/bin/mypy
	.venv/bin/lint-imports --no-cache

export: site ## write needs.json, traceability.csv/.xlsx, story exports and spec.reqif into build/export (the site publishes them too)
	.venv/bin/futurebank export --needs $(SITE)/needs.json --out build/export

clients: setup ## generate a typed Python client and TypeScript types from docs/api/openapi.yaml into build/clients
	scripts/clients.sh build/clients

STAGE := scripts/stage.sh

test: ## set up everything and run every check (each stage says what it runs and how long it took)
	@rm -f build/stages.log
	@$(STAGE) "set-up" scripts/bootstrap.sh python graphviz chromium node postgres prometheus
	@$(STAGE) "chat drift check" $(MAKE) --no-print-directory check
	@$(STAGE) "ruff and mypy" $(MAKE) --no-print-directory lint
	@$(STAGE) "acceptance scenarios" $(MAKE) --no-print-directory acceptance
	@$(STAGE) "strict site build" $(MAKE) --no-print-directory site
	@$(STAGE) "exports" $(MAKE) --no-print-directory export
	@$(STAGE) "generated clients" $(MAKE) --no-print-directory clients
	@$(STAGE) "pytest (all tiers)" env FUTUREBANK_SITE_DIR=$(SITE) .venv/bin/pytest --ignore=tests/acceptance
	@$(STAGE) --summary

test-fast: ## the edit loop: unit and integration tests on SQLite only (no PostgreSQL; the first run installs the other tools those tests use)
	@rm -f build/stages.log
	@$(STAGE) "set-up" scripts/bootstrap.sh python graphviz chromium node prometheus
	@$(STAGE) "unit + integration (SQLite)" .venv/bin/pytest tests/unit tests/integration -m "not postgres" -q
	@$(STAGE) --summary

reset: setup ## reset the sandbox's demo data (the database of `make run`; the server may keep running)
	$(PY) -m futurebank.sandbox reset

acceptance: setup ## run the Gherkin scenarios against the sandbox; writes build/acceptance/results.json
	.venv/bin/pytest tests/acceptance -q

lint-api: ## Spectral on the OpenAPI and AsyncAPI contracts
	@scripts/bootstrap.sh spectral
	cd tools && npx --no-install spectral lint --fail-severity=error --ruleset ../docs/api/.spectral.yaml ../docs/api/openapi.yaml ../docs/api/asyncapi.yaml

ops: setup ## Prometheus rules and a Grafana dashboard from the SLOs (build/ops/), checked with promtool
	@scripts/bootstrap.sh prometheus
	.venv/bin/futurebank ops generate
	promtool check rules build/ops/slo-rules.yml
	cp tests/integration/spec/promtool/slo-alerts.test.yml build/ops/ && cd build/ops && promtool test rules slo-alerts.test.yml

bench: setup ## benchmarks (printing figures)
	$(PY) -m futurebank.bench

eval-assistant: setup ## the assistant's held-out evaluation (prints figures, writes build/eval/assistant.json)
	$(PY) -m futurebank.assistant_eval

lock: ## re-resolve requirements.lock from pyproject.toml (needs the registry)
	python3 -m pip install -q uv && python3 -m uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements.lock

clean: ## remove build output
	rm -rf build
