# shellcheck shell=bash
# Versions of the app side by side (sourced by provision.sh): each version in
# its own virtual environment /opt/antrean/venvs/VERSION, and /opt/antrean/venv
# a symlink to the one in use, switched atomically (rename over the link).
# The version in use before stays, so `provision.sh --rollback` can go back.
# Versions compare as versions (sort -V: 0.10.0 > 0.9.0 > 0.2.0), not as text.

OPT=/opt/antrean
VENVS=$OPT/venvs
KEEP_VERSIONS=3 # the one in use, the one before it, and one more

# newest_wheel DIR - the antrean wheel with the highest version in DIR.
newest_wheel() {
  find "$1" -maxdepth 1 -name 'antrean-*.whl' -printf '%f\n' | sort -t- -k2,2V | tail -n 1 |
    sed "s|^|$1/|"
}

# wheel_version WHEEL - antrean-0.10.0-py3-none-any.whl -> 0.10.0
wheel_version() { basename "$1" | cut -d- -f2; }

# current_version - the version /opt/antrean/venv points at ("" if none).
current_version() {
  local target
  target=$(readlink "$R$OPT/venv" 2>/dev/null) || return 0
  basename "$target"
}

# installed_versions - complete venvs (stamp written last), oldest first.
installed_versions() {
  local d
  for d in "$R$VENVS"/*/; do
    [ -f "$d.antrean-stamp" ] && basename "$d"
  done | sort -V
}

# switch_to VERSION - points /opt/antrean/venv at it in one rename.
switch_to() {
  [ "$(current_version)" = "$1" ] && return 0
  ln -sfn "venvs/$1" "$R$OPT/venv.new"
  mv -T "$R$OPT/venv.new" "$R$OPT/venv"
  sync "$R$OPT"
  CHANGED+=("app $1")
  say "now using antrean $1 ($OPT/venv -> venvs/$1)"
}

# previous_version - the newest complete version older than the one in use.
previous_version() {
  local current
  current=$(current_version)
  installed_versions | awk -v cur="$current" '$0 == cur { print prev; exit } { prev = $0 }'
}

# prune_versions - keeps the newest KEEP_VERSIONS and the one in use.
prune_versions() {
  local current v
  current=$(current_version)
  for v in $(installed_versions | head -n "-$KEEP_VERSIONS"); do
    [ "$v" = "$current" ] && continue
    rm -rf --one-file-system "${R:?}$VENVS/$v"
    say "removed the old antrean $v"
  done
}

# store_schema_ok VERSION STORE - whether that version can read the store.
# It refuses a store of a newer schema (antrean/store.py), so check first.
store_schema_ok() {
  local knows has
  [ -f "$R$2" ] || return 0
  knows=$("$R$VENVS/$1/bin/python" -c 'from antrean.store import MIGRATIONS; print(len(MIGRATIONS))')
  has=$(python3 -c 'import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(db.execute("PRAGMA user_version").fetchone()[0])' "$R$2")
  if [ "$has" -gt "$knows" ]; then
    SCHEMA_PROBLEM="the store $2 has schema version $has; antrean $1 knows only $knows"
    return 1
  fi
}

# rollback_app - back to the previous version and restart this role's units.
rollback_app() {
  local current prev store
  current=$(current_version)
  [ -n "$current" ] || die "no versioned app here ($OPT/venv is not a link); nothing to roll back"
  prev=$(previous_version)
  [ -n "$prev" ] || die "no version before $current is kept in $VENVS (have: $(installed_versions | tr '\n' ' '))"
  store=$("$R$APP" check-config --config "$R$ETC/antrean.toml" | sed -n 's/^  store *//p')
  if ! store_schema_ok "$prev" "$store"; then
    die "not rolled back: $SCHEMA_PROBLEM (it was migrated by $current), so $prev would not start." \
      "Stay on $current, or restore the store's copy from before the update first"
  fi
  switch_to "$prev"
  if [ -n "$LIVE" ]; then
    systemctl restart "${UNITS[@]}"
  fi
  say "rolled back from antrean $current to $prev (still kept: $(installed_versions | tr '\n' ' '))"
}
