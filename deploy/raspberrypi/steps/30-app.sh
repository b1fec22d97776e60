# shellcheck shell=bash
# The app: each version in its own virtual environment /opt/antrean/venvs/VERSION
# (venvs.sh), from the offline bundle's wheels or from this source tree with its
# dependencies from PyPI, then /opt/antrean/venv switched to it. A version is
# reinstalled only when its wheel or the extras change (a stamp, written last,
# records both: a venv without one was cut short and is made again).
[ -n "$FILES_ONLY" ] && return 0

case $ROLE in
hub | portable) extras=kiosk,web ;;
display) extras=board ;;
counter) extras=counter ;;
esac
[ -n "$COUNTER" ] && [ "$ROLE" != counter ] && extras="$extras,counter"

pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
work=$TMP/app && mkdir -p "$work"

if [ -n "$BUNDLE_DIR" ]; then
  wheels="$BUNDLE_DIR/wheels/cp$pyver-$(uname -m)"
  [ -d "$wheels" ] || die "the bundle has no wheels for Python ${pyver:0:1}.${pyver:1} on $(uname -m) (has: $(ls "$BUNDLE_DIR/wheels")); build it with: make bundle PYTHONS=\"3.11 3.13\""
  app_wheel=$(newest_wheel "$wheels")
  pip_from=(--no-index --find-links "$wheels")
else
  src=$(cd "$HERE/../.." && pwd)
  [ -f "$src/pyproject.toml" ] || die "no --bundle and no source tree at $src"
  builder=$TMP/builder && python3 -m venv "$builder"
  # A fixed timestamp makes the same source build the same wheel (same stamp).
  SOURCE_DATE_EPOCH=315532800 "$builder/bin/pip" wheel --quiet --disable-pip-version-check \
    --no-deps -w "$work" "$src"
  app_wheel=$(newest_wheel "$work")
  pip_from=()
fi
[ -n "$app_wheel" ] || die "no antrean wheel found (bundle incomplete?)"
version=$(wheel_version "$app_wheel")
venv=$VENVS/$version

# The layout before versions: one venv in /opt/antrean/venv. Keep it as the
# version it holds, so the update can be rolled back to it.
if [ -d "$OPT/venv" ] && [ ! -L "$OPT/venv" ]; then
  old=$("$OPT/venv/bin/python" -c 'import antrean; print(antrean.__version__)' 2>/dev/null || echo unknown)
  mkdir -p "$VENVS"
  # Its scripts name /opt/antrean/venv; a link there keeps them working.
  mv "$OPT/venv" "$VENVS/$old" && ln -sfn "venvs/$old" "$OPT/venv"
  say "kept the installed antrean $old as $VENVS/$old"
fi

stamp="$(sha256sum <"$app_wheel" | cut -d' ' -f1) [$extras]"
if [ "$(cat "$venv/.antrean-stamp" 2>/dev/null)" != "$stamp" ]; then
  [ "$(current_version)" = "$version" ] && [ -n "$LIVE" ] &&
    warn "rebuilding the antrean $version in use (the same version, a different build)"
  rm -f "$venv/.antrean-stamp"
  # --system-site-packages: Debian's python3-evdev/python3-lgpio stand in for
  # the packages that have no aarch64 wheel on PyPI.
  [ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"
  say "installing antrean[$extras] $version into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    "${pip_from[@]}" "antrean[$extras] @ file://$app_wheel"
  # The same version number may be a newer build: replace the app itself.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    --no-deps --force-reinstall "$app_wheel"
  "$venv/bin/antrean" --version >/dev/null || die "the installed app does not run: $venv/bin/antrean --version"
  printf '%s\n' "$stamp" >"$venv/.antrean-stamp"
  sync "$venv/.antrean-stamp"
  CHANGED+=("app")
fi
switch_to "$version"
prune_versions
"$APP" --version >/dev/null || die "the installed app does not run: $APP --version"
# So the technician can type `sudo antrean doctor`.
put_link "$APP" /usr/local/bin/antrean

# The technician's guide, next to the app (the units link to it).
docs="$HERE/../../docs/provisioning.md"
if [ -f "$docs" ]; then put_file "$docs" /opt/antrean/docs/provisioning.md 0644; fi
