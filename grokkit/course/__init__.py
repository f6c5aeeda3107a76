"""The course layer: chapters as assignments for a lecturer.

assignments  student copies (solutions removed, stubs, checks and hints kept) and instructor copies
grader       grade a submitted chapter: the trusted chapter with the submission's functions in place
             of the stubs, executed at the smoke profile by `runner` in a subprocess with limits
"""

from grokkit.course.assignments import build
from grokkit.course.grader import exit_code, grade, summary

__all__ = ["build", "grade", "exit_code", "summary"]
