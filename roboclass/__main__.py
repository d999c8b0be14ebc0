"""``python -m roboclass``: the same as the ``roboclass`` command."""

from roboclass.cli import main

main()
