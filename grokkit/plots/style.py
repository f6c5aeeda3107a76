"""The book's figure style and the helpers every figure shares."""

from __future__ import annotations

import matplotlib.pyplot as plt

TASK_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2")


def use_style() -> None:
    """The book's matplotlib style (call once per notebook; no other side effects)."""
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.figsize": (7.5, 3.4),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "font.size": 10,
        }
    )


def _log_steps(ax, steps):
    ax.set_xscale("symlog", linthresh=100)
    ax.set_xlim(0, max(steps) * 1.05)
    ax.set_xlabel("step")


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
