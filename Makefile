# mmemtm: `make test` and `make demo` set up everything they need in a local virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-installed
PKG_STAMP := $(VENV)/.mmemtm-installed
PACKAGE_FILES := setup.py README.md $(shell find mmemtm tools configs -type f \
	-not -path '*/__pycache__/*' -not -path 'mmemtm/.mim/*' 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: install test demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(DEPS_STAMP): requirements/runtime.txt requirements/demo.txt requirements/tests.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements/runtime.txt \
		-r requirements/demo.txt -r requirements/tests.txt
	touch $@

# A regular (non-editable) install: `mim train mmemtm CONFIG` needs tools/ and configs/ copied
# into the installed package's .mim folder. Reinstalled whenever a package file changes.
$(PKG_STAMP): $(DEPS_STAMP) $(PACKAGE_FILES)
	$(PY) -m pip install --disable-pip-version-check -q --no-deps --no-build-isolation .
	touch $@

install: $(PKG_STAMP)

test: install
	$(PY) -m pytest tests $(PYTEST_ARGS)

demo: install
	$(PY) tools/demo_pipeline.py

clean:
	rm -rf $(VENV) build *.egg-info work_dirs data/planted
