"""seerbridge: Seerr requests in, Real-Debrid files out, Jellyfin and Seerr told."""

__version__ = "0.1.0"
