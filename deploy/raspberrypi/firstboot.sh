#!/usr/bin/env bash
# Provisions this Pi from its boot partition, at boot, until it has worked once
# (antrean-firstboot.service; cloud-init installs both, see cloud-init/user-data).
# A power cut in the middle is harmless: the marker is written only at the very
# end, so the next boot runs this again, and provision.sh changes only what is
# still missing. dpkg left half-configured by the cut is finished first.
# From the offline kit (a folder antrean-kit-*/ beside the config) when there is
# one, else from a bundle; either is checked against its SHA256SUMS before
# anything is unpacked or installed.
#
#   firstboot.sh ROLE [COUNTER]      (the settings from /etc/antrean/firstboot.env)
set -euo pipefail
role=${1:?usage: firstboot.sh ROLE [COUNTER]}
counter=${2:-}
R=${ANTREAN_FIRSTBOOT_ROOT:-} # tests: every path below under this folder
# Tests (make test-provision) run the whole success path in a root that is not
# the running system: a program to run instead of rebooting the machine.
reboot=(systemctl reboot)
[ -z "${ANTREAN_FIRSTBOOT_REBOOT:-}" ] || reboot=("$ANTREAN_FIRSTBOOT_REBOOT")
marker=$R/var/lib/antrean/.provisioned
log=$R/var/log/antrean-provision.log
[ -e "$marker" ] && exit 0
mkdir -p "$(dirname "$log")" && touch "$log"
chmod 0600 "$log" # root only: the technician's record of the runs
exec >>"$log" 2>&1
echo "==> $(date -Is) provisioning as $role${counter:+ (counter $counter)}"
refuse() {
  echo "ERROR: $1 is damaged or was changed, nothing was installed: ${2//$'\n'/; }." \
    "Copy it again from the machine that built it, then reboot" >&2
  exit 1
}

boot=$R/boot/firmware/antrean
[ -d "$boot" ] || boot=$R/boot/antrean
opt=$R/opt/antrean
# The newest kit or bundle by version (sort -V: 0.10.0 after 0.9.0).
kit=$(find "$boot" -maxdepth 1 -type d -name 'antrean-kit-*' | sort -V | tail -n 1)
if [ -n "$kit" ]; then
  bad=$(cd "$kit" && sha256sum --check --strict --quiet SHA256SUMS 2>&1) || refuse "the kit $kit" "$bad"
  bundle=$(find "$kit" -maxdepth 1 -name 'antrean-bundle-*.tar.gz' | head -n 1)
  from=(--kit "$kit")
else
  bundle=$(find "$boot" -maxdepth 1 -name 'antrean-bundle-*.tar.gz' | sort -V | tail -n 1)
  from=(--bundle "$opt/bundle")
fi
[ -n "$bundle" ] || { echo "no antrean-kit-*/ and no antrean-bundle-*.tar.gz in $boot" >&2; exit 1; }
# Unpacked aside, checked, and renamed: a cut leaves the old copy or the new one.
rm -rf "$opt/bundle.new" && mkdir -p "$opt/bundle.new"
tar -xzf "$bundle" -C "$opt/bundle.new" --strip-components=1
bad=$(cd "$opt/bundle.new" && sha256sum --check --strict --quiet SHA256SUMS 2>&1) ||
  { rm -rf "$opt/bundle.new"; refuse "the bundle $bundle" "$bad"; }
# An apt run cut by a power loss leaves dpkg half done; finish it first.
dpkg --configure -a
rm -rf "$opt/bundle" && mv "$opt/bundle.new" "$opt/bundle"
args=(--role "$role" --config "$boot/antrean.toml" "${from[@]}")
[ -n "$counter" ] && args+=(--counter "$counter")
enrollment=$(find "$boot" -maxdepth 1 -name '*.enroll.toml' | head -n 1)
[ -n "$enrollment" ] && args+=(--enroll "$enrollment")
"$opt/bundle/deploy/raspberrypi/provision.sh" "${args[@]}"
# The enrollment holds the unit's password: off the boot partition once installed.
[ -n "$enrollment" ] && rm -f "$enrollment"
sync
touch "$marker" && sync
echo "==> $(date -Is) provisioned; rebooting"
systemctl disable antrean-firstboot.service
"${reboot[@]}"
