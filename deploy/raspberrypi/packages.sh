# shellcheck shell=bash
# The Debian packages of each role, in one place: steps/10-packages.sh installs
# them, build-kit.sh downloads them for the offline kit, and docs/provisioning.md
# lists them (tests/tools/test_kit.py checks the three agree). Sourced.
#
#   role_packages ROLE [COUNTER] [READ_ONLY]   one package a line; a name ending
#   in "?" is installed only where the release has it (python3-lgpio).

# The Debian release of the target ($R, "" on the Pi itself): 13 renamed
# libraries for 64-bit time_t (libmtdev1 is libmtdev1t64 there).
debian_major() {
  local id
  id=$(sed -n 's/^VERSION_ID="\{0,1\}\([0-9]*\).*/\1/p' "${R:-}/etc/os-release" 2>/dev/null || true)
  echo "${id:-0}"
}

role_packages() {
  local role=$1 counter=${2:-} read_only=${3:-} screen="" mtdev=libmtdev1
  case $role in
  hub | portable) screen=kiosk ;;
  display) screen=board ;;
  esac
  [ "$role" = counter ] && counter=${counter:-1}
  [ "$(debian_major)" -ge 13 ] && mtdev=libmtdev1t64
  printf '%s\n' python3 python3-venv ca-certificates fake-hwclock
  # The hub serves the office its time (clock.sh); the other units follow it.
  # Booking slips (antrean booking slips, the web's reprint) draw with DejaVu.
  case $role in
  hub | portable) printf '%s\n' chrony mosquitto mosquitto-clients fonts-dejavu-core ;;
  *) printf '%s\n' systemd-timesyncd ;;
  esac
  # Kivy's wheel brings SDL2; SDL2's kmsdrm driver loads these at run time.
  # Kivy's wheels draw with desktop GL, which SDL loads over EGL from
  # libOpenGL.so.0 (without it: "Could not initialize OpenGL / GLES library").
  [ -n "$screen" ] && printf '%s\n' libgl1-mesa-dri libegl1 libgles2 libopengl0 libgbm1 libdrm2 "$mtdev"
  # python3-evdev: the kiosk's USB QR scanner ([kiosk.scanner]), as the counter's keypad.
  [ "$screen" = kiosk ] && printf '%s\n' libusb-1.0-0 usbutils python3-evdev
  [ "$screen" = board ] && printf '%s\n' alsa-utils espeak-ng
  # evdev has no aarch64 wheel on PyPI: the venv sees Debian's build instead;
  # gpiozero's pin library on Bookworm/Trixie (Pi 5 needs it).
  [ -n "$counter" ] && printf '%s\n' python3-evdev 'python3-lgpio?'
  [ -n "$read_only" ] && printf '%s\n' raspi-config
  return 0
}
