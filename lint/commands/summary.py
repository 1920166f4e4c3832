"""``shapelint summary``: torchsummary's and torchinfo's tables, computed from source.

    shapelint summary 'PATH::TARGET' [--input-shape DIMS]... [--style torchsummary|torchinfo]
                      [--depth N] [--format text|json|markdown]

TARGET is a model class name (built with its defaults), a function that returns a model
(``ResNet18``), or a call in Python syntax evaluated statically in the file's namespace
(``ResNet(BasicBlock, [2, 2, 2, 2])``, ``Generator(ngpu=1)``).

``--input-shape`` takes what you would pass to the chosen style's own tool, one per model input:
``torchsummary.summary(model, (1, 28, 28))`` takes sizes *without* the batch, so
``--style torchsummary --input-shape 1,28,28``; ``torchinfo.summary(model, input_size=(1, 1, 28, 28))``
takes them *with* the batch, so ``--style torchinfo --input-shape 1,1,28,28``.  A dim may be a
symbol (``1,H,W``).  Without ``--input-shape`` the inputs the file itself feeds the model are used
(a ``summary(...)`` call or ``model(torch.randn(...))``), else symbolic ones (``N, C, H, W``); a
symbolic table ends with the input sizes that the model's hardcoded sizes admit.

Every figure follows the peer's own conventions (see ``shared/REFERENCE.md`` section B):
torchsummary 1.5.1 (rows for every hooked module call in post-order, batch shown as -1, MiB at
batch 1, float32), torchinfo 1.8.0 (pre-order tree with depth-idx, full shapes, ``--`` and
``(recursive)``, MB = 1e6 bytes, mult-adds).  Where the peer's figure is wrong (a module used
twice counted twice, parameters not named weight/bias, a frozen weight with a trainable bias,
several inputs, ...), the line shows the true figure and a note under the table says what the
peer would have printed and why.  Parameter counts and mult-adds come from the layer table
(``LayerSpec.params``).

The JSON format (``--format json``) carries the true figures only, with these stable keys::

    {"model": str, "style": str, "input_shapes": [[dim, ...], ...], "output_shapes": [shape, ...],
     "layers": [{"name", "type", "depth", "output_shape", "params", "trainable", "mult_adds"}],
     "totals": {"params", "trainable", "non_trainable", "mult_adds"},
     "memory": {"convention", "unit", "input_size", "forward_backward_pass_size", "params_size",
                "estimated_total_size"},
     "admissible_inputs": null | {"text", "input", "symbols", "admissible": bool, "complete": bool,
                                  "components": [{"symbols": [str], "boxes": [{symbol: interval}]}]},
     "notes": [str]}

``layers`` lists every submodule that runs (containers and custom blocks included) in call
order, a module called twice appearing twice; ``name`` is the qualified name as
``model.named_modules()`` gives it; ``depth`` its depth in the module tree; ``params`` and
``trainable`` count the module's *own* parameters (not its children's); ``mult_adds`` is
torchinfo's formula for leaf modules (Linear counted over all leading dims) and 0 otherwise.
Shapes include the batch; a symbolic dim is a string; an unknown shape is null.  Memory figures
are unrounded, in the chosen style's unit, at batch 1 for torchsummary, null when symbolic.  The
torchsummary style runs the model as torchsummary does: batch 2, train mode.
``admissible_inputs`` (null unless a size other than the batch is symbolic): every component
must hold, and within a component one of its boxes; an interval is ``[lo, hi]`` (``hi`` null:
no upper bound) or ``[lo, hi, period]`` (``lo + k*period .. hi + k*period`` for k >= 0).
Unconstrained symbols (the batch) are left out.  "Admissible" means the forward runs *and keeps
the batch*: a ``view(-1, K)`` that folds the batch to fit does not count.  Two linked sizes are
searched up to 1,024 above their smallest value; three or more linked sizes are not solved.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from ..core import dims as D
from ..core.values import UNKNOWN, ModuleValue, Param, Tensor

MIB = 1024 ** 2
_ELEM_BYTES = {"float": 4, "long": 8, "int": 4, "bool": 1, "half": 2, "double": 8}


def add_arguments(p) -> None:
    p.add_argument("target", metavar="PATH::TARGET",
                   help="a model file and what to build: a class name (built with its defaults), a function "
                        "returning a model, or a call, e.g. 'models.py::ResNet(BasicBlock, [2, 2, 2, 2])'")
    p.add_argument("--input-shape", action="append", metavar="DIMS",
                   help="one model input, as the chosen style's tool takes it: without the batch for "
                        "torchsummary (1,28,28), with it for torchinfo (1,1,28,28); a dim may be a symbol "
                        "(1,H,W); repeat for several inputs. Default: the file's own inputs, else symbolic")
    p.add_argument("--style", choices=("torchsummary", "torchinfo"), default="torchsummary",
                   help="whose table to print (default torchsummary)")
    p.add_argument("--depth", type=int, default=3, metavar="N",
                   help="torchinfo style: deepest level of the tree shown (default 3, as torchinfo)")
    p.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                   help="text: the style's table (default); json: the true figures, stable keys (see the "
                        "module docs); markdown: the table for issues and READMEs")


# ------------------------------------------------------------------------------------------------
# The model, as run by the engine
# ------------------------------------------------------------------------------------------------

def _numel(shape) -> Any:
    return D.prod(shape)


def _flat_tensors(v) -> List[Any]:
    """The leaves of a (nested) output: Tensors, or None/UNKNOWN for what is not one."""
    if isinstance(v, Tensor):
        return [v]
    if isinstance(v, (tuple, list)):
        out = []
        for e in v:
            out.extend(_flat_tensors(e))
        return out
    return [v]


def _first_tensor(v):
    """torchinfo's calculate_size: a tensor, or the first element (recursively) of a list/tuple,
    or the last value of a dict."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (tuple, list)) and v:
        return _first_tensor(v[0])
    if isinstance(v, dict) and v:
        return _first_tensor(list(v.values())[-1])
    return None


def _known(shape) -> bool:
    return shape is not None and all(isinstance(d, int) for d in shape)


def _is_container(m: ModuleValue, kinds=("sequential", "modulelist")) -> bool:
    if m.kind in kinds:
        return True
    return m.kind == "user" and m.attrs.get("__container__") in kinds


