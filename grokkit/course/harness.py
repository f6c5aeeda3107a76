"""Inside the grader's sandbox: run one submitted function on its check's inputs and store what it returns.

    python -I grokkit/course/harness.py IN OUT PACKAGE_PARENT

IN (read-only) holds job.json ({"function", "source", "imports", "limit_s"}) and the check's inputs
(`values`); OUT (the only writable place besides a private /tmp) receives outputs.json/.safetensors:
{"defined": bool, "top_error": str|None, "cases": [{"ok": value} | {"raised": name, "message": text}],
"stopped": None | "cell" | "function"} (where the time limit stopped it). The submitted cell is
executed in a namespace holding the chapter's imports; the cases stop at the first exception. The
grader compares these outputs with the expected ones in its own process: nothing this script or the
submitted code writes can change a verdict except the submitted function's own outputs. Run as a
script (-I: no cwd on sys.path); PACKAGE_PARENT is where `grokkit` is found.
"""

import json
import resource
import signal
import sys

if __name__ == "__main__":  # a script under -I: grokkit is found where the grader says
    sys.path.insert(0, sys.argv[3])

import torch  # noqa: E402

from grokkit.course import values  # noqa: E402


class OverLimit(BaseException):  # noqa: N818  (raised by the alarm: not an Exception, so `except Exception` lets it by)
    pass


def _alarm(signum, frame):
    raise OverLimit


def _describe(e: BaseException) -> dict:
    return {"raised": type(e).__name__[:80], "message": str(e)[:300]}


def main(argv: list[str]) -> None:
    src, out = argv[:2]
    torch.set_num_threads(1)
    job = json.loads(open(f"{src}/job.json").read())
    cases = values.load(src, "inputs")
    ns = {"__name__": "__main__"}
    for line in job["imports"]:  # the chapter's own import statements (trusted text)
        try:
            exec(line, ns)
        except Exception:
            pass
    result = {"defined": False, "top_error": None, "cases": [], "stopped": None}
    limit = resource.RLIM_INFINITY
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * values.MAX_TENSOR_BYTES, limit))
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(max(1, int(job["limit_s"])))
    phase = "cell"
    try:
        try:
            exec(compile(job["source"], "<your cell>", "exec"), ns)
        except OverLimit:
            raise
        except BaseException as e:  # the function may still be defined above the failing line
            result["top_error"] = _describe(e)
        fn = ns.get(job["function"])
        result["defined"] = callable(fn)
        if callable(fn):
            phase = "function"
            for case in cases:
                try:
                    result["cases"].append({"ok": fn(*case)})
                except OverLimit:
                    raise
                except BaseException as e:
                    result["cases"].append(_describe(e))
                    break
    except OverLimit:
        result["stopped"] = phase
    signal.alarm(0)
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    try:
        values.save(result, out, "outputs", strict=False)
    except Exception as e:  # e.g. a dtype safetensors cannot store: the case is reported, not lost
        bad = {"raised": "UnstorableOutput", "message": f"the output could not be stored ({str(e)[:200]})"}
        result["cases"] = [c if "ok" not in c else bad for c in result["cases"]][:1] or [bad]
        values.save(result, out, "outputs", strict=False)


if __name__ == "__main__":
    main(sys.argv[1:])
