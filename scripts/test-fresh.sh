#!/usr/bin/env bash
# `make test-fresh`: the README's promise on a newcomer's machine. In a fresh
# minimal Debian root (debootstrap: python3 and make, no compiler) it runs
# `make test` in a clean clone of this branch's last commit, then `make demo`
# on a virtual screen (offline: the set-up must not run again) and Ctrl-C.
# Slow (many minutes: every package and wheel, the whole suite), needs root.
#
#   scripts/test-fresh.sh bookworm|trixie       (Debian 12 / 13)
#   env COMMIT=rev (default HEAD), KEEP=1 keeps the root (var/fresh-root-DIST)
set -euo pipefail

dist=${1:?usage: test-fresh.sh bookworm|trixie}
case $dist in bookworm | trixie) ;; *) echo "DIST must be bookworm or trixie, got '$dist'" >&2 && exit 2 ;; esac
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=$repo/var/fresh-cache
root=$repo/var/fresh-root-$dist
arch=$(dpkg --print-architecture)
commit=$(git -C "$repo" rev-parse "${COMMIT:-HEAD}")

[ "$(id -u)" -eq 0 ] || { echo "needs root (debootstrap, chroot, mount)" >&2; exit 1; }
# A private mount and PID namespace: the mounts vanish however we exit, and
# nothing the tests leave running outlives this script (it is PID 1 there).
if [ -z "${ANTREAN_FRESH_NS:-}" ]; then
  exec env ANTREAN_FRESH_NS=1 unshare --mount --propagation private --pid --fork "$0" "$@"
fi
command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap
started=$SECONDS
step() { echo "==> $* (at $((SECONDS - started)) s)"; }
fail() { echo "FAIL ($dist): $*" >&2; exit 1; }

# The mirrors this machine already uses (debian and debian-security).
sources() {
  sed -n "s/^URIs: *\(http[^ ]*$1\)\/*$/\1/p; s/^deb \(http[^ ]*$1\)\/* .*/\1/p" \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
    head -n 1 || true
}
mirror=$(sources debian)
security=$(sources debian-security)
[ -n "$mirror" ] || fail "no Debian mirror in /etc/apt/sources.list*"

# A finished base root is cached: a rerun unpacks it in seconds. What a
# newcomer has: a minimal Debian with python3 and make (to clone and type
# `make test`), nothing else.
step "base root: Debian $dist ($arch)"
base=$cache/$dist-$arch-root.tgz
mkdir -p "$cache/apt-archives-$dist" "$cache/pip-http-$dist"
if [ ! -f "$base" ]; then
  debs=$cache/$dist-$arch-debs.tgz # the downloaded .debs, reused if a build fails
  include=ca-certificates,make,python3
  if [ ! -f "$debs" ]; then
    debootstrap --variant=minbase --include=$include --make-tarball="$debs" \
      "$dist" "$cache/tarball-work-$dist" "$mirror" >"$cache/$dist-debootstrap.log" 2>&1 ||
      fail "debootstrap: $cache/$dist-debootstrap.log"
  fi
  rm -rf --one-file-system "$cache/base-work-$dist"
  debootstrap --variant=minbase --include=$include --unpack-tarball="$debs" \
    "$dist" "$cache/base-work-$dist" "$mirror" >"$cache/$dist-debootstrap.log" 2>&1 ||
    fail "debootstrap: $cache/$dist-debootstrap.log"
  {
    echo "deb $mirror $dist main"
    echo "deb $mirror $dist-updates main"
    [ -z "$security" ] || echo "deb $security $dist-security main"
  } >"$cache/base-work-$dist/etc/apt/sources.list"
  tar -C "$cache/base-work-$dist" -czf "$base.part" . && mv "$base.part" "$base"
  rm -rf --one-file-system "$cache/base-work-$dist"
fi
rm -rf --one-file-system "$root"
mkdir -p "$root"
mount --bind "$root" "$root" # one `umount -R` then takes every mount below
tar -C "$root" -xzf "$base"