class Model:
    """Parameters of the module tree, by module, from the layer table."""

    def __init__(self, run):
        self.run = run
        self.root: ModuleValue = run.root
        self._extra: Dict[Tuple[int, str], Param] = {}
        self.tree: List[ModuleValue] = []  # named_modules() order, deduplicated
        self.parent_of: Dict[int, ModuleValue] = {}
        seen = set()

        def walk(m):
            if id(m) in seen:
                return
            seen.add(id(m))
            self.tree.append(m)
            for c in m.children.values():
                self.parent_of.setdefault(id(c), m)
                walk(c)
        walk(self.root)
        self.in_tree = {id(m) for m in self.tree}

    def own_params(self, m: ModuleValue) -> Optional[Dict[str, Param]]:
        """name -> Param of the module's own parameters (None: unknown)."""
        if m.kind == "layer":
            if m.args is None or m.args.get("__params_unknown__"):
                return None
            from ..frameworks.torch.layers import Unknowable
            try:
                shapes = m.spec.params(m.args)
            except Unknowable:
                return None
            out = {}
            for n, s in shapes.items():
                p = m.params.get(n)
                if p is None:
                    p = self._extra.setdefault((id(m), n), Param(tuple(s)))
                out[n] = p
            for n, p in m.params.items():
                if n not in out and not p.buffer:
                    out[n] = p
            return out
        if m.kind == "opaque" or m.uncertain:
            return None
        return {n: p for n, p in m.params.items() if not p.buffer}

    @staticmethod
    def count(params: Optional[Dict[str, Param]], trainable_only=False) -> Optional[int]:
        if params is None:
            return None
        total = 0
        for p in params.values():
            if p.shape is None or not _known(p.shape):
                return None
            if trainable_only and not p.requires_grad:
                continue
            total += math.prod(p.shape)
        return total

    def subtree(self, m: ModuleValue) -> Optional[Dict[int, Param]]:
        """Every parameter under m (named_parameters(): deduplicated), by identity."""
        out: Dict[int, Param] = {}
        seen = set()
        stack = [m]
        while stack:
            x = stack.pop()
            if id(x) in seen:
                continue
            seen.add(id(x))
            own = self.own_params(x)
            if own is None:
                return None
            for p in own.values():
                out[id(p)] = p
            stack.extend(x.children.values())
        return out

    def totals(self) -> Tuple[Optional[int], Optional[int]]:
        ps = self.subtree(self.root)
        if ps is None:
            return None, None
        return self.count(ps), self.count(ps, trainable_only=True)


def _fmt_int(n) -> str:
    return "?" if n is None else f"{n:,}"


def _dim_text(d) -> str:
    return D.text(d)


def _shape_list_text(shape) -> str:
    return "[" + ", ".join(_dim_text(d) for d in shape) + "]"


# ------------------------------------------------------------------------------------------------
# torchsummary 1.5.1
# ------------------------------------------------------------------------------------------------

@dataclass
class Table:
    lines: List[str]
    rows: List[Tuple[str, ...]]  # for markdown: the header first
    totals: List[Tuple[str, str]]  # (label, value) lines after the rows
    memory: List[Tuple[str, str]]
    notes: List[str] = field(default_factory=list)
    json_memory: Dict[str, Any] = field(default_factory=dict)
    mult_adds: Optional[int] = None


def _ts_shape(out) -> Tuple[str, Any, Any, Optional[str]]:
    """(text, true per-sample numel, torchsummary's np.prod figure, crash reason) for one output."""
    if isinstance(out, Tensor):
        if out.shape is None:
            return "?", None, None, None
        s = [-1] + list(out.shape[1:]) if out.shape else [-1]
        n = _numel(out.shape[1:])
        return _shape_list_text(s), n, n, None
    if isinstance(out, (tuple, list)):
        parts, true_n, prod_n, crash = [], 0, 1, None
        for o in out:
            if isinstance(o, Tensor):
                if o.shape is None:
                    return "?", None, None, None
                parts.append(_shape_list_text([-1] + list(o.shape[1:])))
                n = _numel(o.shape[1:])
                true_n = D.add(true_n, n)
                prod_n = D.mul(prod_n, n)
            elif isinstance(o, (tuple, list)):
                t, n, _, _ = _ts_shape(o)
                if n is None:
                    return "?", None, None, None
                parts.append(t)
                true_n = D.add(true_n, n)
                crash = crash or "it returns a nested tuple (AttributeError: 'tuple' object has no attribute 'size')"
            elif o is None:
                parts.append("None")
                crash = crash or ("it returns None in a tuple "
                                  "(AttributeError: 'NoneType' object has no attribute 'size')")
            else:
                return "?", None, None, None
        return "[" + ", ".join(parts) + "]", true_n, prod_n, crash
    return "?", None, None, None


