#!/usr/bin/env bash
# Installs the Debian packages Antrean needs when they are missing.
# Used by `make test` and `make demo` on a fresh Debian 12 / Raspberry Pi OS machine.
set -euo pipefail

# mosquitto: the broker. xvfb/xauth: a virtual screen for the Kivy tests and
# `make demo` without a monitor. libgl1-mesa-dri/libegl1: OpenGL for Kivy
# (software rendering where there is no GPU). libmtdev1: Kivy's touch input.
# espeak-ng: the board's voice clips. sox: measures and joins WAV files.
# alsa-utils: aplay, the board's audio player. libusb-1.0-0: pyusb, for the
# kiosk's USB ticket printers. fonts-dejavu-core: the printer simulator's
# previews. openssl: `antrean broker` makes the office CA and the hub's TLS
# certificate with it. shellcheck: the provisioning scripts' lint
# (systemd-analyze, for the units, comes with systemd). chromium and
# chromium-driver: the tests open the HTML report in headless Chromium.
packages=(
  mosquitto mosquitto-clients
  xvfb xauth libgl1-mesa-dri libegl1 libgl1 libmtdev1
  espeak-ng sox alsa-utils
  libusb-1.0-0 fonts-dejavu-core
  openssl shellcheck systemd
  chromium chromium-driver
)
# A Debian python3 needs the venv module from its own package; a python3 that
# already has working venv/ensurepip (pyenv, a Pi image with it) does not.
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  packages+=(python3-venv python3-pip)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
