"""``python -m medskills`` runs the same app as the ``medskills`` console script."""

from medskills.cli import main

main()