def torchsummary_table(run, model: Model) -> Table:
    calls = [c for c in run.calls if id(c.module) in model.in_tree and c.module is not model.root
             and not _is_container(c.module)]
    calls.sort(key=lambda c: c.end)
    rows = []
    peer_total = 0
    peer_trainable = 0
    peer_out: Any = 0
    true_out: Any = 0
    crash = None
    unknown = False
    called_counts: Dict[int, int] = {}
    for i, c in enumerate(calls, 1):
        m = c.module
        own = model.own_params(m)
        n = model.count(own)
        text, tn, pn, cr = _ts_shape(c.output)
        first = c.inputs[0] if c.inputs else None
        if not c.inputs:
            cr = cr or "it is called without a positional input (IndexError: tuple index out of range)"
        elif isinstance(first, (list, tuple)):
            cr = cr or (f"it is called with a {type(first).__name__} as its first input "
                        f"(AttributeError: '{type(first).__name__}' object has no attribute 'size')")
        if cr and not crash:
            crash = f"{m.type_name} '{m.name}': {cr}"
        if tn is None:
            unknown = True
        else:
            true_out = D.add(true_out, tn)
            peer_out = D.add(peer_out, pn) if pn is not None else peer_out
        called_counts[id(m)] = called_counts.get(id(m), 0) + 1
        if own is None or n is None:
            rows.append((f"{m.type_name}-{i}", text, "?"))
            unknown = True
            continue
        # torchsummary's Param #: prod(weight) + prod(bias), attributes with those names only, per call
        ts_n = sum(math.prod(own[k].shape) for k in ("weight", "bias") if k in own and _known(own[k].shape))
        rows.append((f"{m.type_name}-{i}", text, f"{ts_n:,}"))
        peer_total += ts_n
        if "weight" in own and own["weight"].requires_grad:
            peer_trainable += ts_n
    total, trainable = model.totals()
    notes = []
    if crash:
        notes.append(f"torchsummary 1.5.1 would crash on this model: {crash}.")
    # why the peer's totals differ
    reasons_total = []
    twice = [c.module for c in calls if called_counts.get(id(c.module), 0) > 1]
    seen = set()
    for m in twice:
        if id(m) in seen:
            continue
        seen.add(id(m))
        n = model.count(model.own_params(m))
        if n:
            reasons_total.append(f"{m.type_name} '{m.name}' runs {called_counts[id(m)]} times and torchsummary "
                                 f"counts its {n:,} parameters on every call")
    odd = []
    for m in model.tree:
        own = model.own_params(m) or {}
        names = [k for k in own if k not in ("weight", "bias")]
        if names and id(m) in called_counts:
            odd.append(f"{'/'.join(names[:3])}{'...' if len(names) > 3 else ''} of '{m.name}'")
    if odd:
        reasons_total.append("it counts only attributes named weight and bias (so its rows too), and leaves out "
                             + ", ".join(odd[:4]) + (" and more" if len(odd) > 4 else ""))
    root_own = list(model.own_params(model.root) or {})
    if root_own and model.count(model.own_params(model.root)):
        reasons_total.append(f"it does not hook the model itself, so the model's own "
                             f"{'/'.join(root_own[:3])}{'...' if len(root_own) > 3 else ''} is not counted")
    hooked = set(called_counts)
    missed = [m for m in model.tree if m is not model.root and id(m) not in hooked and not _is_container(m)
              and model.count(model.own_params(m))]
    if missed:
        reasons_total.append("it only counts modules that run, and " + ", ".join(f"'{m.name}'" for m in missed[:4])
                             + (" never runs" if len(missed) == 1 else " never run"))
    peer_non = peer_total - peer_trainable
    if total is not None and trainable is not None and not unknown:
        shown = []
        if peer_total != total:
            shown.append(f'"Total params: {peer_total:,}"')
        if peer_trainable != trainable:
            shown.append(f'"Trainable params: {peer_trainable:,}"')
        if peer_non != total - trainable:
            shown.append(f'"Non-trainable params: {peer_non:,}"')
        reasons = list(reasons_total) if peer_total != total else []
        frozen = []
        for m in model.tree:
            own = model.own_params(m) or {}
            w = own.get("weight")
            others = [p for k, p in own.items() if k != "weight"]
            if w is not None and any(p.requires_grad != w.requires_grad for p in others):
                frozen.append(f"'{m.name or m.type_name}'")
        if frozen and peer_trainable != trainable:
            reasons.append("it classes a whole row as trainable or not by its weight's requires_grad alone, "
                           "and " + ", ".join(frozen[:4]) + " mixes a frozen and a trainable parameter")
        if shown:
            why = "; ".join(reasons) or "it counts weight and bias per call only"
            notes.append("torchsummary 1.5.1 would print " + ", ".join(shown[:-1]) + (" and " if len(shown) > 1 else "")
                         + shown[-1] + f": {why}.")
    # memory, torchsummary's conventions: MiB, 4 bytes, batch |-1| = 1
    per_input = [None if t.shape is None else _numel(t.shape[1:]) for t in run.input_tensors]
    concrete_in = all(isinstance(p, int) for p in per_input)
    in_mb = sum(per_input) * 4 / MIB if concrete_in else None
    fb_mb = 2 * true_out * 4 / MIB if not unknown and isinstance(true_out, int) else None
    par_mb = None if total is None or unknown else total * 4 / MIB
    tot_mb = None if None in (in_mb, fb_mb, par_mb) else in_mb + fb_mb + par_mb
    ranks = {len(t.shape) for t in run.input_tensors if t.shape is not None}
    if len(per_input) > 1 and len(ranks) > 1 and not crash:
        notes.append("torchsummary 1.5.1 would print the rows, then crash before its totals: with inputs of "
                     "different ranks, np.prod(input_size) fails on numpy >= 1.24 (ValueError: setting an array "
                     "element with a sequence); with older numpy it multiplies the sizes of all the inputs "
                     f"({' x '.join(str(p) for p in per_input)}) in its Input size line.")
    elif not crash and None not in (in_mb, fb_mb, par_mb):
        # what torchsummary would print, line by line: quote the lines that differ
        p_in = math.prod(per_input) * 4 / MIB
        p_fb = 2 * peer_out * 4 / MIB if isinstance(peer_out, int) else fb_mb
        p_par = peer_total * 4 / MIB
        quotes, why = [], []
        for label, mine, theirs in (("Input size (MB)", in_mb, p_in), ("Forward/backward pass size (MB)", fb_mb, p_fb),
                                    ("Params size (MB)", par_mb, p_par),
                                    ("Estimated Total Size (MB)", tot_mb, p_in + p_fb + p_par)):
            if f"{mine:0.2f}" != f"{theirs:0.2f}":
                quotes.append(f'"{label}: {theirs:0.2f}"')
        if f"{in_mb:0.2f}" != f"{p_in:0.2f}":
            why.append(f"with several inputs it multiplies their sizes ({' x '.join(str(p) for p in per_input)}) "
                       f"instead of adding them")
        if f"{fb_mb:0.2f}" != f"{p_fb:0.2f}":
            why.append("for a module returning a tuple it multiplies the sizes of the outputs instead of adding them")
        if f"{par_mb:0.2f}" != f"{p_par:0.2f}":
            why.append(f"its params size follows its total of {peer_total:,} params")
        if quotes:
            notes.append("torchsummary 1.5.1 would print " + ", ".join(quotes[:-1])
                         + (" and " if len(quotes) > 1 else "")
                         + quotes[-1] + ": " + "; ".join(why) + ".")
    sym_names = sorted({s for t in run.input_tensors if t.shape for d in t.shape[1:] for s in D.symbols(d)})
    dep = f"? (depends on {', '.join(sym_names)})" if sym_names else "?"

    def mbtext(x):
        return f"{x:0.2f}" if x is not None else dep
    totals = [("Total params", _fmt_int(total)), ("Trainable params", _fmt_int(trainable)),
              ("Non-trainable params", _fmt_int(None if total is None or trainable is None else total - trainable))]
    memory = [("Input size (MB)", mbtext(in_mb)), ("Forward/backward pass size (MB)", mbtext(fb_mb)),
              ("Params size (MB)", mbtext(par_mb)), ("Estimated Total Size (MB)", mbtext(tot_mb))]
    lines = ["-" * 64, "{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"), "=" * 64]
    for r in rows:
        lines.append("{:>20}  {:>25} {:>15}".format(*r))
    lines.append("=" * 64)
    lines += [f"{k}: {v}" for k, v in totals]
    lines.append("-" * 64)
    lines += [f"{k}: {v}" for k, v in memory]
    lines.append("-" * 64)
    json_mem = {"convention": "torchsummary 1.5.1", "unit": "MiB", "input_size": in_mb,
                "forward_backward_pass_size": fb_mb, "params_size": par_mb, "estimated_total_size": tot_mb}
    return Table(lines, [("Layer (type)", "Output Shape", "Param #")] + rows, totals, memory, notes, json_mem)


