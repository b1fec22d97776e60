"""The board's offline Indonesian voice: number words, the clip library, the announcer, players."""
