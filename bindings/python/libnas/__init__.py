"""libnas from Python: Neural Architecture Search on the CPU, through ctypes (no compiled extension).

    import libnas
    ctx = libnas.Context(threads=2, seed=1)
    space = libnas.Space.load("spaces/nas-bench-201.yaml", ctx)
    print(space, space.sample())
"""
from ._lib import (AbortedError, InvalidArgumentError, LibnasError, LibnasIOError, NotFoundError, ParseError,
                   library_path, status_name, status_str)
from .core import Context, Params, Rng, default_context, version
from .space import Arch, Dim, Space

__version__ = version()

# Data sets and models (data.py, model.py)
from .data import Dataset
from .model import EvalResult, Latency, Model, ModelInfo, TrainProgress, TrainResult

# Searchers, evaluators, runs, results (search.py), Python plugins (plugins.py), plots (plots.py)
from .results import Objective, Progress, Result, RunResult, Trial
from .search import Candidate, Evaluator, Experiment, Searcher, load_journal, run
from .plugins import (EvaluatorPlugin, EvaluatorView, PluginParams, SearcherView, Strategy, register_evaluator,
                      register_strategy)
from .plots import plot_anytime, plot_pareto
