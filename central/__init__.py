"""The central service (issue 16): every office's bridged events into PostgreSQL, exactly once."""
