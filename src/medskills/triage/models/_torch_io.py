"""Safe weight reading shared by the members: no pickles, float32 tensors, clear layout errors."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from medskills.core.errors import ModelPackError

__all__ = ["load_state_dict_strict", "read_torch_weights"]


def read_torch_weights(path: Path) -> Any:
    """Load a torch or safetensors file without unpickling code (``weights_only=True``).

    Raises:
        ModelPackError: the file needs arbitrary unpickling, or is not a torch/safetensors file.
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise ModelPackError(
            f"{path} holds pickled Python objects that weights_only loading refuses ({err}). Re-save it "
            "as a plain state dict (torch.save(model.state_dict(), ...)) or as safetensors."
        ) from err
    except (RuntimeError, OSError, EOFError) as err:
        raise ModelPackError(f"{path} is not a readable torch weight file: {err}") from err


def load_state_dict_strict(module: Any, state: Mapping[str, Any], *, where: Path) -> None:
    """Load ``state`` (cast to float32) into ``module``; any missing/unexpected key or shape is an error."""
    import torch

    own = module.state_dict()
    cast = {k: (v.float() if isinstance(v, torch.Tensor) and v.is_floating_point() else v) for k, v in state.items()}
    missing = sorted(set(own) - set(cast))
    unexpected = sorted(set(cast) - set(own))
    wrong = sorted(k for k in set(own) & set(cast) if tuple(own[k].shape) != tuple(cast[k].shape))
    if missing or unexpected or wrong:
        details = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)):
            if keys:
                details.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:4])})")
        raise ModelPackError(
            f"{where} does not match the expected network layout: {'; '.join(details)}. Check the member's "
            "architecture settings in pack.yaml against the checkpoint."
        )
    # assign=True adopts the loaded tensors, so a network built on the meta device costs no memory
    module.load_state_dict(cast, strict=True, assign=True)
