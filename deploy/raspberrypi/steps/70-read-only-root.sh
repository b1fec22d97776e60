# shellcheck shell=bash
# Optional read-only root (--read-only-root): the SD card survives power cuts
# because nothing but /var/lib/antrean is written. The data lives on its own
# ext4 partition labelled antrean-data (docs/provisioning.md shows how to make it).
[ -z "$READ_ONLY" ] && return 0
[ -n "$FILES_ONLY" ] && return 0

if ! grep -qs '[[:space:]]/var/lib/antrean[[:space:]]' /etc/fstab; then
  blkid -L antrean-data >/dev/null ||
    die "--read-only-root needs an ext4 partition labelled antrean-data for /var/lib/antrean (docs/provisioning.md, 'Read-only root')"
  # Move what is there now onto the new partition before it covers the folder.
  mnt=$TMP/data && mkdir -p "$mnt"
  mount LABEL=antrean-data "$mnt"
  cp -a /var/lib/antrean/. "$mnt/"
  umount "$mnt"
  printf 'LABEL=antrean-data /var/lib/antrean ext4 defaults,noatime,commit=5 0 2\n' >>/etc/fstab
  mount /var/lib/antrean
  CHANGED+=("/etc/fstab")
  say "mounted the antrean-data partition on /var/lib/antrean"
fi

command -v raspi-config >/dev/null || die "--read-only-root needs raspi-config (Raspberry Pi OS)"
# raspi-config prints 0 when the overlay is already configured.
if [ "$(raspi-config nonint get_overlay_conf)" != 0 ]; then
  raspi-config nonint do_overlayfs 0
  CHANGED+=("overlayfs")
  say "read-only root enabled from the next boot; to change anything later: sudo raspi-config nonint do_overlayfs 1, reboot, provision, enable again"
fi
