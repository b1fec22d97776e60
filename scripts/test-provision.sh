#!/usr/bin/env bash
# `make test-provision`: provisions a unit end to end inside a fresh Debian 12
# root (debootstrap) from an offline bundle, with systemd offline, then checks
# the units, the config, the app, that a second run changes nothing, and starts
# the role's programs there. Slow (minutes), so it is not part of `make test`.
#
#   scripts/test-provision.sh BUNDLE.tar.gz     (built with the same ARCH)
#   env ROLE=portable (default), hub, display or counter
#       ARCH=x86_64 (default: this machine) or aarch64: an arm64 root run
#         through qemu-user-static and binfmt_misc (registered here if missing)
#       PYTHON=.venv/bin/python (makes the hub's enrollment file for display/counter)
#       KIT=DIR: provision from this offline kit (build-kit.sh) with no network at
#         all (every run in a network namespace with no route), after checking
#         that a copy of it with one damaged package is refused; KIT=1: build
#         the kit first with the bundle's build-kit.sh, in a copy of the base root
#         (a machine like the Pi, with internet)
#       FIRSTBOOT=1 (with KIT): provision as a Pi does at boot, by firstboot.sh
#         from the kit on a boot partition folder, through its reboot (which
#         is a stand-in here): a power cut in the middle of its apt, the boot
#         after it that finishes, and a third boot that does nothing
#
# Before the complete run it cuts the power twice (SIGKILL): after step 30,
# with a package left unpacked but not configured (as a cut during apt does),
# and, on a hub or portable unit, inside `antrean broker init`.
set -euo pipefail

bundle=$(realpath "${1:?usage: test-provision.sh BUNDLE.tar.gz}")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$repo/var/provision-cache
root=$repo/var/provision-root
started=$(date +%s)
host_arch=$(dpkg --print-architecture)
case ${ARCH:-$(uname -m)} in
x86_64 | amd64) arch=amd64 ;;
aarch64 | arm64) arch=arm64 ;;
*) echo "ARCH must be x86_64 or aarch64, got '$ARCH'" >&2 && exit 2 ;;
esac

[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap, chroot, mount)" >&2; exit 1; }
if [ "$arch" != "$host_arch" ] && [ -z "${ANTREAN_IN_NS:-}" ]; then
  # shellcheck source=binfmt.sh
  . "$(dirname "${BASH_SOURCE[0]}")/binfmt.sh"
  ensure_qemu_binfmt "$arch" || exit 1
fi
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
    debootstrap --arch="$arch" --variant=minbase --include=$include --make-tarball="$debs" \
      bookworm "$cache/tarball-work" "$mirror"
  fi
  rm -rf --one-file-system "$cache/base-work"
  debootstrap --arch="$arch" --variant=minbase --include=$include --unpack-tarball="$debs" \
    bookworm "$cache/base-work" "$mirror"
  tar -C "$cache/base-work" -czf "$base.part" . && mv "$base.part" "$base"
  rm -rf --one-file-system "$cache/base-work"
fi
# (one kit for every role: made again when the bundle changed)
if [ "${KIT:-}" = 1 ] && cmp -s "$bundle" "$cache/kit/$(basename "$bundle")"; then
  echo "==> the offline kit $cache/kit has this bundle: reused"
  KIT=$cache/kit
elif [ "${KIT:-}" = 1 ]; then
  echo "==> [$(($(date +%s) - started)) s] building the offline kit in a copy of the base root, with internet"
  builder=$cache/kit-builder
  rm -rf --one-file-system "$builder" && mkdir -p "$builder/root/bundle"
  tar -C "$builder" -xzf "$base"
  tar -C "$builder/root/bundle" --strip-components=1 -xzf "$bundle"
  cp "$bundle" "$builder/root/" && cp /etc/resolv.conf "$builder/etc/resolv.conf"
  mount -t proc proc "$builder/proc"
  code=0
  chroot "$builder" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    BUNDLE="/root/$(basename "$bundle")" /root/bundle/deploy/raspberrypi/build-kit.sh /root/kit-out \
    >"$cache/kit-build.log" 2>&1 || code=$?
  umount "$builder/proc"
  [ "$code" -eq 0 ] || { tail -n 20 "$cache/kit-build.log"; echo "FAIL: build-kit.sh" >&2; exit 1; }
  grep -E '^==> ' "$cache/kit-build.log" | sed 's/^/    /'
  rm -rf "$cache/kit" && mv "$builder"/root/kit-out/antrean-kit-* "$cache/kit"
  rm -rf --one-file-system "$builder"
  KIT=$cache/kit
fi
rm -rf --one-file-system "$root"
mkdir -p "$root"
tar -C "$root" -xzf "$base"

