"""Checkers for the chapters' exercises: compare a learner's function with the library's reference.

`check(fn, reference, cases, hint=...)` runs both on every case and prints a short verdict; on a
mismatch it raises `ExerciseFailed` with the hint, so a failing exercise is visible in the notebook and
countable by the grader (issue: course kit). A stub that still raises NotImplementedError is reported
as "not attempted".
"""

from __future__ import annotations

import math

import torch


class ExerciseFailed(AssertionError):
    pass


def _same(a, b, atol: float) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-6)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, atol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, abs_tol=atol, rel_tol=1e-6)
    return a == b


def check(fn, reference, cases, *, name: str | None = None, hint: str = "", atol: float = 1e-6) -> bool:
    """Run fn(*case) and reference(*case) for each case (a tuple of arguments); raise on a mismatch."""
    name = name or getattr(fn, "__name__", "exercise")
    for i, case in enumerate(cases):
        case = case if isinstance(case, tuple) else (case,)
        try:
            got = fn(*case)
        except NotImplementedError:
            raise ExerciseFailed(f"{name}: not attempted yet (the stub still raises NotImplementedError)")
        want = reference(*case)
        if not _same(got, want, atol):
            raise ExerciseFailed(f"{name}: case {i} gives {_short(got)}, expected {_short(want)}. Hint: {hint}")
    print(f"✓ {name}: all {len(cases)} checks passed")
    return True


def _short(x) -> str:
    s = repr(x.tolist() if isinstance(x, torch.Tensor) else x)
    return s if len(s) < 120 else s[:117] + "..."