# What a machine has and a chroot lacks. /proc is this PID namespace's own;
# /dev/shm a private tmpfs; Debian 13 keeps /tmp in memory, 12 on disk.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm"
[ "$dist" = bookworm ] || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# Debian's installer writes /etc/hosts; a minbase Debian 12 root has none, and
# "localhost" (the TLS tests' broker host) would go to DNS.
[ -e "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
# The certificate authorities added on this machine (a TLS proxy's, say): a
# machine on the same network trusts them too, or pip reaches no index.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
# No daemon may start on this machine's network (a real machine would start
# Mosquitto on 1883; the tests start their own on free ports).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
# Downloads, not builds, are kept between runs: evdev is compiled every time.
mount --bind "$cache/apt-archives-$dist" "$root/var/cache/apt/archives"
mkdir -p "$root/root/.cache/pip/http-v2"
mount --bind "$cache/pip-http-$dist" "$root/root/.cache/pip/http-v2"
! chroot "$root" sh -c 'command -v cc gcc' >/dev/null || fail "the base root has a compiler"
echo "    $(chroot "$root" python3 --version), no compiler"

[ -z "$(git -C "$repo" status --porcelain)" ] || echo "    (uncommitted changes are not tested: a clean clone of $commit)"
git clone --quiet --no-hardlinks "$repo" "$root/root/antrean"
git -C "$root/root/antrean" checkout --quiet --detach "$commit"
step "make test in a clean clone of $(git -C "$repo" log -1 --format='%h %s' "$commit")"
in_root() {
  chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb sh -c 'cd /root/antrean && exec "$@"' sh "$@"
}
# Each line with the seconds since the start of the step, for the timings.
stamped() {
  local t0=$SECONDS line
  while IFS= read -r line; do printf '%5d %s\n' $((SECONDS - t0)) "$line"; done
}
log=$cache/$dist-make-test.log
rc=0
in_root make test </dev/null 2>&1 | stamped >"$log" || rc=$?
grep -m 1 "Installing Debian packages" "$log" | cut -c 1-150 || true
echo "    set-up (packages, venv) took $(grep -m 1 'ruff check' "$log" | awk '{print $1}') s of $(tail -n 1 "$log" | awk '{print $1}') s"
grep -E "^ *[0-9]+ =+ .*(passed|failed|error)" "$log" | tail -n 1 || true
[ "$rc" -eq 0 ] || fail "make test (exit $rc): $log"

step "make demo on a virtual screen, offline, then Ctrl-C"
demo_log=$cache/$dist-make-demo.log
# In a terminal (script(1) gives it a pty), as a newcomer types it, with its
# own network (loopback only): Mosquitto on the config's 1883 is ours, and a
# set-up that wanted apt or pip again would fail here. Ctrl-C is typed into
# the terminal, so the kernel signals its foreground processes as it would.
keys=$cache/$dist-keys
rm -f "$keys" && mkfifo "$keys"
exec 3<>"$keys"
unshare --net sh -c 'ip link set lo up && exec "$@"' sh \
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=xterm \
  script -q -e -c 'cd /root/antrean && xvfb-run -a -s "-screen 0 2200x1300x24" make demo' /dev/null \
  <"$keys" >"$demo_log" 2>&1 &
demo=$!
for _ in $(seq 120); do grep -q "demo: Ctrl-C stops everything" "$demo_log" && break; sleep 1; done
grep -q "demo: Ctrl-C stops everything" "$demo_log" || fail "make demo did not start: $demo_log"
sleep 20 # the apps open their windows and connect
running=$(tr -d '\r' <"$demo_log")
printf '\003' >&3
wait "$demo" || true # make dies of the SIGINT (130) whatever the demo did
exec 3>&- && rm -f "$keys"
sleep 2
tr -d '\r' <"$demo_log" | grep -E "^demo: " | sed 's/^/    /'
! grep -q "Installing Debian packages" <<<"$running" || fail "make demo installed packages again: $demo_log"
# (After Ctrl-C, Xvfb dies with the rest of the terminal's processes and the
# apps with it: the demo may report an app's end then; only the stop counts.)
! grep -q "ended with exit code" <<<"$running" || fail "an app of the demo ended: $demo_log"
! grep -q "Traceback" <<<"$running" || fail "a traceback while the demo ran: $demo_log"
grep -q "demo: queue service stopped" "$demo_log" || fail "the demo did not stop: $demo_log"
left=()
for p in "$root"/proc/[0-9]*; do
  [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && left+=("$(tr '\0' ' ' <"$p/cmdline")")
done
[ ${#left[@]} -eq 0 ] || fail "processes left after Ctrl-C: ${left[*]}"
umount -R "$root"
[ -n "${KEEP:-}" ] || rm -rf --one-file-system "$root"
step "passed: Debian $dist"