# What a Pi has and a chroot lacks: /proc, /dev, DNS. No daemons may start.
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
kit=${KIT:+$(realpath "$KIT")}
if [ -n "$kit" ]; then
  # The office: no network, no DNS, no apt cache; only the kit.
  : >"$root/etc/resolv.conf"
  cp -a "$kit" "$root/root/kit"
  net=(unshare --net)
else
  mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  net=()
fi
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"

# The hub's own programs log in on the loopback listener with the passwords
# `antrean broker init` saves for them (docs/provisioning.md).
sed -e 's|path = "var/antrean.db"|path = "/var/lib/antrean/antrean.db"|' \
  -e 's|^clips = "var/voice"|clips = "/var/lib/antrean/voice"|' \
  -e 's|^users = "var/web-users.db"|users = "/var/lib/antrean/web-users.db"|' \
  -e 's|^session_secret = "var/web-secret"|session_secret = "/var/lib/antrean/web-secret"|' \
  -e 's|^port = 1883$|port = 1883\npassword_file = "/etc/antrean/broker/clients/{user}.password"|' \
  "$repo/antrean.example.toml" >"$root/root/office.toml"
# Counter 2's buttons on GPIO (gpiozero's mock pins when its agent runs here).
printf '\n[counter_inputs.2.gpio]\nnext = 17\nrecall = 27\nno_show = 22\ncomplete = 23\n' >>"$root/root/office.toml"
cp "$bundle" "$root/root/antrean-bundle.tar.gz"
mkdir -p "$root/root/bundle"
tar -C "$root/root/bundle" --strip-components=1 -xzf "$bundle"

in_root() { "${net[@]}" chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
role=${ROLE:-portable}
on_hub="" # the office's broker, queue service and web are on this unit
case $role in hub | portable) on_hub=1 ;; esac
python=${PYTHON:-$repo/.venv/bin/python}
if [ -z "$on_hub" ]; then
  # A unit off the hub: the hub's LAN listener, and its enrollment file from
  # `antrean broker init` (made here, as on the hub) for --enroll.
  sed -i -e 's|^host = "127.0.0.1"$|host = "antrean-hub.local"|' -e 's|^port = 1883$|port = 8883\ntls_ca = "/etc/antrean/broker/ca.crt"|' \
    "$root/root/office.toml"
  rm -rf "$cache/hub-broker"
  PYTHONPATH=$repo "$python" -m antrean_tools.cli broker init --config "$root/root/office.toml" \
    --out "$cache/hub-broker" --name antrean-hub.local >/dev/null
  # That hub, for the unit's program to talk to at the end: the queue service
  # from this source tree, on this machine, with the files broker init made.
  hub=$cache/hub && rm -rf "$hub" && mkdir -p "$hub"
  sed -e "s|path = \"var/antrean.db\"|path = \"$hub/antrean.db\"|" -e "s|^clips = \"var/voice\"|clips = \"$hub/voice\"|" \
    -e "s|^port = 1883\$|port = 1883\npassword_file = \"$cache/hub-broker/clients/{user}.password\"|" \
    "$repo/antrean.example.toml" >"$hub/hub.toml"
  # Debian's mosquitto.conf around the drop-in: root here, nothing persisted.
  { echo "user root" && sed 's/^persistence true$/persistence false/' "$cache/hub-broker/antrean.conf"; } >"$hub/mosquitto.conf"
fi
case $role in
hub | portable)
  # The office web on the LAN: provisioning adds its HTTPS lines and makes
  # its certificate (step 60, broker web-cert --if-needed).
  sed -i 's|^host = "127.0.0.1" *# where it listens.*|host = "0.0.0.0"|' "$root/root/office.toml"
  args=(--role portable --counter 2) imports="evdev, kivy, escpos" groups_wanted="video render input lp dialout"
  enabled=(antrean-queue antrean-kiosk antrean-web antrean-counter@2 mosquitto) disabled=(antrean-board getty@tty1)
  locals=(--local kiosk-1 --local counter-2 --local web)
  if [ "$role" = hub ]; then # the office's hub: no counter of its own
    args=(--role hub) enabled=(antrean-queue antrean-kiosk antrean-web mosquitto)
    disabled=(antrean-board antrean-counter@2 getty@tty1) locals=(--local kiosk-1 --local web)
  fi
  ;;
display)
  args=(--role display --enroll /root/board-1.enroll.toml) device=board-1 unit_args=(--role display) imports="kivy" groups_wanted="video render input audio"
  enabled=(antrean-board) disabled=(antrean-queue antrean-kiosk antrean-web getty@tty1)
  ;;
counter)
  args=(--role counter --counter 2 --enroll /root/counter-2.enroll.toml) device=counter-2
  unit_args=(--role counter --counter 2) imports="evdev, gpiozero" groups_wanted="gpio dialout input"
  enabled=(antrean-counter@2) disabled=(antrean-queue antrean-kiosk antrean-board)
  ;;
