# `make test` builds the environment when it is missing (pinned by requirements/lock.txt) and runs the suite.
PYTHON ?= python3
VENV ?= .venv
UV_VERSION = 0.13.9
STAMP = $(VENV)/.installed
# The lowest supported Airflow and providers (requirements/lowest.txt, pinned at pyproject.toml's lower bounds).
LOWEST_VENV ?= .venv-lowest
LOWEST_STAMP = $(LOWEST_VENV)/.installed

.PHONY: test test-lowest lint typecheck env clean lock lock-lowest bench demo reliability docs

# Two passes: the tests that stand alone share both cores (pytest-xdist); then the ones that run a whole Airflow
# deployment or a campaign with timing invariants (markers e2e, serial) run alone, as their deadlines assume.
# A pass that PYTEST_ARGS leaves empty (pytest exit code 5) is not a failure.
PYTEST = $(VENV)/bin/python -m pytest -p no:cacheprovider --durations=15

# Bytecode is cached (.pyc) even where the environment says not to (PYTHONDONTWRITEBYTECODE, as container images
# often set): otherwise every Python process the suite starts (each pytest worker collecting the suite, every
# Airflow component, `airflow db migrate`, spark-submit's Python runner) compiles Airflow and the tests from source
# again; collecting the suite alone goes from about 25 s to 9 s a process.
unexport PYTHONDONTWRITEBYTECODE

test: $(STAMP)
	$(VENV)/bin/ruff check airflow_provider_sparkk8s tests benchmarks dags_examples
	$(VENV)/bin/mypy
	$(MAKE) --no-print-directory docs
	$(MAKE) --no-print-directory test-lowest
	status=0; \
	$(PYTEST) -n 2 --dist worksteal -m "not (e2e or serial)" $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	$(PYTEST) -m "e2e or serial" $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	exit $$status

# The other end of the supported range: the tests marked `lowest` (the unit tests, an import of every module and a
# dag.test() of each launcher and of the Argo operator) in .venv-lowest, built from requirements/lowest.txt if missing.
test-lowest: $(LOWEST_STAMP)
	$(LOWEST_VENV)/bin/python -m pytest -p no:cacheprovider --durations=5 -n 2 --dist worksteal -m lowest \
		$(PYTEST_ARGS) || [ $$? = 5 ]

lint: $(STAMP)
	$(VENV)/bin/ruff check airflow_provider_sparkk8s tests benchmarks dags_examples

# mypy, configured in pyproject.toml ([tool.mypy]): the package must stay at 0 errors.
typecheck: $(STAMP)
	$(VENV)/bin/mypy

env: $(STAMP)

# The guides and the API reference (from the docstrings) as HTML in docs/_build/html; any warning fails the build.
docs: $(STAMP)
	$(VENV)/bin/sphinx-build -W --keep-going -n -q -E -b html docs docs/_build/html

# `make demo` builds the environment when it is missing, starts the sandbox (an emulated control plane in which the
# Spark applications dags_examples/sandbox.yaml maps run locally), runs the example DAGs in real Airflow, prints a
# summary and stops what it started. Needs Java 17+ for Spark. DEMO_ARGS: e.g. --only spark_pi_launcher_pod --keep
demo: $(STAMP)
	$(VENV)/bin/python -m airflow_provider_sparkk8s.sandbox.demo $(DEMO_ARGS)

# Every benchmark, then BENCHMARKS.md (about an hour on 2 cores). BENCH_ARGS: e.g. --quick, --only import_cost
bench: $(STAMP)
	$(VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

# Every reliability and security campaign at full size (tests/reliability/), then RELIABILITY.md. Exits non-zero on
# any violated invariant. The short seeded version runs inside `make test`. RELIABILITY_ARGS: e.g. --only faults
reliability: $(STAMP)
	$(VENV)/bin/python -m tests.reliability.campaign --full --markdown RELIABILITY.md $(RELIABILITY_ARGS)

# A virtualenv ($(1)) with exactly the packages of a pinned requirements file ($(2)), and this package (editable).
define install_env
	test -x $(1)/bin/python || $(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(1)/bin/uv pip sync --quiet --python $(1)/bin/python $(2)
	$(1)/bin/uv pip install --quiet --python $(1)/bin/python --no-deps -e .
	touch $(1)/.installed
endef

$(STAMP): requirements/lock.txt pyproject.toml
	$(call install_env,$(VENV),requirements/lock.txt)

$(LOWEST_STAMP): requirements/lowest.txt pyproject.toml
	$(call install_env,$(LOWEST_VENV),requirements/lowest.txt)

# Regenerate the pinned requirements after changing dependencies in pyproject.toml.
lock:
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 --generate-hashes \
		-o requirements/lock.txt

# Regenerate requirements/lowest.txt after changing a lower bound in pyproject.toml (and requirements/lowest.in).
lock-lowest:
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --constraint requirements/lowest.in --python-version 3.11 \
		--generate-hashes -o requirements/lowest.txt

clean:
	rm -rf $(VENV) $(LOWEST_VENV)
