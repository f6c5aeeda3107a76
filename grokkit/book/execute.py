"""Executing the chapter notebooks: one function used by `make book`, the reproduction targets and
the course kit, plus the provenance stored next to each chapter's measured numbers.

A chapter's numbers (everything it `record`s) are written to
`results/chapters/<profile>/<chapter>.json` with the grokkit version, git commit, device, wall
time and the run-cache keys it used, so the scorecard can cite them; nothing there is typed by hand.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from grokkit.store import published
from grokkit.store.provenance import stamp
from grokkit.store.repo import repo_root
from grokkit.store.rootdir import default_root


def notebooks_dir(root=None) -> Path:
    return repo_root(root) / "notebooks"


def results_dir(root=None) -> Path:
    return repo_root(root) / "results"


def chapter_stems(root=None) -> list[str]:
    return sorted(p.stem for p in notebooks_dir(root).glob("[0-9][0-9]_*.ipynb"))


def execute(nb: Path, out: Path, profile: str, metrics: Path, timeout: int | None = None) -> float:
    """Execute notebook `nb` with papermill at `profile` into `out` (the source is never modified);
    its recorded numbers go to `metrics`. Returns the wall time in seconds. The chapter trains or loads
    from the local run cache only, unless $GROKKIT_SITE names a site whose published runs it should use
    (a build makes the published runs; it never reads an earlier build's)."""
    import nbformat  # optional heavy dependencies: only a book build or a grader needs them
    import papermill as pm

    env_path = os.pathsep.join(filter(None, [str(repo_root()), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONPATH"] = env_path
    os.environ.setdefault("GROKKIT_SITE", "off")
    cached = _cache_keys() if published.site_url() is None else None  # with a bundle, new runs may be imports
    t = time.perf_counter()
    pm.execute_notebook(
        str(nb),
        str(out),
        parameters={"profile": profile, "metrics_path": str(metrics)},
        kernel_name="python3",
        cwd=str(nb.parent),
        progress_bar=False,
        execution_timeout=timeout,
    )
    clean = nbformat.read(out, as_version=4)
    clean.metadata.pop("widgets", None)  # the site shows the Explorer's static HTML, not widget views
    clean.metadata.pop("papermill", None)
    nbformat.write(clean, out)
    wall = time.perf_counter() - t
    if cached is not None and Path(metrics).exists():  # how many of its runs it trained: what its time measures
        data = json.loads(Path(metrics).read_text())
        data["runs_trained"] = sum(k not in cached for k in data.get("run_keys", []))
        _write(Path(metrics), data)
    return wall


def _cache_keys() -> set[str]:
    """The run keys in the run cache now (an execution's runs that were not here, it trained)."""
    root = default_root()
    return {p.name for p in root.iterdir() if p.is_dir() and "." not in p.name} if root.is_dir() else set()


def store_metrics(
    stem: str, profile: str, metrics: Path, wall_time_s: float, results: Path | None = None, **override
) -> Path:
    """Copy a chapter's recorded numbers to results/chapters/<profile>/<stem>.json with provenance
    (`override`: provenance fields measured elsewhere, e.g. the commit a clone was built at).

    `wall_time_s` is the chapter's time with its training, which is what a reader without the runs waits: an
    execution that trained fewer of its runs than the stored one did (`runs_trained`; 0: every run came from
    the cache) keeps the stored time (with that execution's commit and device as `wall_time_commit` and
    `wall_time_device`, its count as `runs_trained`); its own time is stored as `warm_wall_time_s` where it
    trained none (every run from the cache), and an earlier warm time is kept otherwise."""
    data = json.loads(Path(metrics).read_text())
    out = Path(results or results_dir()) / "chapters" / profile / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    trained = data.pop("runs_trained", None)
    timing = {"wall_time_s": round(wall_time_s, 1), "runs_trained": trained}
    if trained is not None and out.exists():
        old = json.loads(out.read_text())
        old_trained = old.get("runs_trained")
        old_trained = len(old.get("run_keys") or []) if old_trained is None else old_trained  # before: all
        if trained < old_trained and old.get("wall_time_s") is not None:
            timing = {
                "wall_time_s": old["wall_time_s"],
                "runs_trained": old.get("runs_trained"),
                "wall_time_commit": old.get("wall_time_commit", old.get("git_commit")),
                "wall_time_device": old.get("wall_time_device", old.get("device")),
            }
            warm = round(wall_time_s, 1) if trained == 0 else old.get("warm_wall_time_s")  # warm: nothing trained
            if warm is not None:
                timing["warm_wall_time_s"] = warm
    blob = {
        "chapter": stem,
        "profile": profile,
        **timing,
        **stamp(),
        **override,
        "run_keys": data.pop("run_keys", []),
        "run_tensors": data.pop("run_tensors", None),  # per run key: the tensor series the chapter read
        "measure_keys": data.pop("measure_keys", []),  # the stored measurements it used (grokkit.book.memo)
        "metrics": data,
    }
    _write(out, blob)
    return out


def _write(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def chapter_metrics(stem: str, profile: str, *, results: Path | None = None, rerun: bool = False) -> dict:
    """A chapter's stored numbers at `profile`, executing the chapter first if none are stored."""
    results = Path(results or results_dir())
    path = results / "chapters" / profile / f"{stem}.json"
    if rerun or not path.exists():
        with tempfile.TemporaryDirectory() as tmp:
            metrics = Path(tmp) / "metrics.json"
            print(f"grokkit: executing {stem} at profile {profile} ...", flush=True)
            wall = execute(notebooks_dir() / f"{stem}.ipynb", Path(tmp) / f"{stem}.ipynb", profile, metrics)
            store_metrics(stem, profile, metrics, wall, results)
    return json.loads(path.read_text())


PUBLISH_BUDGET_MB = 150  # per chapter and profile (README: "Published runs")


def _chapter_record(stem: str, profile: str, metrics: Path | None) -> dict:
    """A chapter's recorded file: this build's `metrics` where given and present, else its stored numbers
    (results/chapters/<profile>/<stem>.json); {} if neither exists."""
    for path in (metrics, results_dir() / "chapters" / profile / f"{stem}.json"):
        if path is not None and Path(path).exists():
            return json.loads(Path(path).read_text())
    return {}


def chapter_runs(stem: str, profile: str, metrics: Path | None = None) -> tuple[list[str], dict | None]:
    """(the run-cache keys a chapter looked up, in order; per key the tensor series it read, or None where
    not recorded): from this build's `metrics` file where given, else from its stored numbers
    (results/chapters/<profile>/<stem>.json); ([], None) if neither exists."""
    blob = _chapter_record(stem, profile, metrics)
    return list(blob.get("run_keys") or []), blob.get("run_tensors")


def chapter_measures(stem: str, profile: str, metrics: Path | None = None) -> list[str]:
    """The keys of the stored measurements a chapter used (grokkit.book.memo), from the same file as
    `chapter_runs`; [] where none is recorded."""
    return list(_chapter_record(stem, profile, metrics).get("measure_keys") or [])


def publish_runs(
    out_dir: Path,
    profile: str,
    keys_by_chapter: dict,
    root=None,
    budget_mb: float = PUBLISH_BUDGET_MB,
    reads_by_chapter: dict | None = None,
    measures_by_chapter: dict | None = None,
):
    """Write one run bundle per chapter (`out_dir/<chapter>-<profile>.tar`, grokkit.store.published) and
    `out_dir/index.json` (earlier profiles' entries kept); returns the index's entries of this call.
    `reads_by_chapter`: {chapter: {key: [tensor series it read]}}; a chapter listed there publishes its
    runs trimmed to those series (one not listed, or listed as None, publishes them whole).
    `measures_by_chapter`: {chapter: [stored-measurement keys it used]}, published beside its bundle."""
    out_dir = Path(out_dir)
    old = out_dir / "index.json"
    bundles = json.loads(old.read_text())["bundles"] if old.exists() else {}
    made = {}
    for stem, keys in keys_by_chapter.items():
        name = f"{stem}-{profile}"
        reads = (reads_by_chapter or {}).get(stem)
        used = (measures_by_chapter or {}).get(stem)
        budget = int(budget_mb * 1e6)
        made[name] = published.publish(name, keys, root or default_root(), out_dir, budget, reads, measure_keys=used)
    published.write_index(out_dir, bundles | made)
    return made
