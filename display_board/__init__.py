"""The waiting-room TV board and its voice announcer (not built yet: see issue 4)."""
