# The two commands: `make run` (try it) and `make test` (pass the tests). See README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi

.PHONY: run test venv deps dev-deps migrate demo lint catalogs bench-ussd clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

migrate: deps
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) demo

run: demo
	$(FLASK) serve

test: dev-deps
	bash scripts/test.sh $(ARGS)

lint: dev-deps
	$(VENV)/bin/ruff check .

# Re-extract text from the code and merge it into every catalog (then translate what is new).
catalogs: dev-deps
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o locales/messages.pot .
	for lang in en lg sw; do $(VENV)/bin/pybabel update -i locales/messages.pot -d locales -l $$lang --no-fuzzy-matching; done

bench-ussd: dev-deps
	$(PY) bench/ussd.py

clean:
	rm -rf $(VENV) instance .pytest_cache
