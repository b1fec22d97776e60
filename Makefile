# The two commands in the README: `make demo` and `make test`.
# Both install what is missing (Debian packages, .venv) before they run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench lint typecheck pytest system-deps clean bundle kit test-provision test-fresh

demo: system-deps $(STAMP)
	$(BIN)/antrean demo --config antrean.example.toml

test: system-deps $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

bench: system-deps $(STAMP)
	$(BIN)/python bench/run_all.py

# The offline bundle for Raspberry Pi units (docs/provisioning.md): the app and
# every wheel for CPython 3.11 (Bookworm) and 3.13 (Trixie) on aarch64.
ARCH ?= aarch64
PYTHONS ?= 3.11 3.13
bundle: $(STAMP)
	ARCH=$(ARCH) PYTHONS="$(PYTHONS)" deploy/raspberrypi/build-bundle.sh dist $(BIN)/python

# The offline kit (docs/provisioning.md): the bundle for this machine's
# architecture and each role's Debian packages, with SHA256SUMS. Run it on a
# machine like the Pis (same release and architecture), with internet.
kit: $(STAMP)
	PYTHONS="$(PYTHONS)" deploy/raspberrypi/build-kit.sh dist $(BIN)/python

# Slow (minutes, needs root): provisioning end to end in a debootstrap root,
# each role in ROLES (ROLE=counter: one), then its programs started there.
# ARCH=aarch64: an arm64 root through qemu-user-static (docs/provisioning.md,
# "Testing provisioning"); default: this machine's architecture. KIT=1: build
# the offline kit, then provision from it alone with the network cut;
# FIRSTBOOT=1 (with KIT=1): through firstboot.sh from the kit on the boot
# partition, cut in the middle and booted again.
ROLES ?= hub portable display counter
TEST_ARCH := $(if $(filter command line environment,$(origin ARCH)),$(ARCH),$(shell uname -m))
test-provision: $(STAMP)
	rm -rf var/provision-cache/bundle-$(TEST_ARCH)
	ARCH=$(TEST_ARCH) PYTHONS=3.11 deploy/raspberrypi/build-bundle.sh var/provision-cache/bundle-$(TEST_ARCH) $(BIN)/python
	rc=0; for role in $(or $(ROLE),$(ROLES)); do \
	  ROLE=$$role ARCH=$(TEST_ARCH) PYTHON=$(BIN)/python KIT=$(KIT) FIRSTBOOT=$(FIRSTBOOT) \
	    scripts/test-provision.sh var/provision-cache/bundle-$(TEST_ARCH)/antrean-bundle-*.tar.gz || rc=1; \
	done; exit $$rc

# Slow (needs root and the network): `make test` and `make demo` in a clean
# clone of the last commit, in a fresh minimal Debian root (debootstrap) of
# each release in DIST, as on a newcomer's machine.
DIST ?= bookworm trixie
test-fresh:
	rc=0; for dist in $(DIST); do scripts/test-fresh.sh $$dist || rc=1; done; exit $$rc

system-deps:
	PYTHON=$(PYTHON) ./scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
