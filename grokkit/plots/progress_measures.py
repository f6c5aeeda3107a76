"""Figures of the progress measures and of the circuit at one step (the step scrubber's live frame)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb

from grokkit.plots.style import TASK_COLORS, _log_steps

ANSWER_COLORS = {  # (right?, train pair?) -> colour of the answer table's cell
    (True, True): "#9ecae1",
    (True, False): "#08519c",
    (False, True): "#fcbba1",
    (False, False): "#cb181d",
}
ANSWER_LABELS = {
    (True, True): "right (train)",
    (True, False): "right (test)",
    (False, True): "wrong (train)",
    (False, False): "wrong (test)",
}


MARK_COLORS = (TASK_COLORS[0], TASK_COLORS[1], "k", TASK_COLORS[2], TASK_COLORS[3])


def progress_measures(pm: dict, run=None, marks: dict | None = None, title: str = "", logx: bool = False):
    """Left: train, restricted and excluded loss (log scale); right: Fourier concentration of the
    logits and the run's test accuracy. `marks`: {label: step}, vertical lines on both, coloured in
    order by MARK_COLORS (restricted's blue, excluded's red, then black). Linear steps by default:
    the plateau, where the measures move, is most of the run."""
    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(10, 3.4))
    steps = pm["step"]
    ax_l.plot(steps, pm["train_loss"], color="0.4", ls="--", label="train loss")
    ax_l.plot(steps, pm["restricted_loss"], color=TASK_COLORS[0], lw=1.8, label="restricted loss")
    ax_l.plot(steps, pm["excluded_loss"], color=TASK_COLORS[1], lw=1.8, label="excluded loss")
    ax_l.set_yscale("log")
    ax_l.set_ylabel("cross-entropy on the train pairs")
    ax_r.plot(steps, pm["fourier_concentration"], color=TASK_COLORS[2], lw=1.8, label="Fourier concentration")
    if run is not None:
        ax_r.plot(run.steps, run.curve("test_acc")[1], color="k", lw=1.2, label="test accuracy")
    ax_r.set_ylim(-0.02, 1.02)
    ax_r.set_ylabel("share / accuracy")
    for ax in (ax_l, ax_r):
        if logx:
            _log_steps(ax, steps)
        else:
            ax.set_xlim(0, max(steps))
            ax.set_xlabel("step")
        for j, (label, step) in enumerate((marks or {}).items()):
            if step is not None:
                color = MARK_COLORS[j % len(MARK_COLORS)]
                ax.axvline(step, color=color, lw=1.1, ls=":" if j < 2 else "--", label=f"{label} ({step:,})")
        ax.legend(fontsize=8, loc="best")
    keys = ", ".join(map(str, pm["key_freqs"]))
    fig.suptitle(title or f"progress measures, key frequencies k = {keys}", fontsize=11)
    fig.tight_layout()
    return fig


def answer_image(answers, train) -> np.ndarray:
    """(p, p, 3) RGB image of an answer table, coloured by ANSWER_COLORS."""
    answers, train = np.asarray(answers, bool), np.asarray(train, bool)
    img = np.zeros(answers.shape + (3,))
    for (right, is_train), color in ANSWER_COLORS.items():
        img[(answers == right) & (train == is_train)] = to_rgb(color)
    return img


def circuit_frame(frames, i: int, run=None):
    """The step scrubber's panels at frame i: curves with a cursor (if `run`), the embedding's Fourier
    spectrum, its clock on the two strongest final frequencies, and the answer table."""
    fig = plt.figure(figsize=(13, 3.2))
    grid = fig.add_gridspec(1, 5, width_ratios=[1.3, 1.2, 0.8, 0.8, 1.0])
    step = frames.steps[i]
    ax = fig.add_subplot(grid[0])
    if run is not None:
        ax.plot(run.steps, run.curve("train_acc")[1], color=TASK_COLORS[0], ls="--", lw=1.1, label="train")
        ax.plot(run.steps, run.curve("test_acc")[1], color=TASK_COLORS[0], lw=1.7, label="test")
        _log_steps(ax, run.steps)
        ax.legend(fontsize=8, loc="center left")
    ax.axvline(step, color=TASK_COLORS[1], lw=1.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"step {step:,}")
    ax = fig.add_subplot(grid[1])
    k = np.arange(1, frames.spectrum.shape[1] + 1)
    colors = [TASK_COLORS[1] if kk in frames.key_freqs else "0.6" for kk in k]
    ax.bar(k, frames.spectrum[i].numpy(), color=colors, width=0.9)
    ax.set_ylim(0, float(frames.spectrum.max()) * 1.05)
    ax.set_xlabel("frequency k")
    ax.set_title("embedding Fourier power (share)")
    for j, kk in enumerate(frames.clock_freqs):
        ax = fig.add_subplot(grid[2 + j])
        xy = frames.clock[i, j].numpy()
        hue = plt.get_cmap("hsv")((kk * np.arange(frames.p)) % frames.p / frames.p)  # a rainbow ring once k is used
        ax.scatter(xy[:, 0], xy[:, 1], c=hue, s=9)
        ax.set_aspect("equal")
        ax.set_xlim(-1.1, 1.1)
        ax.set_ylim(-1.1, 1.1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"clock, k = {kk}")
    ax = fig.add_subplot(grid[4])
    ax.imshow(answer_image(frames.answers[i], frames.train), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("b")
    ax.set_ylabel("a")
    ax.set_title(f"answers: {float(frames.answers[i].float().mean()):.0%} right")
    fig.tight_layout()
    return fig
