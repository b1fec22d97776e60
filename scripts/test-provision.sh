#!/usr/bin/env bash
# `make test-provision`: provisions a portable unit end to end inside a fresh
# Debian 12 root (debootstrap, this machine's architecture) from an offline bundle, with systemd
# offline, then checks the units, the config, the app, and that a second run
# changes nothing. Slow (minutes), so it is not part of `make test`.
#
#   scripts/test-provision.sh BUNDLE.tar.gz     (built with ARCH=x86_64)
#   env ROLE=portable (default), display or counter
set -euo pipefail

bundle=$(realpath "${1:?usage: test-provision.sh BUNDLE.tar.gz}")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$repo/var/provision-cache
root=$repo/var/provision-root
started=$(date +%s)
arch=$(dpkg --print-architecture)

[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap, chroot, mount)" >&2; exit 1; }
# Mounts made below vanish with this private mount namespace, however we exit.
if [ -z "${ANTREAN_IN_NS:-}" ]; then
  exec env ANTREAN_IN_NS=1 unshare --mount --propagation private "$0" "$@"
fi
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap

# The mirror this machine already uses.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p; s/^deb \(http[^ ]*debian\)\/* bookworm .*/\1/p' \
  /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

# A finished base root is cached: a rerun unpacks it in seconds.
base=$cache/bookworm-$arch-root.tgz
mkdir -p "$cache/apt-archives"
if [ ! -f "$base" ]; then
  debs=$cache/bookworm-$arch-base.tgz # the downloaded .debs, reused if a build fails
  include=systemd,systemd-sysv,ca-certificates,python3,python3-venv
  if [ ! -f "$debs" ]; then
    debootstrap --variant=minbase --include=$include --make-tarball="$debs" \
      bookworm "$cache/tarball-work" "$mirror"
  fi
  rm -rf --one-file-system "$cache/base-work"
  debootstrap --variant=minbase --include=$include --unpack-tarball="$debs" \
    bookworm "$cache/base-work" "$mirror"
  tar -C "$cache/base-work" -czf "$base.part" . && mv "$base.part" "$base"
  rm -rf --one-file-system "$cache/base-work"
fi
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$base"

# What a Pi has and a chroot lacks: /proc, /dev, DNS. No daemons may start.
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"

# The hub's own programs log in on the loopback listener with the passwords
# `antrean broker init` saves for them (docs/provisioning.md).
sed -e 's|path = "var/antrean.db"|path = "/var/lib/antrean/antrean.db"|' \
  -e 's|^clips = "var/voice"|clips = "/var/lib/antrean/voice"|' \
  -e 's|^port = 1883$|port = 1883\npassword_file = "/etc/antrean/broker/clients/{user}.password"|' \
  "$repo/antrean.example.toml" >"$root/root/office.toml"
cp "$bundle" "$root/root/antrean-bundle.tar.gz"
mkdir -p "$root/root/bundle"
tar -C "$root/root/bundle" --strip-components=1 -xzf "$bundle"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
role=${ROLE:-portable}
case $role in
portable)
  args=(--role portable --counter 2) imports="evdev, kivy, escpos" groups_wanted="video render input lp dialout"
  enabled=(antrean-queue antrean-kiosk antrean-counter@2 mosquitto) disabled=(antrean-board getty@tty1)
  ;;
display)
  args=(--role display) imports="kivy" groups_wanted="video render input audio"
  enabled=(antrean-board) disabled=(antrean-queue antrean-kiosk getty@tty1)
  ;;
counter)
  args=(--role counter --counter 2) imports="evdev, gpiozero" groups_wanted="gpio dialout input"
  enabled=(antrean-counter@2) disabled=(antrean-queue antrean-kiosk antrean-board)
  ;;
*) echo "ROLE must be portable, display or counter" >&2 && exit 2 ;;
esac
provision=(/root/bundle/deploy/raspberrypi/provision.sh "${args[@]}"
  --config /root/office.toml --bundle /root/antrean-bundle.tar.gz)

echo "==> first run"
in_root "${provision[@]}" >"$cache/run1.log" 2>&1 || { cat "$cache/run1.log"; exit 1; }
tail -n 3 "$cache/run1.log"

echo "==> checks"
fail() { echo "FAIL: $*" >&2; exit 1; }
for unit in "${enabled[@]}" systemd-timesyncd systemd-time-wait-sync fake-hwclock; do
  [ "$(in_root systemctl is-enabled "$unit.service")" = enabled ] || fail "$unit is not enabled"