*) echo "ROLE must be portable, hub, display or counter" >&2 && exit 2 ;;
esac
[ -n "${device:-}" ] && cp "$cache/hub-broker/enroll/$device.enroll.toml" "$root/root/"
provision=(/root/bundle/deploy/raspberrypi/provision.sh "${args[@]}" --config /root/office.toml)
if [ -n "$kit" ]; then
  provision+=(--kit /root/kit) debs=/root/kit/debs/$role
  echo "==> a kit with one damaged package is refused, with nothing installed (no network from here on)"
  rm -rf "$root/root/kit-bad" && cp -a "$kit" "$root/root/kit-bad"
  damaged=$(find "$root/root/kit-bad/debs/$role" -name 'python3_*.deb' | head -n 1)
  printf 'x' | dd of="$damaged" bs=1 seek=1000 conv=notrunc status=none
  status_before=$(sha256sum <"$root/var/lib/dpkg/status")
  code=0
  in_root "${provision[@]:0:${#provision[@]}-1}" /root/kit-bad >"$cache/run-bad-kit.log" 2>&1 || code=$?
  if [ "$code" -ne 1 ] || ! grep -q "is damaged or was changed, nothing was installed" "$cache/run-bad-kit.log" ||
    ! grep -qF "debs/$role/$(basename "$damaged"): FAILED" "$cache/run-bad-kit.log"; then
    cat "$cache/run-bad-kit.log"
    fail "a damaged kit was not refused"
  fi
  if [ "$(sha256sum <"$root/var/lib/dpkg/status")" != "$status_before" ] || [ -e "$root/opt/antrean" ] ||
    [ -e "$root/etc/antrean" ]; then
    fail "a refused kit changed the root"
  fi
  sed -n 's/^ERROR: /    /p' "$cache/run-bad-kit.log" | cut -c1-150
  rm -rf "$root/root/kit-bad"
