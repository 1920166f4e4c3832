"""The figures every style shares: the module tree and its parameters (from the layer table),
output sizes, and the helpers that read the engine's call records.

Nothing here knows a peer's conventions; the renderers (``torchsummary_style``,
``torchinfo_style``) apply them.  See ``docs/formulas.md`` for the conventions themselves.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Set, Tuple

from ...core import dims as D
from ...core.values import ModuleValue, ObjectValue, Param, Tensor

MIB = 1024 ** 2
ELEM_BYTES = {"float": 4, "long": 8, "int": 4, "bool": 1, "half": 2, "double": 8, "float64": 8}


def numel(shape: Any) -> Any:
    return D.prod(shape)


def flat_tensors(v: Any) -> List[Any]:
    """The leaves of a (nested) output: Tensors, or None/UNKNOWN for what is not one."""
    if isinstance(v, Tensor):
        return [v]
    if isinstance(v, dict):
        v = list(v.values())
    if isinstance(v, (tuple, list)):
        out: List[Any] = []
        for e in v:
            out.extend(flat_tensors(e))
        return out
    return [v]


def first_tensor(v: Any) -> Optional[Tensor]:
    """torchinfo's calculate_size: a tensor, or the first element (recursively) of a list/tuple,
    or the last value of a dict."""
    if isinstance(v, Tensor):
        return v
    if isinstance(v, (tuple, list)) and v:
        return first_tensor(v[0])
    if isinstance(v, dict) and v:
        return first_tensor(list(v.values())[-1])
    fields = output_fields(v)
    if fields:  # a ModelOutput is an OrderedDict of its set fields
        return first_tensor(fields[-1][1])
    return None


def output_fields(v: Any) -> List[Tuple[str, Any]]:
    """The set fields of an output dataclass (transformers' ModelOutput, diffusers' BaseOutput:
    ``last_hidden_state``, ``logits``, ``sample``) in order, the None ones left out as those
    classes do; [] for any other value."""
    if not isinstance(v, ObjectValue) or v.cls is None or not v.cls.fields:
        return []
    return [(k, x) for k, x in v.attrs.items() if x is not None and not k.startswith("_")]


def known(shape: Any) -> bool:
    return shape is not None and all(isinstance(d, int) for d in shape)


def is_container(m: ModuleValue, kinds: Tuple[str, ...] = ("sequential", "modulelist")) -> bool:
    if m.kind in kinds:
        return True
    return m.kind == "user" and m.attrs.get("__container__") in kinds


def has_sublayers(m: ModuleValue) -> bool:
    """A torch layer with sub-layers of its own (MultiheadAttention's out_proj)."""
    if m.kind != "layer" or not m.args or m.args.get("__params_unknown__"):
        return False
    from ...frameworks.torch.layers import Unknowable
    try:
        return any("." in k for k in m.spec.params(m.args))
    except Unknowable:
        return False


def fmt_int(n: Optional[int]) -> str:
    return "?" if n is None else f"{n:,}"


def shape_text(shape: Any) -> str:
    return "[" + ", ".join(D.text(d) for d in shape) + "]"


def json_shape(v: Any) -> Any:
    """A shape for JSON: ints, symbolic dims as text, None when unknown; nested for tuples."""
    if isinstance(v, Tensor):
        return None if v.shape is None else [d if isinstance(d, int) else D.text(d) for d in v.shape]
    if isinstance(v, (tuple, list)):
        return [json_shape(e) for e in v]
    if isinstance(v, dict):
        return {str(k): json_shape(e) for k, e in v.items()}
    return None


class Model:
    """Parameters of the module tree, by module, from the layer table."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.root: ModuleValue = run.root
        self._extra: Dict[Tuple[int, str], Param] = {}
        self.tree: List[ModuleValue] = []  # named_modules() order, deduplicated
        self.parent_of: Dict[int, ModuleValue] = {}
        seen: Set[int] = set()

        def walk(m: ModuleValue) -> None:
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
            from ...frameworks.torch.layers import Unknowable
            try:
                shapes = m.spec.params(m.args)
            except Unknowable:
                return None
            out = {}
            orig = m.attrs.get("__reparametrized__")  # spectral_norm: `weight` is `weight_orig` now
            for n, s in shapes.items():
                p = m.params.get(n)
                if p is None:
                    p = self._extra.setdefault((id(m), n), Param(tuple(s)))
                out[f"{n}_orig" if n == orig else n] = p
            for n, p in m.params.items():
                if n not in out and n != orig and not p.buffer:
                    out[n] = p
            return out
        if m.kind == "opaque" or m.uncertain:
            return None
        return {n: p for n, p in m.params.items() if not p.buffer}

    @staticmethod
    def count(params: Optional[Dict[Any, Param]], trainable_only: bool = False) -> Optional[int]:
        if params is None:
            return None
        total = 0
        for p in params.values():
            if p.shape is None or not known(p.shape):
                return None
            if trainable_only and not p.requires_grad:
                continue
            total += math.prod(p.shape)
        return total

    def subtree(self, m: ModuleValue) -> Optional[Dict[int, Param]]:
        """Every parameter under m (named_parameters(): deduplicated), by identity."""
        out: Dict[int, Param] = {}
        seen: Set[int] = set()
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
        if any(m.attrs.get("__grads_unknown__") for m in self.tree):
            return self.count(ps), None  # requires_grad_(flag) with a flag not known
        return self.count(ps), self.count(ps, trainable_only=True)


def merge_branches(calls: List[Any]) -> Tuple[List[Any], bool]:
    """An undecidable ``if`` runs both branches (speculatively): a module called with the same input
    shapes under the same parent on both is one call in torch; keep the first, and its subtree."""
    calls = sorted(calls, key=lambda c: c.start)
    keep: List[Any] = []
    seen: Set[Any] = set()
    stack: List[Any] = []
    drop_until = -1
    any_spec = False
    for c in calls:
        if c.start < drop_until:
            continue
        while stack and not (stack[-1].start < c.start < stack[-1].end):
            stack.pop()
        if getattr(c, "speculative", False):
            any_spec = True
            shapes = tuple(str(json_shape(a)) for a in c.inputs)
            key = (stack[-1].start if stack else -1, id(c.module), shapes)
            if key in seen:
                drop_until = c.end
                continue
            seen.add(key)
        keep.append(c)
        stack.append(c)
    return keep, any_spec


def not_followed(run: Any, model: "Model") -> List[str]:
    """What the analysis did not follow while building and running the model (a loop it could not
    unroll, a module built under control flow it could not decide): the table may lack layers,
    so its totals are lower bounds. One phrase each, with its line."""
    out: List[str] = []
    positions: Dict[int, Any] = {}
    for what, node, src in getattr(run, "skipped", None) or []:
        if src is None or node is None:
            continue
        if id(src) not in positions:
            try:
                from libcst.metadata import MetadataWrapper, PositionProvider

                positions[id(src)] = MetadataWrapper(src.tree, unsafe_skip_copy=True).resolve(PositionProvider)
            except Exception:  # noqa: BLE001 - a note only: never fail the table for it
                positions[id(src)] = {}
        pos = positions[id(src)].get(node)
        head = src.code_for(node).strip().splitlines()[0].strip() if src.code_for(node).strip() else ""
        import os

        where = f"{os.path.basename(src.path)}:{pos.start.line}" if pos is not None else os.path.basename(src.path)
        text = f"{what} (`{head}`, {where})"
        if text not in out:
            out.append(text)
    for m in model.tree:
        if m.uncertain:
            text = f"{m.name or m.type_name} built under control flow shapelint could not decide"
            if text not in out:
                out.append(text)
    return out


def lower_bound(value: str) -> str:
    """'1,019,956' -> '≥ 1,019,956'; '?' stays '?'."""
    return value if not value or value[0] == "?" else f"≥ {value}"


def mark_incomplete(table: Any, reasons: List[str]) -> None:
    """Totals and sizes of a table that may lack layers become lower bounds, with a note."""
    if not reasons:
        return
    changed = {}
    for lst in (table.totals, table.memory):
        for i, (k, v) in enumerate(lst):
            nv = v if k.startswith("Input size") else lower_bound(v)  # the input is exact
            if nv != v:
                changed[f"{k}: {v}"] = f"{k}: {nv}"
                lst[i] = (k, nv)
    table.lines = [changed.get(line, line) for line in table.lines]
    table.notes.append("the totals are lower bounds: shapelint did not follow " + "; ".join(reasons[:5]) +
                       (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "") +
                       ", so layers may be missing from the table")
