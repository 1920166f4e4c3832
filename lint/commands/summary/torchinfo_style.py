"""torchinfo 1.8.0's table (``--style torchinfo``): the module tree in pre-order with
``depth-idx``, full shapes, ``--`` and ``(recursive)``, leaf layers with parameters counted,
MB = 10^6 bytes, mult-adds.  See ``docs/formulas.md``."""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...core import dims as D
from ...core.values import ModuleValue
from .accounting import ELEM_BYTES, Model, first_tensor, fmt_int, has_sublayers, known, numel
from .renderer import Renderer, Table, register

PEER = "torchinfo 1.8.0"


class LayerInfo:
    """torchinfo's LayerInfo, for one module call (or an inserted container)."""

    def __init__(self, var_name: str, module: ModuleValue, depth: int, parent: Optional["LayerInfo"]) -> None:
        self.module = module
        self.var_name = var_name
        self.depth = depth
        self.parent = parent
        self.class_name = module.type_name
        # a torch layer with sub-layers of its own (MultiheadAttention's out_proj) is no leaf in torch
        self.is_leaf = not module.children and not has_sublayers(module)
        self.is_recursive = False
        self.depth_index: Optional[int] = None
        self.children: List["LayerInfo"] = []
        self.output_size: Optional[List[Any]] = []
        self.output_bytes: Any = 0
        self.num_params: Optional[int] = 0
        self.trainable_params: Optional[int] = 0
        self.param_bytes: Optional[int] = 0
        self.macs: Any = 0
        self.true_macs: Any = 0
        self.orig_quirk = False  # a spectral_norm's weight_orig counted as torchinfo counts it

    def calc_params(self, model: Model) -> None:
        ps = model.subtree(self.module)
        self.num_params = model.count(ps)
        self.trainable_params = model.count(ps, trainable_only=True)
        self.param_bytes = None if self.num_params is None else 4 * self.num_params

    def calc_macs(self, model: Model) -> None:
        """torchinfo's mult-adds (``macs``) and the true figure (``true_macs``: Linear counted over
        every leading dim, not the batch only)."""
        if self.output_size is None:
            self.macs = self.true_macs = None
            return
        out = self.output_size
        own = model.own_params(self.module)  # a leaf's named_parameters() are its own
        if own is None:
            self.macs = self.true_macs = None
            return
        for name, p in own.items():
            n = numel(p.shape) if known(p.shape) else None
            if n is None:
                self.macs = self.true_macs = None
                return
            if name in ("weight", "bias", "weight_orig"):
                if "Conv" in self.class_name:
                    v = D.mul(n, D.prod(out[:1] + out[2:]))
                    t = v
                else:
                    v = D.mul(out[0], n) if out else 0
                    t = D.mul(n, D.prod(out[:-1])) if self.class_name == "Linear" and out else v
                if name == "weight_orig":
                    # spectral_norm's weight: torchinfo takes it for an RNN's inner weight
                    v = D.mul(D.prod(out[:2]), n)
                    self.orig_quirk = self.orig_quirk or v != t
            elif "weight" in name or "bias" in name:
                v = t = D.mul(D.prod(out[:2]), n)
            else:
                continue
            self.macs = D.add(self.macs, v)
            self.true_macs = D.add(self.true_macs, t)

    def leftover(self, attr: str = "num_params") -> Optional[int]:
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

    def name(self) -> str:
        n = self.class_name
        if self.depth > 0:
            n += f": {self.depth}"
            if self.depth_index is not None:
                n += f"-{self.depth_index}"
        return n

    def params_str(self, reached_max: bool) -> str:
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


def _hooked(model: Model) -> Dict[int, Tuple[str, int, Optional[LayerInfo]]]:
    """The hook registration walk: a stack, children pushed reversed; the last visit wins."""
    hooked: Dict[int, Tuple[str, int, Optional[LayerInfo]]] = {}
    stack: List[Tuple[str, ModuleValue, int, Optional[LayerInfo]]] = [(model.root.type_name, model.root, 0, None)]
    while stack:
        var, m, depth, parent = stack.pop()
        fb = LayerInfo(var, m, depth, parent)
        hooked[id(m)] = (var, depth, parent)
        stack += [(n, c, depth + 1, fb) for n, c in reversed(list(m.children.items()))]
        if len(stack) > 100000:
            break
    return hooked


def _add_missing_containers(rows: List[LayerInfo], ids: set, model: Model) -> None:
    """torchinfo's add_missing_container_layers: a parent that never ran is inserted before its
    first child that did."""
    current: Dict[int, LayerInfo] = {}
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


