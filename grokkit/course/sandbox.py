"""Run the grader's harness on untrusted code: under bubblewrap for marks, or plainly for a self-check.

Under bubblewrap (Debian/Ubuntu package `bubblewrap`) the process sees read-only binds of the system
(/usr), the Python installation and the grokkit package only; its inputs read-only at /in, one empty
writable folder at /out, a private /tmp; no network, no other processes (`--unshare-all`), a cleared
environment, a new session; it dies with the grader (`--die-with-parent`) and everything it started
dies with it (its own PID namespace). The checkout's notebooks, the run cache, the grading record,
other submissions and the report paths are not there to read or write.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from grokkit.course import harness
from grokkit.course.record import run_limited

INSTALL = "install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install bubblewrap`)"
PACKAGE_PARENT = str(Path(harness.__file__).resolve().parents[2])
_ENV = {
    "HOME": "/tmp",
    "MPLCONFIGDIR": "/tmp",
    "OMP_NUM_THREADS": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "GROKKIT_RUNS": "/tmp/runs",
    "PATH": "/usr/bin:/bin",
}


def _system_binds() -> list[str]:
    args = []
    for d in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc/alternatives"):
        p = Path(d)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), d]
        elif p.is_dir():
            args += ["--ro-bind", d, d]
    for f in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", f, f]
    return args


def command(inp: Path, out: Path) -> list[str]:
    """The bwrap command line that runs the harness on inp (read-only) into out (writable)."""
    binds = []
    for d in dict.fromkeys([sys.base_prefix, sys.prefix, str(Path(PACKAGE_PARENT) / "grokkit")]):
        binds += ["--ro-bind", d, d]
    if Path(sys.executable).resolve().parent != Path(sys.base_prefix) / "bin":  # e.g. a pyenv shim chain
        d = str(Path(sys.executable).resolve().parent)
        binds += ["--ro-bind", d, d]
    env = [a for k, v in _ENV.items() for a in ("--setenv", k, v)]
    return [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all", "--die-with-parent", "--new-session", "--clearenv",
        "--tmpfs", "/tmp",  # first: binds below may lie under /tmp (a checkout or venv there)
        *_system_binds(), *binds,
        "--proc", "/proc", "--dev", "/dev",
        "--ro-bind", str(inp), "/in", "--bind", str(out), "/out",
        *env, "--chdir", "/tmp",
        sys.executable, "-I", harness.__file__, "/in", "/out", PACKAGE_PARENT,
    ]  # fmt: skip


def unavailable() -> str | None:
    """Why grading for marks cannot sandbox here (bubblewrap missing or not allowed to), or None."""
    if shutil.which("bwrap") is None:
        return f"grading for marks runs each submission under bubblewrap, which is not installed: {INSTALL}"
    probe = [shutil.which("bwrap"), "--unshare-all", "--die-with-parent", *_system_binds(), "--proc", "/proc",
             "--dev", "/dev", "true"]  # fmt: skip
    try:
        r = subprocess.run(probe, capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap could not start a sandbox ({e}); {INSTALL}, with unprivileged user namespaces enabled"
    if r.returncode != 0:
        why = r.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        return f"bubblewrap could not start a sandbox ({why[0][:200]}); unprivileged user namespaces must be enabled"
    return None


def run(inp: Path, out: Path, limit: float, sandboxed: bool = True) -> str | None:
    """Run the harness on inp into out within `limit` s; the problem that stopped it, or None."""
    if sandboxed:
        args = command(inp, out)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:  # a student's self-check on their own machine: the same harness, no wall
        args = [sys.executable, "-I", harness.__file__, str(inp), str(out), PACKAGE_PARENT]
        env = dict(_ENV, PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=os.environ.get("HOME", "/tmp"))
        env.pop("MPLCONFIGDIR")
        env["GROKKIT_RUNS"] = str(out / "runs")
    t0 = time.monotonic()
    code = run_limited(args, out, env, out.parent / f"{out.name}.log", limit)
    if code is None:
        return f"did not finish within {limit:.0f} s and was stopped"
    if code != 0:
        tail = (out.parent / f"{out.name}.log").read_text(errors="replace").strip().splitlines()[-1:]
        last = f"; last line: {tail[0][:200]}" if tail else ""
        return f"ended its process with exit code {code} after {time.monotonic() - t0:.0f} s{last}"
    return None
