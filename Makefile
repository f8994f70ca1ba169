# snomprov: `make run` installs into .venv and runs the daemon on the embedded
# defaults; `make test` installs with the test extras, builds the example
# vendor plugins (examples/*) as wheels and installs them, and runs the suite
# with the examples' own tests.

# The venv's interpreter: the system's /usr/bin/python3 when it is 3.11 or
# newer (Debian builds it with PGO and LTO: the PnP path runs about a quarter
# faster on it than on a plain source build such as pyenv's), else the first
# python3 on PATH.  Choose another with `make PYTHON=... run`.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
            && echo /usr/bin/python3 || echo python3)
VENV   ?= .venv
BIN     = $(VENV)/bin
CONFIG ?= conf/snomprov.toml

.PHONY: run test install install-test install-examples install-fuzz fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); python3 -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

# What an install copies into the venv; when none of it changed since the
# last install (the stamp files below, inside the venv so that `rm -rf .venv`
# or `make clean` forgets them), `make run` and `make test` skip pip.
SOURCES = pyproject.toml setup.cfg $(shell find snomprov twisted -name '*.py' -o -name py.typed)

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-examples: $(VENV)/.installed-examples
install-fuzz: $(VENV)/.installed-fuzz

# The example vendors, each its own distribution, installed the way a site
# installs a third party's vendor: as a wheel, found through its
# `snomprov.vendors` entry point.
EXAMPLES        = examples/snomprov-yealink examples/snomprov-grandstream
EXAMPLE_NAMES   = snomprov-yealink snomprov-grandstream
EXAMPLE_SOURCES = $(shell find $(EXAMPLES) \( -name tests -o -name build \) -prune -o -type f \( -name '*.py' -o -name pyproject.toml -o -name README.md \) -print)
WHEELS          = dist/examples

# The two installs replace each other in the venv: each forgets the other's
# stamp.  The plain install (`make run`) has no example vendors.
$(VENV)/.installed: $(BIN)/python $(SOURCES)
	rm -f $(VENV)/.installed-test $(VENV)/.installed-examples $(VENV)/.installed-fuzz
	$(BIN)/python -m pip uninstall -q -y $(EXAMPLE_NAMES) 2>/dev/null || true
	$(BIN)/python -m pip install -q .
	$(BIN)/python -c "from twisted.plugin import IPlugin, getPlugins; import snomprov.plugins; list(getPlugins(IPlugin)); list(getPlugins(IPlugin, snomprov.plugins))"
	touch $@

# Editable: the venv runs the checkout's sources, so only the metadata
# (dependencies, entry points, packages) calls for a new install.
$(VENV)/.installed-test: $(BIN)/python pyproject.toml setup.cfg
	rm -f $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

# After the test install (the wheels' dependency, snomprov, is the checkout).
# setuptools' build/ of an earlier build would put files since removed into
# the wheel: each is built from a clean tree.
$(VENV)/.installed-examples: $(VENV)/.installed-test $(EXAMPLE_SOURCES)
	rm -rf $(WHEELS)
	for example in $(EXAMPLES); do \
	  rm -rf $$example/build $$example/src/*.egg-info; \
	  $(BIN)/python -m pip wheel -q --no-deps $$example -w $(WHEELS) || exit 1; \
	  rm -rf $$example/build $$example/src/*.egg-info; \
	done
	$(BIN)/python -m pip install -q --no-deps --force-reinstall $(WHEELS)/*.whl
	touch $@

# The test install plus atheris (the `fuzz` extra), for `make fuzz`.
$(VENV)/.installed-fuzz: $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e '.[test,fuzz]' --config-settings editable_mode=compat
	touch $@

# Each harness of fuzz/ under atheris for FUZZ_SECONDS; prints executions
# and coverage per target; a crash is kept in tests/fuzz_cases/ and fails.
FUZZ_SECONDS ?= 60
fuzz: install-fuzz
	$(BIN)/python -m fuzz.run --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

run: install
	$(BIN)/twistd -n --pidfile= snomprov $(if $(CONFIG),--config $(CONFIG),)

test: install-test install-examples
	$(BIN)/python -m pytest -q -p no:randomly

bench: install
	$(BIN)/python bench/pnp_storm.py
	$(BIN)/python bench/http_config.py
	$(BIN)/python bench/tftp.py

clean:
	rm -rf $(VENV) build *.egg-info var dist
