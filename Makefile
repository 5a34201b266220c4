# Switchboard: `make run` for the demo, `make test` for the suite. Needs only Python 3.11+.
# Everything is installed into .venv; the demo keeps its database, keys and queue under var/.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Extra pytest arguments, e.g. `make test PYTEST_ARGS="-k worker -x"`.
PYTEST_ARGS ?=

# Re-run pip only when a requirements file changed since the last install.
RUN_STAMP := $(VENV)/.installed-requirements
TEST_STAMP := $(VENV)/.installed-requirements-test
DEMO_STAMP := $(VENV)/.installed-requirements-demo

# Made by `manage.py seed_demo` (demo/seed/).
DEMO_LOGIN := demo@example.org / switchboard-demo
# Published like the demo password: the demo's break-glass bundle (admin → Break-glass bundle) opens with it.
DEMO_PASSPHRASE := harbor lantern ferry quartz meadow
# Where the demo answers: always 127.0.0.1, never "localhost" (a browser keeps cookies per host
# name, so a login on one is logged out on the other). Every URL below and in the demo's emails.
DEMO_URL := http://127.0.0.1:$(PORT)
# The demo: plain HTTP, the admin open with the published demo password (a real install asks
# admins for an authenticator code), Celery allowed to run as root, and mail sent to the demo's
# SMTP sink (manage.py demo_mail) with links pointing at this server.
DEMO_ENV := BREAK_GLASS_PASSPHRASE="$(DEMO_PASSPHRASE)" DEBUG=true ADMIN_REQUIRES_MFA=false C_FORCE_ROOT=1 PATH="$(abspath $(BIN)):$$PATH" \
	EMAIL_URL=smtp://127.0.0.1:1025 SITE_URL=$(DEMO_URL)

.PHONY: run test migrate lint format clean distclean venv

run: $(DEMO_STAMP) migrate
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	@echo
	@echo "  Switchboard is starting at $(DEMO_URL)/  (admin: $(DEMO_URL)/admin/)"
	@echo "  Demo login: $(DEMO_LOGIN)"
	@echo "  Break-glass bundle (admin → Break-glass bundle → Bundles → Build a bundle now): passphrase \"$(DEMO_PASSPHRASE)\""
	@echo "  Web, Celery worker and beat, a PDU simulator, a local S3 server, the demo hosts and a mail sink run together; Ctrl-C stops them all."
	@echo "  On 127.0.0.1: web :$(PORT), PDU simulator :16161, S3 :15000, demo hosts :17101-17121, mail sink :1025 (PORT moves only the web server)."
	@echo "  Take the Xen host down: $(BIN)/python manage.py demo_hosts --stop xen1   (and --start xen1)"
	@echo "  Within a minute the alert email, with its one-tap acknowledge link, is at $(DEMO_URL)/demo/mailbox/"
	@echo
	@# honcho exits 130 after Ctrl-C: that is the normal way to stop the demo.
	@# WEB_PORT: honcho gives each process its own PORT; the demo's heartbeat curl needs the web's.
	$(DEMO_ENV) WEB_PORT=$(PORT) $(BIN)/honcho start -f Procfile.dev -p $(PORT) || [ $$? -eq 130 ]

test: $(TEST_STAMP)
	@# pytest exits 5 when it collected no tests; make treats that as the failure it is.
	$(BIN)/pytest -n 2 --dist loadgroup -ra --durations=5 $(PYTEST_ARGS)

migrate: $(RUN_STAMP)
	$(BIN)/python manage.py migrate --noinput

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

venv: $(RUN_STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Switchboard needs Python 3.11 or newer; try: make PYTHON=python3.12"; exit 1; }
	$(PYTHON) -m venv $(VENV) \
		|| { echo "Could not create $(VENV) (on Debian/Ubuntu: apt-get install python3-venv)"; rm -rf $(VENV); exit 1; }

$(RUN_STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $@

$(DEMO_STAMP): requirements-demo.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-demo.txt
	touch $@

$(TEST_STAMP): requirements-test.txt requirements-demo.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements-test.txt
	touch $@

# Generated files only; the demo database and its keys in var/ stay.
clean:
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis staticfiles test-artifacts

# Back to a fresh clone: also removes .venv and var/ (the demo database, its keys and queue).
distclean: clean
	rm -rf $(VENV) var
