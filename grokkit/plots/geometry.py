"""Figures of the geometry measurements: Fourier spectra, PC1 shares, defects, AUCs, projected fractions."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from grokkit.plots.style import TASK_COLORS, _finish


def fourier_spectrum(
    before: np.ndarray,
    after: np.ndarray,
    labels=("initialisation", "after grokking"),
    top: int = 5,
    title: str = "Fourier power of the token embedding",
):
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
            ax.text(
                j,
                i,
                f"{vals[i, j]:.0f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if vals[i, j] < 60 else "black",
            )
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


def fractions_over_training(
    steps, series: dict, expected: dict | None = None, ylabel: str = "‖Bᵀδ‖ / ‖δ‖", title: str = ""
):
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
