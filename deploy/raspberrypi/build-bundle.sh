#!/usr/bin/env bash
# Builds the offline bundle (`make bundle`): one .tar.gz with the app's wheel,
# every wheel a unit needs for each Python (3.11: Bookworm, 3.13: Trixie) on
# the Pi's architecture, and the provisioning scripts, so an office with no
# internet can be provisioned from the SD card's boot partition.
#
#   build-bundle.sh OUT_DIR [PYTHON_FOR_BUILD]
#   env: ARCH=aarch64 (x86_64 for the test root), PYTHONS="3.11 3.13"
set -euo pipefail

out=${1:?usage: build-bundle.sh OUT_DIR [PYTHON]}
python=${2:-python3}
arch=${ARCH:-aarch64}
pythons=${PYTHONS:-3.11 3.13}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
version=$("$python" -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["project"]["version"])' "$src/pyproject.toml")
name=antrean-bundle-$version-$arch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/wheels" "$out"

# The same source gives the same wheel (fixed timestamps), so a Pi that
# already has this build is not reinstalled.
export SOURCE_DATE_EPOCH=315532800
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/app" "$src"
app_wheel=$(find "$work/app" -name 'antrean-*.whl')

# Every role's dependencies, except those Debian must provide: evdev has no
# wheel for aarch64 on PyPI, so the counter unit installs python3-evdev and its
# virtualenv sees Debian's site-packages.
"$python" - "$src/pyproject.toml" >"$work/requirements.txt" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
extras = project["optional-dependencies"]
debian_only = {"evdev"}
reqs = list(project["dependencies"])
for role in ("kiosk", "board", "counter", "console", "web"):
    reqs += extras[role]
for r in dict.fromkeys(reqs):
    if r.split(">")[0].split("=")[0].split("[")[0].split(";")[0].strip() not in debian_only:
        print(r)
PY

for py in $pythons; do
  tag=cp${py/./}
  dest=$stage/wheels/$tag-$arch
  echo "==> wheels for CPython $py on $arch"
  # glibc 2.36 (Bookworm) and 2.41 (Trixie) run manylinux wheels up to 2.36.
  "$python" -m pip download --quiet --disable-pip-version-check --dest "$dest" \
    --only-binary :all: --implementation cp --python-version "$py" --abi "$tag" --abi abi3 --abi none \
    --platform "manylinux2014_$arch" --platform "manylinux_2_17_$arch" \
    --platform "manylinux_2_28_$arch" --platform "manylinux_2_34_$arch" --platform any \
    -r "$work/requirements.txt"
  cp "$app_wheel" "$dest/"
done

mkdir -p "$stage/deploy" "$stage/docs"
cp -r "$src/deploy/raspberrypi" "$stage/deploy/"
cp "$src/docs/provisioning.md" "$stage/docs/"
cp "$src/antrean.example.toml" "$src/pyproject.toml" "$stage/"
(cd "$stage" && find . -type f -print0 | sort -z | xargs -0 sha256sum >"$work/SHA256SUMS")
mv "$work/SHA256SUMS" "$stage/SHA256SUMS"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@$SOURCE_DATE_EPOCH \
  -C "$work" -czf "$out/$name.tar.gz" "$name"
echo "==> $out/$name.tar.gz ($(du -h "$out/$name.tar.gz" | cut -f1))"
