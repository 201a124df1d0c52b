"""The library seerbridge writes for Jellyfin: id-named folders whose entries point at files on the debrid service."""
