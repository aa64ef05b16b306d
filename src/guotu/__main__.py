"""``python -m guotu`` runs the command line."""

from guotu.cli import main

main()
