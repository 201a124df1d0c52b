"""`python -m seerbridge` runs the command line."""

from seerbridge.cli import main

main()