# ------------------------------------------------------------------------------------------------
# torchinfo 1.8.0
# ------------------------------------------------------------------------------------------------

def _has_sublayers(m: ModuleValue) -> bool:
    if m.kind != "layer" or not m.args or m.args.get("__params_unknown__"):
        return False
    from ..frameworks.torch.layers import Unknowable
    try:
        return any("." in k for k in m.spec.params(m.args))
    except Unknowable:
        return False


class _Info:
    """torchinfo's LayerInfo, for one module call (or an inserted container)."""

    def __init__(self, var_name, module: ModuleValue, depth, parent):
        self.module = module
        self.var_name = var_name
        self.depth = depth
        self.parent = parent
        self.class_name = module.type_name
        # a torch layer with sub-layers of its own (MultiheadAttention's out_proj) is no leaf in torch
        self.is_leaf = not module.children and not _has_sublayers(module)
        self.is_recursive = False
        self.depth_index = None
        self.children: List["_Info"] = []
        self.output_size: Optional[List[Any]] = []
        self.output_bytes: Any = 0
        self.num_params: Optional[int] = 0
        self.trainable_params: Optional[int] = 0
        self.param_bytes: Optional[int] = 0
        self.macs: Any = 0
        self.true_macs: Any = 0

    def calc_params(self, model: Model):
        ps = model.subtree(self.module)
        self.num_params = model.count(ps)
        self.trainable_params = model.count(ps, trainable_only=True)
        self.param_bytes = None if self.num_params is None else 4 * self.num_params

    def calc_macs(self, model: Model):
        if self.output_size is None:
            self.macs = self.true_macs = None
            return
        out = self.output_size
        own = model.own_params(self.module)  # a leaf's named_parameters() are its own
        if own is None:
            self.macs = self.true_macs = None
            return
        for name, p in own.items():
            n = math.prod(p.shape) if _known(p.shape) else None
            if n is None:
                self.macs = self.true_macs = None
                return
            if name in ("weight", "bias"):
                if "Conv" in self.class_name:
                    v = D.mul(n, D.prod(out[:1] + out[2:]))
                    t = v
                else:
                    v = D.mul(out[0], n) if out else 0
                    t = D.mul(n, D.prod(out[:-1])) if self.class_name == "Linear" and out else v
            elif "weight" in name or "bias" in name:
                v = t = D.mul(D.prod(out[:2]), n)
            else:
                continue
            self.macs = D.add(self.macs, v)
            self.true_macs = D.add(self.true_macs, t)

    def leftover(self, attr="num_params"):
        own = getattr(self, attr)
        if own is None:
            return None
        total = 0
        for c in self.children:
            if c.is_recursive:
                continue
            v = getattr(c, attr) if c.is_leaf else c.leftover(attr)
            if v is None:
                return None
            total += v
        return own - total

    def name(self):
        n = self.class_name
        if self.depth > 0:
            n += f": {self.depth}"
            if self.depth_index is not None:
                n += f"-{self.depth_index}"
        return n

    def params_str(self, reached_max):
        if self.num_params is None:
            return "?"
        if self.num_params == 0:
            return "--"
        if self.is_recursive:
            return "(recursive)"
        if reached_max or self.is_leaf:
            s = f"{self.num_params:,}"
            return s if self.trainable_params else f"({s})"
        lo = self.leftover()
        if lo is None:
            return "?"
        return f"{lo:,}" if lo > 0 else "--"


def _torchinfo_rows(run, model: Model) -> List[_Info]:
    # the hook registration walk: a stack, children pushed reversed; the last visit wins
    hooked: Dict[int, Tuple[str, int, Any]] = {}
    stack = [(model.root.type_name, model.root, 0, None)]
    while stack:
        var, m, depth, parent = stack.pop()
        fb = _Info(var, m, depth, parent)
        fb.fallback = True
        hooked[id(m)] = (var, depth, parent, fb)
        stack += [(n, c, depth + 1, fb) for n, c in reversed(list(m.children.items()))]
        if len(stack) > 100000:
            break
    rows: List[_Info] = []
    ids = set()
    for c in sorted(run.calls, key=lambda c: c.start):
        h = hooked.get(id(c.module))
        if h is None:
            continue
        var, depth, parent, _ = h
        info = _Info(var, c.module, depth, parent)
        info.calc_params(model)
        if id(c.module) in ids:
            info.is_recursive = True
        ids.add(id(c.module))
        t = _first_tensor(c.output)
        if t is None or t.shape is None:
            info.output_size = None
            info.output_bytes = None
        else:
            info.output_size = list(t.shape)
            info.output_bytes = D.mul(_ELEM_BYTES.get(t.dtype, 4), D.prod(t.shape))
        info.calc_macs(model)
        rows.append(info)
    # add_missing_container_layers
    current: Dict[int, Any] = {}
    idx = 0
    while idx < len(rows):
        info = rows[idx]
        rel = 0
        hierarchy = {}
        p = info.parent
        while p is not None and p.depth > 0:
            hierarchy[p.depth] = p
            p = p.parent
        for d in range(1, info.depth):
            if d not in hierarchy:
                continue
            if (d not in current or current[d].module is not hierarchy[d].module) and \
                    hierarchy[d] is not rows[idx + rel - 1]:
                h = hierarchy[d]
                h.calc_params(model)
                if id(h.module) in ids:
                    h.is_recursive = True
                rows.insert(idx + rel, h)
                ids.add(id(h.module))
                current[d] = h
                rel += 1
        current[info.depth] = info
        d = info.depth + 1
        while d in current:
            current.pop(d)
            d += 1
        idx += rel + 1
    # set_children_layers
    counters: Dict[int, int] = {}
    for i, r in enumerate(rows):
        counters[r.depth] = counters.get(r.depth, 0) + 1
        r.depth_index = counters[r.depth]
        kids = []
        for q in rows[i + 1:]:
            if q.depth <= r.depth:
                break
            kids.append(q)
        r.children = kids
    return rows


