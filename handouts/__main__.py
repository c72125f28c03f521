"""``python -m handouts`` is the ``handouts`` command."""

from .cli import main

main()
