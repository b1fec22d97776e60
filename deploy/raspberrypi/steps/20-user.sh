# shellcheck shell=bash
# The service user and the device groups its role needs.
[ -n "$FILES_ONLY" ] && return 0

if ! id antrean >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /var/lib/antrean --no-create-home \
    --shell /usr/sbin/nologin --comment "Antrean queue system" antrean
  CHANGED+=("user antrean")
  say "created user antrean"
fi

groups=()
# video/render: /dev/dri for KMS; input: the touchscreen; lp: the printer;
# dialout: serial printers and button boxes; audio: the board's voice.
[ -n "$SCREEN" ] && groups+=(video render input)
[ "$SCREEN" = kiosk ] && groups+=(lp dialout)
[ "$SCREEN" = board ] && groups+=(audio)
[ -n "$COUNTER" ] && groups+=(gpio dialout input)

have=" $(id -nG antrean) "
missing=""
for g in "${groups[@]}"; do
  case "$have $missing " in *" $g "*) continue ;; esac
  if ! getent group "$g" >/dev/null; then
    # Raspberry Pi OS has gpio (with its udev rule); plain Debian does not.
    warn "group '$g' does not exist here; antrean doctor will report what it cannot reach"
    missing="$missing $g"
    continue
  fi
  usermod -a -G "$g" antrean
  have="$have$g "
  CHANGED+=("group $g")
  say "added antrean to group $g"
done
put_dir /var/lib/antrean 0750 antrean:antrean
