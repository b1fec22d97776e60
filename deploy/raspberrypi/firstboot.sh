#!/usr/bin/env bash
# Provisions this Pi from its boot partition, at boot, until it has worked once
# (antrean-firstboot.service; cloud-init installs both, see cloud-init/user-data).
# A power cut in the middle is harmless: the marker is written only at the very
# end, so the next boot runs this again, and provision.sh changes only what is
# still missing. dpkg left half-configured by the cut is finished first.
#
#   firstboot.sh ROLE [COUNTER]      (the settings from /etc/antrean/firstboot.env)
set -euo pipefail
role=${1:?usage: firstboot.sh ROLE [COUNTER]}
counter=${2:-}
marker=/var/lib/antrean/.provisioned
log=/var/log/antrean-provision.log
[ -e "$marker" ] && exit 0
touch "$log"
chmod 0600 "$log" # root only: the technician's record of the runs
exec >>"$log" 2>&1
echo "==> $(date -Is) provisioning as $role${counter:+ (counter $counter)}"

boot=/boot/firmware/antrean
[ -d "$boot" ] || boot=/boot/antrean
# An apt run cut by a power loss leaves dpkg half done; finish it first.
dpkg --configure -a
# The newest bundle by version (sort -V: 0.10.0 after 0.9.0).
bundle=$(find "$boot" -maxdepth 1 -name 'antrean-bundle-*.tar.gz' | sort -V | tail -n 1)
[ -n "$bundle" ] || { echo "no antrean-bundle-*.tar.gz in $boot" >&2; exit 1; }
# Unpacked aside and renamed: a cut leaves the old copy or the new one.
rm -rf /opt/antrean/bundle.new && mkdir -p /opt/antrean/bundle.new
tar -xzf "$bundle" -C /opt/antrean/bundle.new --strip-components=1
rm -rf /opt/antrean/bundle && mv /opt/antrean/bundle.new /opt/antrean/bundle
args=(--role "$role" --config "$boot/antrean.toml" --bundle /opt/antrean/bundle)
[ -n "$counter" ] && args+=(--counter "$counter")
enrollment=$(find "$boot" -maxdepth 1 -name '*.enroll.toml' | head -n 1)
[ -n "$enrollment" ] && args+=(--enroll "$enrollment")
/opt/antrean/bundle/deploy/raspberrypi/provision.sh "${args[@]}"
# The enrollment holds the unit's password: off the boot partition once installed.
[ -n "$enrollment" ] && rm -f "$enrollment"
sync
touch "$marker" && sync
echo "==> $(date -Is) provisioned; rebooting"
systemctl disable antrean-firstboot.service
systemctl reboot
