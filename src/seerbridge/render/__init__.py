"""What the commands print for people: status, demo, stats, cleanup and config tables and lines (rich)."""
