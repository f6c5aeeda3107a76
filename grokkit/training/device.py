"""Where a run trains and how it is seeded: `resolve_device` ("auto" = cuda > mps > cpu) and
`seed_everything` (Python's, NumPy's and torch's generators). The single-run trainer (grokkit.training.train), the
ensemble trainer (grokkit.engines.ensemble), the engine chooser (grokkit.engines.choose) and the CLI share them."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything"]


def resolve_device(name: str = "auto") -> torch.device:
    """The device `name` names; "auto" = cuda > mps > cpu. One this machine lacks raises ValueError."""
    if name != "auto":
        device = torch.device(name)
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise ValueError(f"device={name!r}, but this machine has no such CUDA device; use 'auto' or 'cpu'")
        if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"device={name!r}, but MPS is not available on this machine; use 'auto' or 'cpu'")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
