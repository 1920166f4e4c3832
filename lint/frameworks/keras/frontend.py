"""Runs for Keras model-building code in a file: each module-level function callable without
arguments that builds a Keras model (`def build_model(): ... return model`), and the module's
own top-level statements (`model = keras.Sequential([...])`, `model.add(...)`).

The interpreter evaluates that code; Keras names reach the layer table through
:func:`shapelint.frameworks.keras.model.call_qual`, so a layer Keras would refuse records a
violation fact at the line Keras fails on, and the findings come from the same rules."""
from __future__ import annotations

from typing import List, Optional

import libcst as cst

from ...core.frames import AnalysisAbort, Frame
from ...core.values import FunctionValue
from ...core.source import SourceModule
from . import is_keras_name
from .model import KModel, _state


def uses_keras(src: SourceModule) -> bool:
    return any(is_keras_name(q) or q in ("keras", "tensorflow") or q.startswith(("keras.", "tensorflow."))
               for q in src.imports.values())


def _callable_without_args(fn: cst.FunctionDef) -> bool:
    p = fn.params
    return all(q.default is not None for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params))


class KerasRun:
    """What a Keras run leaves: its target text, the models it built (last one returned, if any)."""

    def __init__(self, target: str, node):
        self.target = target
        self.node = node
        self.model: Optional[KModel] = None
        self.models: List[KModel] = []
        self.facts: list = []
        self.error: Optional[str] = None


def run_function(src, interpreter, name: str) -> KerasRun:
    interp = interpreter()
    run = KerasRun(f"{name}()", None)
    fn = src.functions[name]
    try:
        out = interp.call_function(FunctionValue(fn, src), [], {}, None)
    except (AnalysisAbort, RecursionError) as e:
        run.error = f"abandoned: {e}"
        out = None
    run.models = list(_state(interp)["models"])
    run.model = out if isinstance(out, KModel) else None
    run.facts = [f for f in interp.facts if f.kind == "violation"]
    return run


def run_module(src, strict, interpreter) -> KerasRun:
    interp = interpreter()
    run = KerasRun("<module>", None)
    frame = Frame(src=src)
    try:
        for stmt in src.tree.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                continue
            interp.exec_stmt(stmt, frame)
    except (AnalysisAbort, RecursionError) as e:
        run.error = f"abandoned: {e}"
    except Exception:
        if strict:
            raise
        run.error = "abandoned: unsupported top-level code"
    run.models = list(_state(interp)["models"])
    run.model = run.models[-1] if run.models else None
    run.facts = [f for f in interp.facts if f.kind == "violation"]
    return run


def keras_runs(src: SourceModule, strict: bool, interpreter):
    """engine.Run objects for the Keras code of the file (empty when it does not import Keras)."""
    from ...results import Run

    if not uses_keras(src):
        return []
    out = []
    results = []
    for name, fn in src.functions.items():
        code = src.code_for(fn)
        if _callable_without_args(fn) and any(w in code for w in ("Sequential", "Model", "Input")):
            results.append(run_function(src, interpreter, name))
    results.append(run_module(src, strict, interpreter))
    for kr in results:
        if not kr.facts and kr.error is None:
            continue
        r = Run(None, None, kr.target, None, "symbolic")
        r.facts = kr.facts
        r.error = None if kr.error is None or kr.error.startswith("abandoned") else kr.error
        out.append(r)
    return out
