"""``python -m medskills.cli`` runs the same app as the ``medskills`` console script."""

from medskills.cli import main

main()
