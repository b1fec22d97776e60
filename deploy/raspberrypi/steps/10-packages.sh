# shellcheck shell=bash
# Debian packages for the role (packages.sh). They come from the Pi's apt
# sources (internet at provisioning time) or, offline, from the kit's folder for
# this role (--kit, checked by provision.sh before this step).
[ -n "$FILES_ONLY" ] && return 0

# A power cut during an earlier run's apt-get leaves packages unpacked but not
# configured, and apt refuses to work until they are: finish them first.
if [ -n "$(dpkg --audit 2>/dev/null)" ]; then
  say "finishing the packages an interrupted run left half installed (dpkg --configure -a)"
  DEBIAN_FRONTEND=noninteractive dpkg --configure -a
  CHANGED+=("dpkg --configure -a")
fi

missing=() newer=()
# shellcheck disable=SC2153 # ROLE: provision.sh
while read -r p; do
  # From a kit (--kit, --update KIT): what is installed older than the kit's
  # copy is upgraded, from the kit only (its dependencies too, as apt needs).
  if [ -n "$DEBS_DIR" ] && v=$(kit_newer "$DEBS_DIR" "${p%\?}"); then
    newer+=("${p%\?}")
    say "upgrading from the kit: ${p%\?} $(dpkg-query -W -f='${Version}' "${p%\?}") -> $v"
    continue
  fi
  case $p in
  *\?) # where the release has it (Raspberry Pi OS has python3-lgpio already)
    p=${p%\?}
    if has_package "$p"; then continue; fi
    # (apt-cache without writing its cache files: a cache made here would be
    # stale after this run's install, and the next run would rebuild it)
    if { [ -n "$DEBS_DIR" ] && kit_has "$DEBS_DIR" "$p"; } ||
      apt-cache -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= show "$p" >/dev/null 2>&1; then
      missing+=("$p")
    fi
    ;;
  *) has_package "$p" || missing+=("$p") ;;
  esac
done < <(role_packages "$ROLE" "$COUNTER" "$READ_ONLY")

if [ $((${#missing[@]} + ${#newer[@]})) -gt 0 ]; then
  [ ${#missing[@]} -eq 0 ] || say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -n "$DEBS_DIR" ]; then
    # The kit's folder is apt's only source (its index, kit_index): apt takes
    # what the role lacks from there, and cannot reach for the internet. Its
    # lists and cache stay in $TMP: a cache of the kit alone left in
    # /var/cache/apt would be rebuilt by the next run's apt-cache (a change).
    mkdir -p "$TMP/apt/lists/partial" "$TMP/apt/sources" "$TMP/apt/cache/archives/partial"
    echo "deb [trusted=yes] file:$DEBS_DIR ./" >"$TMP/apt/sources/kit.list"
    kit_apt=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$TMP/apt/sources"
      -o Dir::State::Lists="$TMP/apt/lists" -o Dir::Cache="$TMP/apt/cache")
    { apt-get "${kit_apt[@]}" update -q && apt-get "${kit_apt[@]}" install -y -q --no-install-recommends "${missing[@]}" "${newer[@]}"; } ||
      die "installing from the kit's $DEBS_DIR failed (see above): is the kit built for this release? (make kit, on a machine like the Pi)"
  else
    apt-get update -q || die "apt-get update failed: no internet? Provision from the offline kit: --kit (docs/provisioning.md)"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  CHANGED+=("packages")
fi
