# papo: `make run` starts papo locally, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# "compiled": environments installed before their packages' bytecode was compiled
# at install are installed again, once.
STAMP := $(VENV)/.installed-compiled-$(shell cat requirements/dev.txt pyproject.toml | cksum | cut -d' ' -f1)

ARCH ?= arm64
STACK ?= papo
# SAM CLI from PyPI in an environment of its own (its pins are not papo's); never
# installed by hand. Offline: dummy credentials, every AWS endpoint on a closed
# loopback port, no telemetry: validating a template reaches no AWS service.
SAM_CLI := aws-sam-cli==1.170.0
SAM := env SAM_CLI_TELEMETRY=0 $(CURDIR)/$(BIN)/uv tool run --quiet --from $(SAM_CLI) sam
SAM_OFFLINE := -u AWS_PROFILE -u AWS_SESSION_TOKEN AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_ENDPOINT_URL=http://127.0.0.1:9

.PHONY: help install web test-web run test docs docs-serve lint lint-template typecheck pytest bench-delivery bench-fanout bench-hot-path bench-bot bench-costs bench-aws bench-reads bench-storm bench-cold-start bench-page lambda serve-lambda deploy dist lock clean

help:
	@echo "make run             start papo locally (emulator, SQLite, web client)"
	@echo "make web             build the web client into web/dist"
	@echo "make test            lint (with the layers' contracts), type-check, build the docs and run every test"
	@echo "make docs            build the documentation site into site/ (strictly: a broken link fails)"
	@echo "make docs-serve      serve the documentation at http://127.0.0.1:8001/, rebuilt on every change"
	@echo "make bench-delivery  CPU per Management API post, papo vs boto3"
	@echo "make bench-fanout    public-message fan-out, papo serve vs a plain websockets server"
	@echo "make bench-hot-path  the CPU of each step of a public message in papo's handler"
	@echo "make bench-bot       the bot's first-token latency and posts per answer"
	@echo "make lambda          the Lambda zip: dist/papo-lambda-arm64.zip (ARCH=x86_64 for the other)"
	@echo "make serve-lambda    papo serve runs that zip from deploy/template.yaml, on Python 3.12"
	@echo "make deploy          deploy to AWS with SAM (guided the first time), then publish the web client"
	@echo "                     (ARCH=x86_64 deploys the x86_64 zip on x86_64)"
	@echo "make dist            papo's wheel and sdist, the built web client inside"
	@echo "make bench-costs     what 1,000 messages cost on AWS: invocations, posts, DynamoDB calls"
	@echo "make bench-aws       fan-out to 100-10,000 over a Management API 20 ms away, papo vs boto3"
	@echo "make bench-reads     DynamoDB read units of a room's member list at 100-10,000 members"
	@echo "make bench-storm     100 and 300 people joining at once, with the join window and without"
	@echo "make bench-cold-start  the handler's import from the zip on Python 3.12, against boto3's"
	@echo "make bench-page      the web page at 2,000 and 10,000 lines received, before and after windowing"
	@echo "make lock            re-pin requirements/dev.txt from pyproject.toml"

install: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements/dev.txt
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

test: lint lint-template typecheck docs test-web pytest

# The manual: MkDocs with the Material theme (mkdocs.yml), its reference tables
# made from the code by docs/hooks/reference.py. Strict: a warning fails.
MKDOCS := env NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs

docs: install
	$(MKDOCS) build --strict

docs-serve: install
	$(MKDOCS) serve --strict --dev-addr 127.0.0.1:8001

lint: install
	$(BIN)/ruff check src tests bench deploy docs/hooks hatch_build.py
	$(BIN)/ruff format --check src tests bench deploy docs/hooks hatch_build.py
	$(BIN)/lint-imports

# cfn-lint, then SAM's own checks: `sam validate` translates the template as
# CloudFormation's SAM transform would; `--lint` runs SAM's cfn-lint on it.
lint-template: install
	$(BIN)/cfn-lint deploy/template.yaml
	cd deploy && env $(SAM_OFFLINE) $(SAM) validate --template template.yaml
	cd deploy && env $(SAM_OFFLINE) $(SAM) validate --lint --template template.yaml

typecheck: install
	$(BIN)/mypy

