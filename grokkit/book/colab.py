"""Starting a chapter: the profile chosen from the device, its measured time, and Colab's options.

`start(chapter, profile, drive=...)` is the chapters' first call. `profile="auto"` (the notebooks'
default) is "paper" where CUDA is available (a Colab GPU runtime) and "default" elsewhere. The time
it prints is measured, never guessed: the chapter's wall time at that profile from the last
`make book` that recorded it (results/chapters/<profile>/, copied into the package as
chapter_times.json so that an installed grokkit on Colab has it too), quoted with the machine it ran
on, and only when that machine is of this kind (CPU or GPU). `drive=True` keeps the run cache on
Google Drive (Colab), so trained runs, and the resume state of a run in progress, outlive a
disconnected runtime.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import torch

from grokkit import published
from grokkit.book.profiles import PROFILES, check_profile

TIMES = Path(__file__).with_name("chapter_times.json")
MOUNT = "/content/drive"  # where Colab mounts Google Drive

__all__ = ["start", "resolve_profile", "chapter_time", "keep_runs_on_drive", "on_colab"]


def on_colab() -> bool:
    return "google.colab" in sys.modules


def resolve_profile(profile: str, cuda: bool | None = None) -> str:
    """ "auto" -> "paper" with CUDA, else "default"; any other profile is checked and returned."""
    if profile == "auto":
        return "paper" if (torch.cuda.is_available() if cuda is None else cuda) else "default"
    return check_profile(profile)


def chapter_time(chapter: str, profile: str, times: Path = TIMES) -> dict | None:
    """{"wall_time_s", "machine"} of the chapter's last recorded execution at `profile`, or None."""
    if not times.exists():
        return None
    return json.loads(times.read_text()).get(profile, {}).get(chapter)


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


def start(
    chapter: str, profile: str = "auto", *, drive: bool = False, cuda: bool | None = None, retrain: bool = False
) -> str:
    """Resolve `profile`, print it with this chapter's measured time, and return it. `drive=True` on
    Colab keeps the run cache on Google Drive; off Colab it is ignored with a note. Unless `retrain`, the
    chapter's published runs (grokkit.published: the bundle `make book` wrote beside the site) are
    registered, so a run they hold loads from them instead of training; `retrain=True` trains every run
    that is not already in this machine's cache."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    chosen = resolve_profile(profile, cuda)
    kind = "GPU" if cuda else "CPU"
    why = f" (auto: {'a GPU' if cuda else 'no GPU'})" if profile == "auto" else ""
    lines = [f"profile {chosen!r}{why}, one of {PROFILES}"]
    t = chapter_time(chapter, chosen)
    if t and t["machine"].startswith("CPU") == (kind == "CPU"):
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
    published.forget()
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