def layer_rows(run: Any, model: Model) -> List[LayerInfo]:
    """torchinfo's summary_list: one LayerInfo per hooked call in call order, containers added,
    depth indices and children set."""
    hooked = _hooked(model)
    rows: List[LayerInfo] = []
    ids: set = set()
    for c in sorted(run.calls, key=lambda c: c.start):
        h = hooked.get(id(c.module))
        if h is None:
            continue
        var, depth, parent = h
        info = LayerInfo(var, c.module, depth, parent)
        info.calc_params(model)
        if id(c.module) in ids:
            info.is_recursive = True
        ids.add(id(c.module))
        t = first_tensor(c.output)
        if t is None or t.shape is None:
            info.output_size = None
            info.output_bytes = None
        else:
            info.output_size = list(t.shape)
            info.output_bytes = D.mul(ELEM_BYTES.get(t.dtype, 4), D.prod(t.shape))
        info.calc_macs(model)
        rows.append(info)
    _add_missing_containers(rows, ids, model)
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


def units(num: float) -> str:
    if num >= 1e12:
        u, v = "T", num / 1e12
    elif num >= 1e9:
        u, v = "G", num / 1e9
    else:
        u, v = "M", num / 1e6
    if float(v).is_integer():
        return f" ({u}): {int(v):,d}"
    return f" ({u}): {v:,.2f}"


class _Sums:
    """What torchinfo sums over its rows: its own totals, which may differ from the true ones."""

    def __init__(self, rows: List[LayerInfo]) -> None:
        self.unknown = any(r.num_params is None for r in rows)
        self.params = self.trainable = self.param_bytes = 0
        self.macs: Any = 0
        self.true_macs: Any = 0
        self.out_bytes: Any = 0
        self.orig_quirk = any(r.orig_quirk for r in rows if r.is_leaf)
        self.linear_quirk = any(r.class_name == "Linear" and r.macs != r.true_macs for r in rows if r.is_leaf)
        for r in rows:
            if r.is_leaf:
                self._leaf(r)
            elif not r.is_recursive:
                lo, lt = r.leftover(), r.leftover("trainable_params")
                if lo is None or lt is None:
                    self.unknown = True
                    continue
                self.params += max(lo, 0)
                self.trainable += max(lt, 0)

    def _leaf(self, r: LayerInfo) -> None:
        if r.macs is None:
            self.macs = None
        elif self.macs is not None:
            self.macs = D.add(self.macs, r.macs)
            self.true_macs = D.add(self.true_macs, r.true_macs)
        if r.num_params and self.out_bytes is not None:
            self.out_bytes = None if r.output_bytes is None else D.add(self.out_bytes, D.mul(2, r.output_bytes))
        if r.is_recursive or r.num_params is None:
            return
        self.params += max(r.num_params, 0)
        self.param_bytes += r.param_bytes or 0
        self.trainable += max(r.trainable_params or 0, 0)


def _input_bytes(run: Any) -> Any:
    """torchinfo's input size: nbytes + 64 (sys.getsizeof of the storage) per input tensor."""
    in_bytes: Any = 0
    for t in run.input_tensors:
        if t.shape is None:
            return None
        in_bytes = D.add(in_bytes, D.add(D.mul(ELEM_BYTES.get(t.dtype, 4), D.prod(t.shape)), 64))
    return in_bytes


def _notes(s: _Sums, total: Optional[int], trainable: Optional[int], in_bytes: Any) -> List[str]:
    notes = []
    if total is not None and not s.unknown and total != s.params:
        also = ""
        if trainable is not None and trainable != s.trainable:
            also = f' and "Trainable params: {s.trainable:,}"'
        notes.append(f'{PEER} would print "Total params: {s.params:,}"{also}: it sums per module, so a tensor '
                     f"shared by two modules (a weight tied between the embedding and the output head) is "
                     f"counted twice.")
    if trainable is not None and total is not None and not s.unknown and trainable != s.trainable \
            and total == s.params:
        notes.append(f'{PEER} would print "Trainable params: {s.trainable:,}".')
    true_pbytes = None if total is None else 4 * total
    if true_pbytes is not None and not s.unknown and true_pbytes != s.param_bytes:
        quotes = []
        if f"{true_pbytes / 1e6:0.2f}" != f"{s.param_bytes / 1e6:0.2f}":
            quotes.append(f'"Params size (MB): {s.param_bytes / 1e6:0.2f}"')
        if isinstance(in_bytes, int) and isinstance(s.out_bytes, int):
            peer_tot = (in_bytes + s.out_bytes + s.param_bytes) / 1e6
            true_tot = (in_bytes + s.out_bytes + true_pbytes) / 1e6
            if f"{peer_tot:0.2f}" != f"{true_tot:0.2f}":
                quotes.append(f'"Estimated Total Size (MB): {peer_tot:0.2f}"')
        if quotes:
            notes.append(f"{PEER} would print {' and '.join(quotes)}: it adds the bytes of leaf modules "
                         f"that run only, and misses parameters held by a parent module (or by modules that "
                         f"never run).")
    if isinstance(s.macs, int) and isinstance(s.true_macs, int) and s.macs != s.true_macs:
        why = []
        if s.linear_quirk:
            why.append("for Linear it multiplies by the batch only, not by the other leading (sequence) dims")
        if s.orig_quirk:
            why.append("a spectral_norm layer's weight_orig it counts as an RNN's inner weight (batch x "
                       "channels of the output times its size)")
        notes.append(f'{PEER} would print "Total mult-adds{units(s.macs)}": ' + "; ".join(why) + ".")
    return notes