def _units(num) -> str:
    if num >= 1e12:
        u, v = "T", num / 1e12
    elif num >= 1e9:
        u, v = "G", num / 1e9
    else:
        u, v = "M", num / 1e6
    if float(v).is_integer():
        return f" ({u}): {int(v):,d}"
    return f" ({u}): {v:,.2f}"


def torchinfo_table(run, model: Model, max_depth: int) -> Table:
    rows = _torchinfo_rows(run, model)
    unknown = any(r.num_params is None for r in rows)
    t_params = t_train = 0
    macs: Any = 0
    true_macs: Any = 0
    out_bytes: Any = 0
    p_bytes = 0
    for r in rows:
        if r.is_leaf:
            if r.macs is None:
                macs = None
            elif macs is not None:
                macs = D.add(macs, r.macs)
                true_macs = D.add(true_macs, r.true_macs)
            if r.num_params:
                if out_bytes is not None:
                    out_bytes = None if r.output_bytes is None else D.add(out_bytes, D.mul(2, r.output_bytes))
            if r.is_recursive:
                continue
            if r.num_params is None:
                continue
            t_params += max(r.num_params, 0)
            p_bytes += r.param_bytes
            t_train += max(r.trainable_params, 0)
        else:
            if r.is_recursive:
                continue
            lo, lt = r.leftover(), r.leftover("trainable_params")
            if lo is None or lt is None:
                unknown = True
                continue
            t_params += max(lo, 0)
            t_train += max(lt, 0)
    total, trainable = model.totals()
    notes = []
    if total is not None and not unknown and total != t_params:
        notes.append(f'torchinfo 1.8.0 would print "Total params: {t_params:,}": it sums per module, so a tensor '
                     f"shared by two modules is counted twice.")
    if trainable is not None and total is not None and not unknown and trainable != t_train and total == t_params:
        notes.append(f'torchinfo 1.8.0 would print "Trainable params: {t_train:,}".')
    # input size: nbytes + 64 (sys.getsizeof of the storage) per input tensor
    in_bytes: Any = 0
    for t in run.input_tensors:
        if t.shape is None:
            in_bytes = None
            break
        in_bytes = D.add(in_bytes, D.add(D.mul(_ELEM_BYTES.get(t.dtype, 4), D.prod(t.shape)), 64))
    true_pbytes = None if total is None else 4 * total
    if true_pbytes is not None and not unknown and true_pbytes != p_bytes:
        quotes = []
        if f"{true_pbytes / 1e6:0.2f}" != f"{p_bytes / 1e6:0.2f}":
            quotes.append(f'"Params size (MB): {p_bytes / 1e6:0.2f}"')
        if isinstance(in_bytes, int) and isinstance(out_bytes, int):
            peer_tot, true_tot = (in_bytes + out_bytes + p_bytes) / 1e6, (in_bytes + out_bytes + true_pbytes) / 1e6
            if f"{peer_tot:0.2f}" != f"{true_tot:0.2f}":
                quotes.append(f'"Estimated Total Size (MB): {peer_tot:0.2f}"')
        if quotes:
            notes.append(f"torchinfo 1.8.0 would print {' and '.join(quotes)}: it adds the bytes of leaf modules "
                         f"that run only, and misses parameters held by a parent module (or by modules that "
                         f"never run).")
    if macs is not None and true_macs is not None and isinstance(macs, int) and isinstance(true_macs, int) \
            and macs != true_macs:
        notes.append(f'torchinfo 1.8.0 would print "Total mult-adds{_units(macs)}": for Linear it multiplies by '
                     f"the batch only, not by the other leading (sequence) dims.")
    syms = sorted({s for t in run.input_tensors if t.shape for d in t.shape for s in D.symbols(d)})
    dep = f"? (depends on {', '.join(syms)})" if syms else "?"

    def mb(x):
        return f"{x / 1e6:0.2f}" if isinstance(x, int) else dep
    params_line = total if total is not None and not unknown else None
    tot_bytes = None
    if isinstance(in_bytes, int) and isinstance(out_bytes, int) and true_pbytes is not None:
        tot_bytes = in_bytes + out_bytes + true_pbytes
    known_macs = isinstance(true_macs, int) and macs is not None
    non_trainable = None if params_line is None or trainable is None else total - trainable
    totals = [("Total params", _fmt_int(params_line)),
              ("Trainable params", _fmt_int(trainable if params_line is not None else None)),
              ("Non-trainable params", _fmt_int(non_trainable)),
              ("Total mult-adds" + (_units(true_macs).split(":")[0] if known_macs else ""),
               (_units(true_macs).split(": ", 1)[1] if known_macs else dep))]
    memory = [("Input size (MB)", mb(in_bytes)), ("Forward/backward pass size (MB)", mb(out_bytes)),
              ("Params size (MB)", mb(true_pbytes)), ("Estimated Total Size (MB)", mb(tot_bytes))]
    # layout
    width = 40
    mx = 0
    for r in rows:
        mx = max(mx, len(r.name()) + r.depth * 5 + 1)
    if mx >= width:
        width = math.ceil(mx / 5) * 5
    total_width = 2 * 25 + width

    def fmt_row(name, vals):
        line = f"{name:<{width}} "
        for v in vals:
            line += f"{v:<25} "
        return line.rstrip()

    def start(depth):
        if depth == 0:
            return ""
        if depth == 1:
            return "├─"
        return "│    " * (depth - 1) + "└─"
    lines = ["=" * total_width, fmt_row("Layer (type:depth-idx)", ["Output Shape", "Param #"]), "=" * total_width]
    table_rows = [("Layer (type:depth-idx)", "Output Shape", "Param #")]
    for r in rows:
        if r.depth > max_depth:
            continue
        if r.output_size is None:
            shape = "?"
        elif r.output_size:
            shape = "[" + ", ".join(_dim_text(d) for d in r.output_size) + "]"
        else:
            shape = "--"
        ps = r.params_str(r.depth == max_depth)
        lines.append(fmt_row(start(r.depth) + r.name(), [shape, ps]))
        table_rows.append((("&nbsp;" * 4 * r.depth) + r.name(), shape, ps))
    lines.append("=" * total_width)
    lines += [f"{k}: {v}" for k, v in totals]
    lines.append("=" * total_width)
    lines += [f"{k}: {v}" for k, v in memory]
    lines.append("=" * total_width)
    json_mem = {"convention": "torchinfo 1.8.0", "unit": "MB",
                "input_size": in_bytes / 1e6 if isinstance(in_bytes, int) else None,
                "forward_backward_pass_size": out_bytes / 1e6 if isinstance(out_bytes, int) else None,
                "params_size": true_pbytes / 1e6 if true_pbytes is not None else None,
                "estimated_total_size": tot_bytes / 1e6 if tot_bytes is not None else None}
    tab = Table(lines, table_rows, totals, memory, notes, json_mem)
    tab.mult_adds = true_macs if isinstance(true_macs, int) and macs is not None else None
    return tab


