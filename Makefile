# Lejek: `make run` sets everything up and starts Lejek with demo data; `make test` runs the tests.
VENV := .venv
PY := $(VENV)/bin/python
# The first Python >= 3.12 on PATH (pyenv's shims honour .python-version).
PYTHON := $(shell for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	command -v $$p; break; fi; done)
PYTEST_ARGS ?= -n auto

.PHONY: run test install lint format messages clean

run: $(VENV)/.installed
	$(VENV)/bin/lejek run

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "Lejek needs Python 3.12 or newer (python3.12 or python3.13 on PATH)."; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: $(VENV)/.installed
	cd lejek && ../$(PY) ../manage.py makemessages -l pl --no-obsolete --add-location file
	cd lejek && ../$(PY) ../manage.py compilemessages -l pl

clean:
	rm -rf $(VENV) var
