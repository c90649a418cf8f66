"""Seed-compatible entry point; the logic is ``medskills verify ct-synthesis``.

    python verifiers/ct_synthesis_quality_v1/scripts/grade.py RUN_DIR [--json VERDICT.json]
"""

from medskills.cli.verify import grade_script

if __name__ == "__main__":
    grade_script("ct_synthesis_quality_v1")