def _tree_prefix(depth: int) -> str:
    if depth == 0:
        return ""
    if depth == 1:
        return "├─"
    return "│    " * (depth - 1) + "└─"


def _layout(rows: List[LayerInfo], max_depth: int, totals: List[Tuple[str, str]],
            memory: List[Tuple[str, str]]) -> Tuple[List[str], List[Tuple[str, ...]]]:
    width = 40
    mx = 0
    for r in rows:
        mx = max(mx, len(r.name()) + r.depth * 5 + 1)
    if mx >= width:
        width = math.ceil(mx / 5) * 5
    total_width = 2 * 25 + width

    def fmt_row(name: str, vals: Sequence[str]) -> str:
        line = f"{name:<{width}} "
        for v in vals:
            line += f"{v:<25} "
        return line.rstrip()
    lines = ["=" * total_width, fmt_row("Layer (type:depth-idx)", ["Output Shape", "Param #"]), "=" * total_width]
    table_rows: List[Tuple[str, ...]] = [("Layer (type:depth-idx)", "Output Shape", "Param #")]
    for r in rows:
        if r.depth > max_depth:
            continue
        if r.output_size is None:
            shape = "?"
        elif r.output_size:
            shape = "[" + ", ".join(D.text(d) for d in r.output_size) + "]"
        else:
            shape = "--"
        ps = r.params_str(r.depth == max_depth)
        lines.append(fmt_row(_tree_prefix(r.depth) + r.name(), [shape, ps]))
        table_rows.append((("&nbsp;" * 4 * r.depth) + r.name(), shape, ps))
    lines.append("=" * total_width)
    lines += [f"{k}: {v}" for k, v in totals]
    lines.append("=" * total_width)
    lines += [f"{k}: {v}" for k, v in memory]
    lines.append("=" * total_width)
    return lines, table_rows


@register
class TorchinfoRenderer(Renderer):
    name = "torchinfo"
    convention = PEER
    training = False

    def file_batch(self, found: Sequence[Tuple[Any, ...]]) -> Tuple[Optional[int], Optional[str]]:
        if all(f[0] == "N" for f in found) and all(isinstance(d, int) for f in found for d in f[1:]):
            # the file's torchsummary call gives no batch; torchinfo's convention needs one
            return 1, "input from the file's torchsummary call, with batch 1"
        return None, None

    def render(self, run: Any, model: Model, depth: int) -> Table:
        rows = layer_rows(run, model)
        s = _Sums(rows)
        total, trainable = model.totals()
        in_bytes = _input_bytes(run)
        notes = _notes(s, total, trainable, in_bytes)
        syms = sorted({x for t in run.input_tensors if t.shape for d in t.shape for x in D.symbols(d)})
        dep = f"? (depends on {', '.join(syms)})" if syms else "?"

        def mb(x: Any) -> str:
            return f"{x / 1e6:0.2f}" if isinstance(x, int) else dep
        params_line = total if total is not None and not s.unknown else None
        true_pbytes = None if total is None else 4 * total
        tot_bytes = None
        if isinstance(in_bytes, int) and isinstance(s.out_bytes, int) and true_pbytes is not None:
            tot_bytes = in_bytes + s.out_bytes + true_pbytes
        known_macs = isinstance(s.true_macs, int) and s.macs is not None
        non_trainable = None if params_line is None or trainable is None or total is None else total - trainable
        totals = [("Total params", fmt_int(params_line)),
                  ("Trainable params", fmt_int(trainable if params_line is not None else None)),
                  ("Non-trainable params", fmt_int(non_trainable)),
                  ("Total mult-adds" + (units(s.true_macs).split(":")[0] if known_macs else ""),
                   (units(s.true_macs).split(": ", 1)[1] if known_macs else dep))]
        memory = [("Input size (MB)", mb(in_bytes)), ("Forward/backward pass size (MB)", mb(s.out_bytes)),
                  ("Params size (MB)", mb(true_pbytes)), ("Estimated Total Size (MB)", mb(tot_bytes))]
        lines, table_rows = _layout(rows, depth, totals, memory)
        json_mem = {"convention": PEER, "unit": "MB",
                    "input_size": in_bytes / 1e6 if isinstance(in_bytes, int) else None,
                    "forward_backward_pass_size": s.out_bytes / 1e6 if isinstance(s.out_bytes, int) else None,
                    "params_size": true_pbytes / 1e6 if true_pbytes is not None else None,
                    "estimated_total_size": tot_bytes / 1e6 if tot_bytes is not None else None}
        tab = Table(lines, table_rows, totals, memory, notes, json_mem)
        tab.mult_adds = s.true_macs if isinstance(s.true_macs, int) and s.macs is not None else None
        return tab
