# shellcheck shell=bash
# /etc/antrean: the office config (validated first) and what this unit is.
checker=$R$APP
# With --root the target has no virtualenv: the caller's antrean checks it.
[ -n "$FILES_ONLY" ] && checker=$(command -v antrean || echo "$R$APP")
# A hub's web on the office LAN serves HTTPS with the office CA: the config
# gets the [web] tls_cert and tls_key of the files step 60 makes on the hub
# (antrean broker web-cert); every unit gets the same lines, so one office
# config passes everywhere. A config that cannot be read stays as it is, for
# check-config to name its line.
installed=$CONFIG
if "$checker" broker web-config --config "$CONFIG" --out "$ETC/broker" >"$TMP/antrean.toml" 2>/dev/null &&
  ! cmp -s "$CONFIG" "$TMP/antrean.toml"; then
  installed=$TMP/antrean.toml
  say "[web] listens on the LAN: adding tls_cert and tls_key (HTTPS with the office CA) to the installed config"
fi
summary=$("$checker" check-config --config "$installed" 2>&1) ||
  die "the office config is not valid, nothing was installed: $summary"

# The services write only under /var/lib/antrean (ProtectSystem=strict), and a
# read-only root keeps only that partition: the store must live there.
store=$(sed -n 's/^  store *//p' <<<"$summary")
case $store in
/var/lib/antrean/*) ;;
*) die "$CONFIG: [store] path is $store; on a Pi set path = \"/var/lib/antrean/antrean.db\"" ;;
esac
# The same for the board's voice clips: provisioning builds them as antrean,
# and a read-only root would lose them anywhere else.
clips=$("$checker" voice folder --config "$CONFIG" 2>&1) ||
  die "the office config is not valid, nothing was installed: $clips"
case $clips in
/var/lib/antrean/*) ;;
*) die "$CONFIG: [voice] clips is $clips; on a Pi set clips = \"/var/lib/antrean/voice\"" ;;
esac
# The office web on the hub, when the office has its device (docs/web.md): its
# accounts and session secret must be where the unit may write and keep them.
WEB="" # provision.sh prints how to add the first user
if [ -n "$BROKER" ] && grep -q '^  device  *[^:]*: web$' <<<"$summary"; then
  # shellcheck disable=SC2034 # WEB: read by provision.sh
  WEB=1
  UNITS+=(antrean-web.service)
  for pair in users:web-users.db session_secret:web-secret; do
    key=${pair%%:*}
    where=$(sed -n '/^\[web\]/,/^\[/s/^'"$key"' *= *"\([^"]*\)".*/\1/p' "$CONFIG")
    case $where in
    /var/lib/antrean/*) ;;
    *) die "$CONFIG: [web] $key is '${where:-its default, beside the config}'; on a Pi set $key = \"/var/lib/antrean/${pair#*:}\"" ;;
    esac
  done
fi
# The office secret's place (made below, once the config is in place): where
# the queue service may read it and a read-only root keeps it.
secret=""
if [ -n "$BROKER" ]; then
  secret=$(sed -n '/^\[booking\]/,/^\[/s/^secret_file *= *"\([^"]*\)".*/\1/p' "$CONFIG")
  case ${secret:=booking.secret} in /*) ;; *) secret=$ETC/$secret ;; esac
  case $secret in
  "$ETC"/* | /var/lib/antrean/*) ;;
  *) die "$CONFIG: [booking] secret_file is $secret; on a Pi leave it out (it is then $ETC/booking.secret)" ;;
  esac
fi
if [ -n "$COUNTER" ] && ! grep -q "^  counter  $COUNTER " <<<"$summary"; then
  die "$CONFIG has no [[counter]] with number = $COUNTER (see: antrean check-config)"
fi

# 0751: Mosquitto (its own user) must reach /etc/antrean/broker to read its
# files there; others may pass through but not list what is here.
put_dir "$ETC" 0751 root:antrean
# Group-readable only: it holds the broker password.
put_file "$installed" "$ETC"/antrean.toml 0640 root:antrean
# The office secret (docs/security.md): the HMAC key of every stored NIK hash,
# readable by the queue service's user only (and root). The services cannot
# make it: /etc/antrean is read-only to them. Made on the Pi itself, never in
# an image (--root), like the broker's passwords: every card flashed from one
# image would share it. Under /etc/antrean a read-only root keeps it too
# (step 45 moves that folder onto the data partition).
if [ -n "$secret" ] && [ -z "$FILES_ONLY" ]; then
  put_secret "$secret" antrean:antrean
fi

read_only=false
if [ -n "$READ_ONLY" ]; then read_only=true; fi
ntp_line="" # a hub's office LAN (--ntp-allow), kept for --update
[ -n "$NTP_ALLOW" ] && ntp_line="ntp_allow = \"$NTP_ALLOW\""
put_text "$ETC"/unit.toml 0644 <<TOML
# Written by provision.sh: what this Pi is (read by antrean doctor).
role = "$ROLE"
counter = ${COUNTER:-0}
read_only_root = $read_only
$ntp_line
TOML

# The unit's login to the hub (display, counter): the CA and its password from
# the enrollment file, readable by the antrean group only.
if [ -n "$ENROLL" ]; then
  joined=$("$checker" broker join "$ENROLL" --config "$R$ETC/antrean.toml" --root "${R:-/}") ||
    die "antrean broker join $ENROLL failed: $joined"
  if grep -q '^installed' <<<"$joined"; then
    CHANGED+=("enrollment")
    say "installed the broker credentials from $ENROLL"
  fi
fi

# Journal times in the office's own time zone (the technician reads them).
zone=$(sed -n 's/^  office .*(\(.*\))$/\1/p' <<<"$summary")
if [ -n "$zone" ] && [ -e "$R/usr/share/zoneinfo/$zone" ]; then
  put_link "/usr/share/zoneinfo/$zone" /etc/localtime
  put_text /etc/timezone 0644 <<<"$zone"
fi
