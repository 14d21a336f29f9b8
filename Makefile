# The commands of the README: `make run`, `make test` and `make demo`. All work from a fresh clone:
# they install uv (through pip) when it is missing and sync the workspace from uv.lock.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=

.PHONY: run test test-fast test-faults test-containers demo bench lint sync uv services asyncapi consoles browser containers

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet --disable-pip-version-check uv

sync: uv
	@$(UV) sync --frozen --quiet

services:
	@scripts/services-up

# The consoles' pages (consoles/README.md): npm packages from the lock, the API client
# generated from the gateway's /openapi.json, lint and types, the build into the gateway's
# package (kept in git, so that the image and every install serve it without Node.js; in CI a
# build that differs from the one committed fails).
CONSOLES_BUILD := services/gateway/src/gateway/pages/app

consoles/node_modules/.installed: consoles/package-lock.json
	cd consoles && npm ci --no-audit --no-fund --loglevel=error
	touch $@

consoles: sync consoles/node_modules/.installed
	mkdir -p consoles/build
	$(UV) run supportctl openapi > consoles/build/openapi.json
	cd consoles && npm run -s api && npm run -s check && npm run -s build
	@if [ -n "$${CI:-}" ] && ! git diff --quiet -- $(CONSOLES_BUILD); then \
		echo "consoles: the committed build is not what consoles/ builds: run make consoles and commit it" >&2; \
		git diff --stat -- $(CONSOLES_BUILD) >&2; exit 1; fi

# the browser tests' Chromium, and the OpenID provider of the sign-in test (tests-browser/idp)
tests-browser/idp/node_modules/.installed: tests-browser/idp/package-lock.json
	cd tests-browser/idp && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser: tests-browser/idp/node_modules/.installed
	@scripts/browser-up

containers:
	@scripts/podman-up

lint: sync
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy contracts/src libs/eventlog/src libs/testkit/src demo/src services/session-svc/src services/invite-svc/src libs/rpc/src libs/runtime/src services/routing-svc/src services/media-relay/src services/gateway/src

test: sync services lint consoles browser
	timeout -k 30 1500 $(UV) run pytest $(PYTEST_ARGS)  # a hang fails CI in 25 min, not 90

test-fast: sync  # no RabbitMQ, PostgreSQL or subprocess needed: the unit and in-memory tests
	timeout -k 30 300 $(UV) run pytest -m "not integration" $(PYTEST_ARGS)

test-faults: sync services  # RabbitMQ and PostgreSQL of its own, stopped, killed and started
	timeout -k 30 900 $(UV) run pytest tests-faults $(PYTEST_ARGS)

# The image from the Dockerfile and docker-compose.yml, built and run with podman on stand-ins for
# the upstream images (tests-containers/README.md); then the end-to-end story on the image.
test-containers: sync services containers
	timeout -k 30 1500 $(UV) run pytest --services-from-image tests-containers tests-e2e/test_story.py $(PYTEST_ARGS)

run: sync  # the whole stack until Ctrl-C: processes on RabbitMQ and PostgreSQL, or embedded
	@if ! command -v npm >/dev/null 2>&1; then echo "run: no npm here: the consoles as committed" >&2; \
		elif ! $(MAKE) --no-print-directory consoles >/dev/null 2>&1; then \
		echo "run: the consoles did not build (make consoles says why): serving them as committed" >&2; fi
	@$(UV) run python -m support_demo.run

demo: sync
	@$(UV) run python -m support_demo

bench: sync services
	$(UV) run python bench/eventlog/run.py
	$(UV) run python bench/eventlog/consumers.py
	$(UV) run python bench/session/run.py
	$(UV) run python bench/session/decisions.py
	$(UV) run python bench/routing/run.py
	$(UV) run python bench/relay/run.py
	$(UV) run python bench/e2e/run.py
	$(UV) run python bench/e2e/sessions.py

asyncapi: sync  # the AsyncAPI document of support.events, from the contract models
	$(UV) run python -m eventlog.asyncapi > docs/asyncapi.json
