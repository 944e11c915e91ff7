# papo: `make run` starts papo locally, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/dev.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: help install web test-web run test lint typecheck pytest bench-delivery bench-fanout bench-bot lambda lock clean

help:
	@echo "make run             start papo locally (emulator, SQLite, web client)"
	@echo "make web             build the web client into web/dist"
	@echo "make test            lint, type-check and run the whole test suite"
	@echo "make bench-delivery  CPU per Management API post, papo vs boto3"
	@echo "make bench-fanout    public-message fan-out, papo serve vs a plain websockets server"
	@echo "make bench-bot       the bot's first-token latency and posts per answer"
	@echo "make lambda          build the Lambda code into deploy/build (arm64, Python 3.12)"
	@echo "make lock            re-pin requirements/dev.txt from pyproject.toml"

install: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements/dev.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	rm -f $(VENV)/.installed-* && touch $@

WEB_SOURCES := $(shell find web/src -type f) web/index.html web/vite.config.ts web/tsconfig.json

# The web client: React, built by Vite (its TypeScript checked first) into web/dist.
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run --silent build

test-web: web
	cd web && npm test --silent

run: install web
	$(BIN)/papo serve

test: lint typecheck test-web pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/pytest

bench-delivery: install
	$(BIN)/python bench/delivery.py

bench-fanout: install
	$(BIN)/python bench/fanout.py

bench-bot: install
	$(BIN)/python bench/bot.py

# The Lambda runtime ships boto3; papo adds msgspec, Powertools and openai, and leaves
# out the local emulator and the command line.
lambda: install
	rm -rf deploy/build && mkdir -p deploy/build
	$(BIN)/uv pip install --quiet --target deploy/build --python-platform aarch64-manylinux2014 \
		--python-version 3.12 --only-binary :all: "msgspec>=0.18" "aws-lambda-powertools>=3.0" "openai>=3.50"
	cp -r src/papo deploy/build/papo
	rm -rf deploy/build/papo/local deploy/build/papo/cli.py deploy/build/papo/__main__.py
	find deploy/build -name __pycache__ -prune -exec rm -rf {} +

lock: install
	$(BIN)/uv pip compile --quiet --python $(BIN)/python --extra dev pyproject.toml -o requirements/dev.txt

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
