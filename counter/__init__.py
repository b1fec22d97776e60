"""The counter staff's buttons, keypad and console (not built yet: see issue 5)."""
