"""Stand-in for the part of upstream ``scripts.utils`` the mask runner uses: ``define_instance``.

Like upstream (MONAI ConfigParser over ``vars(args)``), a missing key raises KeyError and ``$@name``
references are followed; network definitions become empty torch modules (their checkpoints are empty).
"""

from __future__ import annotations

from argparse import Namespace
from typing import Any


class StandinScheduler:
    """Stands for the DDPM scheduler object; only records the definition it was built from."""

    def __init__(self, definition: dict) -> None:
        self.definition = definition
        self.num_train_timesteps = int(definition.get("num_train_timesteps", 1000))


def define_instance(args: Namespace, instance_def_key: str) -> Any:
    import torch

    values = vars(args)
    if instance_def_key not in values:
        raise KeyError(f"config key {instance_def_key!r} not found")
    definition = values[instance_def_key]
    while isinstance(definition, str) and definition.startswith("$@"):
        reference = definition[2:]
        if reference not in values:
            raise KeyError(f"config reference {definition!r} not found")
        definition = values[reference]
    if "scheduler" in instance_def_key:
        return StandinScheduler(definition if isinstance(definition, dict) else {})
    return torch.nn.Module()
