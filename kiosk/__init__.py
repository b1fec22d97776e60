"""The resident's touchscreen kiosk and its ticket printer (`antrean kiosk`, docs/kiosk.md)."""
