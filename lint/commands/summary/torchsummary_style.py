"""torchsummary 1.5.1's table (``--style torchsummary``): a row for every hooked module call in
post-order (containers left out), the batch shown as -1, parameter counts by attributes named
weight and bias, memory in MiB at batch 1, float32.  See ``docs/formulas.md``."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...core import dims as D
from ...core.values import Tensor
from .accounting import MIB, Model, fmt_int, is_container, known, numel, shape_text
from .renderer import Renderer, Table, register

PEER = "torchsummary 1.5.1"


def _ts_shape(out: Any) -> Tuple[str, Any, Any, Optional[str]]:
    """(text, true per-sample numel, torchsummary's np.prod figure, crash reason) for one output."""
    if isinstance(out, Tensor):
        if out.shape is None:
            return "?", None, None, None
        s = [-1] + list(out.shape[1:]) if out.shape else [-1]
        n = numel(out.shape[1:])
        return shape_text(s), n, n, None
    if isinstance(out, (tuple, list)):
        parts: List[str] = []
        true_n: Any = 0
        prod_n: Any = 1
        crash = None
        for o in out:
            if isinstance(o, Tensor):
                if o.shape is None:
                    return "?", None, None, None
                parts.append(shape_text([-1] + list(o.shape[1:])))
                n = numel(o.shape[1:])
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


@dataclass
class _Rows:
    """The rows, and what torchsummary would have summed while printing them."""

    calls: List[Any]
    rows: List[Tuple[str, ...]] = field(default_factory=list)
    peer_total: int = 0
    peer_trainable: int = 0
    peer_out: Any = 0
    true_out: Any = 0
    crash: Optional[str] = None
    crash_at: int = 0
    unknown: bool = False  # a row's output or parameters not known
    params_unknown: bool = False  # a row's parameters not known
    called_counts: Dict[int, int] = field(default_factory=dict)


def _rows(run: Any, model: Model) -> _Rows:
    calls = [c for c in run.calls if id(c.module) in model.in_tree and c.module is not model.root
             and not is_container(c.module)]
    calls.sort(key=lambda c: c.end)
    r = _Rows(calls)
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
        if cr and not r.crash:
            r.crash = f"{m.type_name} '{m.name}': {cr}"
            r.crash_at = c.end
        if tn is None:
            r.unknown = True
        else:
            r.true_out = D.add(r.true_out, tn)
            r.peer_out = D.add(r.peer_out, pn) if pn is not None else r.peer_out
        r.called_counts[id(m)] = r.called_counts.get(id(m), 0) + 1
        if own is None or n is None:
            r.rows.append((f"{m.type_name}-{i}", text, "?"))
            r.unknown = r.params_unknown = True
            continue
        # torchsummary's Param #: prod(weight) + prod(bias), attributes with those names only, per call
        own = _seen(own)
        ts_n = sum(numel(own[k].shape) for k in ("weight", "bias") if k in own and known(own[k].shape))
        r.rows.append((f"{m.type_name}-{i}", text, f"{ts_n:,}"))
        r.peer_total += ts_n
        if "weight" in own and own["weight"].requires_grad:
            r.peer_trainable += ts_n
    # torchsummary feeds torch.rand: float indices stop the forward at the first Embedding fed an input
    for c in sorted(run.calls, key=lambda c: c.start):
        if c.module.type_name in ("Embedding", "EmbeddingBag") and c.module.kind == "layer" and c.inputs and \
                any(c.inputs[0] is t for t in run.input_tensors):
            if r.crash is None or c.start < r.crash_at:
                r.crash = (f"{c.module.type_name} '{c.module.name}': it feeds float inputs (torch.rand), and an "
                           f"Embedding takes Long indices (RuntimeError: Expected tensor for argument #1 'indices' to "
                           f"have one of the following scalar types: Long, Int; but got torch.FloatTensor instead)")
            break
    return r


def _names(names: Sequence[str]) -> str:
    return f"{'/'.join(names[:3])}{'...' if len(names) > 3 else ''}"


def _total_reasons(model: Model, r: _Rows) -> List[str]:
    """Why torchsummary's total would differ from the true one."""
    reasons = []
    seen = set()
    for c in r.calls:
        m = c.module
        if r.called_counts.get(id(m), 0) <= 1 or id(m) in seen:
            continue
        seen.add(id(m))
        n = model.count(model.own_params(m))
        if n:
            reasons.append(f"{m.type_name} '{m.name}' runs {r.called_counts[id(m)]} times and torchsummary "
                           f"counts its {n:,} parameters on every call")
    odd = []
    for m in model.tree:
        names = [k for k in _seen(model.own_params(m) or {}) if k not in ("weight", "bias")]
        if names and id(m) in r.called_counts:
            odd.append(f"{_names(names)} of '{m.name}'")
    if odd:
        reasons.append("it counts only attributes named weight and bias (so its rows too), and leaves out "
                       + ", ".join(odd[:4]) + (" and more" if len(odd) > 4 else ""))
    root_own = list(model.own_params(model.root) or {})
    if root_own and model.count(model.own_params(model.root)):
        reasons.append(f"it does not hook the model itself, so the model's own {_names(root_own)} is not counted")
    missed = [m for m in model.tree if m is not model.root and id(m) not in r.called_counts
              and not is_container(m) and model.count(model.own_params(m))]
    if missed:
        reasons.append("it only counts modules that run, and " + ", ".join(f"'{m.name}'" for m in missed[:4])
                       + (" never runs" if len(missed) == 1 else " never run"))
    return reasons


def _quote(quotes: List[str]) -> str:
    return ", ".join(quotes[:-1]) + (" and " if len(quotes) > 1 else "") + quotes[-1]


def _param_notes(model: Model, r: _Rows, total: Optional[int], trainable: Optional[int]) -> List[str]:
    if total is None or trainable is None or r.params_unknown:
        return []
    peer_non = r.peer_total - r.peer_trainable
    shown = []
    if r.peer_total != total:
        shown.append(f'"Total params: {r.peer_total:,}"')
    if r.peer_trainable != trainable:
        shown.append(f'"Trainable params: {r.peer_trainable:,}"')
    if peer_non != total - trainable:
        shown.append(f'"Non-trainable params: {peer_non:,}"')
    if not shown:
        return []
    reasons = _total_reasons(model, r) if r.peer_total != total else []
    frozen = []
    for m in model.tree:
        own = _seen(model.own_params(m) or {})
        w = own.get("weight")
        others = [p for k, p in own.items() if k != "weight"]
        if w is not None and any(p.requires_grad != w.requires_grad for p in others):
            frozen.append(f"'{m.name or m.type_name}'")
    if frozen and r.peer_trainable != trainable:
        reasons.append("it classes a whole row as trainable or not by its weight's requires_grad alone, "
                       "and " + ", ".join(frozen[:4]) + " mixes a frozen and a trainable parameter")
    why = "; ".join(reasons) or "it counts weight and bias per call only"
    return [f"{PEER} would print {_quote(shown)}: {why}."]


_MEMORY_LABELS = ("Input size (MB)", "Forward/backward pass size (MB)", "Params size (MB)",
                  "Estimated Total Size (MB)")


def _memory(run: Any, r: _Rows, total: Optional[int]) -> Tuple[List[Optional[float]], List[str]]:
    """torchsummary's memory lines (MiB, 4 bytes, batch |-1| = 1), and notes where it would differ."""
    per_input = [None if t.shape is None else numel(t.shape[1:]) for t in run.input_tensors]
    sizes_in = [p for p in per_input if isinstance(p, int)]
    concrete_in = len(sizes_in) == len(per_input)
    in_mb = sum(sizes_in) * 4 / MIB if concrete_in else None
    fb_mb = 2 * r.true_out * 4 / MIB if not r.unknown and isinstance(r.true_out, int) else None
    par_mb = None if total is None or r.params_unknown else total * 4 / MIB  # unknown outputs do not matter
    tot_mb = None if in_mb is None or fb_mb is None or par_mb is None else in_mb + fb_mb + par_mb
    mine = [in_mb, fb_mb, par_mb, tot_mb]
    sizes = " x ".join(str(p) for p in per_input)
    ranks = {len(t.shape) for t in run.input_tensors if t.shape is not None}
    if len(per_input) > 1 and len(ranks) > 1 and not r.crash:
        return mine, [f"{PEER} would print the rows, then crash before its totals: with inputs of "
                      "different ranks, np.prod(input_size) fails on numpy >= 1.24 (ValueError: setting an array "
                      "element with a sequence); with older numpy it multiplies the sizes of all the inputs "
                      f"({sizes}) in its Input size line."]
    if r.crash or in_mb is None or fb_mb is None or par_mb is None or tot_mb is None:
        return mine, []
    # what torchsummary would print, line by line: quote the lines that differ
    p_in = math.prod(sizes_in) * 4 / MIB
    p_fb = 2 * r.peer_out * 4 / MIB if isinstance(r.peer_out, int) else fb_mb
    p_par = r.peer_total * 4 / MIB
    theirs = [p_in, p_fb, p_par, p_in + p_fb + p_par]
    quotes = [f'"{label}: {t:0.2f}"' for label, m, t in zip(_MEMORY_LABELS, mine, theirs)
              if f"{m:0.2f}" != f"{t:0.2f}"]
    why = []
    if f"{in_mb:0.2f}" != f"{p_in:0.2f}":
        why.append(f"with several inputs it multiplies their sizes ({sizes}) instead of adding them")
    if f"{fb_mb:0.2f}" != f"{p_fb:0.2f}":
        why.append("for a module returning a tuple it multiplies the sizes of the outputs instead of adding them")
    if f"{par_mb:0.2f}" != f"{p_par:0.2f}":
        why.append(f"its params size follows its total of {r.peer_total:,} params")
    if not quotes:
        return mine, []
    return mine, [f"{PEER} would print {_quote(quotes)}: " + "; ".join(why) + "."]


@register
class TorchsummaryRenderer(Renderer):
    name = "torchsummary"
    convention = PEER
    training = True  # torchsummary runs the model as built: train mode, batch 2

    def file_batch(self, found: Sequence[Tuple[Any, ...]]) -> Tuple[Optional[int], Optional[str]]:
        # torchsummary feeds torch.rand(2, *input_size)
        return (2, None) if any(f[0] != 2 for f in found) else (None, None)

    def render(self, run: Any, model: Model, depth: int) -> Table:
        r = _rows(run, model)
        total, trainable = model.totals()
        notes = []
        mem, mem_notes = _memory(run, r, total)
        if r.crash:
            # it prints no table at all then: nothing else it would print to quote
            notes.append(f"{PEER} would crash on this model: {r.crash}.")
        else:
            notes += _param_notes(model, r, total, trainable)
            notes += mem_notes
        sym_names = sorted({s for t in run.input_tensors if t.shape for d in t.shape[1:] for s in D.symbols(d)})
        dep = f"? (depends on {', '.join(sym_names)})" if sym_names else "?"
        totals = [("Total params", fmt_int(total)), ("Trainable params", fmt_int(trainable)),
                  ("Non-trainable params", fmt_int(None if total is None or trainable is None else total - trainable))]
        memory = [(label, f"{x:0.2f}" if x is not None else dep) for label, x in zip(_MEMORY_LABELS, mem)]
        head = ("Layer (type)", "Output Shape", "Param #")
        lines = ["-" * 64, "{:>20}  {:>25} {:>15}".format(*head), "=" * 64]
        lines += ["{:>20}  {:>25} {:>15}".format(*row) for row in r.rows]
        lines.append("=" * 64)
        lines += [f"{k}: {v}" for k, v in totals]
        lines.append("-" * 64)
        lines += [f"{k}: {v}" for k, v in memory]
        lines.append("-" * 64)
        json_mem = {"convention": PEER, "unit": "MiB", "input_size": mem[0],
                    "forward_backward_pass_size": mem[1], "params_size": mem[2], "estimated_total_size": mem[3]}
        return Table(lines, [head] + r.rows, totals, memory, notes, json_mem)


def _seen(own: Dict[str, Any]) -> Dict[str, Any]:
    """The parameters as torchsummary's attribute reads see them: a spectral_norm layer's
    ``weight_orig`` is read through the ``weight`` attribute it computes (same shape, and
    requiring grad as the original does)."""
    if "weight_orig" in own and "weight" not in own:
        return {("weight" if k == "weight_orig" else k): v for k, v in own.items()}
    return own