# ------------------------------------------------------------------------------------------------
# Which input sizes the model admits
# ------------------------------------------------------------------------------------------------

_SEARCH = 1024  # sizes tried per dimension beyond the smallest, when two sizes are linked


def _constraints(run):
    syms = []
    for t in run.input_tensors:
        for d in (t.shape or ()):
            for s in sorted(D.symbols(d)):
                if s not in syms:
                    syms.append(s)
    ge, eq = {}, {}

    def add_ge(d):
        if isinstance(d, D.Lin) and not d.is_opaque():
            ge.setdefault(d.text(), d)

    def tensors(v):
        return [t for t in _flat_tensors(v) if isinstance(t, Tensor) and t.shape is not None]
    for t in run.input_tensors:
        for d in t.shape or ():
            add_ge(d)
    for c in run.calls:
        for v in list(c.inputs) + [c.output]:
            for t in tensors(v):
                for d in t.shape:
                    add_ge(d)
    for f in run.facts:
        if f.kind == "assume":
            a, b = f.data.get("a"), f.data.get("b")
            if D.is_dim(a) and D.is_dim(b):
                if any(isinstance(x, D.Lin) and x.is_opaque() for x in (a, b)):
                    continue
                eq.setdefault((D.text(a), D.text(b)), (a, b))
    return syms, list(ge.values()), list(eq.values())


def _intervals(values) -> List[List[int]]:
    out = []
    for v in values:
        if out and out[-1][1] == v - 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return out


def _monotone(x) -> bool:
    return isinstance(x, int) or x.monotone()


def _solve_last(sym, env, ge, eq, lo=1):
    """The values of ``sym`` (others fixed by env) meeting every constraint: [[lo, hi|None], ...]."""
    hi = None
    scan_ge, scan_eq = [], []
    for d in ge:
        if not _monotone(d):
            scan_ge.append(d)
            continue
        v = D.first_at_least(lambda x: D.evaluate(d, {**env, sym: x}), 1, lo)
        if v is None:
            return []
        lo = max(lo, v)
    for a, b in eq:
        if isinstance(b, int) and _monotone(a) or isinstance(a, int) and _monotone(b):
            f, k = (a, b) if isinstance(b, int) else (b, a)
            g = (lambda x, f=f: D.evaluate(f, {**env, sym: x}))
            v1 = D.first_at_least(g, k, lo)
            if v1 is None or g(v1) != k:
                return []
            v2 = D.first_at_least(g, k + 1, v1)
            top = None if v2 is None else v2 - 1
            lo = max(lo, v1)
            hi = top if hi is None else (min(hi, top) if top is not None else hi)
            if hi is not None and hi < lo:
                return []
        else:
            scan_eq.append((a, b))
    if not scan_ge and not scan_eq:
        return [[lo, hi]]
    end = hi if hi is not None else lo + 4 * _SEARCH
    vals = []
    for x in range(lo, end + 1):
        e = {**env, sym: x}
        if all(D.evaluate(d, e) >= 1 for d in scan_ge) and \
                all(D.evaluate(a, e) == D.evaluate(b, e) for a, b in scan_eq):
            vals.append(x)
    out = _intervals(vals)
    if hi is None and out and out[-1][1] == end:
        full = out[:-1]
        if len(full) >= 3:
            # periodic (a size must be a multiple of 8, say): [lo, hi, period] stands for lo..hi + period*k
            w = {b - a for a, b in full}
            p = {full[i + 1][0] - full[i][0] for i in range(len(full) - 1)}
            if len(w) == 1 and len(p) == 1:
                a, b = full[0]
                return [[a, b, p.pop()]]
        out[-1][1] = None
    return out


def admissible(run) -> Optional[Dict[str, Any]]:
    syms, ge, eq = _constraints(run)
    if not syms:
        return None
    bad = [f for f in run.facts if f.kind == "violation"]
    if bad:
        shapes = " and ".join(_shape_list_text(t.shape) for t in run.input_tensors if t.shape is not None)
        return {"text": f"none: the model fails for every input {shapes} ({bad[0].data.get('kind')} error; "
                        f"see `shapelint check`)", "symbols": syms, "admissible": False, "complete": True,
                "components": [],
                "input": shapes}
    # components of symbols linked by a constraint
    parent = {s: s for s in syms}

    def find(s):
        while parent[s] != s:
            s = parent[s]
        return s
    cons_syms = []
    for d in ge:
        cons_syms.append(("ge", d, D.symbols(d)))
    for a, b in eq:
        cons_syms.append(("eq", (a, b), D.symbols(a) | D.symbols(b)))
    for kind, c, ss in cons_syms:
        ss = [s for s in ss if s in parent]
        for s in ss[1:]:
            parent[find(s)] = find(ss[0])
    comps: Dict[str, List[str]] = {}
    for s in syms:
        comps.setdefault(find(s), []).append(s)
    regions_by_comp = []
    incomplete = []
    for comp in comps.values():
        cs = set(comp)
        cge = [d for k, d, ss in cons_syms if k == "ge" and ss and ss <= cs]
        ceq = [d for k, d, ss in cons_syms if k == "eq" and ss and ss <= cs]
        if len(comp) == 1:
            ivs = _solve_last(comp[0], {}, cge, ceq)
            regions_by_comp.append((comp, [{comp[0]: iv} for iv in ivs]))
        elif len(comp) == 2:
            s1, s2 = comp
            ge1 = [d for d in cge if D.symbols(d) == {s1}]
            eq1 = [c for c in ceq if (D.symbols(c[0]) | D.symbols(c[1])) == {s1}]
            rest_ge = [d for d in cge if d not in ge1]
            rest_eq = [c for c in ceq if c not in eq1]
            first = _solve_last(s1, {}, ge1, eq1)
            # f(s1, s2) == K with f non-decreasing in both: once f(v, w*) > K, with w* the least s2 for
            # which f can be positive at all, no larger v has a solution
            stops = []
            for a, b in rest_eq:
                f, k = (a, b) if isinstance(b, int) else (b, a)
                if isinstance(k, int) and k >= 1 and not isinstance(f, int) and _monotone(f):
                    w = D.first_at_least(lambda x, f=f: D.evaluate(f, {s1: D.BOUND, s2: x}), 1, 1)
                    if w is not None:
                        stops.append((f, k, w))
            results = []
            for iv in first:
                lo1, hi1 = iv[0], iv[1]
                if len(iv) == 3:  # periodic: not searched in two dimensions
                    incomplete.append(comp)
                    break
                end = hi1 if hi1 is not None else lo1 + _SEARCH - 1
                for v in range(lo1, end + 1):
                    if any(D.evaluate(f, {s1: v, s2: w}) > k for f, k, w in stops):
                        break
                    ivs = _solve_last(s2, {s1: v}, rest_ge, rest_eq)
                    results.append((v, ivs, hi1 is None and v == end))
            if comp in incomplete:
                continue
            regions = []
            i = 0
            while i < len(results):
                v, ivs, _ = results[i]
                j = i
                while j + 1 < len(results) and results[j + 1][1] == ivs and results[j + 1][0] == results[j][0] + 1:
                    j += 1
                open_end = results[j][2]
                for iv in ivs:
                    regions.append({s1: [v, None if open_end else results[j][0]], s2: iv})
                i = j + 1
            regions_by_comp.append((comp, regions))
        else:
            incomplete.append(comp)
    return _admissible_text(run, syms, regions_by_comp, incomplete)


