"""seerbridge's own HTTP surface: Seerr webhooks and health."""
