"""Multi-task read-out heads (2602.18523): how aligned are the tasks' output heads over training?"""

from __future__ import annotations

from grokkit.model import unflatten


def head_cosines(run) -> tuple[list[int], dict]:
    """cos(vec(W_U^i), vec(W_U^j)) for every pair of task heads at every theta checkpoint."""
    model = run.model()
    steps, thetas = run.trajectory("theta")
    pairs = [(i, j) for i in range(len(run.ops)) for j in range(i + 1, len(run.ops))]
    out: dict[str, list[float]] = {f"{run.ops[i]}–{run.ops[j]}": [] for i, j in pairs}
    for theta in thetas:
        p = unflatten(theta, model)
        for i, j in pairs:
            a, b = p[f"heads.{i}.weight"].reshape(-1), p[f"heads.{j}.weight"].reshape(-1)
            out[f"{run.ops[i]}–{run.ops[j]}"].append(float(a @ b / (a.norm() * b.norm())))
    return steps.tolist(), out
