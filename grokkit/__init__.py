"""grokkit: the library behind The Grokking Book.

    import grokkit as gk
    run = gk.load_or_train(gk.presets.single("add"))
    run.grok_step()          # [3300] or thereabouts
"""
__version__ = "0.1.0"

from grokkit import config as presets
from grokkit.config import Config
from grokkit.data import OPERATIONS, Dataset, make_dataset
from grokkit.hooks import Hook, GradientProjection
from grokkit.model import Transformer, attention_weights, build_model, n_params
from grokkit.runs import CorruptRun, Run, grok_step, load_or_train
from grokkit.train import evaluate, resolve_device, train
from grokkit.ensemble import train_ensemble
from grokkit.sweep import SweepResult, long_runs_engine, run_many, sweep
from grokkit import book, exercises, geometry, hooks, plots, regularizers, widgets

__all__ = ["Config", "presets", "OPERATIONS", "Dataset", "make_dataset", "Hook", "GradientProjection",
           "Transformer", "attention_weights", "build_model", "n_params", "Run", "CorruptRun",
           "grok_step", "load_or_train", "train", "evaluate", "train_ensemble", "sweep", "run_many", "long_runs_engine",
           "SweepResult", "resolve_device", "book", "exercises", "geometry", "hooks", "plots",
           "regularizers", "widgets"]
