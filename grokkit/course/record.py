"""A chapter's checks, recorded once from a trusted run: each exercise's cases and the reference's outputs.

`reference(path, timeout)` executes the trusted chapter (solutions included) at the smoke profile with
papermill in a subprocess (`runner`), with `grokkit.exercises.observer` storing, at each check, its
cases and the reference function's outputs (`values`, no pickle). The record is kept under
$GROKKIT_GRADING_CACHE (default ~/.cache/grokkit/grading), keyed by the sha256 of the chapter notebook,
of grokkit's source files and of torch's version, and written atomically (a folder renamed into place).
The grader copies only the inputs into a submission's sandbox; the expected outputs never enter it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
import torch

from grokkit import exercises as _exercises
from grokkit.course import runner, values
from grokkit.course.assignments import exercises
from grokkit.store.repo import repo_root

_PACKAGE = Path(__file__).resolve().parents[1]


class RecordError(RuntimeError):
    """The trusted run of a chapter did not record its checks (the reason is the message)."""


@dataclass(frozen=True)
class Check:
    """One exercise's recorded check: its name, hint, tolerance, number of cases and record folder."""

    k: int
    name: str
    hint: str
    atol: float
    n: int
    folder: Path

    def inputs(self) -> tuple[Path, Path]:
        return self.folder / f"{self.k}.inputs.json", self.folder / f"{self.k}.inputs.safetensors"

    def expected(self) -> list:
        return values.load(self.folder, f"{self.k}.expected")


def cache_root() -> Path:
    return Path(os.environ.get("GROKKIT_GRADING_CACHE") or Path.home() / ".cache" / "grokkit" / "grading")


def record_key(path: Path) -> str:
    """sha256 over the chapter's bytes, grokkit's source files (path and bytes) and torch's version."""
    h = hashlib.sha256(Path(path).read_bytes())
    for f in sorted(_PACKAGE.rglob("*.py")):
        h.update(str(f.relative_to(_PACKAGE)).encode() + b"\0" + f.read_bytes())
    h.update(torch.__version__.encode())
    return h.hexdigest()


class _Observer:
    def __init__(self, folder: str, k: int):
        self.folder, self.k = Path(folder), k

    def __call__(self, *, name, reference, cases, atol, hint):
        _exercises.observer = None  # one check per checker cell
        values.save(list(cases), self.folder, f"{self.k}.inputs")
        values.save(
            [reference(*values.load(self.folder, f"{self.k}.inputs")[i]) for i in range(len(cases))],
            self.folder,
            f"{self.k}.expected",
        )
        meta = {"name": name, "hint": hint, "atol": float(atol), "n": len(cases)}
        (self.folder / f"{self.k}.meta.json").write_text(json.dumps(meta))


def start(folder: str, k: int) -> None:
    """Record the next check (called by the recording notebook's checker cells)."""
    _exercises.observer = _Observer(folder, k)


def recording_notebook(trusted, folder: Path):
    """The trusted chapter, outputs cleared, each checker cell first arming the observer."""
    nb = copy.deepcopy(trusted)
    for k, ex in enumerate(exercises(trusted)):
        if ex.checker is not None:
            cell = nb.cells[ex.checker]
            cell.source = (
                f"import grokkit.course.record as _grader_record\n_grader_record.start({str(folder)!r}, {k})\n"
                + cell.source
            )
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def _load(folder: Path, n_exercises: int) -> dict[int, Check]:
    out = {}
    for k in range(n_exercises):
        meta = folder / f"{k}.meta.json"
        if meta.is_file():
            m = json.loads(meta.read_text())
            out[k] = Check(k, m["name"], m["hint"], float(m["atol"]), int(m["n"]), folder)
    return out


def reference(path: str | Path, timeout: float) -> dict[int, Check]:
    """{exercise index: Check} for the trusted chapter at `path`, from the cache or a trusted run."""
    path = Path(path)
    trusted = nbformat.read(path, as_version=4)
    n, key = len(exercises(trusted)), record_key(path)
    folder = cache_root() / f"{path.stem}-{key[:20]}"
    if (folder / "done.json").is_file():
        return _load(folder, n)
    cache_root().mkdir(parents=True, exist_ok=True)
    staging = cache_root() / f".{path.stem}-{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        with tempfile.TemporaryDirectory(prefix="grokkit-record-", ignore_cleanup_errors=True) as tmp:
            problem = execute(recording_notebook(trusted, staging), Path(tmp), timeout)
        found = _load(staging, n)
        wanted = [k for k, ex in enumerate(exercises(trusted)) if ex.checker is not None]
        if problem or sorted(found) != wanted:
            missing = sorted(set(wanted) - set(found))
            raise RecordError(problem or f"the checks of exercises {missing} did not run")
        (staging / "done.json").write_text(json.dumps({"chapter": path.stem, "key": key}))
        try:
            os.replace(staging, folder)
        except OSError:  # another grader stored the same record first
            pass
        return _load(folder if (folder / "done.json").is_file() else staging, n)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a process started with start_new_session, its session's group and its descendants."""
    pids = [proc.pid]
    try:
        import psutil

        pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    except Exception:
        pass
    for pid in pids:
        try:
            if os.getpgid(pid) != os.getpgrp():
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        except OSError:
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait()


def run_limited(args, cwd, env, log: Path, limit: float) -> int | None:
    """Run args in a new session (stdout and stderr to `log`) for at most `limit` s; its exit code, or
    None when it was stopped at the limit (it, its group and its descendants killed)."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True
        )
        try:
            return proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            return None
        finally:
            if proc.poll() is None:
                kill_tree(proc)


def execute(nb, tmp: Path, timeout: float) -> str | None:
    """Run a trusted notebook with papermill (smoke profile) in tmp/work; the problem that stopped it, or None."""
    work = tmp / "work"
    work.mkdir()
    nbformat.write(nb, tmp / "chapter.ipynb")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(repo_root()), os.environ.get("PYTHONPATH")])))
    args = [
        sys.executable,
        "-I",
        runner.__file__,
        str(tmp / "chapter.ipynb"),
        str(tmp / "executed.ipynb"),
        str(work),
        str(tmp / "metrics.json"),
        str(tmp / "status.json"),
        str(int(timeout)),
        str(int(timeout)),
    ]
    code = run_limited(args, work, env, tmp / "runner.log", timeout)
    if code is None:
        return f"the chapter's trusted run was stopped at the limit of {timeout:g} s"
    try:
        status = json.loads((tmp / "status.json").read_text())
    except (OSError, ValueError):
        tail = (tmp / "runner.log").read_text(errors="replace").strip().splitlines()[-3:]
        return f"the chapter's trusted run stopped with exit code {code} ({' | '.join(tail)[-300:]})"
    executed = nbformat.read(tmp / "executed.ipynb", as_version=4)
    err = next((o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"), None)
    if not status["ok"] or err is not None:
        what = f"{status['kind']}: {status['message']}" if not status["ok"] else f"{err['ename']}: {err['evalue']}"
        return f"the chapter's trusted run failed ({what[:300]})"
    return None
