"""What makes a summary meaningless, found before a table is printed: a construction whose
arguments do not fit the constructor, a number of inputs that does not fit ``forward``, an input
without the batch dimension the model's first layer expects, a shape error in the model, or a
forward of which nothing could be followed.  Each becomes one readable message (or the
findings, for a shape error) and a non-zero exit, never a silent table of ``?``."""
from __future__ import annotations

import re
from typing import Any, List, Optional, Sequence, Tuple

import libcst as cst

from ...core.source import ClassInfo, SourceModule, dotted
from ...core.values import Tensor
from .accounting import flat_tensors


def find_method(info: ClassInfo, name: str, src: SourceModule, depth: int = 0) -> Optional[cst.FunctionDef]:
    """``name`` defined by the class or by a base class of the same file (None: not found here)."""
    if name in info.methods:
        return info.methods[name]
    if depth > 20:
        return None
    for b in info.base_nodes:
        base = dotted(b)
        base_info = src.classes.get(base.rsplit(".", 1)[-1]) if base else None
        if base_info is not None and base_info is not info:
            found = find_method(base_info, name, src, depth + 1)
            if found is not None:
                return found
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def bind_problem(params: cst.Parameters, n_pos: int, kw_names: Sequence[str], what: str) -> Optional[str]:
    """Why Python would refuse the call (``TypeError``), as it would say it; None when it binds.
    The first parameter (``self``) is not counted."""
    positional = (list(params.posonly_params) + list(params.params))[1:]
    names = [p.name.value for p in positional]
    if n_pos > len(names) and not isinstance(params.star_arg, cst.Param):
        return f"{what} takes {_plural(len(names), 'positional argument')} but {n_pos} were given"
    kw = set(kw_names)
    missing = []
    for i, p in enumerate(positional):
        name = p.name.value
        if i < n_pos:
            if name in kw:
                return f"{what} got multiple values for argument '{name}'"
        elif name in kw:
            kw.discard(name)
        elif p.default is None:
            missing.append(name)
    for p in params.kwonly_params:
        if p.name.value in kw:
            kw.discard(p.name.value)
        elif p.default is None:
            missing.append(p.name.value)
    if missing:
        return f"{what} is missing {_plural(len(missing), 'required argument')}: {', '.join(missing)}"
    if kw and params.star_kwarg is None:
        return f"{what} got an unexpected keyword argument '{sorted(kw)[0]}'"
    return None


def constructor_problem(run: Any) -> Optional[str]:
    """The target call's arguments against the constructor of a class of the file."""
    src, call = getattr(run, "source", None), run.ctor
    if src is None or not isinstance(call, cst.Call):
        return None
    name = dotted(call.func)
    info = src.classes.get(name) if name else None
    if info is None or any(a.star for a in call.args):
        return None
    init = find_method(info, "__init__", src)
    if init is None:
        return None
    n_pos = sum(1 for a in call.args if a.keyword is None)
    kws = [a.keyword.value for a in call.args if a.keyword is not None]
    return bind_problem(init.params, n_pos, kws, f"{info.name}()")


def forward_problem(run: Any, n_given: int, named: Sequence[str] = ()) -> Optional[str]:
    """``n_given`` positional inputs (and the parameters ``named`` inputs go to) against the model's
    ``forward``."""
    src, root = getattr(run, "source", None), run.root
    if src is None or root is None or root.cls is None:
        return None
    fwd = find_method(root.cls, "forward", src)
    if fwd is None:
        return None
    p = fwd.params
    positional = (list(p.posonly_params) + list(p.params))[1:]
    covered = {n.split(".")[0] for n in named}
    positional = [q for q in positional if q.name.value not in covered]
    required = [q.name.value for q in positional if q.default is None]
    star = isinstance(p.star_arg, cst.Param)
    if required and n_given < len(required) or not star and n_given > len(positional):
        takes = ", ".join(q.name.value for q in positional) or "nothing"
        return (f"{root.cls.name}.forward takes {_plural(len(required), 'input')} ({takes}) but "
                f"{_plural(n_given, '--input-shape')} {'was' if n_given == 1 else 'were'} given: "
                f"give one --input-shape per input, in order")
    return None


# layers whose batched input is (N, C, *spatial): the ones engine._batch_dim reads
_BATCHED_RANK = {"Conv", "ConvTranspose", "MaxPool", "AvgPool", "AdaptiveAvgPool", "AdaptiveMaxPool", "LPPool",
                 "InstanceNorm", "BatchNorm"}


def _first_reader(run: Any, t: Tensor) -> Optional[Any]:
    """The first torch layer called with this very tensor (the model and user blocks pass it on)."""
    for c in sorted(run.calls, key=lambda c: c.start):
        if c.module.kind == "layer" and any(x is t for x in c.inputs):
            return c.module
    return None


def _expected(m: Optional[Any]) -> Tuple[str, Optional[int]]:
    """The batched input a layer takes, in words ('N, C, H, W') and its rank (None: any >= 2)."""
    if m is None:
        return "a batch dimension first", None
    name = m.type_name
    k = re.fullmatch(r"([A-Za-z]+?)([123])d", name)
    if k and k.group(1) in _BATCHED_RANK:
        spatial = {"1": ["L"], "2": ["H", "W"], "3": ["D", "H", "W"]}[k.group(2)]
        dims = ["N", "C", *spatial]
        return ", ".join(dims), len(dims)
    if name in ("LSTM", "GRU", "RNN"):
        bf = (m.args or {}).get("batch_first")
        return ("N, L, C" if bf is True else "L, N, C"), 3
    return "a batch dimension first", None


def batch_problems(run: Any, texts: Sequence[str]) -> List[str]:
    """Inputs given by --input-shape that the model reads without a batch dimension (an unbatched
    ``C, H, W`` image runs in torch, but neither peer tool feeds one, and every row would be
    off by one dimension)."""
    out = []
    for t, text in zip(run.input_tensors, texts):
        if not isinstance(t, Tensor) or t.shape is None or t.batch_dim is not None:
            continue
        m = _first_reader(run, t)
        want, rank = _expected(m)
        who = f"{m.type_name} '{m.name}', which reads it first," if m is not None else "the model"
        takes = f"{want} ({rank} dims)" if rank else want
        if rank is None or len(t.shape) == rank - 1:
            out.append(f"--input-shape {text} has no batch dimension: {who} takes {takes}. --input-shape is "
                       f"the whole tensor forward receives, batch included (e.g. 2,{text}; torchsummary's own "
                       f"input_size leaves the batch out)")
        else:
            out.append(f"--input-shape {text} has {_plural(len(t.shape), 'dim')}: {who} takes {takes}, batch included")
    return out


def nothing_known(run: Any) -> bool:
    """No call output and no model output has a known shape: the table would be all '?'."""
    def known(v: Any) -> bool:
        return any(isinstance(t, Tensor) and t.shape is not None for t in flat_tensors(v))
    return not known(run.output) and not any(known(c.output) for c in run.calls)
