"""The resident's touchscreen kiosk and its ticket printer (not built yet: see issue 3)."""
