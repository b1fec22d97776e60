# shellcheck shell=bash
# The data partition of a read-only root (--read-only-root): an ext4 partition
# labelled antrean-data, mounted on /var/lib/antrean-data, keeps everything
# that must outlive a reboot once the root is an overlay in RAM (step 70):
#   antrean/   bound on /var/lib/antrean        the store, voice clips, web users
#   journal/   bound on /var/log/journal        `journalctl -b -1` after a restart
#   etc/       bound on /etc/antrean            the config, and the broker's CA and
#              passwords (a rotation by `antrean broker enroll` or `join` stays;
#              the whole folder, so broker init's rename stays on one file system)
#   fake-hwclock.data  (/etc/fake-hwclock.data links to it)
# This step comes before 60, which (re)starts the services: they must open the
# store on the partition, not the folder the mount then hides.
[ -z "$READ_ONLY" ] && return 0

DATA=/var/lib/antrean-data
# nofail: without the partition the Pi still boots (SSH, a console for the
# technician); the services that need it wait for it (RequiresMountsFor) and
# do not start on an empty store in RAM.
data_fstab() {
  local opts=bind,nofail,x-systemd.requires-mounts-for=$DATA
  printf '%s\n' "# antrean-data (provision.sh --read-only-root; docs/provisioning.md)" \
    "LABEL=antrean-data $DATA ext4 defaults,noatime,commit=5,nofail,x-systemd.device-timeout=10s 0 2" \
    "$DATA/antrean /var/lib/antrean none $opts 0 0" \
    "$DATA/journal /var/log/journal none $opts 0 0" \
    "$DATA/etc $ETC none $opts 0 0"
}
# The layout before this one had the partition itself on /var/lib/antrean.
if grep -qs '^LABEL=antrean-data /var/lib/antrean ' "$R/etc/fstab"; then
  die "this Pi has the data partition on /var/lib/antrean (an older provision.sh); move its files into a folder antrean/ on the partition and remove that /etc/fstab line, then run again (docs/provisioning.md, 'Read-only root')"
fi
# Our lines replace any earlier ones.
fstab=$TMP/fstab
grep -v -e 'antrean-data' -e '[[:space:]]/var/lib/antrean[[:space:]]' "$R/etc/fstab" 2>/dev/null >"$fstab" || true
data_fstab >>"$fstab"

if [ -z "$FILES_ONLY" ] && ! mountpoint -q "$DATA"; then
  blkid -L antrean-data >/dev/null ||
    die "--read-only-root needs an ext4 partition labelled antrean-data (docs/provisioning.md, 'Read-only root')"
  put_dir "$DATA" 0755 root:root
  mount LABEL=antrean-data "$DATA"
fi
put_dir "$DATA" 0755 root:root
put_dir "$DATA/antrean" 0750 antrean:antrean
put_dir "$DATA/journal" 2755 root:systemd-journal
put_dir "$DATA/etc" 0751 root:antrean
# What is there now moves onto the partition once, before its mounts cover it;
# the services stop first, so the store is copied whole.
for pair in antrean:/var/lib/antrean journal:/var/log/journal etc:$ETC; do
  sub=${pair%%:*} dir=${pair#*:}
  [ -n "$FILES_ONLY" ] && break
  mountpoint -q "$dir" && continue
  if [ "$sub" = antrean ] && [ -n "$LIVE" ]; then
    systemctl stop "${UNITS[@]}" 2>/dev/null || true
  fi
  [ "$sub" = journal ] && [ -n "$LIVE" ] && journalctl --relinquish-var
  if [ -d "$dir" ]; then cp -a "$dir/." "$DATA/$sub/"; fi
  mkdir -p "$dir"
  mount --bind "$DATA/$sub" "$dir"
  [ "$sub" = journal ] && [ -n "$LIVE" ] && journalctl --flush
  CHANGED+=("$dir")
  say "$dir is now on the antrean-data partition"
done
if [ -f "$R/etc/fake-hwclock.data" ] && [ ! -L "$R/etc/fake-hwclock.data" ]; then
  cp -p "$R/etc/fake-hwclock.data" "$R$DATA/fake-hwclock.data"
fi
put_file "$fstab" /etc/fstab 0644
put_link "$DATA/fake-hwclock.data" /etc/fake-hwclock.data
# fake-hwclock loads the saved time only once the partition is there.
put_text /etc/systemd/system/fake-hwclock.service.d/antrean.conf 0644 <<'UNIT'
# Written by provision.sh --read-only-root: the saved time is on the data partition.
[Unit]
Wants=var-lib-antrean\x2ddata.mount
After=var-lib-antrean\x2ddata.mount
UNIT
for unit in antrean-queue antrean-web antrean-kiosk antrean-board antrean-counter@; do
  put_text "/etc/systemd/system/$unit.service.d/antrean-data.conf" 0644 <<'UNIT'
# Written by provision.sh --read-only-root: never on an empty store in RAM.
[Unit]
RequiresMountsFor=/var/lib/antrean
UNIT
done
