"""One module per scanner driver; each registers itself in kiosk.scanner.registry.SCANNERS."""
