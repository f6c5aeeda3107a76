"""Where a number came from: library version, git commit, device, and the info block of a run.

Every run (solo or ensemble member) and every stored chapter result carries these fields, so the
scorecard can cite a commit and a machine for each number.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

import torch

from grokkit._version import __version__

__all__ = ["version", "git_commit", "device_name", "machine_name", "run_info", "stamp"]


def version() -> str:
    return __version__


def git_commit(cwd: Path | None = None) -> str | None:
    """HEAD of the checkout grokkit is imported from (None outside a git checkout)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=cwd or Path(__file__).resolve().parent,
        )
        return out.stdout.strip() if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def device_name(device: torch.device) -> str:
    """The device a run trained on: the GPU's name, or the CPU with its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{device.type} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def machine_name() -> str:
    """The machine a chapter executed on: the accelerator's name, or the CPU model and core count."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU: {model} ({os.cpu_count()} cores)"


def run_info(key: str, hooks, device: torch.device, wall: float, final_step: int, stopped_early: bool, **extra) -> dict:
    """The info block every Run carries (config.json beside the config), whichever engine trained it."""
    return {
        "key": key,
        "hooks": [h.key for h in hooks if h.key],
        "grokkit_version": version(),
        "torch_version": torch.__version__,
        "git_commit": git_commit(),
        "device": device_name(device),
        "wall_time_s": round(wall, 3),
        "final_step": final_step,
        "stopped_early": stopped_early,
        **extra,
    }


def stamp() -> dict:
    """Provenance of a stored result: version, commit, machine, torch, time of creation (UTC)."""
    return {
        "grokkit_version": version(),
        "git_commit": git_commit(),
        "device": machine_name(),
        "torch": torch.__version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
