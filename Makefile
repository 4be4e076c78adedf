# ovtui: every target installs what it needs first and is quick when nothing is missing.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
APT_PKGS := libvirt-dev pkg-config gcc libvirt-clients tmux slapd ldap-utils prometheus openssh-server samba samba-ad-dc samba-ad-provision libxml2-dev logrotate systemd postgresql openipmi ipmitool fence-agents
# provisioning: cloud-init NoCloud seeds (cloud-localds, genisoimage; isoinfo in the tests)
APT_PKGS += cloud-image-utils genisoimage
# `make bench`: the test driver served by a libvirtd of its own (bench/testdriver_daemon.py)
APT_PKGS += libvirt-daemon

.PHONY: venv demo test test-fast lint fmt typecheck check bench bench-lab system-deps clean

system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  echo "slapd slapd/no_configuration boolean true" | debconf-set-selections; \
	  guard=""; if [ ! -e /usr/sbin/policy-rc.d ]; then guard=1; \
	    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  rc=$$?; [ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; [ $$rc -eq 0 ] || exit $$rc; \
	fi

$(STAMP): pyproject.toml | system-deps
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: system-deps $(STAMP)

demo: venv
	$(BIN)/ovtui demo

test: venv
	$(BIN)/pytest -q

test-fast: venv
	$(BIN)/pytest -q -m "not slow"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: venv
	$(BIN)/mypy

check: lint typecheck test

bench: venv
	$(BIN)/python -m bench.core_figures
	$(BIN)/python -m bench.exporter_figures
	$(BIN)/python -m bench.policy_figures
	$(BIN)/python -m bench.tui_figures
	$(BIN)/python -m bench.micro_figures
	$(BIN)/python -m bench.ovirt_figures
	$(BIN)/python -m bench.deploy_figures
	$(BIN)/python -m bench.summary --readme README.md

bench-lab: venv
	$(BIN)/python -m bench.lab_figures
	$(BIN)/python -m bench.exporter_lab_figures
	$(BIN)/python -m bench.ha_lab_figures
	$(BIN)/python -m bench.network_lab_figures
	$(BIN)/python -m bench.storage_figures
	$(BIN)/python -m bench.poll_lab_figures
	$(BIN)/python -m bench.provision_figures

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
