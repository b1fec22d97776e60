# shellcheck shell=bash
# Runs another architecture's programs through qemu-user-static, for
# `make test-provision ARCH=aarch64` (sourced by test-provision.sh).
#
#   ensure_qemu_binfmt DEBIAN_ARCH   e.g. arm64; returns 1 with the reason on stderr
#
# The kernel hands a foreign ELF file to qemu when binfmt_misc has a handler
# for it. Debian's qemu-user-static ships the handler lines
# (/usr/lib/binfmt.d/qemu-*.conf) but registers them only through
# systemd-binfmt or binfmt-support, which a VM or a container may not run:
# then this mounts binfmt_misc and registers the line itself, and says so.
# Its "F" flag opens qemu now, so a chroot needs no copy of qemu inside.
# BINFMT_DIR and BINFMT_CONF_DIR: other places, for tests.

ensure_qemu_binfmt() {
  local qemu dir=${BINFMT_DIR:-/proc/sys/fs/binfmt_misc} conf_dir=${BINFMT_CONF_DIR:-/usr/lib/binfmt.d} conf
  case $1 in
  arm64) qemu="qemu-aarch64" ;;
  *) echo "no qemu handler known for the architecture '$1'" >&2 && return 1 ;;
  esac
  if [ ! -e "$dir/register" ]; then
    if ! grep -qw binfmt_misc /proc/filesystems; then
      echo "cannot run $1 programs: this kernel has no binfmt_misc (not in /proc/filesystems; CONFIG_BINFMT_MISC)" >&2
      return 1
    fi
    echo "==> binfmt_misc is not mounted: mounting it on $dir"
    mount -t binfmt_misc binfmt_misc "$dir" || {
      echo "cannot run $1 programs: mounting binfmt_misc on $dir failed (see above; a container without CAP_SYS_ADMIN?)" >&2
      return 1
    }
  fi
  if [ -e "$dir/$qemu" ]; then
    grep -qx enabled "$dir/$qemu" && return 0
    echo "cannot run $1 programs: the $qemu handler in $dir is disabled (echo 1 > $dir/$qemu)" >&2
    return 1
  fi
  conf=$conf_dir/$qemu.conf
  if [ ! -f "$conf" ]; then
    echo "==> installing qemu-user-static (for $qemu)"
    apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null || {
      echo "cannot run $1 programs: apt-get install qemu-user-static failed (see above)" >&2
      return 1
    }
  fi
  [ -f "$conf" ] || { echo "cannot run $1 programs: no $conf (is qemu-user-static installed?)" >&2 && return 1; }
  echo "==> registering $qemu with binfmt_misc (from $conf; it stays until reboot)"
  # shellcheck disable=SC2005 # one write of one line, as the kernel wants it
  echo "$(grep -v '^#' "$conf" | head -n 1)" >"$dir/register" || {
    echo "cannot run $1 programs: the kernel refused the handler line of $conf (see above)" >&2
    return 1
  }
  [ -e "$dir/$qemu" ] || { echo "cannot run $1 programs: $qemu is not in $dir after registering it" >&2 && return 1; }
}