else
  provision+=(--bundle /root/antrean-bundle.tar.gz) debs=/var/cache/apt/archives
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
# web_login_page RUN...: the status of the office web's login page, asked from
# inside the root through RUN (in_root, in_ns), within a minute.
web_login_page() {
  local page=""
  for _ in $(seq 60); do
    # HTTPS when provisioning set it up (step 60), checked against the office CA.
    page=$("$@" /opt/antrean/venv/bin/python -c 'import os, ssl, urllib.request as u
if os.path.exists("/etc/antrean/broker/web.crt"):
    ctx = ssl.create_default_context(cafile="/etc/antrean/broker/ca.crt")
    ctx.check_hostname = False  # signed by the office CA; its names are the hub'"'"'s
    print(u.urlopen("https://127.0.0.1:8080/masuk", timeout=3, context=ctx).status)
else:
    print(u.urlopen("http://127.0.0.1:8080/masuk", timeout=3).status)' 2>/dev/null || true)
    [ "$page" = 200 ] && break
    sleep 1
  done
  echo "$page"
}
export -f web_login_page # for the network namespace's shell below

rm -f "$cache"/run*.log
firstboot=(/usr/local/sbin/antrean-firstboot "$role")
[[ " ${args[*]} " == *" --counter 2 "* ]] && firstboot+=(2)
if [ -n "${FIRSTBOOT:-}" ]; then
  [ -n "$kit" ] || fail "FIRSTBOOT=1 needs KIT (firstboot provisions from the kit on the boot partition)"
  # As the card comes from the technician's machine and cloud-init (user-data):
  # the kit, the config and the enrollment on the boot partition; firstboot.sh,
  # its unit (enabled) and its settings in the root.
  boot=$root/boot/firmware/antrean && mkdir -p "$boot"
  cp -a "$kit" "$boot/antrean-kit-$(sed -n 's/^version = "\(.*\)"$/\1/p' "$kit/kit.txt")"
  cp "$root/root/office.toml" "$boot/antrean.toml"
  [ -z "${device:-}" ] || cp "$root/root/$device.enroll.toml" "$boot/"
  install -m 0755 "$repo/deploy/raspberrypi/firstboot.sh" "$root/usr/local/sbin/antrean-firstboot"
  cp "$repo/deploy/raspberrypi/files/antrean-firstboot.service" "$root/etc/systemd/system/"
  in_root systemctl enable antrean-firstboot.service 2>/dev/null
  # The reboot: only after the marker, which must be there by then.
  printf '#!/bin/sh\n[ -e /var/lib/antrean/.provisioned ] || { echo "reboot before the marker" >&2; exit 1; }\necho reboot >>/root/reboots\n' \
    >"$root/root/reboot" && chmod +x "$root/root/reboot"
  fb_log=$root/var/log/antrean-provision.log
  echo "==> [$(($(date +%s) - started)) s] boot 1: firstboot.sh, the power cut in the middle of its apt"
  # Its own session: the cut takes firstboot.sh, provision.sh, apt and dpkg at once.
  setsid "${net[@]}" chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    ANTREAN_FIRSTBOOT_REBOOT=/root/reboot "${firstboot[@]}" &
  boot1=$!
  # (at apt's first unpacked package: a counter unit has only a few to install)
  for _ in $(seq 3600); do # (3 minutes at most)
    grep -qs '^Unpacking ' "$fb_log" && break
    kill -0 "$boot1" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL -- "-$boot1" 2>/dev/null || fail "boot 1 ended before the cut (log: $fb_log)"
  wait "$boot1" || true
  [ ! -e "$root/var/lib/antrean/.provisioned" ] || fail "the marker was written before the end"
  half=$(in_root dpkg --audit | grep -c '^ [a-z0-9]' || true)
  echo "    cut after $(grep -c '^Unpacking ' "$fb_log") packages unpacked: dpkg --audit lists $half, no marker"
  echo "==> [$(($(date +%s) - started)) s] boot 2: firstboot.sh again, to the end"
  in_root env ANTREAN_FIRSTBOOT_REBOOT=/root/reboot "${firstboot[@]}" || { tail -n 30 "$fb_log"; fail "boot 2"; }
  cp "$fb_log" "$cache/run1.log" # (the checks below read it as the complete run's log)
  [ "$(cat "$root/root/reboots")" = reboot ] || fail "boot 2 did not reboot once, after its marker"
  [ "$(in_root systemctl is-enabled antrean-firstboot.service)" = disabled ] || fail "antrean-firstboot is still enabled"
  [ -z "${device:-}" ] || [ ! -e "$boot/$device.enroll.toml" ] || fail "the enrollment stayed on the boot partition"
  grep -c '^==> .* provisioning as' "$fb_log" | grep -qx 2 || fail "firstboot did not run twice"
  tail -n 2 "$fb_log" | sed 's/^/    /'
else
echo "==> [$(($(date +%s) - started)) s] power cut after step 30, and in the middle of apt"
code=0
in_root env ANTREAN_TEST_CRASH_AT=step-30 "${provision[@]}" >"$cache/run0.log" 2>&1 || code=$?
[ "$code" -eq 137 ] || { cat "$cache/run0.log"; fail "the run to cut exited $code, not killed"; }
# Unpacked again and not configured: what dpkg shows after a cut during apt.
in_root sh -c "dpkg --unpack $debs/fake-hwclock_*.deb" >/dev/null 2>&1
[ -n "$(in_root dpkg --audit)" ] || fail "could not leave a package half installed"
if [ -n "$on_hub" ]; then
  echo "==> power cut inside antrean broker init"
  code=0
  in_root env ANTREAN_TEST_CRASH_AT=passwords "${provision[@]}" >"$cache/run0b.log" 2>&1 || code=$?
  [ "$code" -ne 0 ] || fail "the broker init to cut did not stop provisioning"
  [ ! -e "$root/etc/antrean/broker" ] || fail "a cut broker init left /etc/antrean/broker behind"
fi

echo "==> [$(($(date +%s) - started)) s] first complete run"
in_root "${provision[@]}" >"$cache/run1.log" 2>&1 || { cat "$cache/run1.log"; exit 1; }
tail -n 3 "$cache/run1.log"
fi

echo "==> checks"
[ -z "$(in_root dpkg --audit)" ] || fail "dpkg still has half installed packages"
# (on a hub or portable unit by the run cut inside broker init, the first after the cut in apt)
# (firstboot.sh runs dpkg --configure -a itself, before provision.sh)
[ -n "${FIRSTBOOT:-}" ] || grep -qs "dpkg --configure -a" "$cache/run0b.log" "$cache/run1.log" ||
  fail "the interrupted dpkg was not repaired"
if [ -n "$on_hub" ]; then
  in_root /opt/antrean/venv/bin/antrean broker check --config /etc/antrean/antrean.toml \
    "${locals[@]}" || fail "the broker folder is not complete"
  grep -q "antrean web adduser NAME --role petugas" "$cache/run1.log" ||
    fail "provisioning did not say how to make the office web's first user"
  if ! grep -q '^tls_cert = "/etc/antrean/broker/web.crt"$' "$root/etc/antrean/antrean.toml" ||
    [ "$(in_root stat -c '%a %U' /etc/antrean/broker/web.key)" != "600 antrean" ]; then
    fail "no HTTPS for the office web (tls_cert line, web.key 0600 antrean)"
  fi
  for f in "$root"/etc/antrean/broker/enroll/*.enroll.toml; do
    secret=$(sed -n 's/^password = "\(.*\)"$/\1/p' "$f")
    ! grep -qF "$secret" "$cache"/run*.log || fail "a device password is in the provisioning log"
  done
  [ "$(in_root stat -c '%a %U' /etc/antrean/broker/enroll)" = "700 root" ] || fail "enroll/ is not root only"
else
  [ "$(in_root stat -c '%a %U:%G' "/etc/antrean/broker/clients/$device.password")" = "640 root:antrean" ] ||
    fail "the unit's password file is not 0640 root:antrean"
  in_root /opt/antrean/venv/bin/antrean check-config --config /etc/antrean/antrean.toml \
    "${unit_args[@]}" >/dev/null || fail "check-config --role: credentials"
fi
# The office's time: the hub serves it (chrony), the other units take it from
# the hub only (timesyncd); chrony replaced timesyncd on the hub.
if [ -n "$on_hub" ]; then
  time_daemon=chrony
  grep -qx "local stratum 10" "$root/etc/chrony/conf.d/antrean.conf" || fail "chrony: no local stratum"
  grep -qx "allow 192.168.0.0/16" "$root/etc/chrony/conf.d/antrean.conf" || fail "chrony: the LAN is not allowed"
  # shellcheck disable=SC2016 # dpkg-query's own format
  ! in_root dpkg-query -W -f='${Status}' systemd-timesyncd 2>/dev/null | grep -q "ok installed" ||
    fail "systemd-timesyncd is installed beside chrony"
else
  time_daemon=systemd-timesyncd
  grep -qx "NTP=antrean-hub.local" "$root/etc/systemd/timesyncd.conf.d/antrean.conf" ||
    fail "timesyncd does not take the time from the hub"
fi
for unit in "${enabled[@]}" "$time_daemon" systemd-time-wait-sync fake-hwclock; do
  [ "$(in_root systemctl is-enabled "$unit.service")" = enabled ] || fail "$unit is not enabled"
done
for unit in "${disabled[@]}"; do
  [ "$(in_root systemctl is-enabled "$unit.service")" = disabled ] || fail "$unit is enabled on a $role unit"
done
in_root systemd-analyze verify --man=no antrean-queue.service antrean-kiosk.service antrean-counter@2.service \
  antrean-board.service antrean-web.service systemd-time-wait-sync.service || fail "systemd-analyze verify"
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
echo "==> [$(($(date +%s) - started)) s] second run"
in_root "${provision[@]}" >"$cache/run2.log" 2>&1 || { cat "$cache/run2.log"; exit 1; }
tail -n 1 "$cache/run2.log"
listing >"$cache/after.txt"
grep -q "done: nothing to change" "$cache/run2.log" || fail "the second run reported changes"
diff "$cache/before.txt" "$cache/after.txt" || fail "the second run changed files (diff above)"
echo "    $(wc -l <"$cache/before.txt") entries, identical after the second run"
if [ -n "${FIRSTBOOT:-}" ]; then
  echo "==> boot 3: firstboot.sh finds its marker and does nothing"
  in_root env ANTREAN_FIRSTBOOT_REBOOT=/root/reboot "${firstboot[@]}" || fail "boot 3 failed"
  listing >"$cache/after-boot3.txt"
  diff "$cache/after.txt" "$cache/after-boot3.txt" || fail "boot 3 changed files (diff above)"
  echo "    nothing changed, no reboot"
fi
if [ -z "$on_hub" ]; then
  # The unit's program as its unit starts it (its ExecStart and Environment, as
  # the unit's user), against the hub above in a private network namespace
  # (its own loopback, where antrean-hub.local is): the board on SDL's offscreen
  # driver (no screen here) until its office state is on screen, the counter
  # agent on gpiozero's mock pins until it sees the queue service.
  echo "==> [$(($(date +%s) - started)) s] the $role unit's program, running, talking to a hub"
  echo "127.0.0.1 antrean-hub.local" >>"$root/etc/hosts"
  case $role in
  display) unit=antrean-board.service extra_env="SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy" ready="board ready: office state on screen" ;;
  counter) unit=antrean-counter@.service extra_env="GPIOZERO_PIN_FACTORY=mock" ready="loket 2: queue service reachable" ;;
  esac
  exec_start=$(sed -n 's/^ExecStart=//p' "$root/etc/systemd/system/$unit" | sed 's/%i/2/g')
  unit_env=$(sed -n 's/^Environment=//p' "$root/etc/systemd/system/$unit" | tr '\n' ' ')
  code=0
  # shellcheck disable=SC2086 # the unit's command line and environment, split like systemd does
  unshare --net bash -s "$root" "$cache/hub" "$repo" "$python" "$ready" $unit_env $extra_env $exec_start \
    <<'UNIT' || code=$?
set -euo pipefail
root=$1 hub=$2 repo=$3 python=$4 ready=$5
shift 5
ip link set lo up
mosquitto -c "$hub/mosquitto.conf" >"$hub/mosquitto.log" 2>&1 &
broker=$!
PYTHONPATH=$repo "$python" -m antrean_tools.cli queue --config "$hub/hub.toml" >"$hub/queue.log" 2>&1 &
queue=$!
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 runuser -u antrean -- env "$@" \
  >"$hub/unit.log" 2>&1 &
app=$!
found=""
# (minutes under qemu: Kivy's first import there compiles nothing, but emulates everything)
for _ in $(seq 300); do
  grep -qF "$ready" "$hub/unit.log" && found=1 && break
  kill -0 "$app" 2>/dev/null || break
  sleep 1
done
kill "$app" "$queue" "$broker" 2>/dev/null || true
wait || true
[ -n "$found" ] || { tail -n 30 "$hub/unit.log" "$hub/queue.log"; exit 1; }
grep -F "$ready" "$hub/unit.log" | tail -n 1 | sed 's/^/    /'
UNIT
  [ "$code" -eq 0 ] || fail "the $role unit's program did not get to '$ready' (its log: $cache/hub/unit.log)"
  echo "==> passed in $(($(date +%s) - started)) s"
  exit 0
fi

echo "==> update to 0.10.0 (with 0.9.0 beside it in the bundle), then roll back"
src=$cache/src-next && rm -rf "$src" && mkdir -p "$src"
(cd "$repo" && git ls-files -z | xargs -0 cp --parents -t "$src")
wheels=$(find "$root/root/bundle/wheels" -mindepth 1 -maxdepth 1 -type d | head -n 1)
for v in 0.9.0 0.10.0; do
  sed -i "s/^version = .*/version = \"$v\"/" "$src/pyproject.toml"
  sed -i "s/^__version__ = .*/__version__ = \"$v\"/" "$src/antrean/__init__.py"
  SOURCE_DATE_EPOCH=315532800 "$python" -m pip wheel --quiet --no-deps \
    -w "$wheels" "$src" 2>/dev/null
done
update_from=/root/bundle
if [ -n "$kit" ]; then
  # The next release's kit: its bundle has those wheels too, and one of the
  # role's packages (fake-hwclock) has a newer version, which the update must
  # install from the kit, offline.
  update_from=/root/kit-next next=$root/root/kit-next work=$cache/kit-next
  rm -rf "$next" "$work" && cp -a "$root/root/kit" "$next" && mkdir -p "$work/bundle"
  tarball=$(find "$next" -maxdepth 1 -name 'antrean-bundle-*.tar.gz')
  tar -C "$work/bundle" -xzf "$tarball"
  top=$(ls "$work/bundle") # (its one folder)
  cp "$wheels"/antrean-0.9.0-*.whl "$wheels"/antrean-0.10.0-*.whl "$work/bundle/$top/wheels/$(basename "$wheels")/"
  tar -C "$work/bundle" -czf "$tarball" "$top"
  deb=$(find "$next/debs/$role" -name 'fake-hwclock_*.deb')
  hw_new=$(dpkg-deb -f "$deb" Version)+antrean1
  dpkg-deb -R "$deb" "$work/deb" && rm "$deb"
  sed -i "s/^Version: .*/Version: $hw_new/" "$work/deb/DEBIAN/control"
  dpkg-deb -b "$work/deb" "$next/debs/$role/fake-hwclock_${hw_new}_all.deb" >/dev/null
  # shellcheck disable=SC2016 # (for the inner shell)
  bash -c '. "$1" && kit_index "$2"' kit "$repo/deploy/raspberrypi/kit.sh" "$next/debs/$role"
  (cd "$next" && find . -type f ! -name SHA256SUMS -printf '%P\0' | sort -z | xargs -0 sha256sum) >"$work/SHA256SUMS"
  mv "$work/SHA256SUMS" "$next/SHA256SUMS"
fi
before=$(readlink "$root/opt/antrean/venv")
in_root /root/bundle/deploy/raspberrypi/provision.sh --update "$update_from" >"$cache/update.log" 2>&1 ||
  { cat "$cache/update.log"; fail "--update"; }
[ "$(readlink "$root/opt/antrean/venv")" = venvs/0.10.0 ] || fail "--update did not switch to 0.10.0"
[ "$(in_root /usr/local/bin/antrean --version)" = "antrean 0.10.0" ] || fail "antrean --version after the update"
# shellcheck disable=SC2016 # dpkg-query's own format
hw_version() { in_root dpkg-query -W -f='${Version}' fake-hwclock; }
if [ -n "$kit" ]; then
  [ "$(hw_version)" = "$hw_new" ] || fail "--update from the kit did not upgrade fake-hwclock to $hw_new"
  grep "upgrading from the kit" "$cache/update.log" | sed 's/^/    /'
fi
in_root /root/bundle/deploy/raspberrypi/provision.sh --rollback >"$cache/rollback.log" 2>&1 ||
  { cat "$cache/rollback.log"; fail "--rollback"; }
[ "$(readlink "$root/opt/antrean/venv")" = "$before" ] || fail "--rollback did not go back to $before"
# The app goes back; Debian's packages stay upgraded (same release: the old venv runs on them).
[ "$(in_root /usr/local/bin/antrean --version)" = "antrean ${before#venvs/}" ] || fail "antrean --version after the rollback"
[ -z "$kit" ] || [ "$(hw_version)" = "$hw_new" ] || fail "the rollback changed Debian's packages"
echo "    $before -> venvs/0.10.0 -> $before: $(tail -n 1 "$cache/rollback.log")"
echo "==> [$(($(date +%s) - started)) s] the installed units' programs, running: Mosquitto, the queue service, the web"
# A private network namespace: its own 127.0.0.1:1883, whatever the host runs.
unshare --net bash -s "$root" <<'LIVE'
set -euo pipefail
root=$1
start() { # UNIT LOG [ENV...]: its program exactly as the unit starts it, as the unit's user
  local exec_start unit=$1 log=$2
  shift 2
  exec_start=$(sed -n 's/^ExecStart=//p' "$root/etc/systemd/system/$unit")
  # shellcheck disable=SC2086 # the unit's command line, split like systemd does
  in_root runuser -u antrean -- env "$@" $exec_start >"$root/tmp/$log" 2>&1 &
}
ip link set lo up
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
mkdir -p "$root/run/mosquitto" && chown --reference="$root/var/lib/mosquitto" "$root/run/mosquitto"
in_root mosquitto -d -c /etc/mosquitto/mosquitto.conf
start antrean-queue.service queue.log
queue=$!
start antrean-web.service web.log
web=$!
# (up to a minute: under qemu, ARCH=aarch64, Python starts ten times slower)
for _ in $(seq 300); do grep -q "queue service for" "$root/tmp/queue.log" && break; sleep 0.2; done
web_page=$(web_login_page in_root)
# --as kiosk-1: a login as the hub's kiosk to see the queue service.
in_root /opt/antrean/venv/bin/antrean doctor --timeout 10 --as kiosk-1 | tee "$root/tmp/doctor.txt" || true
# The kiosk as its unit starts it (its Environment, with SDL's offscreen driver
# for the DRM screen this root lacks, and no printer plugged in) until its
# first frame is drawn, and still running 5 s later.
# shellcheck disable=SC2046 # the unit's Environment lines, split like systemd does
start antrean-kiosk.service kiosk.log $(sed -n 's/^Environment=//p' "$root/etc/systemd/system/antrean-kiosk.service") \
  SDL_VIDEODRIVER=offscreen SDL_AUDIODRIVER=dummy
kiosk=$!
for _ in $(seq 300); do
  grep -q "kiosk: first frame" "$root/tmp/kiosk.log" && break
  kill -0 "$kiosk" 2>/dev/null || break
  sleep 1
done
sleep 5
kiosk_alive=$(kill -0 "$kiosk" 2>/dev/null && echo yes || echo no)
kill "$queue" "$web" "$kiosk" 2>/dev/null || true
wait "$queue" "$web" "$kiosk" || true
grep -q "kiosk: first frame" "$root/tmp/kiosk.log" && grep -q "connected to MQTT broker" "$root/tmp/kiosk.log" &&
  [ "$kiosk_alive" = yes ] ||
  { echo "FAIL: the kiosk did not draw its first frame, log in and keep running"; tail -n 30 "$root/tmp/kiosk.log"; exit 1; }
echo "    the kiosk runs, logged in: $(grep "kiosk: first frame" "$root/tmp/kiosk.log" | tail -n 1 | sed 's/.*kiosk: //')"
[ "$web_page" = 200 ] || { echo "FAIL: the office web does not answer /masuk ($web_page)"; cat "$root/tmp/web.log"; exit 1; }
echo "    the office web answers /masuk: $web_page"
kill "$(cat "$root/run/mosquitto/mosquitto.pid")" || true
grep -q "^OK    broker" "$root/tmp/doctor.txt" && grep -q "^OK    queue" "$root/tmp/doctor.txt" &&
  grep -q "^OK    config" "$root/tmp/doctor.txt" && grep -q "^OK    disk" "$root/tmp/doctor.txt" &&
  grep -q "^OK    secret" "$root/tmp/doctor.txt" ||
  { echo "FAIL: doctor on the provisioned unit"; cat "$root/tmp/queue.log"; exit 1; }
[ -s "$root/var/lib/antrean/antrean.db" ] || { echo "FAIL: no store in /var/lib/antrean"; exit 1; }
LIVE

if [ "$arch" != "$host_arch" ]; then
  # Booting it needs systemd to install its seccomp filters, which qemu-user
  # does not pass to the kernel, and MemoryDenyWriteExecute forbids qemu's own
  # code generation: the sandboxes are the kernel's, tested on this
  # machine's architecture (ARCH=x86_64), not the Pi's.
  echo "    (not booted under systemd-nspawn on $arch: the unit sandboxes are tested with ARCH=$(uname -m))"
  echo "==> passed in $(($(date +%s) - started)) s"
  exit 0
fi
echo "==> [$(($(date +%s) - started)) s] the units under systemd, in their sandboxes (systemd-nspawn --boot)"
command -v systemd-nspawn >/dev/null || apt-get install -y -qq --no-install-recommends systemd-container
# nspawn brings its own /dev and /proc; no network (--private-network).
umount -lR "$root/dev" "$root/proc"
[ -n "$kit" ] || umount -l "$root/var/cache/apt/archives"
# time-sync.target would wait its 90 s for an NTP server there is none of
# here (the office without internet: docs/provisioning.md); not under test.
ln -sfn /dev/null "$root/etc/systemd/system/systemd-time-wait-sync.service"
# The container may not set this machine's clock (no CAP_SYS_TIME, which
# chrony's unit requires): here chrony serves without controlling it (-x).
mkdir -p "$root/etc/systemd/system/chrony.service.d"
printf '[Unit]\nConditionCapability=\n[Service]\nEnvironmentFile=\nEnvironment="DAEMON_OPTS=-F 1 -x"\n' \
  >"$root/etc/systemd/system/chrony.service.d/test-no-clock.conf"
systemd-nspawn -q -D "$root" --boot --register=no --keep-unit --private-network \
  >"$cache/boot.log" 2>&1 &
nspawn=$!
leader=""
for _ in $(seq 100); do
  # The container's systemd (PID 1 inside) is nspawn's child.
  leader=$(pgrep -P "$nspawn" -x systemd || true)
  [ -n "$leader" ] && break
  sleep 0.2
done
[ -n "$leader" ] || { cat "$cache/boot.log"; fail "systemd did not boot in the root"; }
in_ns() { nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
for _ in $(seq 120); do
  # (doctor exits 1 here whatever: no GPIO chip on this machine)
  doc=$(in_ns /opt/antrean/venv/bin/antrean doctor --timeout 3 --as kiosk-1 || true)
  grep -q "^OK    queue" <<<"$doc" && break
  sleep 1
done
# chrony serves the office from the hub's own clock here (no network): its
# local reference (127.127.1.1) once no server answered.
tracking=""
for _ in $(seq 90); do
  tracking=$(in_ns chronyc -n -c tracking 2>/dev/null || true)
  [[ $tracking == 7F7F0101,* ]] && break
  sleep 1
done
in_ns /opt/antrean/venv/bin/antrean doctor --timeout 3 --as kiosk-1 >"$cache/doctor-systemd.txt" || true
# (The kiosk needs /dev/tty1 and a screen, the counter agent an input device:
# this machine has neither, so those two are not started here.)
# The office web answers its login page (as a browser on the hub would ask).
web_page=$(web_login_page in_ns)
states=$(for u in mosquitto antrean-queue chrony antrean-web; do
  printf '%s=%s ' "$u" "$(in_ns systemctl is-active "$u.service" || true)"
done)
queue_pid=$(in_ns systemctl show -p MainPID --value antrean-queue.service)
sandbox=$(in_ns grep -E '^(CapBnd|NoNewPrivs|Seccomp):' "/proc/$queue_pid/status" | tr -s '\t\n' '  ')
mosquitto_pid=$(in_ns systemctl show -p MainPID --value mosquitto.service)
mosquitto_sandbox=$(in_ns grep -E '^(CapBnd|NoNewPrivs|Seccomp):' "/proc/$mosquitto_pid/status" | tr -s '\t\n' '  ')
clock_line=$(grep "clock" "$cache/doctor-systemd.txt" || true)
kill "$nspawn"
wait "$nspawn" || true
echo "    $states"
echo "    chrony tracking: $tracking"
echo "    doctor: $clock_line"
echo "    queue (pid $queue_pid): $sandbox"
echo "    mosquitto (pid $mosquitto_pid): $mosquitto_sandbox"
[ "$web_page" = 200 ] || fail "the office web does not answer on 127.0.0.1:8080/masuk ($web_page)"
[ "$states" = "mosquitto=active antrean-queue=active chrony=active antrean-web=active " ] ||
  fail "a unit is not running in its sandbox: $states (journal: $root/var/log/journal)"
[ "$sandbox" = "CapBnd: 0000000000000000 NoNewPrivs: 1 Seccomp: 2 " ] ||
  fail "the queue service runs without its sandbox: $sandbox"
[ "$mosquitto_sandbox" = "CapBnd: 00000000000000c1 NoNewPrivs: 1 Seccomp: 2 " ] ||
  fail "Mosquitto runs without its drop-in's sandbox: $mosquitto_sandbox"
[[ $tracking == 7F7F0101,* ]] || fail "chrony does not serve the hub's own clock: $tracking"
[[ $clock_line == *"own clock"* ]] || fail "doctor's clock line does not say the hub serves its own clock"
if ! grep -q "^OK    broker" "$cache/doctor-systemd.txt" || ! grep -q "^OK    queue" "$cache/doctor-systemd.txt"; then
  cat "$cache/doctor-systemd.txt"
  fail "doctor under systemd"
fi
echo "==> passed in $(($(date +%s) - started)) s"
