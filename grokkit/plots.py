"""Every figure the chapters show. Each function takes runs or measurements, draws on new axes and
returns the figure; nothing is shown or saved here (notebooks display what they get back).
Compute lives elsewhere: this module only draws.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

TASK_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def use_style() -> None:
    """The book's matplotlib style (call once per notebook; no other side effects)."""
    plt.rcParams.update({
        "figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": (7.5, 3.4),
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
        "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9, "legend.frameon": False,
        "font.size": 10,
    })


def _log_steps(ax, steps):
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlim(0, max(steps) * 1.05)
    ax.set_xlabel("step")


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
    fig.suptitle(title or f"{'+'.join(c.ops)} mod {c.p}: weight decay {c.weight_decay:g}, "
                 f"train fraction {c.train_frac:g}, seed {c.seed}", fontsize=11)
    fig.tight_layout()
    return fig


def test_accuracy_grid(runs, labels, title: str = "", ncols: int = 3, sharex: bool = True):
    """Small multiples: test (solid) and train (dashed) accuracy of several runs."""
    n = len(runs)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), sharey=True, sharex=sharex,
                             squeeze=False)
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
        ax.scatter(x + jitter[:len(hits)], hits, color=TASK_COLORS[0], zorder=3)
        if hits:
            ax.hlines(np.mean(hits), x - 0.25, x + 0.25, color="k", lw=1)
        if misses:
            b = (budget or {}).get(name, top)
            ax.scatter(x + jitter[len(hits):], [b * 1.05] * misses, marker="x", color="#d62728", zorder=3)
            ax.text(x, b * 1.12, "no grok", ha="center", fontsize=8, color="#d62728")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, top * 1.25)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def heatmap(values: np.ndarray, xs, ys, xlabel: str, ylabel: str, title: str = "", fmt: str = "{:.0f}",
            cbar_label: str = "", missing: str = "—"):
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
            ax.text(j, i, missing if not np.isfinite(v) else fmt.format(v), ha="center", va="center",
                    color="black" if not np.isfinite(v) or v >= mid else "white", fontsize=9)
    fig.colorbar(im, ax=ax, label=cbar_label)
    ax.grid(False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def fourier_spectrum(before: np.ndarray, after: np.ndarray, labels=("initialisation", "after grokking"),
                     top: int = 5, title: str = "Fourier power of the token embedding"):
    """Bars of the power per frequency k = 1..p//2 (before vs after); the `top` frequencies labelled."""
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.0), sharey=True)
    ks = np.arange(1, len(before) + 1)
    for ax, power, label in zip(axes, (before, after), labels):
        share = power / power.sum()
        ax.bar(ks, share, color=TASK_COLORS[0], width=0.8)
        for k in np.argsort(share)[::-1][:top]:
            ax.text(ks[k], share[k], str(ks[k]), ha="center", va="bottom", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("frequency k")
    axes[0].set_ylabel("share of power")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def pc1_table(shares: dict, title: str = "PC1 share of each attention matrix's trajectory"):
    """Heat map of PC1 shares: rows = conditions (e.g. operation, weight decay), columns = matrices."""
    rows = list(shares)
    cols = list(next(iter(shares.values())))
    vals = np.array([[100 * shares[r][c] for c in cols] for r in rows])
    fig, ax = plt.subplots(figsize=(8.0, 0.45 * len(rows) + 1.6))
    im = ax.imshow(vals, cmap="viridis", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(len(cols)), [f"L{l} {n}" for l, n in cols], fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(j, i, f"{vals[i, j]:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if vals[i, j] < 60 else "black")
    fig.colorbar(im, ax=ax, label="PC1 share (%)")
    ax.grid(False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def defect_overlay(runs_and_defects, labels, onsets=None, ncols: int = 4, title: str = ""):
    """Small multiples: commutator defect (log, left axis) and test accuracy (right axis) over steps."""
    n = len(runs_and_defects)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.1 * ncols, 2.3 * nrows), squeeze=False)
    for k, (ax, (run, (steps, D)), label) in enumerate(zip(axes.flat, runs_and_defects, labels)):
        ax.plot(steps, D, color="#d62728", lw=1.4)
        ax.set_yscale("log")
        ax.set_title(label, fontsize=9)
        ax2 = ax.twinx()
        ax2.plot(run.steps, run.curve("test_acc")[1], color=TASK_COLORS[0], lw=1.2)
        ax2.set_ylim(-0.02, 1.02)
        ax2.grid(False)
        if onsets is not None and onsets[k] is not None:
            ax.axvline(onsets[k], color="#d62728", ls=":", lw=1)
        g = run.grok_step(0.9, 1)[0]
        if g is not None:
            ax.axvline(g, color=TASK_COLORS[0], ls=":", lw=1)
        ax.tick_params(labelsize=7)
        ax2.tick_params(labelsize=7)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.text(0.005, 0.5, "commutator defect (red, log)", rotation=90, va="center", fontsize=9, color="#d62728")
    fig.text(0.995, 0.5, "test accuracy (blue)", rotation=90, va="center", fontsize=9, color=TASK_COLORS[0])
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0.02, 0, 0.98, 1))
    return fig


