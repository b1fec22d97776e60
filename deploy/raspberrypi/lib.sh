# shellcheck shell=bash
# Helpers shared by provision.sh and its steps (sourced, not run).
#
# Every step writes files through put_file, which replaces a file only when its
# content, mode or owner differs: a second run changes nothing, not even mtimes,
# and CHANGED tells the last step which services to restart.

say() { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
  printf 'ERROR: %s\n' "$*" >&2
  exit 1
}

# put_file SRC DEST MODE [OWNER:GROUP] - DEST is inside the target root.
put_file() {
  local src=$1 dest=$R$2 mode=$3 owner=${4:-root:root}
  if [ -f "$dest" ] && cmp -s "$src" "$dest" &&
    [ "$(stat -c %a "$dest")" = "${mode#0}" ] && owned_by "$dest" "$owner"; then
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  # Write beside the target and rename: a power cut leaves the old or the new file.
  cp "$src" "$dest.antrean-new"
  chmod "$mode" "$dest.antrean-new"
  set_owner "$dest.antrean-new" "$owner"
  mv -f "$dest.antrean-new" "$dest"
  CHANGED+=("$2")
  say "wrote $2"
}

# put_text DEST MODE [OWNER:GROUP] < text
put_text() {
  local tmp
  tmp=$(mktemp)
  cat >"$tmp"
  put_file "$tmp" "$@"
  rm -f "$tmp"
}

# put_link TARGET LINK - a symlink inside the target root.
put_link() {
  local target=$1 link=$R$2
  [ "$(readlink "$link" 2>/dev/null)" = "$target" ] && return 0
  mkdir -p "$(dirname "$link")"
  ln -sfn "$target" "$link"
  CHANGED+=("$2")
  say "linked $2 -> $target"
}

# put_dir DIR MODE OWNER:GROUP
put_dir() {
  local dir=$R$1 mode=$2 owner=$3
  if [ -d "$dir" ] && [ "$(stat -c %a "$dir")" = "${mode#0}" ] && owned_by "$dir" "$owner"; then
    return 0
  fi
  mkdir -p "$dir"
  chmod "$mode" "$dir"
  set_owner "$dir" "$owner"
  say "made $1"
}

# put_secret FILE OWNER:GROUP - a key of 32 random bytes (64 hex digits), mode
# 600. Made once and never replaced: a new key would orphan every NIK hash
# made with the old one (one number per NIK a day would no longer hold). An
# empty file never keyed anything and is made again; an existing key only
# gets its mode and owner set right.
put_secret() {
  local file=$R$1 owner=$2
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    (
      umask 077
      od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$file.antrean-new"
      echo >>"$file.antrean-new"
    )
    set_owner "$file.antrean-new" "$owner"
    mv -f "$file.antrean-new" "$file"
    CHANGED+=("$1")
    say "made the office secret $1 (mode 600, owner ${owner%%:*}; back it up with the store)"
  elif [ "$(stat -c %a "$file")" != 600 ] || ! owned_by "$file" "$owner"; then
    chmod 0600 "$file"
    set_owner "$file" "$owner"
    CHANGED+=("$1")
    say "set the office secret $1 to mode 600, owner ${owner%%:*}"
  fi
}

# Owners are names in the target system; with --root (tests) they may not
# exist there, so ownership is left alone in that mode.
owned_by() {
  [ -n "$FILES_ONLY" ] && return 0
  [ "$(stat -c %U:%G "$1")" = "$2" ]
}
set_owner() {
  [ -n "$FILES_ONLY" ] && return 0
  chown "$2" "$1"
}

changed() { [ ${#CHANGED[@]} -gt 0 ]; }

# systemctl for the target: offline on a root that is not the running system.
sysctl_() {
  if [ -n "$FILES_ONLY" ]; then
    systemctl --root="$R" "$@"
  else
    systemctl "$@"
  fi
}

# enable_unit UNIT - enables only when not enabled yet (no output on a rerun).
enable_unit() {
  if [ "$(sysctl_ is-enabled "$1" 2>/dev/null)" != enabled ]; then
    sysctl_ enable "$1" 2>&1 | sed 's/^/    /'
    CHANGED+=("enable:$1")
  fi
}

disable_unit() {
  case "$(sysctl_ is-enabled "$1" 2>/dev/null)" in
  enabled | static | alias | indirect)
    if sysctl_ disable "$1" 2>&1 | grep -q .; then CHANGED+=("disable:$1"); fi
    ;;
  esac
}

# True when a Debian package is installed in the target.
has_package() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The app in the unit's virtual environment.
APP=/opt/antrean/venv/bin/antrean
# shellcheck disable=SC2034 # used by the steps
ETC=/etc/antrean

# app_has COMMAND - the installed antrean has this subcommand (other issues
# add kiosk, board, counter, voice and broker; a bundle may predate them).
app_has() {
  "$R$APP" "$1" --help >/dev/null 2>&1
}

# need_app COMMAND WHY - a clear error (or, for test runs, a warning) when missing.
need_app() {
  if app_has "$1"; then return 0; fi
  local msg="this antrean has no '$1' command, needed to $2; provision from a newer bundle"
  if [ -n "$ALLOW_MISSING" ]; then
    warn "$msg (skipped: --allow-missing-apps)"
    return 1
  fi
  die "$msg"
}

# As the service user, with the unit's environment.
as_antrean() {
  runuser -u antrean -- env HOME=/var/lib/antrean "$@"
}
