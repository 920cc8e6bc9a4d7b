# BankWatch: `make run` serves the embedded mode, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup dev-setup run test lint unit test-integration browser-deps pgbouncer-deps stream-deps bench

# requirements.txt is what production installs; requirements-dev.txt adds the test and lint tools.
$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py provision_models
	$(PY) manage.py migrate --noinput

dev-setup: setup $(VENV)/.dev-installed

run: setup
	@$(PY) manage.py ensure_admin | $(PY) -c 'import json,sys; d=json.loads(sys.stdin.read().splitlines()[-1]); print("\nBankWatch on http://127.0.0.1:$(PORT)/  admin user: " + d["username"] + ("  password: " + d["password"] if d["password"] else "  (password unchanged; set BANKWATCH_ADMIN_PASSWORD to reset)") + "\n")'
	$(PY) -m daphne -b 127.0.0.1 -p $(PORT) bankwatch.asgi:application

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m mypy .
	$(PY) manage.py makemigrations --check --dry-run

# Browser tests drive Debian's chromium (playwright cannot download browsers here).
browser-deps:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# The integration tests and the fleet benchmark put Debian's PgBouncer in front of PostgreSQL.
pgbouncer-deps:
	test -x /usr/sbin/pgbouncer || (apt-get update && apt-get install -y pgbouncer)

# Camera stream tests serve real RTSP streams made by Debian's ffmpeg (libx264).
stream-deps:
	test -x /usr/bin/ffmpeg || (apt-get update && apt-get install -y ffmpeg)

unit: dev-setup browser-deps stream-deps
	$(PY) -m pytest -m "not integration"

# Against the real PostgreSQL and Redis of this machine, with a real Celery worker;
# the tests skip, saying why, where those services are absent.
test-integration: dev-setup pgbouncer-deps stream-deps
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bankwatch} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/15} \
	$(PY) -m pytest -m integration

test: dev-setup browser-deps stream-deps lint unit test-integration

# Benchmarks: prints JSON, writes docs/benchmarks.md and docs/benchmarks.png (a few minutes).
# face_recognition (for the side-by-side) is installed without its dependencies: its dlib
# comes from the dlib-bin wheel of requirements.txt, so dlib is never compiled here.
bench: setup
	$(PY) -c "import face_recognition" 2>/dev/null || \
		$(PY) -m pip install --quiet --disable-pip-version-check --no-deps face-recognition==1.3.0
	$(PY) manage.py bench
