"""``--confirm`` (:mod:`shapelint.commands.confirm`): the statements of the checked file, and what
a run of the static analysis becomes for torch: constructor text, input shapes (symbolic sizes
at their witness values), the static shapes the forward hooks are compared with."""
from __future__ import annotations

import ast
from typing import Dict, List, Optional, Tuple

from ..core import dims as D
from ..core.values import Tensor

BATCH = 2  # the batch given to a symbolic batch dim (BatchNorm needs more than one sample in training)


# ------------------------------------------------------------------------------------------------
# Statements of the file
# ------------------------------------------------------------------------------------------------

_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try,
             ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class Statements:
    """The innermost statement around a line: tracebacks point at one line of a statement, a
    finding at the start of an expression, and the two meet in the statement."""

    def __init__(self, code: str):
        self.spans: List[Tuple[int, int, ast.stmt]] = []
        try:
            tree = ast.parse(code)
        except SyntaxError:
            return
        for node in ast.walk(tree):
            if not isinstance(node, ast.stmt) or isinstance(node, ast.Module):
                continue
            end = node.end_lineno or node.lineno
            if isinstance(node, _COMPOUND):
                first = min((b.lineno for b in getattr(node, "body", [])), default=end + 1)
                deco = [d.lineno for d in getattr(node, "decorator_list", [])]
                start = min([node.lineno] + deco)
                end = max(node.lineno, first - 1)
                self.spans.append((start, end, node))
            else:
                self.spans.append((node.lineno, end, node))

    def around(self, line: int) -> Tuple[int, int, Optional[ast.stmt]]:
        best = None
        for s, e, n in self.spans:
            if s <= line <= e and (best is None or e - s < best[1] - best[0]):
                best = (s, e, n)
        return best if best is not None else (line, line, None)


def _watch_target(stmt) -> Optional[str]:
    """What to read after a silent finding's statement ran: the name it assigns, or its return."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    if isinstance(stmt, ast.Return):
        return "<return>"
    return None


# ------------------------------------------------------------------------------------------------
# From a run to a job
# ------------------------------------------------------------------------------------------------

def _is_symbol(d) -> Optional[str]:
    if isinstance(d, int):
        return None
    syms = D.symbols(d)
    if len(syms) != 1:
        return None
    name = next(iter(syms))
    try:
        return name if D.evaluate(d, {name: 2}) == 2 and D.evaluate(d, {name: 3}) == 3 else None
    except Exception:  # noqa: BLE001
        return None


def _concrete(d, env) -> Optional[int]:
    if isinstance(d, int):
        return d
    if not D.symbols(d) <= set(env):
        return None
    try:
        return D.evaluate(d, env)
    except Exception:  # noqa: BLE001
        return None


def _run_inputs(run) -> Tuple[Optional[List[dict]], Dict[str, int], Optional[int], Optional[str]]:
    """(input specs or None for a construction-only run, symbol env, input batch, why not)."""
    tensors = run.input_tensors
    if not tensors:
        return None, {}, None, None
    env: Dict[str, int] = {}
    for t in tensors:
        if t.shape is not None and t.batch_dim is not None and t.batch_dim < len(t.shape):
            name = _is_symbol(t.shape[t.batch_dim])
            if name is not None:
                env[name] = BATCH
    specs, free = [], set()
    hints = run.rank_free
    for i, t in enumerate(tensors):
        if t.shape is None and i in hints:
            # a rank no layer fixes (a Linear or an Embedding first): the smallest input it takes
            specs.append({"shape": [BATCH, *hints[i][0]], "dtype": hints[i][1]})
            continue
        if t.shape is None:
            return None, env, None, f"the shape of input {i + 1} is unknown to the static analysis"
        shape = []
        for d in t.shape:
            v = _concrete(d, env)
            if v is None:
                free |= D.symbols(d) - set(env)
            shape.append(v)
        specs.append({"shape": shape, "dtype": "long" if t.dtype == "long" else "float"})
    if free:
        # a finding that holds for every size: confirm it at a witness, the smallest sizes the
        # admissible-input solver admits up to the failing line (the batch stays BATCH)
        from .summary.admissible import witness

        chosen = witness(run, env)
        if chosen is None or not free <= set(chosen):
            dims = ", ".join(sorted(free))
            shape = "x".join(D.text(d) for d in tensors[0].shape)
            return None, env, None, (f"the input {shape} has free sizes ({dims}) and no witness size could be "
                                     f"chosen; give a concrete shape with --input-shape {_class_name(run)}=... "
                                     f"to confirm")
        return _run_inputs_at(run, chosen)
    first = tensors[0]
    if any(t.shape is None for t in tensors):
        return specs, dict(env, __witness__=1), BATCH, None
    batch = specs[0]["shape"][first.batch_dim] if first.batch_dim is not None and specs[0]["shape"] else None
    return specs, env, batch, None


def _run_inputs_at(run, env: Dict[str, int]):
    specs = []
    for i, t in enumerate(run.input_tensors):
        if t.shape is None:
            specs.append({"shape": [BATCH, *run.rank_free[i][0]], "dtype": run.rank_free[i][1]})
            continue
        shape = [_concrete(d, env) for d in t.shape]
        if any(v is None or v < 0 for v in shape):
            return None, env, None, f"input {i + 1} has no concrete size at the witness {env}"
        specs.append({"shape": shape, "dtype": "long" if t.dtype == "long" else "float"})
    first = run.input_tensors[0]
    batch = specs[0]["shape"][first.batch_dim] if first.batch_dim is not None and specs[0]["shape"] else None
    return specs, dict(env, __witness__=1), batch, None


def _class_name(run) -> str:
    return run.cls.name if run.cls is not None else run.ctor_text.split("(")[0]


def _plain(v, depth=0):
    """A constructor local the child can use (ints, strings, ... and containers of them)."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)) and depth < 3:
        return all(_plain(x, depth + 1) for x in v)
    return False


def _static_shapes(value, env) -> Optional[List[Optional[List[int]]]]:
    """The static value's tensors as concrete shapes (None for a shape that is not concrete), or None
    when the value is not made of tensors the analysis knows."""
    out: List[Optional[List[int]]] = []

    def walk(v, depth):
        if isinstance(v, Tensor):
            if v.shape is None:
                out.append(None)
            else:
                dims = [_concrete(d, env) for d in v.shape]
                out.append(None if any(d is None for d in dims) else dims)
            return True
        if isinstance(v, (list, tuple)) and depth < 5:
            return all(walk(x, depth + 1) for x in v)
        return False

    return out if walk(value, 0) and out else None


def _text_shape(s) -> str:
    return "[" + ", ".join(str(d) for d in s) + "]"
