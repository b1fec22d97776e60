# shellcheck shell=bash
# The app in /opt/antrean/venv: from the offline bundle's wheels, or from this
# source tree with its dependencies from PyPI. Reinstalled only when the app's
# wheel or the extras change (a stamp in the venv records both).
[ -n "$FILES_ONLY" ] && return 0

case $ROLE in
hub | portable) extras=kiosk ;;
display) extras=board ;;
counter) extras=counter ;;
esac
[ -n "$COUNTER" ] && [ "$ROLE" != counter ] && extras="$extras,counter"

venv=/opt/antrean/venv
pyver=$(python3 -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')
work=$TMP/app && mkdir -p "$work"

if [ -n "$BUNDLE_DIR" ]; then
  wheels="$BUNDLE_DIR/wheels/cp$pyver-$(uname -m)"
  [ -d "$wheels" ] || die "the bundle has no wheels for Python ${pyver:0:1}.${pyver:1} on $(uname -m) (has: $(ls "$BUNDLE_DIR/wheels")); build it with: make bundle PYTHONS=\"3.11 3.13\""
  app_wheel=$(find "$wheels" -name 'antrean-*.whl' | head -n 1)
  pip_from=(--no-index --find-links "$wheels")
else
  src=$(cd "$HERE/../.." && pwd)
  [ -f "$src/pyproject.toml" ] || die "no --bundle and no source tree at $src"
  [ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"
  # A fixed timestamp makes the same source build the same wheel (same stamp).
  SOURCE_DATE_EPOCH=315532800 "$venv/bin/pip" wheel --quiet --disable-pip-version-check \
    --no-deps -w "$work" "$src"
  app_wheel=$(find "$work" -maxdepth 1 -name 'antrean-*.whl' | head -n 1)
  pip_from=()
fi
[ -n "$app_wheel" ] || die "no antrean wheel found (bundle incomplete?)"

stamp="$(sha256sum <"$app_wheel" | cut -d' ' -f1) [$extras]"
if [ "$(cat "$venv/.antrean-stamp" 2>/dev/null)" != "$stamp" ]; then
  # --system-site-packages: Debian's python3-evdev/python3-lgpio stand in for
  # the packages that have no aarch64 wheel on PyPI.
  [ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"
  say "installing antrean[$extras] into $venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    "${pip_from[@]}" "antrean[$extras] @ file://$app_wheel"
  # The same version number may be a newer build: replace the app itself.
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-cache-dir \
    --no-deps --force-reinstall "$app_wheel"
  printf '%s\n' "$stamp" >"$venv/.antrean-stamp"
  CHANGED+=("app")
fi
"$APP" --version >/dev/null || die "the installed app does not run: $APP --version"
# So the technician can type `sudo antrean doctor`.
put_link "$APP" /usr/local/bin/antrean

# The technician's guide, next to the app (the units link to it).
docs="$HERE/../../docs/provisioning.md"
if [ -f "$docs" ]; then put_file "$docs" /opt/antrean/docs/provisioning.md 0644; fi
