#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Builds the offline kit (`make kit`): the bundle and, for each role, its
# Debian packages with all their dependencies, and SHA256SUMS over all of it.
# Run it on a machine with internet that is like the Pis: the same Debian (or
# Raspberry Pi OS) release and architecture, e.g. one Pi at the workshop.
# provision.sh --kit checks the sums before it installs anything.
#
#   build-kit.sh OUT_DIR [PYTHON_FOR_BUILD]
#   env: BUNDLE=antrean-bundle-*.tar.gz (made with make bundle when not given)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build-kit.sh OUT_DIR [PYTHON]}
python=${2:-python3}
# shellcheck disable=SC2034 # the target root for packages.sh: this machine
R=""
# shellcheck source=packages.sh
. "$here/packages.sh"
# shellcheck source=kit.sh
. "$here/kit.sh"
debian=$(debian_major)
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -z "${BUNDLE:-}" ]; then
  pyarch=$(uname -m)
  ARCH=$pyarch "$here/build-bundle.sh" "$work/bundle" "$python"
  BUNDLE=$(find "$work/bundle" -name 'antrean-bundle-*.tar.gz' | head -n 1)
fi
name=$(basename "$BUNDLE" .tar.gz)
kit=$out/${name/antrean-bundle/antrean-kit}
rm -rf "$kit.part" && mkdir -p "$kit.part/debs"
cp "$BUNDLE" "$kit.part/"

apt-get update -q
for role in hub display counter portable; do
  # Hub and portable units may run a counter too (--counter N); a Pi with a
  # read-only root needs raspi-config (Raspberry Pi OS only).
  wanted=()
  while read -r p; do
    p=${p%\?}
    apt-cache show "$p" >/dev/null 2>&1 && wanted+=("$p")
  done < <(role_packages "$role" 1 1)
  # Every package they need, down to libc: the Pi may have none of them, and
  # apt must never reach for the network in the office.
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances "${wanted[@]}" | grep '^[a-z0-9]' | sort -u)
  mkdir -p "$kit.part/debs/$role"
  echo "==> $role: ${#closure[@]} packages"
  (cd "$kit.part/debs/$role" && apt-get download -q "${closure[@]}" >/dev/null)
  kit_index "$kit.part/debs/$role"
done
printf 'version = "%s"\ndebian = "%s"\narch = "%s"\n' "${name#antrean-bundle-}" "$debian" "$arch" >"$kit.part/kit.txt"
(cd "$kit.part" && find . -type f -printf '%P\0' | sort -z | xargs -0 sha256sum) >"$work/SHA256SUMS"
mv "$work/SHA256SUMS" "$kit.part/SHA256SUMS"
rm -rf "$kit" && mv "$kit.part" "$kit"
echo "==> $kit ($(du -sh "$kit" | cut -f1)): copy the folder to a USB stick"
