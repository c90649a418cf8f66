"""List MAISI anatomy names for CT synthesis requests (thin shim over `medskills anatomy list`).

Usage: python list_anatomies.py [--region chest] [--controllable] [--filter tumor]
"""

from medskills.cli.synth import list_anatomies_script

if __name__ == "__main__":
    list_anatomies_script()
