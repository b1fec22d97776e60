#!/usr/bin/env bash
# The settings below are read by steps/*.sh, which this script sources.
# shellcheck disable=SC2034 source-path=SCRIPTDIR
# Provisions a Raspberry Pi (Raspberry Pi OS Lite 64-bit, Bookworm or Trixie)
# as one Antrean unit. Safe to run again: a second run changes nothing.
#
#   provision.sh --role hub|display|counter|portable --config office.toml
#                [--counter N] [--kit KIT | --bundle antrean-bundle.tar.gz|DIR]
#                [--enroll DEVICE.enroll.toml] [--read-only-root] [--root DIR]
#                [--ntp-allow SUBNET,...] [--allow-missing-apps]
#   provision.sh --update KIT|BUNDLE a provisioned Pi: a new version (same role)
#   provision.sh --rollback          back to the version used before the update
#
# --kit: install from the offline kit (`make kit`): the bundle and this role's
#   Debian packages, after checking every file against the kit's SHA256SUMS.
# --bundle: install the app from the bundle (`make bundle`); Debian packages
#   from the Pi's apt sources (internet).
# --enroll: a display or counter unit's enrollment file, made on the hub by
#   `antrean broker init` or `antrean broker enroll DEVICE` (its CA and password).
# --update: checks the kit (or the bundle) as --kit does, installs its newest
#   version into its own virtualenv (/opt/antrean/venvs/VERSION), switches
#   /opt/antrean/venv to it and restarts the services; the role, counter and
#   config are this Pi's own.
# --rollback: switches back to the version before (kept) and restarts, unless
#   that version cannot read the store (a newer schema): then it changes nothing.
# --ntp-allow: the office LAN the hub serves time to (chrony's `allow`; default:
#   the private address ranges); hub and portable units only.
# --root DIR: only write the files (config, units, drop-ins, udev) under DIR and
#   enable units offline; no packages, user or virtualenv. For tests.
# --allow-missing-apps: warn instead of failing when the app lacks a command
#   this role needs (a branch where the kiosk/board/broker is not merged yet).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=venvs.sh
. "$HERE/venvs.sh"
# shellcheck source=packages.sh
. "$HERE/packages.sh"
# shellcheck source=kit.sh
. "$HERE/kit.sh"
# shellcheck source=clock.sh
. "$HERE/clock.sh"

usage() {
  sed -n "7,12p" "$0" | sed 's/^# //' >&2
  exit 2
}

value() { [ -n "${2:-}" ] || die "$1 needs a value (see --help)"; }

ROLE="" CONFIG="" COUNTER="" BUNDLE="" KIT="" READ_ONLY="" ROOT=/ ALLOW_MISSING="" ENROLL="" NTP_ALLOW="" UPDATE="" ROLLBACK=""
while [ $# -gt 0 ]; do
  case $1 in
  --role) value "$@" && ROLE=$2 && shift ;;
  --config) value "$@" && CONFIG=$2 && shift ;;
  --counter) value "$@" && COUNTER=$2 && shift ;;
  --bundle) value "$@" && BUNDLE=$2 && shift ;;
  --kit) value "$@" && KIT=$2 && shift ;;
  --enroll) value "$@" && ENROLL=$2 && shift ;;
  --update) # a kit folder (kit.txt) or a bundle
    value "$@" && UPDATE=1
    if [ -f "$2/kit.txt" ]; then KIT=$2; else BUNDLE=$2; fi
    shift
    ;;
  --rollback) ROLLBACK=1 ;;
  --read-only-root) READ_ONLY=1 ;;
  --root) value "$@" && ROOT=$2 && shift ;;
  --ntp-allow) value "$@" && NTP_ALLOW=$2 && shift ;;
  --allow-missing-apps) ALLOW_MISSING=1 ;;
  -h | --help) usage ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# An update or a rollback keeps what this Pi is: its role, counter and config.
if [ -n "$UPDATE$ROLLBACK" ]; then
  unit=${ROOT%/}/etc/antrean/unit.toml
  [ -f "$unit" ] || die "this Pi was not provisioned yet (no /etc/antrean/unit.toml): use --role"
  ROLE=$(sed -n 's/^role = "\(.*\)"$/\1/p' "$unit")
  COUNTER=$(sed -n 's/^counter = \([1-9][0-9]*\)$/\1/p' "$unit")
  grep -q '^read_only_root = true$' "$unit" && READ_ONLY=1
  NTP_ALLOW=${NTP_ALLOW:-$(sed -n 's/^ntp_allow = "\(.*\)"$/\1/p' "$unit")}
  CONFIG=${CONFIG:-${ROOT%/}/etc/antrean/antrean.toml}
fi

case $ROLE in
hub | display | counter | portable) ;;
"") die "--role is required: hub, display, counter or portable" ;;
*) die "--role must be hub, display, counter or portable, got '$ROLE'" ;;
esac
[ -n "$CONFIG" ] || die "--config is required: the office config (antrean.toml)"
[ -f "$CONFIG" ] || die "--config: no such file: $CONFIG"
CONFIG=$(realpath "$CONFIG")
if [ -n "$ENROLL" ]; then
  [ -f "$ENROLL" ] || die "--enroll: no such file: $ENROLL (made on the hub: sudo antrean broker enroll DEVICE)"
  ENROLL=$(realpath "$ENROLL")
fi
if [ "$ROLE" = counter ] && [ -z "$COUNTER" ]; then
  die "--counter N is required for a counter unit (the counter number in the config)"
