"""Clients of the four remote services, built on one shared HTTP layer."""