def _iv_text(iv) -> str:
    if len(iv) == 3:
        lo, hi, p = iv
        if lo == hi and lo % p == 0:
            return f"a multiple of {p}" + ("" if lo == p else f" (>= {lo})")
        return f"= {lo} + {p}k (k >= 0)" if lo == hi else f"in {lo}..{hi} + {p}k (k >= 0)"
    lo, hi = iv
    if hi is None:
        return f">= {lo}"
    if lo == hi:
        return f"= {lo}"
    return f"in {lo}..{hi}"


def _iv_short(iv) -> str:
    if len(iv) == 3:
        return f"({_iv_text(iv)})"
    lo, hi = iv
    if hi is None:
        return f"{lo}.."
    return str(lo) if lo == hi else f"{lo}..{hi}"


def _admissible_text(run, syms, regions_by_comp, incomplete) -> Dict[str, Any]:
    mains, alsos = [], []
    empty = False
    out_regions = []
    singles: Dict[str, List[str]] = {}  # the same admissible sizes for several symbols: "H, W in ..."
    for comp, regions in regions_by_comp:
        if not regions:
            empty = True
            continue
        if len(comp) == 1:
            s = comp[0]
            ivs = [r[s] for r in regions]
            if ivs == [[1, None]]:
                continue  # unconstrained (the batch, say)
            out_regions.append({"symbols": [s], "boxes": [{s: iv} for iv in ivs]})
            if len(ivs) == 1:
                what = _iv_text(ivs[0])
            else:
                what = "in " + ", ".join(_iv_short(iv) for iv in ivs)
            if what not in singles:
                singles[what] = []
                mains.append(what)
            singles[what].append(s)
            continue
        s1, s2 = comp
        out_regions.append({"symbols": [s1, s2], "boxes": [{s1: r[s1], s2: r[s2]} for r in regions]})
        square = [r for r in regions if r[s1] == r[s2]]
        other = [r for r in regions if r[s1] != r[s2]]
        if square:
            mains.append(" or ".join(f"{s1}, {s2} {_iv_text(r[s1])}" for r in square))
        else:
            r, other = other[0], other[1:]
            mains.append(f"{s1} {_iv_text(r[s1])} and {s2} {_iv_text(r[s2])}")
        if other:
            listed = ", ".join(f"{_iv_short(r[s1])} x {_iv_short(r[s2])}" for r in other[:6])
            more = f" and {len(other) - 6} more" if len(other) > 6 else ""
            alsos.append(f"({s1}, {s2}) in {listed}{more}")
    mains = [f"{', '.join(singles[m])} {m}" if m in singles else m for m in mains]
    fixed = ""
    ins = [t for t in run.input_tensors if t.shape is not None]
    if len(ins) == 1 and len(ins[0].shape) >= 3 and isinstance(ins[0].shape[1], int):
        c = ins[0].shape[1]
        fixed = f" with {c} channel{'s' if c != 1 else ''}"
    shapes = " and ".join(_shape_list_text(t.shape) for t in ins)
    if empty:
        text = (f"none: no input size fits the model's hardcoded sizes (input {shapes}, "
                f"sizes searched up to {_SEARCH})")
    elif not mains and not incomplete:
        text = f"accepts any size{fixed}"
    else:
        text = "accepts " + " and ".join(mains) + fixed if mains else ""
        if alsos:
            text += "; also " + "; ".join(alsos)
        if incomplete:
            text += ("; " if text else "") + "not computed for " + ", ".join(
                ", ".join(c) for c in incomplete) + " (more than two linked sizes)"
    partial = any(t is UNKNOWN or (isinstance(t, Tensor) and t.shape is None)
                  for c in run.calls for t in _flat_tensors(c.output))
    if partial and not empty:
        text += " (not every shape could be followed: some of these sizes may still fail)"
    return {"text": text, "input": shapes, "symbols": syms, "admissible": not empty, "components": out_regions,
            "complete": not partial and not incomplete}


def _merge_branches(calls) -> Tuple[list, bool]:
    """An undecidable ``if`` runs both branches (speculatively): a module called with the same input
    shapes under the same parent on both is one call in torch; keep the first, and its subtree."""
    calls = sorted(calls, key=lambda c: c.start)
    keep, seen, stack = [], set(), []
    drop_until = -1
    any_spec = False
    for c in calls:
        if c.start < drop_until:
            continue
        while stack and not (stack[-1].start < c.start < stack[-1].end):
            stack.pop()
        if getattr(c, "speculative", False):
            any_spec = True
            shapes = tuple(str(_json_shape(a)) for a in c.inputs)
            key = (stack[-1].start if stack else -1, id(c.module), shapes)
            if key in seen:
                drop_until = c.end
                continue
            seen.add(key)
        keep.append(c)
        stack.append(c)
    return keep, any_spec


# ------------------------------------------------------------------------------------------------
# The command
# ------------------------------------------------------------------------------------------------

def _json_shape(v):
    if isinstance(v, Tensor):
        return None if v.shape is None else [d if isinstance(d, int) else D.text(d) for d in v.shape]
    if isinstance(v, (tuple, list)):
        return [_json_shape(e) for e in v]
    return None


