"""The bodies of the commands that are more than a few lines (doctor, demo, explain, stats), apart from cli.py."""
