"""Starting a chapter: the profile chosen from the device, its measured time, and Colab's options.

`start(chapter, profile, drive=..., retrain=...)` is the chapters' first call. `profile="auto"` (the
notebooks' default) is the largest profile (paper with CUDA, then default) whose runs the site publishes
(grokkit.store.published) or whose estimated time here is at most 15 minutes, else smoke: it never starts
hours of training unannounced, and says what the larger profile would take. The time it prints is
measured, never guessed: the chapter's wall time at that profile from the last
`make book` that recorded it (results/chapters/<profile>/ in a checkout; a built wheel ships them as
package data, grokkit.book.times), quoted with the machine it ran
on, and only when that machine is of this kind (CPU or GPU). `drive=True` keeps the run cache on
Google Drive (Colab), so trained runs, and the resume state of a run in progress, outlive a
disconnected runtime.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch

from grokkit.book.execute import results_dir
from grokkit.book.settings import CHAPTER_PROFILES, check_profile
from grokkit.book.times import chapter_times, packaged_times
from grokkit.store import published
from grokkit.store.repo import NotACheckout

MOUNT = "/content/drive"  # where Colab mounts Google Drive
AUTO_BUDGET_S = 15 * 60  # profile="auto" picks no profile estimated to take longer here, unless its runs are published

__all__ = ["start", "resolve_profile", "choose_auto", "estimate_s", "chapter_time", "keep_runs_on_drive", "on_colab"]


def on_colab() -> bool:
    return "google.colab" in sys.modules


def resolve_profile(profile: str, cuda: bool | None = None) -> str:
    """ "auto" -> "paper" with CUDA, else "default" (without a chapter; a chapter's `start` picks by its
    published runs and estimated time, `choose_auto`); any other profile is checked and returned."""
    if profile == "auto":
        return "paper" if (torch.cuda.is_available() if cuda is None else cuda) else "default"
    return check_profile(profile)


def recorded_times() -> dict:
    """The chapters' recorded times: from results/ in a checkout, else what the installed wheel shipped."""
    try:
        return chapter_times(results_dir())
    except NotACheckout:
        return packaged_times() or {}


def chapter_time(chapter: str, profile: str, times: dict | None = None) -> dict | None:
    """{"wall_time_s", "machine"} of the chapter's last recorded execution at `profile`, or None."""
    return (recorded_times() if times is None else times).get(profile, {}).get(chapter)


def keep_runs_on_drive(folder: str = "grokkit/runs", mount: str | None = None) -> Path:
    """Mount Google Drive (Colab asks for permission) and keep the run cache in MyDrive/`folder`."""
    mount = mount or MOUNT
    try:
        from google.colab import drive
    except ImportError:
        raise RuntimeError("keep_runs_on_drive needs Colab; elsewhere set GROKKIT_RUNS to a folder") from None
    drive.mount(mount)
    path = Path(mount) / "MyDrive" / folder
    path.mkdir(parents=True, exist_ok=True)
    os.environ["GROKKIT_RUNS"] = str(path)  # read by the run cache at every lookup
    return path


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def estimate_s(chapter: str, profile: str, cuda: bool, entry: dict | None = None) -> tuple[float, str] | None:
    """(seconds, basis): the chapter's last recorded time at `profile` on this kind of device (on a GPU with
    none, its CPU time, an upper bound), less the training its published runs (`entry`, grokkit.store.published)
    save; None where no time fits, or where the time is only a lower bound (a GPU lease's training of its runs,
    grokkit.book.times): nothing to choose a profile by."""
    t = chapter_time(chapter, profile)
    if not t or t.get("lower_bound"):
        return None
    same = t["machine"].startswith("CPU") == (not cuda)
    if not same and not cuda:  # a GPU's time says nothing of a CPU
        return None
    saved = float((entry or {}).get("train_s") or 0)
    basis = t["machine"] if same else f"{t['machine']}, an upper bound for a GPU"
    return max(t["wall_time_s"] - saved, 0.0), basis


