"""One module per printer driver; each registers itself in kiosk.printer.registry.PRINTERS."""
