# shellcheck shell=bash
# The role's services: broker set-up, voice clips, units enabled (and, on a
# running Pi, restarted when something they use changed).
for unit in "$HERE"/systemd/*.service; do
  put_file "$unit" "/etc/systemd/system/$(basename "$unit")" 0644
done
# Debian's Mosquitto unit runs unconfined (systemd-analyze security: 9.6); the
# drop-in gives it a sandbox like ours.
if [ -n "$BROKER" ]; then
  put_file "$HERE/files/mosquitto-hardening.conf" \
    /etc/systemd/system/mosquitto.service.d/antrean.conf 0644
fi

if [ -n "$BROKER" ] && [ -z "$FILES_ONLY" ]; then
  # The devices that run on this unit get their passwords saved for the
  # antrean user (clients/{device}.password); the others get enrollment files.
  local_devices=()
  # shellcheck disable=SC2154 # summary: `antrean check-config` output, from 40-config.sh
  while read -r device role counter; do
    if [ "$role" = kiosk ] || [ "$role" = web ] || { [ -n "$COUNTER" ] && [ "$counter" = "$COUNTER)" ]; }; then
      local_devices+=(--local "$device")
    fi
  done < <(sed -n 's/^  device *\([^:]*\): \([a-z]*\)[^0-9]*\(.*\)$/\1 \2 \3/p' <<<"$summary")
  broker_args=(--config "$ETC/antrean.toml" --out "$ETC/broker" "${local_devices[@]}")
  # init keeps the CA and the passwords, and is all or nothing (a power cut
  # leaves no half folder); it runs when the folder is missing or incomplete.
  if ! "$APP" broker check "${broker_args[@]}" >/dev/null 2>&1 &&
    need_app broker "set up the office's Mosquitto"; then
    "$APP" broker init "${broker_args[@]}" --owner antrean || die "antrean broker init failed (see above)"
    CHANGED+=("$ETC/broker")
    problems=$("$APP" broker check "${broker_args[@]}" 2>&1) ||
      die "the broker set-up in $ETC/broker is not complete after init: $problems"
  fi
  # The office web's HTTPS certificate, signed by the CA init made, when the
  # installed config points at it (40-config.sh): a good one is kept, a
  # missing, expiring or foreign one is made again, its key the web's alone.
  # shellcheck disable=SC2154 # WEB: from 40-config.sh
  if [ -n "$WEB" ] && grep -Eq "^[[:space:]]*tls_cert[[:space:]]*=[[:space:]]*\"$ETC/broker/web.crt\"" "$R$ETC/antrean.toml"; then
    made=$("$APP" broker web-cert --config "$ETC/antrean.toml" --out "$ETC/broker" --owner antrean --if-needed 2>&1) ||
      die "antrean broker web-cert failed: $made"
    if grep -q '^made' <<<"$made"; then
      CHANGED+=("$ETC/broker/web.crt")
      say "$made"
    fi
  fi
  conf=$(find "$R$ETC/broker" -maxdepth 1 -name '*.conf' 2>/dev/null | sort | head -n 1 || true)
  if [ -n "$conf" ]; then
    # Debian's mosquitto.conf reads every *.conf in conf.d.
    put_link "${conf#"$R"}" /etc/mosquitto/conf.d/antrean.conf
  fi
  enable_unit mosquitto.service
fi

# Every program of this role can log in: its CA and password exist and the
# antrean user can read them (else the services would fail in a loop).
# shellcheck disable=SC2154,SC2153 # checker: from 40-config.sh; ROLE: provision.sh
if ! logins=$("$checker" check-config --config "$R$ETC/antrean.toml" --role "$ROLE" \
  --counter "${COUNTER:-0}" --root "${R:-/}" 2>&1 >/dev/null); then
  if [ -n "$FILES_ONLY" ]; then
    warn "the services cannot log in to the broker yet: $logins"
  else
    die "the services cannot log in to the broker: $logins"
  fi
fi

if [ "$SCREEN" = board ] && [ -z "$FILES_ONLY" ]; then
  # espeak-ng clips once per app build (the stamp says which build made them).
  voice_stamp=/var/lib/antrean/.voice-built
  want=$(cat /opt/antrean/venv/.antrean-stamp)
  if [ "$(cat "$voice_stamp" 2>/dev/null)" != "$want" ] && need_app voice "build the board's voice clips"; then
    as_antrean "$APP" voice build --config "$ETC/antrean.toml" || die "antrean voice build failed (see above)"
    printf '%s\n' "$want" >"$voice_stamp"
    CHANGED+=("voice")
  fi
fi

# Enable this role's units; disable the others (a Pi that changed role).
for unit in "$HERE"/systemd/*.service; do
  name=$(basename "$unit")
  [[ $name == *@.service ]] && continue
  if [[ " ${UNITS[*]} " == *" $name "* ]]; then enable_unit "$name"; else disable_unit "$name"; fi
done
for link in "$R"/etc/systemd/system/multi-user.target.wants/antrean-counter@*.service; do
  [ -e "$link" ] || [ -L "$link" ] || continue
  name=$(basename "$link")
  [[ " ${UNITS[*]} " == *" $name "* ]] || disable_unit "$name"
done
for name in "${UNITS[@]}"; do
  [[ $name == antrean-counter@* ]] && enable_unit "$name"
done

if [ -n "$LIVE" ] && changed; then
  say "restarting services"
  systemctl daemon-reload
  udevadm control --reload 2>/dev/null && udevadm trigger --subsystem-match=usb --subsystem-match=usbmisc
  [ -n "$BROKER" ] && systemctl restart mosquitto.service
  systemctl restart "${UNITS[@]}"
fi