def choose_auto(chapter: str, cuda: bool, found: dict | None) -> tuple[str, str]:
    """(profile, why) for profile="auto": the largest profile (paper with CUDA, then default) whose runs
    are all published (`found`: the site's bundles) or whose estimated time here fits AUTO_BUDGET_S,
    else smoke; hours of training never start unannounced."""
    over = []
    for p in ("paper", "default") if cuda else ("default",):
        e = (found or {}).get(f"{chapter}-{p}")
        if e and e.get("keys") and not e.get("dropped"):
            return p, f"its runs are published: {e['size'] / 1e6:.0f} MB to download once"
        est = estimate_s(chapter, p, cuda, e)
        if est and est[0] <= AUTO_BUDGET_S:
            return p, f"about {_minutes(est[0])} here (its time on {est[1]})"
        over.append(f"{p!r} {'≈ ' + _minutes(est[0]) if est else 'is not timed'} here")
    limit = _minutes(AUTO_BUDGET_S)
    return "smoke", f"{'; '.join(over)}: over {limit} or unknown (choose profile='default' to run it anyway)"


def start(
    chapter: str, profile: str = "auto", *, drive: bool = False, cuda: bool | None = None, retrain: bool = False
) -> str:
    """Resolve `profile`, print it with this chapter's measured time, and return it. `profile="auto"`
    picks the largest profile whose runs are published or whose estimated time here fits
    AUTO_BUDGET_S (`choose_auto`). `drive=True` on Colab keeps the run cache on Google Drive; off Colab it
    is ignored with a note. Unless `retrain`, the chapter's published runs (grokkit.store.published: the bundle
    `make book` wrote beside the site) are registered, so a run they hold loads from them instead of
    training; `retrain=True` trains every run that is not already in this machine's cache."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    kind = "GPU" if cuda else "CPU"
    published.forget()
    notes: list = []
    found = None if retrain else published.bundles(log=notes.append)
    if profile == "auto":
        chosen, why = choose_auto(chapter, cuda, found)
        why = f" (auto: {why})"
    else:
        chosen, why = check_profile(profile), ""
    lines = [f"profile {chosen!r}{why}, one of {CHAPTER_PROFILES}", *notes]
    t = chapter_time(chapter, chosen)
    if t and t.get("lower_bound") and cuda:  # what the GPU lease measured: its runs' training alone
        lines.append(
            f"at this profile its runs' training took {_minutes(t['wall_time_s'])} on {t['machine']} ({t['basis']})"
        )
    elif t and t["machine"].startswith("CPU") == (kind == "CPU") and not t.get("lower_bound"):
        lines.append(f"this chapter took {_minutes(t['wall_time_s'])} at this profile on {t['machine']}")
    else:
        lines.append(f"this chapter has not been timed at this profile on a {kind} yet")
        ref = chapter_time(chapter, "default")
        if ref:
            lines[-1] += f" (at 'default' it took {_minutes(ref['wall_time_s'])} on {ref['machine']})"
    if drive and on_colab():
        lines.append(f"runs are kept on Google Drive: {keep_runs_on_drive()}")
    elif drive:
        lines.append("drive=True is for Colab; here runs stay in GROKKIT_RUNS or ~/.cache/grokkit/runs")
    if retrain:
        lines.append("retrain=True: runs not in this machine's cache train here (the published runs are not used)")
    elif (src := published.register(chapter, chosen, log=lines.append)) is not None:
        lines.append(
            f"published runs: {len(src.keys)} of this chapter's runs load from {src.url} "
            f"({src.size / 1e6:.0f} MB, downloaded once when first needed; retrain=True trains them instead)"
        )
    if on_colab() and not cuda:
        lines.append("tip: Runtime > Change runtime type > a GPU runs the 'paper' profile in this notebook")
    print("\n".join(lines))
    return chosen
