# shellcheck shell=bash
# Optional read-only root (--read-only-root): the SD card survives power cuts
# because the root becomes an overlay in RAM (Raspberry Pi OS's raspi-config)
# and only the antrean-data partition (step 45) is written.
[ -z "$READ_ONLY" ] && return 0
[ -n "$FILES_ONLY" ] && return 0

command -v raspi-config >/dev/null || die "--read-only-root needs raspi-config (Raspberry Pi OS)"
# raspi-config prints 0 when the overlay is already configured.
if [ "$(raspi-config nonint get_overlay_conf)" != 0 ]; then
  raspi-config nonint do_overlayfs 0
  CHANGED+=("overlayfs")
  say "read-only root enabled from the next boot; to change anything later: sudo raspi-config nonint do_overlayfs 1, reboot, provision, enable again"
fi
