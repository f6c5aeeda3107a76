"""A sweep worker process: `python -m grokkit.worker`, driven by grokkit.sweep over stdin/stdout.

Reads one base64 pickle (config, hooks, root) per line, trains it into the run cache with one
thread, and writes `P <steps>` progress lines, then `D <run dir>` (or `E <base64 traceback>`).
"""

import base64
import pickle
import sys
import traceback

import torch

from grokkit.cache import load_or_train, run_dir
from grokkit.hooks import Hook


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


if __name__ == "__main__":
    main()
