"""The waiting-room TV board (`antrean board`) and its offline Indonesian voice (docs/board.md)."""
