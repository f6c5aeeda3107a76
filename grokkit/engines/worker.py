"""Sweep worker processes: `python -m grokkit.engines.worker` (one), driven by `drive_workers` over stdin/stdout.

A worker reads one base64 pickle (config, hooks, root) per line, trains it into the run cache with one
thread, and writes `P <steps>` progress lines, then `D <run dir>` (or `E <base64 traceback>`).
"""

import base64
import os
import pickle
import subprocess
import sys
import threading
import traceback
from collections import deque

import torch

from grokkit.hooks.base import Hook
from grokkit.store.runs import Run
from grokkit.training.cache import load_or_train, run_dir


class _Report(Hook):
    def __init__(self):
        self.last = 0

    def on_eval(self, ctx):
        print(f"P {ctx.step - self.last}", flush=True)
        self.last = ctx.step


def main():
    torch.set_num_threads(1)
    for line in sys.stdin:
        try:
            config, hooks, root = pickle.loads(base64.b64decode(line))
            load_or_train(config, list(hooks) + [_Report()], root=root, progress=False)
            print(f"D {run_dir(config, hooks, root)}", flush=True)
        except Exception:
            print("E " + base64.b64encode(traceback.format_exc().encode()).decode(), flush=True)


def drive_workers(members, todo, runs, root, bar, workers: int | None = None):
    """engines.sweep's "processes" engine: single-thread worker processes (`python -m grokkit.engines`) fed
    one run at a time (members[j] for j in todo; each finished Run goes into runs[j], `bar` counts them).

    Workers are fresh interpreters (not forks of this one, and not re-imports of the caller's
    script), so this works from notebooks and from scripts without a __main__ guard. Tasks travel
    as pickles over the worker's stdin — between our own processes only; results come back
    through the run cache.
    """
    queue = deque(todo)
    lock = threading.Lock()
    errors: list[str] = []
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

    def drive():
        proc = subprocess.Popen(
            [sys.executable, "-m", "grokkit.engines"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            while True:
                with lock:
                    if not queue or errors:
                        break
                    j = queue.popleft()
                task = base64.b64encode(pickle.dumps((*members[j], root))).decode()
                proc.stdin.write(task + "\n")
                proc.stdin.flush()
                for line in proc.stdout:
                    kind, _, rest = line.strip().partition(" ")
                    if kind == "P":
                        with lock:
                            bar.steps(int(rest))
                    elif kind == "D":
                        run = Run.load(rest)
                        with lock:
                            runs[j] = run
                            bar.done()
                        break
                    elif kind == "E":
                        errors.append(base64.b64decode(rest).decode())
                        break
                else:
                    errors.append(f"worker exited with code {proc.wait()}")
                    break
        finally:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait()

    threads = [threading.Thread(target=drive) for _ in range(workers or min(len(todo), os.cpu_count() or 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("a sweep worker failed:\n" + errors[0])
