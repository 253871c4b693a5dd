# mmemtm: `make test` and `make demo` set up everything they need in a local virtual environment.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEPS_STAMP := $(VENV)/.deps-installed
PKG_STAMP := $(VENV)/.mmemtm-installed
PACKAGE_FILES := setup.py README.md $(shell find mmemtm tools configs -type f \
	-not -path '*/__pycache__/*' -not -path 'mmemtm/.mim/*' 2>/dev/null)
PYTEST_ARGS ?=
# Test processes (pytest-xdist; one torch thread each): one per core by default. Whole files go
# to a worker in collection order (files with a slow test first: tests/conftest.py), not
# reordered by their number of tests.
TEST_WORKERS ?= auto

.PHONY: install test demo quickstart clean

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
	$(PY) -m pytest tests -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

demo: install
	$(PY) tools/demo_pipeline.py

# A real-feature model in one command (needs ../shared beside the checkout): EMTM's student on
# the real CLIP ViT-L/14 features of Charades-STA, trained (12 epochs, best val checkpoint),
# tested once, then asked where "person turn a light on." happens in 3MSZA, a test video.
QUICK_CONFIG := configs/ablations/emtm_charades_clip_student_only.py
QUICK_DIR := work_dirs/quickstart
QUICK_CKPT = $$(ls -t $(QUICK_DIR)/best_*.pth | head -n 1)
quickstart: install
	$(PY) tools/train.py $(QUICK_CONFIG) --work-dir $(QUICK_DIR)
	$(PY) tools/test.py $(QUICK_CONFIG) $(QUICK_CKPT) --work-dir $(QUICK_DIR)
	$(PY) tools/demo.py ../shared/data/videos/charades/3MSZA.mp4 "person turn a light on." \
		--config $(QUICK_CONFIG) --checkpoint $(QUICK_CKPT) \
		--features ../shared/data/charades_sta/clip_vitl14_vidmorp/features/3MSZA.npy \
		--gt 24.3 30.4 --out $(QUICK_DIR)/3MSZA.png

clean:
	rm -rf $(VENV) build *.egg-info work_dirs data/planted
