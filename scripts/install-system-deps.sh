#!/usr/bin/env bash
# Installs the Debian packages Antrean needs when they are missing.
# Used by `make test` and `make demo` on a fresh Debian 12 or 13 / Raspberry Pi
# OS machine; `make test-fresh` runs both in a fresh root of each release.
# PYTHON: the interpreter the venv is made from (the Makefile's, python3).
set -euo pipefail
python=${PYTHON:-python3}

# mosquitto: the broker. xvfb/xauth: a virtual screen for the Kivy tests and
# `make demo` without a monitor. libgl1-mesa-dri/libegl1: OpenGL for Kivy
# (software rendering where there is no GPU). libmtdev: Kivy's touch input.
# espeak-ng: the board's voice clips. sox: measures and joins WAV files.
# alsa-utils: aplay, the board's audio player. libusb-1.0-0: pyusb, for the
# kiosk's USB ticket printers. fonts-dejavu-core: the printer simulator's
# previews. openssl: `antrean broker` makes the office CA and the hub's TLS
# certificate with it. shellcheck: the provisioning scripts' lint
# (systemd-analyze, for the units, comes with systemd).
# gcc, libc6-dev, linux-libc-dev (linux/input.h): evdev, the counter's keypad
# library, has no wheel on PyPI, so pip builds it. Not Debian's python3-evdev
# as on a Pi: that is built for Debian's python3 only, and the venv would need
# --system-site-packages, which lets every Debian Python package into the tests.
# "a|b": one package under two names; Debian 13 renamed libraries for 64-bit
# time_t (libmtdev1 is libmtdev1t64 there). The first name apt knows is installed.
# chromium and chromium-driver: the tests open the HTML report in headless Chromium.
# postgresql: the central service's database (its tests make a private cluster
# with its initdb and pg_ctl); libpq5: the library psycopg (pure Python) loads.
packages=(
  mosquitto mosquitto-clients
  xvfb xauth libgl1-mesa-dri libegl1 libgl1 "libmtdev1t64|libmtdev1"
  espeak-ng sox alsa-utils
  libusb-1.0-0 fonts-dejavu-core
  openssl shellcheck systemd
  gcc libc6-dev linux-libc-dev
  chromium chromium-driver
  postgresql libpq5
)
if ! command -v "$python" >/dev/null; then
  packages+=(python3 python3-venv python3-dev)
else
  # A Debian python3 needs the venv module and the C headers from their own
  # packages; a python3 that has them (pyenv, a Pi image) does not.
  if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    packages+=(python3-venv python3-pip)
  fi
  has_headers='import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'
  if ! "$python" -c "$has_headers"; then
    packages+=("$("$python" -c 'import sys; print("python%d.%d-dev" % sys.version_info[:2])')")
  fi
fi
# (grep without -q: with pipefail, -q's early exit would fail the pipe by SIGPIPE.)
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep "install ok installed" >/dev/null; }
# A real package in apt's lists (a name only provided by another is not one).
known() { apt-cache show --no-all-versions "$1" 2>/dev/null | grep '^Package: ' >/dev/null; }
# tests/tools/test_deploy.py verifies our drop-in for systemd-time-wait-sync.service,
# which comes with systemd-timesyncd from Debian 13 on (with systemd before).
# systemd-timesyncd conflicts with every other time daemon: never replace one.
unit=systemd-time-wait-sync.service
if [ ! -e "/usr/lib/systemd/system/$unit" ] && [ ! -e "/lib/systemd/system/$unit" ]; then
  other=""
  for daemon in chrony ntp ntpsec openntpd; do installed "$daemon" && other=$daemon; done
  [ -n "$other" ] || packages+=(systemd-timesyncd)
fi

group_installed() {
  local names name
  IFS='|' read -ra names <<<"$1"
  for name in "${names[@]}"; do installed "$name" && return 0; done
  return 1
}

missing=()
for group in "${packages[@]}"; do
  group_installed "$group" || missing+=("$group")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
install=()
for group in "${missing[@]}"; do
  IFS='|' read -ra names <<<"$group"
  pick=${names[-1]}
  for name in "${names[@]}"; do
    if known "$name"; then pick=$name && break; fi
  done
  install+=("$pick")
done
echo "Installing Debian packages: ${install[*]}"
$sudo apt-get install -y -qq --no-install-recommends "${install[@]}"
# A name apt installs only through another package's Provides would be
# "missing" again on the next run, which then needs root and the network.
for group in "${missing[@]}"; do
  group_installed "$group" || {
    echo "install-system-deps.sh: apt-get installed $group under another name; fix its name here" >&2
    exit 1
  }
done
