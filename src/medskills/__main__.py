"""``python -m medskills``: the same command line as the ``medskills`` console script."""

from medskills.cli import main

main()
