"""Figures of training: curves, grids of runs, grok steps, sweeps and fits."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from grokkit.plots.style import TASK_COLORS, _finish, _log_steps


def curves(run, title: str | None = None, axes=None, mark_grok: bool = True):
    """Train/test accuracy (left) and loss (right) against step on a log axis, every task."""
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2) if axes is None else (axes[0].figure, axes)
    steps = run.steps
    for t, op in enumerate(run.ops):
        c = TASK_COLORS[t % len(TASK_COLORS)]
        label = f"{op} " if len(run.ops) > 1 else ""
        ax_acc.plot(steps, run.curve("train_acc", t)[1], color=c, ls="--", lw=1.2, label=f"{label}train")
        ax_acc.plot(steps, run.curve("test_acc", t)[1], color=c, lw=1.8, label=f"{label}test")
        ax_loss.plot(steps, run.curve("train_loss", t)[1], color=c, ls="--", lw=1.2)
        ax_loss.plot(steps, run.curve("test_loss", t)[1], color=c, lw=1.8)
        g = run.grok_step(0.98, 3, t)
        if mark_grok and g is not None:
            ax_acc.axvline(g, color=c, lw=0.8, alpha=0.6)
    for ax in (ax_acc, ax_loss):
        _log_steps(ax, steps)
    ax_acc.set_ylim(-0.02, 1.02)
    ax_acc.set_ylabel("accuracy")
    ax_loss.set_yscale("log")
    ax_loss.set_ylabel("cross-entropy")
    ax_acc.legend(loc="center left")
    c = run.config
    fig.suptitle(
        title
        or f"{'+'.join(c.ops)} mod {c.p}: weight decay {c.weight_decay:g}, "
        f"train fraction {c.train_frac:g}, seed {c.seed}",
        fontsize=11,
    )
    fig.tight_layout()
    return fig


def test_accuracy_grid(runs, labels, title: str = "", ncols: int = 3, sharex: bool = True):
    """Small multiples: test (solid) and train (dashed) accuracy of several runs."""
    n = len(runs)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), sharey=True, sharex=sharex, squeeze=False
    )
    for ax, run, label in zip(axes.flat, runs, labels):
        ax.plot(run.steps, run.curve("train_acc")[1], "--", color="0.5", lw=1)
        ax.plot(run.steps, run.curve("test_acc")[1], color=TASK_COLORS[0], lw=1.6)
        _log_steps(ax, run.steps)
        ax.set_title(label, fontsize=10)
        g = run.grok_step()[0]
        ax.text(0.03, 0.9, f"grok step {g}" if g else "no grok", transform=ax.transAxes, fontsize=9)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def grok_steps_by_group(groups: dict, budget: dict | None = None, title: str = "", ylabel: str = "grok step"):
    """Dot plot: for each group (e.g. operation), the grok step of every seed; misses drawn at the top."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    names = list(groups)
    top = max([s for v in groups.values() for s in v if s is not None] + list((budget or {}).values()) + [1])
    for x, name in enumerate(names):
        vals = groups[name]
        hits = [v for v in vals if v is not None]
        misses = len(vals) - len(hits)
        jitter = np.linspace(-0.12, 0.12, max(len(vals), 1))
        ax.scatter(x + jitter[: len(hits)], hits, color=TASK_COLORS[0], zorder=3)
        if hits:
            ax.hlines(np.mean(hits), x - 0.25, x + 0.25, color="k", lw=1)
        if misses:
            b = (budget or {}).get(name, top)
            ax.scatter(x + jitter[len(hits) :], [b * 1.05] * misses, marker="x", color="#d62728", zorder=3)
            ax.text(x, b * 1.12, "no grok", ha="center", fontsize=8, color="#d62728")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * 1.25)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def heatmap(
    values: np.ndarray,
    xs,
    ys,
    xlabel: str,
    ylabel: str,
    title: str = "",
    fmt: str = "{:.0f}",
    cbar_label: str = "",
    missing: str = "—",
):
    """A labelled heat map of values[i, j] (rows: ys, columns: xs); nan cells print `missing`."""
    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("0.88")
    im = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(xs)), [f"{x:g}" for x in xs])
    ax.set_yticks(range(len(ys)), [f"{y:g}" for y in ys])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    finite = values[np.isfinite(values)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            v = values[i, j]
            ax.text(
                j,
                i,
                missing if not np.isfinite(v) else fmt.format(v),
                ha="center",
                va="center",
                color="black" if not np.isfinite(v) or v >= mid else "white",
                fontsize=9,
            )
    fig.colorbar(im, ax=ax, label=cbar_label)
    ax.grid(False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def xy_lines(
    x,
    series: dict,
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = False,
    logy: bool = False,
    marker: str = "o-",
):
    """A few labelled lines y(x) on one axis (grok time vs λ, curvature depth vs λ, cosines vs step ...)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    for k, (name, ys) in enumerate(series.items()):
        xs = x[name] if isinstance(x, dict) else x
        pts = [(a, b) for a, b in zip(xs, ys) if b is not None and np.isfinite(b)]
        if pts:
            ax.plot(*zip(*pts), marker, color=TASK_COLORS[k % len(TASK_COLORS)], label=name, ms=4, lw=1.4)
    return _finish(fig, ax, xlabel, ylabel, title, logx=logx, logy=logy)


def spectra(series: dict, title: str = "", ylabel: str = "σ_i / σ_1", logy: bool = True):
    """Normalised singular-value (or variance) spectra, one line each."""
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    for k, (name, s) in enumerate(series.items()):
        s = np.asarray(s, dtype=float)
        ax.plot(
            np.arange(1, len(s) + 1),
            s / s[0] if ylabel.startswith("σ") else s,
            color=TASK_COLORS[k % len(TASK_COLORS)],
            lw=1.3,
            label=name,
        )
    return _finish(fig, ax, "index i", ylabel, title, logy=logy, legend={"fontsize": 7, "ncol": 2})


def accuracy_and_energy(x, acc: dict, energy: dict, xlabel: str, title: str = "", logx: bool = True):
    """Left: test accuracy (min over tasks) of reconstructions; right: the energy they keep."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.3))
    for k, name in enumerate(acc):
        xs = x[name] if isinstance(x, dict) else x
        c = TASK_COLORS[k % len(TASK_COLORS)]
        a1.plot(xs, acc[name], "o-", color=c, ms=3, label=name)
        a2.plot(xs, energy[name], "o-", color=c, ms=3, label=name)
    for ax, yl in ((a1, "test accuracy (worst task)"), (a2, "energy kept")):
        if logx:
            ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(yl)
        ax.set_ylim(-0.02, 1.02)
    a1.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def dose_response(xs, series: dict, cap: int, xlabel: str = "suppression strength s", title: str = ""):
    """Grok step against an intervention's strength, one line per variant; misses plotted at the cap."""
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for k, (name, ys) in enumerate(series.items()):
        c = TASK_COLORS[k % len(TASK_COLORS)]
        x_hit = [x for x, y in zip(xs[name], ys) if y is not None]
        y_hit = [y for y in ys if y is not None]
        ax.plot(x_hit, y_hit, "o-", color=c, label=name)
        miss = [x for x, y in zip(xs[name], ys) if y is None]
        if miss:
            ax.scatter(miss, [cap] * len(miss), marker="x", color=c, s=60, zorder=3)
    ax.axhline(cap, color="0.5", ls=":", lw=1)
    ax.text(ax.get_xlim()[0], cap, f" cap: {cap:,} steps (x = no grok)", va="bottom", fontsize=8, color="0.3")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("grok step")
    ax.set_ylim(0, cap * 1.15)
    ax.legend()
    ax.set_title(title)
    fig.tight_layout()
    return fig


def power_law(x, y, fit, labels=None, xlabel: str = "grok step $t_{90}$", ylabel: str = "lead time", title: str = ""):
    """Log-log scatter with the fitted line y = c x^α."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    groups = labels if labels is not None else ["runs"] * len(x)
    for k, g in enumerate(dict.fromkeys(groups)):
        pts = [(a, b) for a, b, l in zip(x, y, groups) if l == g and a and b and b > 0]
        if pts:
            ax.scatter(*zip(*pts), color=TASK_COLORS[k % len(TASK_COLORS)], label=str(g), zorder=3)
    xs = np.geomspace(min(v for v in x if v), max(v for v in x if v), 50)
    ax.plot(
        xs,
        fit(xs),
        color="k",
        lw=1,
        label=f"fit: α = {fit.exponent:.2f} ± {fit.exponent_se:.2f} (R² {fit.r2:.2f}, n = {fit.n})",
    )
    return _finish(fig, ax, xlabel, ylabel, title, logx=True, logy=True)
