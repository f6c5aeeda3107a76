"""Executing the chapter notebooks: one function used by `make book`, the reproduction targets and
the course kit, plus the provenance stored next to each chapter's measured numbers.

A chapter's numbers (everything it `record`s) are written to
`results/chapters/<profile>/<chapter>.json` with the grokkit version, git commit, device, wall
time and the run-cache keys it used, so the scorecard can cite them; nothing there is typed by hand.
"""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "results"


def chapter_stems() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def device_name() -> str:
    """The accelerator's name, or the CPU model and core count."""
    import torch
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


def provenance() -> dict:
    import torch
    from grokkit.runs import git_commit, version
    return {"grokkit_version": version(), "git_commit": git_commit(), "device": device_name(),
            "torch": torch.__version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def execute(nb: Path, out: Path, profile: str, metrics: Path, timeout: int | None = None) -> float:
    """Execute notebook `nb` with papermill at `profile` into `out` (the source is never modified);
    its recorded numbers go to `metrics`. Returns the wall time in seconds."""
    import nbformat
    import papermill as pm
    env_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path
    t = time.perf_counter()
    pm.execute_notebook(str(nb), str(out), parameters={"profile": profile, "metrics_path": str(metrics)},
                        kernel_name="python3", cwd=str(nb.parent), progress_bar=False, execution_timeout=timeout)
    clean = nbformat.read(out, as_version=4)
    clean.metadata.pop("widgets", None)  # the site shows the Explorer's static HTML, not widget views
    clean.metadata.pop("papermill", None)
    nbformat.write(clean, out)
    return time.perf_counter() - t


def store_metrics(stem: str, profile: str, metrics: Path, wall_time_s: float, results: Path = RESULTS,
                  **override) -> Path:
    """Copy a chapter's recorded numbers to results/chapters/<profile>/<stem>.json with provenance
    (`override`: provenance fields measured elsewhere, e.g. the commit a clone was built at)."""
    data = json.loads(Path(metrics).read_text())
    out = Path(results) / "chapters" / profile / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    blob = {"chapter": stem, "profile": profile, "wall_time_s": round(wall_time_s, 1), **provenance(), **override,
            "run_keys": data.pop("run_keys", []), "metrics": data}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(blob, indent=1))
    os.replace(tmp, out)
    return out


def chapter_metrics(stem: str, profile: str, *, results: Path = RESULTS, rerun: bool = False) -> dict:
    """A chapter's stored numbers at `profile`, executing the chapter first if none are stored."""
    path = Path(results) / "chapters" / profile / f"{stem}.json"
    if rerun or not path.exists():
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            metrics = Path(tmp) / "metrics.json"
            print(f"grokkit: executing {stem} at profile {profile} ...", flush=True)
            wall = execute(NOTEBOOKS / f"{stem}.ipynb", Path(tmp) / f"{stem}.ipynb", profile, metrics)
            store_metrics(stem, profile, metrics, wall, results)
    return json.loads(path.read_text())
