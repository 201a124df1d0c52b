"""The daemon: opening the store and clients, the polling loop, and stopping cleanly."""
