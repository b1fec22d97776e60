# shellcheck shell=bash
# Debian packages for the role. They come from the Pi's apt sources (internet
# at provisioning time) or, offline, from a `debs/` folder in the bundle.
[ -n "$FILES_ONLY" ] && return 0

# A power cut during an earlier run's apt-get leaves packages unpacked but not
# configured, and apt refuses to work until they are: finish them first.
if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
  say "finishing the packages an interrupted run left half installed (dpkg --configure -a)"
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  CHANGED+=("dpkg --configure -a")
fi

packages=(python3 python3-venv ca-certificates systemd-timesyncd fake-hwclock)
[ -n "$BROKER" ] && packages+=(mosquitto mosquitto-clients)
# Kivy's wheel brings SDL2; SDL2's kmsdrm driver loads these at run time.
[ -n "$SCREEN" ] && packages+=(libgl1-mesa-dri libegl1 libgles2 libgbm1 libdrm2 libmtdev1)
[ "$SCREEN" = kiosk ] && packages+=(libusb-1.0-0 usbutils)
[ "$SCREEN" = board ] && packages+=(alsa-utils espeak-ng)
# evdev has no aarch64 wheel on PyPI: the venv sees Debian's build instead.
[ -n "$COUNTER" ] && packages+=(python3-evdev)
[ -n "$READ_ONLY" ] && packages+=(raspi-config)

missing=()
for p in "${packages[@]}"; do has_package "$p" || missing+=("$p"); done
# gpiozero's pin library on Bookworm/Trixie (Pi 5 needs it); Raspberry Pi OS has it.
if [ -n "$COUNTER" ] && ! has_package python3-lgpio; then
  if apt-cache show python3-lgpio >/dev/null 2>&1; then missing+=(python3-lgpio); fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  debs=()
  if [ -n "${BUNDLE_DIR:-}" ] && [ -d "$BUNDLE_DIR/debs" ]; then
    debs=("$BUNDLE_DIR"/debs/*.deb)
  fi
  if [ ${#debs[@]} -gt 0 ]; then
    apt-get install -y -q --no-install-recommends "${debs[@]}" "${missing[@]}"
  else
    apt-get update -q || die "apt-get update failed: no internet? Put the packages in the bundle's debs/ (docs/provisioning.md)"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  CHANGED+=("packages")
fi
