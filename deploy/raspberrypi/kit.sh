# shellcheck shell=bash
# The offline kit (build-kit.sh, `make kit`): checked before anything is
# installed, and each role takes only its own packages. Sourced by provision.sh.
#
#   KIT/SHA256SUMS                    every other file of the kit, and no more
#   KIT/kit.txt                       debian = "12", arch = "arm64": what the .debs are for
#   KIT/antrean-bundle-*.tar.gz       the bundle (make bundle)
#   KIT/debs/{hub,display,counter,portable}/*.deb   each role's packages and their dependencies,
#                                                  with their index (Packages)

# check_sums DIR WHAT - dies unless every file DIR/SHA256SUMS lists matches it.
check_sums() {
  local bad
  bad=$(cd "$1" && sha256sum --check --strict --quiet SHA256SUMS 2>&1) ||
    die "$2 in $1 is damaged or was changed, nothing was installed: ${bad//$'\n'/; }. Copy it again from the machine that built it"
}

# verify_bundle DIR - the unpacked bundle matches the SHA256SUMS make bundle wrote
# (files added later, such as another version's wheel, are allowed).
verify_bundle() {
  [ -f "$1/SHA256SUMS" ] || die "--bundle: $1 has no SHA256SUMS; is it from make bundle?"
  check_sums "$1" "the bundle"
}

# verify_kit KIT - dies unless every file matches SHA256SUMS and none is unlisted.
verify_kit() {
  local kit=$1 unlisted
  [ -f "$kit/SHA256SUMS" ] || die "--kit: $kit has no SHA256SUMS; is it from make kit?"
  check_sums "$kit" "the kit"
  # A file the builder did not list (a .deb added later) is refused as well.
  unlisted=$(cd "$kit" && comm -23 <(find . -type f ! -path ./SHA256SUMS | sed 's|^\./||' | sort) \
    <(sed 's/^[0-9a-f]\{64\}  //' SHA256SUMS | sort))
  [ -z "$unlisted" ] || die "the kit in $kit has files that are not in its SHA256SUMS: ${unlisted//$'\n'/ }"
}

# kit_value KIT KEY - a value from kit.txt.
kit_value() {
  sed -n "s/^$2 = \"\(.*\)\"$/\1/p" "$1/kit.txt"
}

# kit_check_target KIT - the kit's packages are for this Pi's release and architecture.
kit_check_target() {
  local want_debian want_arch have_arch
  want_debian=$(kit_value "$1" debian) want_arch=$(kit_value "$1" arch)
  have_arch=$(dpkg --print-architecture)
  if [ "$want_debian" != "$(debian_major)" ] || [ "$want_arch" != "$have_arch" ]; then
    die "the kit's packages are for Debian $want_debian $want_arch, this Pi is Debian $(debian_major) $have_arch: build the kit on a machine like the Pi (docs/provisioning.md, 'The offline kit')"
  fi
}

# kit_index FOLDER - writes FOLDER/Packages, the index apt reads the folder's
# .debs from (a `deb [trusted=yes] file:FOLDER ./` source): apt then installs
# what the role needs and chooses between alternatives as it does online,
# rather than every package of the downloaded closure (which held both
# libsystemd0 and libelogind0, and removed systemd).
kit_index() {
  local deb
  for deb in "$1"/*.deb; do
    [ -f "$deb" ] || continue
    dpkg-deb -f "$deb"
    printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$(basename "$deb")" "$(stat -c %s "$deb")" \
      "$(sha256sum "$deb" | cut -d' ' -f1)"
  done >"$1/Packages"
}

# kit_has FOLDER PACKAGE - the folder has a .deb of this package.
kit_has() {
  local deb
  for deb in "$1/$2"_*.deb; do [ -f "$deb" ] && return 0; done
  return 1
}

# kit_newer FOLDER PACKAGE - prints the highest version of PACKAGE the folder
# has when that is newer than the installed one (an installed package only):
# a kit of a newer release upgrades what the role already has, from the kit.
kit_newer() {
  local deb have v best=""
  have=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null) || return 1
  for deb in "$1/$2"_*.deb; do
    [ -f "$deb" ] || continue
    v=$(dpkg-deb -f "$deb" Version)
    if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$best"; then best=$v; fi
  done
  [ -n "$best" ] && dpkg --compare-versions "$best" gt "$have" && echo "$best"
}
