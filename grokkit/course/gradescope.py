"""Gradescope's autograder results.json from a grader report (`grokkit grade --format gradescope`)."""

from __future__ import annotations


def gradescope(report: dict) -> dict:
    """A report as Gradescope's autograder results.json (gradescope-autograders.readthedocs.io, specs):
    one test per exercise, 1 point if it passed, else 0 and "failed", with the grader's message as its
    output. A submission that could not be graded scores 0 with the reason as the top-level output."""
    tests = [
        {
            "name": f"Exercise {e['id']}: {e['function']}",
            "number": e["id"],
            "score": 1.0 if e["status"] == "passed" else 0.0,
            "max_score": 1.0,
            "status": "passed" if e["status"] == "passed" else "failed",
            "output": e["message"] or e["status"],
            "visibility": "visible",
        }
        for e in report["exercises"]
    ]
    if not report["graded"]:
        output = f"Could not grade this submission: {report['reason']}"
    else:
        output = f"{report['passed']} of {report['total']} exercises passed (chapter {report['chapter']})."
        output += f" Note: {report['reason']}" if report["reason"] else ""
    return {
        "score": float(sum(t["score"] for t in tests)) if report["graded"] else 0.0,
        "execution_time": round(report.get("elapsed_s") or 0),
        "output": output,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
