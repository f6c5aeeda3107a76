"""setuptools hook: a built wheel ships the chapters' measured wall times (results/chapters/) as package
data, grokkit/book/chapter_times.json, gathered by grokkit/book/times.py (loaded by path: standard library
only). Everything else is in pyproject.toml."""

import importlib.util
import json
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithTimes(build_py):
    def run(self):
        super().run()
        spec = importlib.util.spec_from_file_location("_grokkit_times", HERE / "grokkit" / "book" / "times.py")
        times = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(times)
        out = Path(self.build_lib) / "grokkit" / "book" / times.PACKAGED
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(times.chapter_times(HERE / "results"), indent=1) + "\n")


setup(cmdclass={"build_py": BuildPyWithTimes})
