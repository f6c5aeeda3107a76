"""The grader's runner: executes a prepared grading notebook with papermill, in its own process.

    python -I grokkit/course/runner.py SRC DST CWD METRICS STATUS CELL_LIMIT_S CHAPTER_LIMIT_S

Run as a script in isolated mode (`-I`: no cwd or script directory on sys.path, no user site), so
it imports neither torch nor the grokkit package itself. Cells carrying grader metadata (submitted
code, checks) get the per-cell limit; the chapter's own cells are bounded by the overall limit. A
cell over its limit is interrupted and execution continues. The outcome goes to STATUS as JSON:
{"ok": true} or {"ok": false, "kind": ..., "message": ...}.
"""

import json
import sys


def main(argv: list[str]) -> None:
    import papermill as pm  # imported here so that importing this module (for its path) stays cheap

    src, dst, cwd, metrics, status, cell_t, chapter_t = argv[:7]

    def limit(cell):
        return int(cell_t) if cell.get("metadata", {}).get("grader") else int(chapter_t)

    result = {"ok": True}
    try:
        pm.execute_notebook(
            src,
            dst,
            parameters={"profile": "smoke", "metrics_path": metrics},
            kernel_name="python3",
            cwd=cwd,
            progress_bar=False,
            execution_timeout=int(cell_t),
            timeout_func=limit,
            interrupt_on_timeout=True,
        )
    except pm.PapermillExecutionError:  # an error output: read per cell from the notebook
        pass
    except BaseException as e:
        result = {"ok": False, "kind": type(e).__name__, "message": str(e)[:300]}
    with open(status, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1:])
