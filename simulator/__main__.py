"""``python -m simulator`` runs the ``pmosim`` command line."""

from .cli import main

main()
