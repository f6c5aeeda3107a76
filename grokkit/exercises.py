"""Checkers for the chapters' exercises: compare a learner's function with the library's reference.

`check(fn, reference, cases, hint=...)` runs both on every case and prints a short verdict; on a
mismatch it raises `ExerciseFailed` with the hint, so a failing exercise is visible in the notebook and
countable by the grader (issue: course kit). A stub that still raises NotImplementedError is reported
as "not attempted". With `figure=True` the check first shows what a correct answer gives on its cases
(`expected`: drawn from the reference, never from the learner's function), so the learner sees the
target under the check whether it passes, fails or is not attempted yet.
"""

from __future__ import annotations

import math
import warnings

import torch


class ExerciseFailed(AssertionError):
    pass


# Set by the grader's trusted run (grokkit.course.record): called with each check's name, reference,
# cases (argument tuples), atol and hint before the check runs, so that the cases and the reference's
# outputs can be stored and a submission judged outside the process that runs it.
observer = None


def same(a, b, atol: float) -> bool:
    """Whether an answer matches the reference's output: tensors (any shape mismatch fails) and floats
    to atol (and 1e-6 relative), lists and tuples element by element, anything else by ==."""
    return _same(a, b, atol)


def mismatch(name: str, i: int, got, want, hint: str) -> str:
    """The message of a failed case."""
    return f"{name}: case {i} gives {_short(got)}, expected {_short(want)}. Hint: {hint}"


def _same(a, b, atol: float) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        a, b = torch.as_tensor(a), torch.as_tensor(b)
        return a.shape == b.shape and torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-6)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, atol) for x, y in zip(a, b))
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, abs_tol=atol, rel_tol=1e-6)
    return a == b


def _args(case) -> tuple:
    return case if isinstance(case, tuple) else (case,)


def check(
    fn, reference, cases, *, name: str | None = None, hint: str = "", atol: float = 1e-6, figure: bool = False
) -> bool:
    """Run fn(*case) and reference(*case) for each case (a tuple of arguments); raise on a mismatch.
    figure: first show `expected(reference, cases)` (a figure that fails to draw only warns)."""
    name = name or str(getattr(fn, "__name__", "exercise"))
    cases = list(cases)
    if observer is not None:
        observer(name=name, reference=reference, cases=[_args(c) for c in cases], atol=atol, hint=hint)
    if figure:
        try:
            _show(expected(reference, cases, name=name))
        except Exception as e:  # the figure is an aid: it never decides the verdict
            warnings.warn(f"the expected-output figure was not drawn ({type(e).__name__}: {e})", stacklevel=2)
    for i, case in enumerate(cases):
        case = _args(case)
        try:
            got = fn(*case)
        except NotImplementedError:
            raise ExerciseFailed(f"{name}: not attempted yet (the stub still raises NotImplementedError)")
        want = reference(*case)
        if not _same(got, want, atol):
            raise ExerciseFailed(mismatch(name, i, got, want, hint))
    print(f"✓ {name}: all {len(cases)} checks passed")
    return True


def _short(x) -> str:
    s = repr(x.tolist() if isinstance(x, torch.Tensor) else x)
    return s if len(s) < 120 else s[:117] + "..."


# ---- the expected-output figure -------------------------------------------------------------------


def expected(reference, cases, *, name: str = "answer", max_panels: int = 4):
    """A figure of what a correct answer gives: reference(*case) for each case, drawn by kind. Numbers
    (and None) are one bar chart over the cases; anything else gets a panel per case (the first
    max_panels): a vector as a line, a matrix as a heatmap. Returns the figure; nothing is shown."""
    import matplotlib.pyplot as plt

    cases = [_args(c) for c in cases]
    outs = [_numeric(reference(*c)) for c in cases]
    title = f"Expected output of a correct {name}, case by case"
    if outs and all(o is None or (isinstance(o, torch.Tensor) and o.dim() == 0) for o in outs):
        fig, ax = plt.subplots(figsize=(min(max(4.5, 2.5 + 0.9 * len(outs)), 7.5), 2.6))
        _bars(ax, outs, cases)
    else:
        shown = outs[:max_panels] or [None]
        width = min(max(4.5, 0.6 + 3.1 * len(shown)), 10.0)
        fig, axes = plt.subplots(1, len(shown), figsize=(width, 2.8), squeeze=False)
        for i, (ax, out) in enumerate(zip(axes[0], shown)):
            _panel(fig, ax, out)
            ax.set_title(f"case {i}: {_brief(cases[i])}" if cases else "no cases", fontsize=9)
        if len(outs) > max_panels:
            title += f" (the first {max_panels} of {len(outs)})"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _show(fig) -> None:
    """Display the figure now in a notebook (then close it); elsewhere leave it to plt.show()."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        import matplotlib.pyplot as plt

        display(fig)
        plt.close(fig)


def _numeric(x):
    """None, a float64 tensor, or a short text for what cannot be drawn as numbers."""
    if x is None:
        return None
    try:
        t = x.detach().cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(x)
        return t.double()
    except (TypeError, ValueError, RuntimeError):
        return _short(x)


def _brief(args: tuple) -> str:
    def one(a):
        if isinstance(a, torch.Tensor):
            return "×".join(map(str, a.shape)) + " tensor" if a.dim() else f"{a.item():.3g}"
        if isinstance(a, (list, tuple)):
            return f"{len(a)} values"
        if isinstance(a, (bool, int, float)):
            return f"{a:g}" if isinstance(a, float) else str(a)
        return type(a).__name__

    s = ", ".join(map(one, args))
    return s if len(s) <= 36 else s[:35] + "…"


def _bars(ax, outs, cases) -> None:
    values = [0.0 if o is None else float(o) for o in outs]
    ax.bar(range(len(values)), values, color="#1f77b4", width=0.6)
    for i, (o, v) in enumerate(zip(outs, values)):
        ax.annotate("None" if o is None else f"{v:.4g}", (i, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(values)), [f"case {i}" for i in range(len(values))], fontsize=8)
    ax.set_ylabel("value")
    ax.margins(y=0.2)


def _panel(fig, ax, out) -> None:
    if isinstance(out, torch.Tensor) and out.dim() > 2:
        out = out.reshape(-1)
    if out is None or isinstance(out, str) or out.dim() == 0 or out.numel() == 0:
        if out is None or isinstance(out, str):
            text = str(out)
        else:
            text = f"{float(out):.4g}" if out.dim() == 0 else "(empty)"
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
        ax.axis("off")
    elif out.dim() == 1:
        ax.plot(out.numpy(), lw=1, marker="o" if len(out) <= 40 else None, ms=3)
        ax.set_xlabel("index")
    else:
        finite = out[torch.isfinite(out)]
        m = float(finite.abs().max()) if finite.numel() and float(finite.abs().max()) > 0 else 1.0
        im = ax.imshow(out.numpy(), cmap="RdBu_r", vmin=-m, vmax=m, aspect="auto", interpolation="nearest")
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
        ax.grid(False)
