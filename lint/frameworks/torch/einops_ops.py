"""einops from its pattern strings: ``rearrange``, ``reduce``, ``repeat``, ``pack``/``unpack``,
``einops.einsum`` and the layers ``einops.layers.torch.Rearrange``/``Reduce`` — exact where the
pattern and the shape are known, a finding where einops would refuse for certain (a rank the
pattern does not have: SHP008; a composed axis whose length does not divide or does not match:
SHP001; an einsum axis with two lengths: SHP006), UNKNOWN otherwise (patterns einops itself would
reject as malformed are left to einops: no finding).

Semantics follow einops 0.8 (``einops/parsing.py`` ParsedExpression and ``einops.py``
``_prepare_transformation_recipe``): ``...`` stands for any number of axes, ``()`` and ``1`` for an
axis of length 1, a parenthesised group for the product of its axes, with at most one unknown
length per group on the left, solved by division.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...core import dims as D
from ...core.facts import Unknowable, Violation
from ...core.values import Tensor
from ...rules.shp001_flatten_size import EinopsAxis
from ...rules.shp006_broadcast_mismatch import EinsumMismatch
from ...rules.shp008_wrong_rank import RankAtLeast, RankOneOf

Element = List[str]  # the axes composed into one dim: ['h'], ['h', 'w'], [] for () / 1, ['...']
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$|^\d+$")


def parse_side(text: str) -> List[Element]:
    out: List[Element] = []
    group: Optional[Element] = None
    for tok in re.findall(r"\.\.\.|\(|\)|[^\s()]+", text.replace("…", "...")):
        if tok == "(":
            if group is not None:
                raise Unknowable()
            group = []
        elif tok == ")":
            if group is None:
                raise Unknowable()
            out.append(group)
            group = None
        elif tok == "..." or _NAME.match(tok):
            if tok.isdigit() and int(tok) == 1:
                el: Element = []
            else:
                el = ["...g" if tok == "..." and group is not None else tok]
            if group is not None:
                group.extend(el)
            else:
                out.append(el)
        else:
            raise Unknowable()
    if group is not None:
        raise Unknowable()
    return out


def _names(side: List[Element]) -> List[str]:
    return [n for el in side for n in el]


def _check_unique(side: List[Element]) -> None:
    names = [n for n in _names(side) if not n.isdigit()]
    if len(names) != len(set(names)):
        raise Unknowable()


def _need_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise Unknowable()
    return v


def bind_left(op: str, pattern: str, left: List[Element], shape: Sequence[Any],
              lengths: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Element]]:
    """Axis lengths from the input shape (and the given lengths); the left side with '...' expanded."""
    _check_unique(left)
    if "...g" in _names(left):
        raise Unknowable()
    ell = [i for i, el in enumerate(left) if "..." in el]
    if any(el != ["..."] for el in (left[i] for i in ell)) or len(ell) > 1:
        raise Unknowable()
    if ell:
        k = len(shape) - (len(left) - 1)
        if k < 0:
            raise Violation(RankAtLeast(layer=f"{op} {pattern!r}", got=len(shape), shape=tuple(shape),
                                        least=len(left) - 1))
        i = ell[0]
        left = left[:i] + [[f"...{j}"] for j in range(k)] + left[i + 1:]
    elif len(shape) != len(left):
        raise Violation(RankOneOf(layer=f"{op} {pattern!r}", got=len(shape), shape=tuple(shape), ranks=(len(left),)))
    known: Dict[str, Any] = {}
    for n, v in lengths.items():
        known[n] = _need_int(v)
    for el, d in zip(left, shape):
        if any(n.isdigit() for n in el) and op != "reduce":
            raise Unknowable()  # non-unitary anonymous axes on the left: reduce's only
        unknown = [n for n in el if n not in known and not n.isdigit()]
        size: D.Dim = 1
        for n in el:
            if n.isdigit():
                size = D.mul(size, int(n))
            elif n in known:
                size = D.mul(size, known[n])
        group = "(" + " ".join(el) + ")" if len(el) != 1 else el[0] if el else "()"
        if not unknown:
            if D.equal(size, d) == D.NEVER:
                raise Violation(EinopsAxis(op=op, pattern=pattern, group=group, got=d, need=size, divides=False,
                                           shape=tuple(shape)))
            continue
        if len(unknown) > 1:
            raise Unknowable()
        if not isinstance(size, int) or size <= 0:
            raise Unknowable()
        if isinstance(d, int):
            if d % size:
                raise Violation(EinopsAxis(op=op, pattern=pattern, group=group, got=d, need=size, divides=True,
                                           shape=tuple(shape)))
            known[unknown[0]] = d // size
        else:
            known[unknown[0]] = d if size == 1 else D.floordiv(d, size)
    return known, left


def _expand_right(right: List[Element], left: List[Element]) -> List[Element]:
    k = [n for el in left for n in el if n.startswith("...")]
    out: List[Element] = []
    for el in right:
        if el == ["..."]:
            out.extend([n] for n in k)
        elif "...g" in el:
            i = el.index("...g")
            out.append(el[:i] + k + el[i + 1:])
        else:
            out.append(el)
    return out


def transform(op: str, x: Tensor, pattern: Any, lengths: Dict[str, Any]) -> Tensor:
    """rearrange / reduce / repeat of ``x`` by ``pattern``."""
    if not isinstance(pattern, str) or "->" not in pattern:
        raise Unknowable()
    if x.shape is None:
        raise Unknowable()
    ltext, rtext = pattern.split("->", 1)
    left, right = parse_side(ltext), parse_side(rtext)
    _check_unique(right)
    has_ell = any("..." in el for el in left)
    if any("..." in el or "...g" in el for el in right) != has_ell:
        raise Unknowable()
    right_names = {n for n in _names(right) if not n.isdigit() and n not in ("...", "...g")}
    left_names = {n for n in _names(left) if n != "..."}
    if op == "rearrange" and right_names != left_names:
        raise Unknowable()
    if op == "reduce" and not right_names <= left_names:
        raise Unknowable()
    if op == "repeat":
        if not left_names <= right_names:
            raise Unknowable()
        if any(n not in lengths for n in right_names - left_names):
            raise Unknowable()
    elif any(n.isdigit() for n in _names(right)):
        raise Unknowable()
    bound = {k: v for k, v in lengths.items() if k in left_names or op != "repeat"}
    known, left = bind_left(op, pattern, left, x.shape, bound)
    for n, v in lengths.items():
        known.setdefault(n, _need_int(v))
    out = []
    for el in _expand_right(right, left):
        d: Any = 1
        for n in el:
            d = D.mul(d, int(n) if n.isdigit() else known[n])
        out.append(d)
    bd = None
    if x.batch_dim is not None and x.batch_dim < len(left) and len(left[x.batch_dim]) == 1:
        name = left[x.batch_dim][0]
        for i, el in enumerate(_expand_right(right, left)):
            if el == [name]:
                bd = i
    return Tensor(tuple(out), x.dtype, bd)


def einsum(tensors: Sequence[Any], pattern: Any) -> Tensor:
    if not isinstance(pattern, str) or "->" not in pattern:
        raise Unknowable()
    ins, rtext = pattern.split("->", 1)
    sides = [parse_side(s) for s in ins.split(",")]
    right = parse_side(rtext)
    if len(sides) != len(tensors) or any(not isinstance(t, Tensor) or t.shape is None for t in tensors):
        raise Unknowable()
    known: Dict[str, Any] = {}
    shapes = tuple(t.shape for t in tensors)
    for side, t in zip(sides, tensors):
        if any(len(el) != 1 or el[0] == "..." or el[0].isdigit() for el in side):
            raise Unknowable()
        if len(side) != len(t.shape):
            raise Violation(RankOneOf(layer=f"einops.einsum {pattern!r}", got=len(t.shape), shape=t.shape,
                                      ranks=(len(side),)))
        for el, d in zip(side, t.shape):
            n = el[0]
            if n in known:
                if D.equal(known[n], d) == D.NEVER:
                    raise Violation(EinsumMismatch(op=f"einops.einsum {pattern!r}", label=n, a=known[n], b=d,
                                                   shapes=shapes))
            else:
                known[n] = d
    if any(len(el) != 1 or el[0] not in known for el in right):
        raise Unknowable()
    return Tensor(tuple(known[el[0]] for el in right), tensors[0].dtype, None)


def _pack_parts(pattern: Any) -> Tuple[int, int]:
    if not isinstance(pattern, str):
        raise Unknowable()
    toks = pattern.split()
    if toks.count("*") != 1 or any(not _NAME.match(t) for t in toks if t != "*"):
        raise Unknowable()
    i = toks.index("*")
    return i, len(toks) - i - 1


def pack(tensors: Sequence[Any], pattern: Any) -> Tuple[Tensor, List[Tuple[Any, ...]]]:
    pre, post = _pack_parts(pattern)
    if not tensors or any(not isinstance(t, Tensor) or t.shape is None for t in tensors):
        raise Unknowable()
    ps: List[Tuple[Any, ...]] = []
    total: Any = 0
    first = tensors[0].shape
    for t in tensors:
        s = t.shape
        if len(s) < pre + post:
            raise Violation(RankAtLeast(layer=f"einops.pack {pattern!r}", got=len(s), shape=s, least=pre + post))
        star = tuple(s[pre:len(s) - post])
        ps.append(star)
        total = D.add(total, D.prod(star))
        if len(first) >= pre + post:
            for a, b in list(zip(first[:pre], s[:pre])) + list(zip(first[len(first) - post:], s[len(s) - post:])):
                if D.equal(a, b) == D.NEVER:
                    raise Unknowable()  # torch.cat raises here; left to the cat rule's wording
    out = (*first[:pre], total, *first[len(first) - post:])
    return Tensor(out, tensors[0].dtype, tensors[0].batch_dim if tensors[0].batch_dim is not None
                  and tensors[0].batch_dim < pre else None), ps


def unpack(x: Any, ps: Any, pattern: Any) -> List[Tensor]:
    pre, post = _pack_parts(pattern)
    if not isinstance(x, Tensor) or x.shape is None or not isinstance(ps, (list, tuple)):
        raise Unknowable()
    s = x.shape
    if len(s) != pre + post + 1:
        raise Violation(RankOneOf(layer=f"einops.unpack {pattern!r}", got=len(s), shape=s, ranks=(pre + post + 1,)))
    out = []
    total: Any = 0
    for star in ps:
        if not isinstance(star, (list, tuple)):
            raise Unknowable()
        total = D.add(total, D.prod(star))
        out.append(Tensor((*s[:pre], *star, *s[pre + 1:]), x.dtype, x.batch_dim if x.batch_dim is not None
                          and x.batch_dim < pre else None))
    if D.equal(total, s[pre]) == D.NEVER:
        raise Violation(EinopsAxis(op="einops.unpack", pattern=pattern, group="the packed axis", got=s[pre],
                                   need=total, divides=False, shape=s))
    return out


def probe_step(pattern: Any, lengths: Dict[str, Any]) -> Optional[Tuple[str, Any]]:
    """A ``rearrange`` of a model input whose shape the first layer after it will tell
    (engine._probe): the step to undo from that layer's input (:func:`invert`), when the pattern
    is one :func:`invert` reads (no ``...``, every given length an int)."""
    if not isinstance(pattern, str) or "->" not in pattern or "." in pattern or "…" in pattern:
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in lengths.values()):
        return None
    try:
        ltext, rtext = pattern.split("->", 1)
        left, right = parse_side(ltext), parse_side(rtext)
        _check_unique(left)
        _check_unique(right)
    except Unknowable:
        return None
    if {n for n in _names(left)} != {n for n in _names(right)} or any(n.isdigit() for n in _names(left) + _names(right)):
        return None
    return ("einops", (pattern, tuple(sorted(lengths.items()))))


def invert(step: Any, shape: Optional[Sequence[Any]], bd: Optional[int], last: Any = None) -> Optional[Tensor]:
    """The input that ``rearrange(x, pattern, **lengths)`` (a :func:`probe_step`) turns into what
    the first layer after it expects: ``shape`` (free symbols but for the channels, its batch at
    ``bd``), or, for a layer that fixes only the last dim (a Linear's ``in_features``: ``shape``
    None), ``last``. Each group of the result is solved for its axes: a known length divides it
    (``(c p1 p2)`` of 48 with p1 = p2 = 4: c = 3), a free symbol is the one unknown axis it holds
    (or, for several, each a size of its own); an axis nothing fixes is a size of its own
    (ViT's ``b c (h p1) (w p2) -> b (h w) (p1 p2 c)`` before ``Linear(48, dim)``: ``(N, 3, 4*h, 4*w)``).
    None when no input gives that (a length that does not divide)."""
    _op, (pattern, lengths) = step
    ltext, rtext = pattern.split("->", 1)
    left, right = parse_side(ltext), parse_side(rtext)
    axes: Dict[str, Any] = dict(lengths)
    names: Dict[str, str] = {}
    if shape is not None and len(shape) != len(right):
        return None
    batch = None
    if shape is not None and bd is not None and 0 <= bd < len(right) and len(right[bd]) == 1:
        batch = right[bd][0]
    elif shape is None and left and len(left[0]) == 1 and [left[0][0]] in right[:-1]:
        batch = left[0][0]  # the usual `b ...`: the batch first, kept as its own dim
    for j, el in enumerate(right):
        d = shape[j] if shape is not None else (last if j == len(right) - 1 else None)
        if d is None:
            continue
        unknown = [n for n in el if n not in axes]
        k = 1
        for n in el:
            if n in axes:
                k *= axes[n]
        if isinstance(d, int) and not isinstance(d, bool):
            if not unknown:
                if d != k:
                    return None
            elif len(unknown) == 1 and d % k == 0 and d // k > 0:
                axes[unknown[0]] = d // k
            else:
                return None
        elif isinstance(d, D.Lin) and not d.is_opaque() and len(D.symbols(d)) == 1 and len(d.terms) == 1 and \
                d.const == 0 and shape is not None:
            # a free size of the layer's input (each symbolic_input dim is one of its own)
            if not unknown:
                return None
            if len(unknown) == 1 and k == 1:
                names[unknown[0]] = next(iter(D.symbols(d)))  # the layer's own name for it (H, W)
        else:
            return None
    lbd = next((i for i, el in enumerate(left) if el == [batch]), None) if batch is not None else None
    # an image (1, 3 or 4 channels, then 2 or 3 sides) has sides of at least 2 (inputs.symbolic_input)
    image = lbd == 0 and len(left) in (4, 5) and all(n in axes for n in left[1]) and \
        _product(axes[n] for n in left[1]) in (1, 3, 4)
    out = []
    for i, el in enumerate(left):
        v: Any = 1
        for n in el:
            if n not in axes:
                axes[n] = D.sym("N") if n == batch else D.sym(names.get(n, n), lo=2 if image and i >= 2 else 1)
            v = D.mul(v, axes[n])
        out.append(v)
    return Tensor(tuple(out), "float", lbd)


def _product(xs) -> Any:
    v: Any = 1
    for x in xs:
        v = D.mul(v, x)
    return v