# The suite in parallel (pytest-xdist): its tests mostly wait on servers, so more
# processes than cores. Each module runs in one process, which starts the servers
# its tests share (a browser, emulators, the wheel, the Lambda zip) once.
PYTEST_PROCESSES ?= 4

# Tracebacks as Python prints them: pytest's own rendering of a frame without a
# line number (a test stopped by pytest-timeout's signal) takes its process down.
# The modules start in the order tests/conftest.py gives them, the longest first:
# xdist would start those with the most tests first, however short. papo's and
# the tests' modules are compiled first (as the environment's packages are at
# install): the suite starts a few hundred Python processes (papo serve, worker
# processes, containers), and where PYTHONDONTWRITEBYTECODE is set each would
# compile from source every module it imports, half of a papo serve's start.
pytest: install
	$(BIN)/python -m compileall -q -j 0 src tests
	$(BIN)/pytest -n $(PYTEST_PROCESSES) --dist loadfile --no-loadscope-reorder --tb=native

bench-delivery: install
	$(BIN)/python bench/delivery.py

bench-fanout: install
	$(BIN)/python bench/fanout.py

bench-hot-path: install
	$(BIN)/python bench/hot_path.py

bench-bot: install
	$(BIN)/python bench/bot.py

bench-costs: install
	$(BIN)/python bench/costs.py

bench-aws: install
	$(BIN)/python bench/aws_fanout.py

bench-reads: install
	$(BIN)/python bench/room_reads.py

bench-storm: install
	$(BIN)/python bench/join_storm.py

bench-cold-start: install
	$(BIN)/python bench/cold_start.py

# The page of BEFORE_COMMIT (before the conversation was windowed, unless
# told otherwise), built from git into build/, against web/dist, in one run;
# PAGE_ARGS="--rounds 2" and the like go to bench/page.py.
BEFORE_COMMIT ?= ce07f19
BEFORE_WEB := build/page-$(BEFORE_COMMIT)/web

$(BEFORE_WEB)/dist/index.html:
	rm -rf build/page-$(BEFORE_COMMIT) && mkdir -p build/page-$(BEFORE_COMMIT)
	git archive $(BEFORE_COMMIT) web | tar -x -C build/page-$(BEFORE_COMMIT)
	cd $(BEFORE_WEB) && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

bench-page: install web $(BEFORE_WEB)/dist/index.html
	$(BIN)/python bench/page.py --before $(BEFORE_WEB)/dist $(PAGE_ARGS)

# papo and what Lambda's Python 3.12 lacks (it has boto3), for ARCH, from any machine.
lambda: install
	$(BIN)/python -m deploy.lambda_zip --arch $(ARCH)

# The zip as Lambda runs it: on the template's Python, 3.12 (python3.12 on PATH,
# else pyenv's), in a virtual environment with nothing but boto3 beside the zip
# (.venv-lambda, first on PATH); DynamoDB and the rest as the environment says.
LAMBDA_VENV := .venv-lambda

$(LAMBDA_VENV)/.installed: requirements/dev.txt deploy/lambda_runtime.py | install
	$(BIN)/python -m deploy.lambda_runtime $(LAMBDA_VENV)
	touch $@

serve-lambda: install $(LAMBDA_VENV)/.installed
	$(MAKE) lambda ARCH=$(shell uname -m | sed 's/aarch64/arm64/')
	PATH="$(CURDIR)/$(LAMBDA_VENV)/bin:$$PATH" $(BIN)/papo serve --template deploy/template.yaml \
		--code ChatFunction=dist/papo-lambda-$(shell uname -m | sed 's/aarch64/arm64/').zip

# The whole product on AWS: the stack (guided the first time, which saves
# deploy/samconfig.toml), its functions the zip of ARCH on that architecture;
# then the web client, to the stack and region saved, and the page's address.
deploy: lambda web
	$(BIN)/python -m deploy.sam_deploy --arch $(ARCH) --stack $(STACK) -- $(SAM)
	$(BIN)/python -m deploy.publish_web --samconfig deploy/samconfig.toml

dist: install web
	rm -rf dist/papo-*.whl dist/papo-*.tar.gz
	$(BIN)/python -m build --no-isolation --outdir dist

lock: install
	$(BIN)/uv pip compile --quiet --python $(BIN)/python --extra dev pyproject.toml -o requirements/dev.txt

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist site