def defect_formulas(panels, title: str = ""):
    """The defect by both formulas along runs with an inline DefectTracker, one panel per (label, run):
    exact (solid) and the authors' float32 formula (dashed) on a log axis, the round-off estimate of
    the authors' value as a grey band from below, and the raw gradient norm ‖g‖ on a second axis."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False)
    for ax, (label, run) in zip(axes.flat, panels):
        steps, exact = run.series("defect")
        _, authors = run.series("defect_authors")
        _, roundoff = run.series("defect_roundoff")
        _, gnorm = run.series("defect_grad_norm")
        lo = min(min(exact), min(authors)) / 3
        ax.fill_between(steps, lo, roundoff, color="0.85", lw=0, label="round-off estimate (authors')")
        ax.plot(steps, exact, color="#d62728", lw=1.6, label="exact D")
        ax.plot(steps, authors, color="k", lw=1.1, ls="--", label="authors' formula (float32)")
        ax.set_yscale("log")
        ax.set_ylim(lo, max(max(exact), max(authors)) * 2)
        ax.set_xlabel("step")
        ax.set_title(label, fontsize=10)
        t90 = run.grok_step(0.9, 1)[0]
        if t90 is not None:
            ax.axvline(t90, color=TASK_COLORS[0], ls=":", lw=1.2, label="t90")
        ax2 = ax.twinx()
        ax2.plot(steps, gnorm, color="#2ca02c", lw=1, alpha=0.8, label="‖g‖ (right)")
        ax2.set_yscale("log")
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        ax2.tick_params(labelsize=8, colors="#2ca02c")
    axes.flat[0].set_ylabel("commutator defect D")
    h1, l1 = axes.flat[0].get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    axes.flat[0].legend(h1 + h2, l1 + l2, fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def auc_by_step(steps, series: dict, n_pos: int, n_neg: int, title: str = ""):
    """ROC AUC of several predictors ("value at step t") against t; 0.5 = chance (dashed)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    ax.axhline(0.5, color="0.4", ls="--", lw=1)
    ax.text(steps[0], 0.51, "chance", fontsize=8, color="0.3", va="bottom")
    for k, (name, ys) in enumerate(series.items()):
        pts = [(a, b) for a, b in zip(steps, ys) if b is not None and np.isfinite(b)]
        if pts:
            ax.plot(*zip(*pts), "o-", color=TASK_COLORS[k % len(TASK_COLORS)], label=name, ms=4, lw=1.4)
    ax.set_ylim(-0.03, 1.03)
    return _finish(fig, ax, "step t (all before the earliest grok)", f"ROC AUC ({n_pos} grok / {n_neg} not)", title)


def fractions_over_training(steps, series: dict, expected: dict | None = None, ylabel: str = "‖Bᵀδ‖ / ‖δ‖",
                            title: str = ""):
    """Lines of a per-checkpoint quantity for several bases; dashed lines = random expectations."""
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    for k, (name, vals) in enumerate(series.items()):
        ax.plot(steps, vals, color=TASK_COLORS[k % len(TASK_COLORS)], lw=1.6, label=name)
    for k, (name, v) in enumerate((expected or {}).items()):
        ax.axhline(v, color="0.4", ls="--", lw=1)
        ax.text(steps[-1], v, f" {name}", va="bottom", ha="right", fontsize=8, color="0.3")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper left")
    ax.set_title(title)
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


def power_law(x, y, fit, labels=None, xlabel: str = "grok step $t_{90}$", ylabel: str = "lead time",
              title: str = ""):
    """Log-log scatter with the fitted line y = c x^α."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    groups = labels if labels is not None else ["runs"] * len(x)
    for k, g in enumerate(dict.fromkeys(groups)):
        pts = [(a, b) for a, b, l in zip(x, y, groups) if l == g and a and b and b > 0]
        if pts:
            ax.scatter(*zip(*pts), color=TASK_COLORS[k % len(TASK_COLORS)], label=str(g), zorder=3)
    xs = np.geomspace(min(v for v in x if v), max(v for v in x if v), 50)
    ax.plot(xs, fit(xs), color="k", lw=1,
            label=f"fit: α = {fit.exponent:.2f} ± {fit.exponent_se:.2f} (R² {fit.r2:.2f}, n = {fit.n})")
    return _finish(fig, ax, xlabel, ylabel, title, logx=True, logy=True)


def _finish(fig, ax, xlabel, ylabel, title="", *, logx=False, logy=False, legend=None):
    """The common epilogue of a one-axis figure: scales, labels, legend, title, layout."""
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(**(legend or {"fontsize": 8}))
    ax.set_title(title)
    fig.tight_layout()
    return fig


def xy_lines(x, series: dict, xlabel: str, ylabel: str, title: str = "", logx: bool = False, logy: bool = False,
             marker: str = "o-"):
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
        ax.plot(np.arange(1, len(s) + 1), s / s[0] if ylabel.startswith("σ") else s,
                color=TASK_COLORS[k % len(TASK_COLORS)], lw=1.3, label=name)
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
