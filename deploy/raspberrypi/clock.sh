# shellcheck shell=bash
# The office's time (sourced by provision.sh; steps/50-system.sh writes the
# files). A Pi has no clock battery and an office often no internet, so the
# hub is the office's time server: chrony there, at `local stratum 10` (it
# serves its own clock when no internet server answers), and systemd-timesyncd
# on every other unit, pointed at the hub only, so all units agree with the
# hub that numbers the tickets (docs/provisioning.md, "The clock").

# What the hub serves by default: the private address ranges an office LAN
# uses (--ntp-allow narrows it to the office's own).
# shellcheck disable=SC2034 # used by provision.sh
NTP_ALLOW_DEFAULT=10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10

# check_ntp_allow LIST - dies unless LIST is comma-separated addresses or
# subnets (chrony's `allow` takes both).
check_ntp_allow() {
  local net
  [ -n "$1" ] || die "--ntp-allow needs at least one subnet, e.g. 192.168.1.0/24"
  for net in ${1//,/ }; do
    [[ $net =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?$ || $net =~ ^[0-9a-fA-F:]*:[0-9a-fA-F:]*(/[0-9]{1,3})?$ ]] ||
      die "--ntp-allow: '$net' is not a subnet (e.g. 192.168.1.0/24)"
  done
}

# chrony_conf LIST - the hub's /etc/chrony/conf.d/antrean.conf.
chrony_conf() {
  local net
  cat <<'CONF'
# Written by provision.sh: this hub is the office's time server (Debian's
# chrony.conf reads this folder). With internet it follows Debian's pool;
# without, it serves its own clock (restored at boot by fake-hwclock) at
# stratum 10, so the display and counter units keep the hub's day and time.
local stratum 10
# The office LAN (provision.sh --ntp-allow):
CONF
  for net in ${1//,/ }; do printf 'allow %s\n' "$net"; done
}

# timesyncd_conf HOST - a display or counter unit's
# /etc/systemd/timesyncd.conf.d/antrean.conf: the hub ([broker] host) only.
timesyncd_conf() {
  cat <<CONF
# Written by provision.sh: the time comes from the hub ([broker] host), which
# serves it to the office LAN with or without internet. No fallback server:
# a unit must keep the hub's time, not a different one.
[Time]
NTP=$1
FallbackNTP=
CONF
}