fi
if [ -n "$COUNTER" ] && ! [[ $COUNTER =~ ^[1-9][0-9]{0,2}$ ]]; then
  die "--counter must be a counter number from 1 to 999, got '$COUNTER'"
fi

R=${ROOT%/}      # prefix for every path in the target ("" on the Pi itself)
FILES_ONLY=""    # set with --root: write files, touch no packages or users
[ -n "$R" ] && FILES_ONLY=1
if [ -z "$FILES_ONLY" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root: sudo $0 $*"
fi
# Not booted with systemd (a chroot, an image): enable units without a daemon.
LIVE=""
if [ -z "$FILES_ONLY" ] && [ -d /run/systemd/system ]; then
  LIVE=1
else
  export SYSTEMD_OFFLINE=1
fi
CHANGED=()
TMP=$(mktemp -d) # scratch space, removed however the run ends
trap 'rm -rf "$TMP"' EXIT

# The kit: checked whole before anything is installed; then its bundle, and
# its folder of this role's packages (never another role's).
DEBS_DIR=""
if [ -n "$KIT" ]; then
  [ -z "$BUNDLE" ] || die "--kit and --bundle: give one (the kit has its bundle)"
  [ -d "$KIT" ] || die "--kit: no such folder: $KIT"
  KIT=$(realpath "$KIT")
  say "checking the kit $KIT (SHA256SUMS)"
  verify_kit "$KIT"
  bundles=("$KIT"/antrean-bundle-*.tar.gz)
  if [ ${#bundles[@]} -ne 1 ] || [ ! -f "${bundles[0]}" ]; then die "--kit: $KIT must hold one antrean-bundle-*.tar.gz"; fi
  BUNDLE=${bundles[0]}
  DEBS_DIR=$KIT/debs/$ROLE
  [ -d "$DEBS_DIR" ] || die "--kit: $KIT has no packages for the role $ROLE (debs/$ROLE)"
  [ -n "$FILES_ONLY" ] || kit_check_target "$KIT"
fi

# The bundle: an archive from `make bundle`, or that archive unpacked.
BUNDLE_DIR=""
if [ -n "$BUNDLE" ]; then
  if [ -d "$BUNDLE" ]; then
    BUNDLE_DIR=$(realpath "$BUNDLE")
  elif [ -f "$BUNDLE" ]; then
    BUNDLE_DIR=$TMP/bundle && mkdir "$BUNDLE_DIR"
    tar -xzf "$BUNDLE" -C "$BUNDLE_DIR" --strip-components=1 || die "--bundle: cannot unpack $BUNDLE"
  else
    die "--bundle: no such file or folder: $BUNDLE"
  fi
  [ -d "$BUNDLE_DIR/wheels" ] || die "--bundle: $BUNDLE has no wheels/ folder; is it from make bundle?"
  verify_bundle "$BUNDLE_DIR"
fi

# What each role runs. `screen`: a full screen app owns tty1 (KMS/DRM).
# One screen app per Pi: two Kivy apps cannot both be DRM master of the
# display, so the portable unit runs the kiosk (its board is a second Pi or
# none; see docs/provisioning.md).
case $ROLE in
hub) UNITS=(antrean-queue.service antrean-kiosk.service) SCREEN=kiosk ;;
display) UNITS=(antrean-board.service) SCREEN=board ;;
counter) UNITS=() SCREEN="" ;;
portable) UNITS=(antrean-queue.service antrean-kiosk.service) SCREEN=kiosk ;;
esac
[ -n "$COUNTER" ] && UNITS+=("antrean-counter@$COUNTER.service")
BROKER="" # this unit runs the office's Mosquitto (and serves the time)
case $ROLE in hub | portable) BROKER=1 ;; esac
if [ -n "$BROKER" ]; then
  NTP_ALLOW=${NTP_ALLOW:-$NTP_ALLOW_DEFAULT}
  check_ntp_allow "$NTP_ALLOW"
elif [ -n "$NTP_ALLOW" ]; then
  die "--ntp-allow is for the hub (it serves the time); a $ROLE unit takes it from the hub"
fi

if [ -n "$ROLLBACK" ]; then
  [ -e "$R/etc/systemd/system/multi-user.target.wants/antrean-web.service" ] && UNITS+=(antrean-web.service)
  rollback_app
  exit 0
fi

say "provisioning a '$ROLE' unit${COUNTER:+ (counter $COUNTER)} from $CONFIG${R:+ into $R}"
for step in "$HERE"/steps/[0-9][0-9]-*.sh; do
  # shellcheck source=/dev/null
  . "$step"
  # Tests cut the power here (SIGKILL, no cleanup): ANTREAN_TEST_CRASH_AT=step-30.
  if [ "${ANTREAN_TEST_CRASH_AT:-}" = "step-$(basename "$step" | cut -c1-2)" ]; then kill -9 $$; fi
done
# shellcheck disable=SC2153 # WEB: from steps/40-config.sh
if [ -n "$WEB" ] && [ ! -s "$R$(sed -n '/^\[web\]/,/^\[/s/^users *= *"\([^"]*\)".*/\1/p' "$CONFIG")" ]; then
  say "the office web has no user yet; make the first one (it asks for the password twice):"
  say "  sudo -u antrean antrean web adduser NAME --role petugas --config $ETC/antrean.toml"
fi
if changed; then
  say "done: ${#CHANGED[@]} change(s)"
else
  say "done: nothing to change"
fi
