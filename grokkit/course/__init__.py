"""The course layer: chapters as assignments for a lecturer.

assignments  student copies (solutions removed, stubs, checks and hints kept) and instructor copies
grader       grade a submitted chapter: each submitted function runs under bubblewrap (`sandbox`,
             `harness`) on its check's inputs, recorded from a trusted run of the chapter (`record`,
             `runner`); only its outputs (`values`) come back to be compared
"""

from grokkit.course.assignments import build
from grokkit.course.grader import exit_code, grade, summary

__all__ = ["build", "grade", "exit_code", "summary"]