def _layers_json(run, model: Model) -> List[Dict[str, Any]]:
    out = []
    for c in sorted(run.calls, key=lambda c: c.start):
        m = c.module
        if m is model.root or id(m) not in model.in_tree:
            continue
        own = model.own_params(m)
        info = _Info(m.name, m, m.name.count(".") + 1, None)
        t = _first_tensor(c.output)
        info.output_size = list(t.shape) if t is not None and t.shape is not None else None
        macs = 0
        if info.is_leaf:
            info.calc_macs(model)
            macs = info.true_macs
            macs = macs if isinstance(macs, int) or macs is None else D.text(macs)
        out.append({"name": m.name, "type": m.type_name, "depth": m.name.count(".") + 1,
                    "output_shape": _json_shape(c.output), "params": model.count(own),
                    "trainable": model.count(own, trainable_only=True), "mult_adds": macs})
    return out


def _markdown(table: Table, title: str, notes, adm) -> str:
    out = [f"**{title}**", ""]
    head, rows = table.rows[0], table.rows[1:]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|")
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    out.append("")
    for k, v in table.totals + table.memory:
        out.append(f"- {k}: {v}")
    for n in notes:
        out.append(f"\n> Note: {n}")
    if adm:
        out.append(f"\nAdmissible inputs: {adm['text']}")
    return "\n".join(out)


def run(args) -> int:
    import libcst as cst

    from ..cli import CliError
    from ..engine import run_target
    from ..options import ShapelintInputError, parse_dims

    spec = args.target
    if "::" not in spec:
        raise CliError(f"shapelint: summary target {spec!r} must be PATH::TARGET, e.g. models.py::Net")
    path, target = spec.split("::", 1)
    if not target.strip():
        raise CliError(f"shapelint: summary target {spec!r} names no class after '::'")
    if args.depth is not None and args.depth < 0:
        raise CliError("shapelint: --depth must be >= 0")
    try:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"shapelint: {path}: cannot read: {e}")
    inputs = None
    try:
        if args.input_shape:
            inputs = []
            for text in args.input_shape:
                dims_ = parse_dims(text)
                # torchsummary feeds torch.rand(2, *input_size): batch 2, shown as -1
                inputs.append((2,) + tuple(dims_) if args.style == "torchsummary" else tuple(dims_))
    except ShapelintInputError as e:
        raise CliError(f"shapelint: {e}")
    try:
        # torchsummary runs the model as built (train mode); torchinfo in eval mode
        r = run_target(code, path, target.strip(), inputs, training=args.style == "torchsummary")
    except ShapelintInputError as e:
        msg = str(e)
        raise CliError(f"shapelint: {msg}" if msg.startswith(path) else f"shapelint: {path}: {msg}")
    except cst.ParserSyntaxError as e:
        raise CliError(f"shapelint: {path}:{e.raw_line}:{e.raw_column + 1}: syntax error: {e.message}")
    notes = []
    if r.error:
        raise CliError(f"shapelint: {path}: could not analyse {target}: {r.error}")
    if r.root is None:
        raise CliError(f"shapelint: {path}: could not build {target} statically (an argument or a layer is unknown)")
    if not r.input_tensors or all(t.shape is None for t in r.input_tensors):
        raise CliError(f"shapelint: {path}: cannot tell the input of {target}: pass --input-shape")
    if inputs is None:
        # the file's own (or symbolic) inputs, with the batch the style's tool would use
        found = []
        for t in r.input_tensors:
            if t.shape is None or not t.shape:
                found = None
                break
            dims_ = [d if isinstance(d, int) else D.text(d) for d in t.shape]
            if not all(isinstance(d, int) or d.isidentifier() for d in dims_):
                found = None
                break
            found.append(tuple(dims_))
        batch = None
        if found and args.style == "torchsummary" and any(f[0] != 2 for f in found):
            batch = 2
        elif found and args.style == "torchinfo" and all(f[0] == "N" for f in found) and \
                all(isinstance(d, int) for f in found for d in f[1:]):
            batch = 1  # the file's torchsummary call gives no batch; torchinfo's convention needs one
            notes.append("input from the file's torchsummary call, with batch 1")
        if batch is not None:
            r = run_target(code, path, target.strip(), [(batch,) + f[1:] for f in found],
                           training=args.style == "torchsummary")
    for f in r.facts:
        if f.kind == "violation":
            notes.append(f"shapelint check reports a shape error in this model ({f.data.get('kind')}); "
                         f"run `shapelint check {path}`")
            break
    r.calls, branched = _merge_branches(r.calls)
    if branched:
        notes.append("the forward takes a branch shapelint cannot decide (an `if` on requires_grad or on "
                     "data, say): the calls of both branches are listed, each module call once")
    model = Model(r)
    opaque = sorted({m.type_name for m in model.tree if m.kind == "opaque"})
    if opaque:
        notes.append(f"shapelint does not model {', '.join(opaque)}: shapes and counts that depend on "
                     f"{'it' if len(opaque) == 1 else 'them'} show as ?")
    if args.style == "torchsummary":
        table = torchsummary_table(r, model)
        info_tab = None
    else:
        table = torchinfo_table(r, model, args.depth)
        info_tab = table
    # the admissible sizes, when a size other than the batch is symbolic
    adm = admissible(r) if any(not isinstance(d, int) for t in r.input_tensors for d in (t.shape or ())[1:]) \
        else None
    all_notes = table.notes + notes
    if args.format == "json":
        if info_tab is None:
            info_tab = torchinfo_table(r, model, args.depth)
        total, trainable = model.totals()
        outs = r.output if isinstance(r.output, (tuple, list)) else [r.output]
        doc = {
            "model": target.strip(), "style": args.style,
            "input_shapes": [_json_shape(t) for t in r.input_tensors],
            "output_shapes": [_json_shape(o) for o in outs],
            "layers": _layers_json(r, model),
            "totals": {"params": total, "trainable": trainable,
                       "non_trainable": None if total is None or trainable is None else total - trainable,
                       "mult_adds": info_tab.mult_adds},
            "memory": table.json_memory,
            "admissible_inputs": adm,
            "notes": [n for n in all_notes if not n.startswith(("torchsummary", "torchinfo", "and \""))],
        }
        print(json.dumps(doc, indent=2))
        return 0
    if args.format == "markdown":
        title = f"{os.path.basename(path)}::{target.strip()} ({args.style} style, computed by shapelint)"
        print(_markdown(table, title, all_notes, adm))
        return 0
    print("\n".join(table.lines))
    for n in all_notes:
        print(f"Note: {n}")
    if adm is not None:
        print(f"Admissible inputs: {adm['text']}")
    return 0
