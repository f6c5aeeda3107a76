"""grokkit: the library behind The Grokking Book.

    import grokkit as gk
    run = gk.load_or_train(gk.presets.single("add"))
    run.grok_step()          # [3300] or thereabouts

`import grokkit` loads the core only (torch, numpy, safetensors): no matplotlib, IPython, ipywidgets,
nbformat or papermill. The presentation modules (`gk.plots`, `gk.widgets`, `gk.exercises`) and the
book, reproduction and course layers (`gk.book`, `gk.repro`, `gk.course`) load on first use.
"""

from grokkit import config as presets
from grokkit import geometry, hooks
from grokkit._version import __version__
from grokkit.config import Config
from grokkit.data import OPERATIONS, Dataset, make_dataset
from grokkit.engines.ensemble import train_ensemble
from grokkit.engines.sweep import SweepResult, run_many, sweep
from grokkit.geometry.onset import grok_step
from grokkit.hooks import GradientProjection, Hook, regularizers, trackers
from grokkit.model import Transformer, attention_weights, build_model, n_params
from grokkit.objective import evaluate, task_loss
from grokkit.store.bundle import BundleError, export_bundle, import_bundle
from grokkit.store.runs import CorruptRun, Run
from grokkit.training.cache import default_root, load_or_train, run_dir
from grokkit.training.device import resolve_device
from grokkit.training.train import train

_LAZY = ("plots", "widgets", "exercises", "book", "repro", "course", "reference", "papers", "stats")

__all__ = [
    "__version__",
    "Config",
    "presets",
    "OPERATIONS",
    "Dataset",
    "make_dataset",
    "Hook",
    "GradientProjection",
    "Transformer",
    "attention_weights",
    "build_model",
    "n_params",
    "Run",
    "CorruptRun",
    "grok_step",
    "load_or_train",
    "run_dir",
    "default_root",
    "export_bundle",
    "import_bundle",
    "BundleError",
    "train",
    "evaluate",
    "task_loss",
    "train_ensemble",
    "sweep",
    "run_many",
    "SweepResult",
    "resolve_device",
    "geometry",
    "hooks",
    "trackers",
    "regularizers",
    *_LAZY,
]


def __getattr__(name: str):
    """The optional layers, imported on first use (PEP 562): matplotlib and ipywidgets only when asked."""
    if name in _LAZY:
        import importlib

        return importlib.import_module(f"grokkit.{name}")
    raise AttributeError(f"module 'grokkit' has no attribute {name!r}")
