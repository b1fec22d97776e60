"""The kiosk's USB QR/barcode scanner read as an input device (evdev), and its simulator.

A scanner is a USB keyboard (HID): it types the slip's digits and Enter.
Read through Kivy's window, the typed digits also reach whatever has the
keyboard focus; read with evdev and grabbed, they reach only the kiosk's
code screen. `[kiosk.scanner]` names the driver (registry.py); without it a
scanner still works as a plain keyboard through the window.
"""
