"""One module per voice player; each registers itself in display_board.voice.registry.PLAYERS."""
