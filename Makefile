# The two set-up commands of the README: `make demo` and `make test`.
# Both create a virtual environment in .venv and install guotu into it first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_DIR ?= /tmp/guotu-pg
PG_PORT ?= 55432

.PHONY: install ui pdf-check demo test lint bench bench-review bench-serve bench-access bench-monitor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgis]' --group test --group dev
	$(BIN)/python -c "from guotu.domain.geometry.overlay import warm_up; warm_up()"  # numba kernels, cached
	touch $(STAMP)

install: $(STAMP) ui

# The web UI's front-end packages (MapLibre GL JS), exactly as package-lock.json pins them,
# into src/guotu/web/static/node_modules (served by guotu.web.ui; no CDN). Without npm the
# UI page says how to install them, the API works and the browser tests skip.
UI_DIR := src/guotu/web/static
UI_STAMP := $(UI_DIR)/node_modules/.installed
$(UI_STAMP): $(UI_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd $(UI_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the web UI's assets are not installed (its browser tests skip)"; fi

ui: $(UI_STAMP)

# Build the demo county into demo_county.gpkg, check its quality and print its 用地平衡表;
# the web UI's assets too, so that `guotu serve` afterwards shows the map.
demo: $(STAMP) ui
	$(BIN)/guotu demo -w demo_county.gpkg --force

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

# PDF reports embed Debian's fonts-wqy-microhei (or the font GUOTU_PDF_FONT names); the PDF
# tests read them back with poppler-utils. .ci/run installs both; here a missing one is named.
pdf-check:
	@[ -n "$$GUOTU_PDF_FONT" ] || [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || \
	  echo "no CJK font for PDF reports: apt-get install fonts-wqy-microhei (the PDF tests skip)"
	@command -v pdftotext >/dev/null && command -v pdffonts >/dev/null || \
	  echo "poppler-utils not found: apt-get install poppler-utils (the PDF tests skip)"

# Lint, import contracts, types, then the whole default test suite. The PostGIS contract
# tests use GUOTU_TEST_PG_DSN; without it, a throw-away cluster is started (and stopped again)
# when PostgreSQL 15 + PostGIS are installed here. Otherwise they skip (they fail in CI=true).
# Coverage is measured here only (not on every pytest run) and fails the target below the
# floor of [tool.coverage.report] fail_under in pyproject.toml.
test: lint ui pdf-check
	@dsn="$${GUOTU_TEST_PG_DSN:-}"; started=; \
	if [ -z "$$dsn" ] && ! bash scripts/pg-throwaway status "$(PG_DIR)" && \
	   dsn=$$(GUOTU_PG_NO_INSTALL=1 bash scripts/pg-throwaway start "$(PG_DIR)" $(PG_PORT) 2>/dev/null); \
	then started=1; \
	elif [ -z "$$dsn" ] && bash scripts/pg-throwaway status "$(PG_DIR)"; then \
	  dsn=$$(GUOTU_PG_NO_INSTALL=1 bash scripts/pg-throwaway start "$(PG_DIR)" $(PG_PORT)); fi; \
	[ -n "$$dsn" ] && echo "PostGIS for the tests: $$dsn" || echo "no PostGIS here: its tests skip"; \
	status=0; GUOTU_TEST_PG_DSN="$$dsn" $(BIN)/python -m pytest --cov --cov-report=term || status=$$?; \
	if [ -n "$$started" ]; then bash scripts/pg-throwaway stop "$(PG_DIR)"; fi; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_datahub.py

# Plan-review overlay vs geopandas, PostGIS, DuckDB spatial, SedonaDB (docs/benchmarks.md).
bench-review: $(STAMP)
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python benchmarks/bench_review.py

# Site query and vector tiles vs PostGIS, in-process and over HTTP (docs/benchmarks.md).
# Builds the 300k demo county in /tmp/bench-serve first (a few minutes; reused after).
bench-serve: $(STAMP)
	$(BIN)/python benchmarks/bench_serve.py

# The cost of sign-in and graded access: site query and tiles with auth and policies on vs off,
# sign-ins per second, argon2id (docs/benchmarks.md). Shares bench-serve's county.
bench-access: $(STAMP)
	$(BIN)/python benchmarks/bench_access.py

# Incremental vs full indicators after a 1 % amendment, and 10,000 change patches vs PostGIS.
bench-monitor: $(STAMP)
	$(BIN)/python -m pip install --quiet --group bench
	$(BIN)/python benchmarks/bench_monitor.py

# Approval cases (issue 17): a county-year of 20,000 cases in GeoPackage and PostGIS; 待办 lists,
# statistics and intake over HTTP and in-process (docs/benchmarks.md). Uses bench-serve's 30k
# county (/tmp/bench-serve, built once) and builds the demo in a PostGIS schema of its own
# (GUOTU_BENCH_PG_DSN or GUOTU_TEST_PG_DSN, else a throw-away server).
.PHONY: bench-approvals
bench-approvals: $(STAMP)
	$(BIN)/python benchmarks/bench_approvals.py

clean:
	rm -rf $(VENV) demo_county.gpkg demo_county_files
