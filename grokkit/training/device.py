"""Where a run trains and how it is seeded: `resolve_device` ("auto" = cuda > mps > cpu), `seed_everything`
(Python's, NumPy's and torch's generators) and `one_cpu_thread` (a CPU run trains on one torch thread). The
single-run trainer (grokkit.training.train), the ensemble trainer (grokkit.engines.ensemble), the engine chooser
(grokkit.engines.choose), the sweep workers and the CLI share them."""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything", "one_cpu_thread"]


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


_threads_lock = threading.Lock()
_threads = {"holders": 0, "before": 1}  # trainings running in this process; torch's thread count before them


@contextmanager
def one_cpu_thread(device: torch.device | None = None):
    """Train on one torch thread while any training in this process is inside (a CPU `device`, or None:
    always); torch's setting comes back when the last one leaves.

    A CPU run's bits depend on torch's thread count (its matmuls and reductions split their sums by
    thread): the same config trained on 2 threads and on 1 differs within 20 steps (max |Δw| ≈ 2.4e-4 after
    200 steps here). One thread per run makes a run the same however it was trained, alone in a notebook
    or beside others in single-thread worker processes (grokkit.engines.worker), so a run retrained from a
    config equals the run the book published, on the same machine. The cost: a lone run on a 2-core CPU
    trains ~1.5x slower than on 2 threads (benchmarks/cpu_threads.py); pools of runs use the cores with one
    worker per core."""
    if device is not None and device.type != "cpu":
        yield
        return
    with _threads_lock:
        if _threads["holders"] == 0:
            _threads["before"] = torch.get_num_threads()
            torch.set_num_threads(1)
        _threads["holders"] += 1
    try:
        yield
    finally:
        with _threads_lock:
            _threads["holders"] -= 1
            if _threads["holders"] == 0:
                torch.set_num_threads(_threads["before"])
