"""Emulators of Seerr, Jellyfin, Torrentio and Real-Debrid, and the scenarios that seed them.

Shipped with the package so that tests, `seerbridge sandbox`, `make demo` and benchmarks share them.
"""
