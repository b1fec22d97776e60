# shellcheck shell=bash
# The Pi itself: hardware watchdog, journald limits, the clock, the screen.
files=$HERE/files
put_file "$files/watchdog.conf" /etc/systemd/system.conf.d/antrean-watchdog.conf 0644
put_file "$files/journald.conf" /etc/systemd/journald.conf.d/antrean.conf 0644

# No clock battery: fake-hwclock restores the last saved time at boot (not
# 1970), the hub serves the office its time (chrony, clock.sh) and the other
# units follow it (timesyncd), and time-sync.target (which the queue waits
# for) comes at most 90 s later.
put_file "$files/time-wait-sync.conf" \
  /etc/systemd/system/systemd-time-wait-sync.service.d/antrean.conf 0644
clock_changes=${#CHANGED[@]}
if [ -n "$BROKER" ]; then
  put_text /etc/chrony/conf.d/antrean.conf 0644 < <(chrony_conf "$NTP_ALLOW")
  time_daemon=chrony.service
else
  # shellcheck disable=SC2154 # summary: `antrean check-config` output, from 40-config.sh
  hub=$(sed -n 's/^  broker *\(.*\):[0-9]*$/\1/p' <<<"$summary")
  put_text /etc/systemd/timesyncd.conf.d/antrean.conf 0644 < <(timesyncd_conf "$hub")
  time_daemon=systemd-timesyncd.service
fi
for unit in "$time_daemon" systemd-time-wait-sync.service fake-hwclock.service; do
  if [ -e "$R/lib/systemd/system/$unit" ] || [ -e "$R/usr/lib/systemd/system/$unit" ]; then
    enable_unit "$unit"
  elif [ -z "$FILES_ONLY" ]; then
    warn "$unit is not installed; the clock may start wrong after a power cut"
  fi
done
if [ -n "$LIVE" ] && [ ${#CHANGED[@]} -gt "$clock_changes" ]; then
  systemctl restart "$time_daemon"
fi

# Thermal printers on USB for the kiosk: group lp and /dev/antrean-printer.
if [ "$SCREEN" = kiosk ]; then
  put_file "$files/99-antrean-printer.rules" /etc/udev/rules.d/99-antrean-printer.rules 0644
fi

if [ -n "$SCREEN" ]; then
  # The app owns tty1; a login prompt would fight it for the screen.
  disable_unit getty@tty1.service
  # The kernel console must never blank the screen (SDL keeps DPMS off itself).
  for cmdline in "$R/boot/firmware/cmdline.txt" "$R/boot/cmdline.txt"; do
    [ -f "$cmdline" ] || continue
    if ! grep -qw 'consoleblank=0' "$cmdline"; then
      # cmdline.txt must stay one line: append to it.
      sed -i '1s/$/ consoleblank=0/' "$cmdline"
      CHANGED+=("${cmdline#"$R"}")
      say "added consoleblank=0 to ${cmdline#"$R"} (after the next reboot)"
    fi
    break
  done
fi
