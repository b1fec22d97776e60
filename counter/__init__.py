"""The counter staff's buttons, keypad, serial box and console (docs/counter.md)."""