done
for unit in "${disabled[@]}"; do
  [ "$(in_root systemctl is-enabled "$unit.service")" = disabled ] || fail "$unit is enabled on a $role unit"
done
in_root systemd-analyze verify --man=no antrean-queue.service antrean-kiosk.service antrean-counter@2.service \
  antrean-board.service systemd-time-wait-sync.service || fail "systemd-analyze verify"
in_root /opt/antrean/venv/bin/antrean check-config --config /etc/antrean/antrean.toml >/dev/null ||
  fail "config not valid"
in_root runuser -u antrean -- /opt/antrean/venv/bin/antrean --help >/dev/null || fail "antrean --help"
# (Kivy writes its settings on import: into /tmp, not the unit's home.)
in_root runuser -u antrean -- env KIVY_HOME=/tmp/kivy-check KIVY_NO_CONSOLELOG=1 \
  /opt/antrean/venv/bin/python -c "import $imports" ||
  fail "the unit's venv cannot import $imports (evdev from Debian, the rest from the bundle)"
groups=$(in_root id -nG antrean)
# render and input come with udev, which a minimal root lacks (a Pi has them).
for g in $groups_wanted; do
  in_root getent group "$g" >/dev/null || continue
  [[ " $groups " == *" $g "* ]] || fail "antrean is not in group $g ($groups)"
done
[ "$(in_root stat -c '%a %U:%G' /etc/antrean/antrean.toml)" = "640 root:antrean" ] ||
  fail "config permissions"
echo "    units enabled, units verified, config valid, app runs as antrean, groups: $groups"

# Everything but the mounts, with checksums and mtimes.
listing() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/cache/apt/archives \) -prune \
    -o -printf '%p %y %m %U:%G %s %T@ %l\n' | sort)
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/cache/apt/archives \) -prune \
    -o -type f -print0 | sort -z | xargs -0 sha256sum)
}
listing >"$cache/before.txt"
echo "==> second run"
in_root "${provision[@]}" >"$cache/run2.log" 2>&1 || { cat "$cache/run2.log"; exit 1; }
tail -n 1 "$cache/run2.log"
listing >"$cache/after.txt"
grep -q "done: nothing to change" "$cache/run2.log" || fail "the second run reported changes"
diff "$cache/before.txt" "$cache/after.txt" || fail "the second run changed files (diff above)"
echo "    $(wc -l <"$cache/before.txt") entries, identical after the second run"
if [ "$role" != portable ]; then
  echo "==> passed in $(($(date +%s) - started)) s"
  exit 0
fi
echo "==> the installed units' programs, running"
# A private network namespace: its own 127.0.0.1:1883, whatever the host runs.
unshare --net bash -s "$root" <<'LIVE'
set -euo pipefail
root=$1
ip link set lo up
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
mkdir -p "$root/run/mosquitto" && chown --reference="$root/var/lib/mosquitto" "$root/run/mosquitto"
in_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
# The queue service exactly as its unit starts it, as the unit's user.
exec_start=$(sed -n 's/^ExecStart=//p' "$root/etc/systemd/system/antrean-queue.service")
# shellcheck disable=SC2086 # the unit's command line, split like systemd does
in_root runuser -u antrean -- $exec_start >"$root/tmp/queue.log" 2>&1 &
queue=$!
for _ in $(seq 50); do grep -q "queue service for" "$root/tmp/queue.log" && break; sleep 0.2; done
# --as kiosk-1: a login as the hub's kiosk (not running here) to see the queue service.
in_root /opt/antrean/venv/bin/antrean doctor --timeout 3 --as kiosk-1 | tee "$root/tmp/doctor.txt" || true
kill "$queue"; wait "$queue" || true
kill "$(cat "$root/run/mosquitto/mosquitto.pid")" || true
grep -q "^OK    broker" "$root/tmp/doctor.txt" && grep -q "^OK    queue" "$root/tmp/doctor.txt" &&
  grep -q "^OK    config" "$root/tmp/doctor.txt" && grep -q "^OK    disk" "$root/tmp/doctor.txt" ||
  { echo "FAIL: doctor on the provisioned unit"; cat "$root/tmp/queue.log"; exit 1; }
[ -s "$root/var/lib/antrean/antrean.db" ] || { echo "FAIL: no store in /var/lib/antrean"; exit 1; }
LIVE
echo "==> passed in $(($(date +%s) - started)) s"
