import os
import pathlib
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tools"))
# Notebook kernels started by papermill inherit this; do NOT set MPLBACKEND here (figures vanish).
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
# The grader's records of the chapters' checks: one per test session, never the user's own cache.
os.environ["GROKKIT_SITE"] = (
    "off"  # chapters never fetch the published site's runs here (test_published serves its own)
)
os.environ["GROKKIT_GRADING_CACHE"] = tempfile.mkdtemp(prefix="grokkit-grading-record-")


@pytest.fixture
def runs_root(tmp_path):
    """An empty run cache for one test."""
    return tmp_path / "runs"


@pytest.fixture(scope="session")
def smoke_runs(tmp_path_factory):
    """The session's run cache for the smoke-profile chapters: the Colab-install test, the lease's dry
    run and the executed book share it, so each smoke run trains once per session (whichever test
    needs it first; the training code paths are the same in every one)."""
    return tmp_path_factory.mktemp("smoke-runs")


@pytest.fixture(scope="session")
def fast_run():
    """One grokking run of the FAST preset, shared by the tests that only read it."""
    import grokkit as gk

    return gk.train(gk.presets.FAST, progress=False)


@pytest.fixture(scope="session")
def grading_record():
    """Chapter 4's checks recorded by a trusted smoke run (once per session): {exercise: Check}."""
    from grokkit.course import record

    return record.reference(ROOT / "notebooks" / "04_holographic.ipynb", timeout=900)


@pytest.fixture(scope="session")
def monkeypatch_session():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def pytest_collection_modifyitems(config, items):
    """Markers by what a test needs: the executed book (chapters; site; browser)."""
    for item in items:
        if "book" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.chapters)
            if "site" in item.name or "browser" in item.name:
                item.add_marker(pytest.mark.site)
            if "browser" in item.name:
                item.add_marker(pytest.mark.browser)
