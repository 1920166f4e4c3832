"""Shape rules of tensor methods and ``torch.*`` functions that are not layers: view/reshape,
flatten, permute, indexing, reductions, cat/stack, broadcasting arithmetic, matmul.

Each rule returns a value, raises :class:`~shapelint.core.facts.Violation` (with a payload owned by
a rule module) when torch would refuse the operation for certain, or
:class:`~shapelint.core.facts.Unknowable`.
"""
from __future__ import annotations

import dataclasses

from typing import Any, Dict, List, Optional, Sequence, Tuple

from ...core import dims as D
from ...core.facts import Fold, Unknowable, Violation, assumed, folded, narrowed
from ...rules import shp007_invalid_config as C
from ...rules.shp001_flatten_size import ReshapeSize, ViewSize, ViewZeroInferred
from ...rules.shp004_spatial_collapse import Collapse
from ...rules.shp005_batch_folding import BatchFold
from ...rules.shp006_broadcast_mismatch import Broadcast, ConcatMismatch, ConcatRank, EinsumMismatch, MatmulMismatch
from .layers import dim_or_violation, flatten_shape, need, shape_of
from .layers.table import broadcast_tail  # (the tensors' operators use it from here too)
from ...core.values import Qual, Tensor


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def size_list(args) -> List[Any]:
    """view(2, 3) and view((2, 3)) and view([2, 3]) alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    out = []
    for a in args:
        a = need(a)
        if isinstance(a, Tensor):
            raise Unknowable()
        if not D.is_dim(a):
            raise Unknowable()
        out.append(a)
    return out


# ~90 lines on purpose: torch's view/reshape rules (one -1, zeros, symbolic totals, per-sample
# folds) in the order torch checks them, so each violation matches the error torch raises first.
def reshape(x: Tensor, target: Sequence[Any], op: str) -> Tensor:
    """view / reshape, with the per-sample check that tells a wrong size from batch folding."""
    if any(_is_int(t) and t == -1 for t in target) and any(_is_int(t) and t == 0 for t in target) and \
            sum(1 for t in target if _is_int(t) and t == -1) == 1:
        raise Violation(ViewZeroInferred(target=tuple(target)))  # for any tensor, even an empty one
    if x.shape is None:
        # an input of unknown shape: torch either raises or gives exactly the target, with the
        # one -1 inferred (MLPs start with x.view(-1, 784); what follows can still be checked)
        # (a symbolic size of the target, `z.view(-1, self.z_dim, 1, 1)` with z_dim a constructor
        # parameter nobody gives, is taken as it is)
        target = list(target)
        if any(not (_is_int(t) and t >= -1 or isinstance(t, D.Lin) and not t.is_opaque()) for t in target) or \
                sum(1 for t in target if _is_int(t) and t == -1) > 1:
            raise Unknowable()
        return Tensor(tuple(D.fresh() if _is_int(t) and t == -1 else t for t in target), x.dtype, None)
    s = shape_of(x)
    target = list(target)
    inferred = [i for i, t in enumerate(target) if _is_int(t) and t == -1]
    if len(inferred) > 1:
        raise Violation(C.OneInferred())
    for t in target:
        if _is_int(t) and t < -1:
            raise Violation(C.InvalidShapeDim(t))
    total: Any = D.prod(s)
    bd = x.batch_dim
    if not inferred:
        rel = D.equal(total, D.prod(target))
        if rel == D.NEVER:
            raise Violation(ViewSize(total=total, target=tuple(target), shape=s))
        if rel == D.DEPENDS:
            assumed(total, D.prod(target), op)
        keep = bd == 0 and len(target) > 0 and D.equal(target[0], s[0]) == D.ALWAYS
        return x.with_shape(tuple(target), 0 if keep else None)
    j = inferred[0]
    rest = [t for i, t in enumerate(target) if i != j]
    known: Any = D.prod(rest)
    if bd == 0 and len(s) >= 1 and j == 0:
        n = s[0]
        per_sample: Any = D.prod(s[1:])
        k: Any = D.prod(target[1:])
        rel = D.equal(per_sample, k)
        if rel != D.ALWAYS and any(D.equal(D.prod(s[i:]), k) == D.ALWAYS for i in range(2, len(s))):
            # view(-1, *trailing dims): the leading dims are merged on purpose (batch x time for a
            # per-step classifier, windows or pixels into the batch); nothing to report
            if _is_int(k) and k > 0:
                merged = D.floordiv(D.mul(n, per_sample), k)
            else:
                merged = D.prod(s[:next(i for i in range(2, len(s)) if D.equal(D.prod(s[i:]), k) == D.ALWAYS)])
            return x.with_shape((merged, *target[1:]), None)
        if rel == D.NEVER:
            if not (_is_int(per_sample) and _is_int(k)) or k <= 0:
                raise Violation(ReshapeSize(per_sample, k, s))
            whole = per_sample % k == 0 or k % per_sample == 0
            if _is_int(n):
                if (n * per_sample) % k:
                    raise Violation(ReshapeSize(per_sample, k, s))
                if not whole:  # rows straddle two samples: never what anyone means
                    raise Violation(BatchFold(per_sample, k, n, s))
                new_batch = n * per_sample // k
            elif per_sample % k == 0:
                new_batch = D.mul(n, per_sample // k)
            else:
                raise Violation(ReshapeSize(per_sample, k, s))
            # Whole samples split into rows (or rows of whole samples) is also how windows and
            # pixels are folded into the batch on purpose; it is a bug only if the model's output
            # keeps the changed batch (the engine decides at the end of forward).
            folded(Fold(per_sample=per_sample, k=k, batch=n, new_batch=new_batch, shape=s))
            return x.with_shape((new_batch, *target[1:]), None)
        if rel == D.DEPENDS:
            assumed(per_sample, k, op)
        return x.with_shape((n, *target[1:]), 0)
    if bd == 0 and j > 0 and D.equal(target[0], s[0]) == D.ALWAYS:
        per_sample = D.prod(s[1:])
        k = D.prod(t for i, t in enumerate(target) if i not in (0, j))
        if _is_int(per_sample) and _is_int(k):
            if k == 0 or per_sample % k:
                raise Violation(ReshapeSize(per_sample, k, s))
            v = per_sample // k
        elif _is_int(k) and k > 0:
            v = D.floordiv(per_sample, k)
        else:
            v = D.fresh()
        out = list(target)
        out[j] = v
        return x.with_shape(tuple(out), 0)
    if _is_int(total) and _is_int(known):
        if known == 0 or total % known:
            raise Violation(ViewSize(total=total, target=tuple(target), shape=s))
        v = total // known
    elif _is_int(known) and known > 0:
        v = D.floordiv(total, known)
    else:
        v = _cancelled(s, known)
    out = list(target)
    out[j] = v
    return x.with_shape(tuple(out), None)


def _cancelled(s: Sequence[Any], known: Any) -> Any:
    """The size a -1 takes when the other sizes' product is symbolic: the product of the dims left
    once some of them multiply to exactly ``known`` (``x.view(b * t, -1)`` on ``(N, T, 32)``: 32);
    else a size nothing is known about."""
    n = len(s)
    if n <= 6:
        for mask in range(1, 1 << n):
            part = [s[i] for i in range(n) if mask >> i & 1]
            if D.equal(D.prod(part), known) == D.ALWAYS:
                return D.prod([s[i] for i in range(n) if not mask >> i & 1])
    return D.fresh()


def permute(x: Tensor, order) -> Tensor:
    s = shape_of(x)
    order = [dim_or_violation(o, len(s)) for o in size_list(order)]
    if sorted(order) != list(range(len(s))):
        raise Violation(C.PermuteDims(order, len(s)))
    bd = order.index(x.batch_dim) if x.batch_dim is not None else None
    return x.with_shape(tuple(s[o] for o in order), bd)


def transpose(x: Tensor, a, b) -> Tensor:
    s = list(shape_of(x))
    if not s:
        return x
    a, b = dim_or_violation(a, len(s)), dim_or_violation(b, len(s))
    s[a], s[b] = s[b], s[a]
    bd = x.batch_dim
    if bd == a:
        bd = b
    elif bd == b:
        bd = a
    return x.with_shape(tuple(s), bd)


def squeeze(x: Tensor, dim=None) -> Tensor:
    s = shape_of(x)
    if dim is None:
        if any(not _is_int(v) for v in s):
            raise Unknowable()
        keep = [i for i, v in enumerate(s) if v != 1]
    else:
        given = dim if isinstance(dim, (tuple, list)) else (dim,)
        ds = {dim_or_violation(d, max(len(s), 1)) for d in given} if s else set()
        for d in ds:
            if not _is_int(s[d]) and D.equal(s[d], 1) != D.NEVER:
                raise Unknowable()
        keep = [i for i in range(len(s)) if not (i in ds and s[i] == 1)]
    bd = keep.index(x.batch_dim) if x.batch_dim in keep else None
    return x.with_shape(tuple(s[i] for i in keep), bd)


def unsqueeze(x: Tensor, dim) -> Tensor:
    s = list(shape_of(x))
    d = dim_or_violation(dim, len(s), allow_end=True)
    s.insert(d, 1)
    bd = x.batch_dim
    if bd is not None and bd >= d:
        bd += 1
    return x.with_shape(tuple(s), bd)


def reduce(x: Tensor, dim=None, keepdim=False) -> Tensor:
    s = shape_of(x)
    if dim is None:
        return Tensor((), x.dtype, None)
    given = dim if isinstance(dim, (tuple, list)) else (dim,)
    ds = {dim_or_violation(d, len(s)) for d in given}
    if keepdim:
        out = tuple(1 if i in ds else v for i, v in enumerate(s))
        bd = x.batch_dim if x.batch_dim not in ds else None
        return x.with_shape(out, bd)
    keep = [i for i in range(len(s)) if i not in ds]
    bd = keep.index(x.batch_dim) if x.batch_dim in keep else None
    return x.with_shape(tuple(s[i] for i in keep), bd)


def broadcast_partial(a: Tensor, b: Tensor, op: str) -> Tensor:
    """:func:`broadcast` where a side's rank is unknown: the last dims known on both sides (a
    Linear's ``[..., 2*d_model]`` against another's ``[..., 3*d_model]``) must still fit, as they
    are the same dims of the two tensors whatever the ranks; the result is ``broadcast_tail``'s."""
    sa = a.shape if a.shape is not None else a.tail
    sb = b.shape if b.shape is not None else b.tail
    for i in range(1, min(len(sa), len(sb)) + 1):
        x, y = sa[-i], sb[-i]
        if D.equal(x, y) == D.NEVER and _never_one(x) and _never_one(y):
            left = tuple(sa) if a.shape is not None else (Ellipsis, *sa)
            right = tuple(sb) if b.shape is not None else (Ellipsis, *sb)
            raise Violation(Broadcast(op=op, left=left, right=right, dim=-i, a=x, b=y))
    return broadcast_tail(a, b)


def broadcast(a: Tensor, b: Tensor, op: str) -> Tensor:
    """torch's broadcasting: right-aligned, each pair equal or one of them 1."""
    sa, sb = shape_of(a), shape_of(b)
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    out = []
    # from the last dimension, as torch reports the first mismatch it meets
    for i in range(n - 1, -1, -1):
        x, y = pa[i], pb[i]
        if _is_int(x) and x == 1:
            out.append(y)
            continue
        if _is_int(y) and y == 1:
            out.append(x)
            continue
        rel = D.equal(x, y)
        if rel == D.ALWAYS:
            out.append(x)
            continue
        bad = Broadcast(op=op, left=tuple(sa), right=tuple(sb), dim=i - n, a=x, b=y)
        if rel == D.NEVER and (_never_one(x) and _never_one(y) or _one_only_where_invalid(x, y)):
            raise Violation(bad)
        _narrow(x, y, bad, _broadcasts)
        if _never_one(x) and _never_one(y):
            assumed(x, y, op)
            out.append(x)
        else:
            out.append(D.fresh())
    out.reverse()
    bd = a.batch_dim if a.batch_dim is not None and len(sa) == n else (
        b.batch_dim if b.batch_dim is not None and len(sb) == n else None)
    return Tensor(tuple(out), promote(a.dtype, b.dtype), bd)


def promote(a: str, b: str) -> str:
    """The dtype kind of a result of two tensors: a float64 tensor made from a numpy array makes
    the result float64; other mixes are float."""
    if a == b:
        return a
    return "float64" if "float64" in (a, b) else "float"


def _broadcasts(a: int, b: int) -> bool:
    return a == b or a == 1 or b == 1


# An image side below this is not an image a model is written for: a residual add that
# broadcasts only because one side is a single pixel of a 3x3 input (VDSR's `x + residual` after an
# unpadded 3x3 conv: H-2 against H, 1 against 3 at H = 3) is not a size the model runs at.
MIN_BROADCAST_IMAGE = 8


def _narrow(x, y, bad, ok) -> None:
    """Two sizes of one input symbol that fit (``ok``) for only a few of its values: the engine
    checks the model at each of them (core/facts.py Narrowing); none at all: a violation now.
    A broadcast that fits only where one side is one pixel of an image smaller than
    MIN_BROADCAST_IMAGE on that side does not count as fitting (`only` names those sizes)."""
    syms = D.symbols(x) | D.symbols(y)
    image = len(syms) == 1 and all(D.least(v, next(iter(syms))) >= 2 for v in (x, y))  # an image's side
    found = D.finitely_where(x, y, ok, MIN_BROADCAST_IMAGE if image else 0)
    if found is None:
        return
    symbol, values = found
    tiny: List[int] = []
    small: List[int] = []
    if ok is _broadcasts and (image or symbol != "N"):
        # nor, below that size, of a feature map or a sequence (a block's input, where a 1x1 map is
        # a size it may run at; never the batch): two sides that differ everywhere else and meet
        # only by broadcasting one side of 1 against the other (a padded 3x3 branch, H+2, against
        # its input H at H = 1)
        tiny = [v for v in values if v < MIN_BROADCAST_IMAGE and
                D.evaluate(x, {symbol: v}) != D.evaluate(y, {symbol: v})]
    if image:
        # nor is a fit of two single-pixel maps of such an image: a stride-2 shortcut against a
        # stride-1 branch meets only as 1x1 maps of a 2x2 to 4x4 image (where the two sides are
        # equal and larger, H-2 against (H+2)//2 at H = 5, the fit is real: it is run there)
        small = [v for v in values if v < MIN_BROADCAST_IMAGE and v not in tiny and
                 D.evaluate(x, {symbol: v}) == 1 and D.evaluate(y, {symbol: v}) == 1]
    values = [v for v in values if v not in tiny and v not in small]
    if not values:
        if (tiny or small) and hasattr(bad, "only"):
            if tiny and not small:
                where = ", ".join(str(v) for v in tiny)
                only = f"{symbol} = {where}, where one side is " + ("a single pixel" if image else "1")
            else:
                where = ", ".join(str(v) for v in sorted(tiny + small))
                only = f"{symbol} = {where}, single pixels of an image under {MIN_BROADCAST_IMAGE} pixels"
            changes: Dict[str, Any] = {"only": only}
            if hasattr(bad, "tiny_low"):
                changes["tiny_low"] = (symbol, max(tiny + small) + 1)
            bad = dataclasses.replace(bad, **changes)
        raise Violation(bad)
    narrowed(bad, symbol, tuple(values))


def _one_only_where_invalid(x, y) -> bool:
    """Two sizes of one symbol, non-decreasing in it: neither is 1 where the other is a valid size
    (>= 1). A decoder map ``2*(H//16 - 2)`` against an encoder's ``(H//2 - 2)//2 - 2``: the encoder's
    is 1 only where the decoder's is already negative, where torch failed at an earlier layer."""
    if _is_int(x) or _is_int(y) or x.is_opaque() or y.is_opaque() or not (x.monotone() and y.monotone()):
        return False
    syms = x.symbols() | y.symbols()
    if len(syms) != 1:
        return False
    s = next(iter(syms))
    lo = max(D.least(x, s), D.least(y, s))

    def one_while_valid(f, g) -> bool:
        a = D.first_at_least(lambda v: D.evaluate(f, {s: v}), 1, lo)
        if a is None or D.evaluate(f, {s: a}) != 1:
            return False  # f jumps over 1
        b = D.first_at_least(lambda v: D.evaluate(f, {s: v}), 2, a)
        last = D.BOUND if b is None else b - 1
        start = D.first_at_least(lambda v: D.evaluate(g, {s: v}), 1, lo)
        return start is not None and max(a, start) <= last

    return not one_while_valid(x, y) and not one_while_valid(y, x)


def _never_one(v) -> bool:
    if _is_int(v):
        return v != 1
    return D.equal(v, 1) == D.NEVER


def concat(tensors: Sequence[Tensor], dim, op: str, stack=False) -> Tensor:
    shapes = [shape_of(t) for t in tensors]
    if not shapes:
        raise Unknowable()
    ranks = {len(s) for s in shapes}
    if len(ranks) != 1:
        if stack or not all(len(s) == 1 and s[0] == 0 for s in shapes if len(s) != max(ranks)):
            raise Violation(ConcatRank(op=op, shapes=tuple(shapes), dim=dim, ranks=sorted(ranks)))
    r = shapes[0].__len__()
    d = dim_or_violation(dim, r, allow_end=stack)
    first = shapes[0]
    for s in shapes[1:]:
        for i in range(r):
            if not stack and i == d:
                continue
            rel = D.equal(first[i], s[i])
            bad = ConcatMismatch(op=op, shapes=tuple(shapes), dim=d, bad=i, a=first[i], b=s[i])
            if rel == D.NEVER:
                raise Violation(bad)
            if rel == D.DEPENDS:
                _narrow(first[i], s[i], bad, int.__eq__)
                assumed(first[i], s[i], op)
    bd = tensors[0].batch_dim
    if stack:
        out = list(first)
        out.insert(d, len(shapes))
        if bd is not None and bd >= d:
            bd += 1
        return tensors[0].with_shape(tuple(out), bd)
    out = list(first)
    out[d] = D.prod([]) if False else sum_dims(s[d] for s in shapes)
    return tensors[0].with_shape(tuple(out), bd if bd != d else None)


def sum_dims(ds) -> Any:
    r: Any = 0
    for d in ds:
        r = D.add(r, d)
    return r


def matmul(a: Tensor, b: Tensor, op: str) -> Tensor:
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 0 or len(sb) == 0:
        raise Violation(C.MatmulScalar())
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    rel = D.equal(ka, kb)
    if rel == D.NEVER:
        raise Violation(MatmulMismatch(op=op, left=tuple(sa), right=tuple(sb), a=ka, b=kb))
    if rel == D.DEPENDS:
        assumed(ka, kb, op)
    if len(sa) == 1 and len(sb) == 1:
        return Tensor((), a.dtype, None)
    if len(sb) == 1:
        return a.with_shape(tuple(sa[:-1]))
    if len(sa) == 1:
        return Tensor((*sb[:-2], sb[-1]), a.dtype, None)
    batch_a, batch_b = Tensor(tuple(sa[:-2])), Tensor(tuple(sb[:-2]))
    bshape: Any = broadcast(batch_a, batch_b, op).shape if (sa[:-2] or sb[:-2]) else ()
    bd = a.batch_dim if a.batch_dim is not None and a.batch_dim < len(sa) - 2 else None
    return Tensor((*bshape, sa[-2], sb[-1]), a.dtype, bd)


def index(x: Tensor, key) -> Any:
    """Basic indexing: ints, slices with literal bounds, None and Ellipsis; and advanced indexing
    by integer tensors, lists of ints and boolean masks (_advanced)."""
    if x.shape is None and x.tail:
        return _index_tail(x, key)
    s = list(shape_of(x))
    items = list(key) if isinstance(key, tuple) else [key]
    # np.newaxis is None (transformers' canary: `torch.arange(n)[:, np.newaxis]`); any other name
    # (a value not followed) says nothing about the rank
    items = [None if isinstance(k, Qual) and k.name in ("numpy.newaxis", "torch.newaxis") else k for k in items]
    if any(isinstance(k, (Tensor, list)) for k in items):
        return _advanced(x, s, items)
    if not all(k is None or k is Ellipsis or isinstance(k, (int, slice)) or D.is_dim(k) for k in items):
        raise Unknowable()
    n_real = sum(1 for k in items if k is not None and k is not Ellipsis)
    if n_real > len(s):
        raise Violation(C.TooManyIndices(len(s)))
    if Ellipsis in items:
        e = items.index(Ellipsis)
        items = items[:e] + [slice(None)] * (len(s) - n_real) + items[e + 1:]
    out, bd, src = [], None, 0
    for k in items:
        if k is None:
            out.append(1)
            continue
        if src >= len(s):
            raise Unknowable()
        dim = s[src]
        if _is_int(k):
            if _is_int(dim) and not -dim <= k < dim:
                raise Violation(C.IndexOutOfBounds(k, src, dim))
            src += 1
            continue
        if isinstance(k, slice):
            if src == x.batch_dim and k == slice(None):
                bd = len(out)
            out.append(_slice_len(dim, k))
            src += 1
            continue
        raise Unknowable()
    for v in s[src:]:
        if src == x.batch_dim:
            bd = len(out)
        out.append(v)
        src += 1
    return x.with_shape(tuple(out), bd)


def _advanced(x: Tensor, s: List[Any], items: List[Any]) -> Tensor:
    """Indexing with integer tensors, lists of ints or boolean masks among ints, slices, None and
    Ellipsis, as torch does it (checked against torch 2.x): ints select first (they drop their
    dim); the index tensors broadcast together; their shape takes the place of the first of them
    when they are adjacent (``x[:, idx]``: 5x3 for a 5x6x7 x and a 3-long idx, plus the rest), else
    it comes first (``x[i, :, j]``). A mask stands for the dims it covers, with a size only its
    values decide (unknown). Anything else, an index tensor of unknown shape or dtype, a None
    between index tensors, is unknown (never a finding)."""
    def kind(k) -> Optional[str]:
        if isinstance(k, Tensor):
            if k.shape is None:
                raise Unknowable()
            if k.dtype == "bool":
                return "mask"
            if k.dtype in ("long", "int"):
                return "index"
            raise Unknowable()
        if isinstance(k, list):
            if not k or not all(_is_int(v) and not isinstance(v, bool) for v in k):
                raise Unknowable()
            return "index"
        return None

    kinds = [kind(k) for k in items]
    width = [len(k.shape) if kd == "mask" else 0 if k is None or k is Ellipsis else 1
             for k, kd in zip(items, kinds)]
    if items.count(Ellipsis) > 1 or sum(width) > len(s):
        raise Unknowable()
    if Ellipsis in items:
        e = items.index(Ellipsis)
        fill = len(s) - sum(width)
        items = items[:e] + [slice(None)] * fill + items[e + 1:]
        kinds = kinds[:e] + [None] * fill + kinds[e + 1:]
    out: List[Any] = []  # result dims, with ("adv",) where an index tensor stands
    shapes: List[Tuple[Any, ...]] = []
    src = 0
    for k, kd in zip(items, kinds):
        if k is None:
            out.append(1)
        elif kd == "mask":
            for m, d in zip(k.shape, s[src:src + len(k.shape)]):
                if D.equal(m, d) != D.ALWAYS:
                    raise Unknowable()  # (a mask of the wrong shape is torch's IndexError)
            shapes.append((D.fresh(),))
            out.append(("adv",))
            src += len(k.shape)
        elif kd == "index":
            shapes.append(tuple(k.shape or ()) if isinstance(k, Tensor) else (len(k),))
            out.append(("adv",))
            src += 1
        elif _is_int(k) or D.is_dim(k):
            src += 1  # selects: the dim goes
        elif isinstance(k, slice):
            out.append(_slice_len(s[src], k))
            src += 1
        else:
            raise Unknowable()
    out += s[src:]
    marks = [i for i, d in enumerate(out) if isinstance(d, tuple)]
    n = max(len(sh) for sh in shapes)
    joint: List[Any] = []
    for i in range(1, n + 1):
        ds = [sh[-i] for sh in shapes if len(sh) >= i]
        big = [d for d in ds if not (_is_int(d) and d == 1)]
        if big and any(D.equal(big[0], d) != D.ALWAYS for d in big[1:]):
            raise Unknowable()
        joint.insert(0, big[0] if big else 1)
    if marks != list(range(marks[0], marks[0] + len(marks))):
        if any(k is None for k in items):
            raise Unknowable()  # None with index tensors apart: where torch puts it is not modelled
        rest = [d for d in out if not isinstance(d, tuple)]
        return Tensor((*joint, *rest), x.dtype, None)
    return Tensor((*out[:marks[0]], *joint, *out[marks[-1] + 1:]), x.dtype, None)


def _index_tail(x: Tensor, key) -> Tensor:
    """Basic indexing of a tensor of unknown rank whose last dims are known (``out[:, -1, :]`` on an
    LSTM's output): a key that ends in a full slice leaves the last dim as it is (the key reaches
    it or stops short of it); ``x[..., a:b]`` / ``x[..., i]`` act on the known last dims."""
    items = list(key) if isinstance(key, tuple) else [key]
    if not all(k is Ellipsis or isinstance(k, slice) or _is_int(k) for k in items) or items.count(Ellipsis) > 1:
        raise Unknowable()
    if Ellipsis in items:
        after = items[items.index(Ellipsis) + 1:]
        if len(after) > len(x.tail):
            raise Unknowable()
        kept = list(x.tail[:len(x.tail) - len(after)])
        for dim, k in zip(x.tail[len(x.tail) - len(after):], after):
            if isinstance(k, slice):
                kept.append(_slice_len(dim, k))
        if not kept:
            raise Unknowable()
        return Tensor(None, x.dtype, tail=tuple(kept))
    if items and items[-1] == slice(None):
        return Tensor(None, x.dtype, tail=x.tail[-1:])
    raise Unknowable()


def _slice_len(dim, k: slice):
    if k.step not in (None, 1) and not _is_int(k.step):
        raise Unknowable()
    if k == slice(None):
        return dim
    for v in (k.start, k.stop):
        if v is not None and not _is_int(v):
            raise Unknowable()
    if _is_int(dim):
        return len(range(dim)[k])
    step = k.step or 1
    if step != 1:
        raise Unknowable()
    start, stop = k.start or 0, k.stop
    if stop is None and start >= 0:
        return D.sub(dim, start)
    if start == 0 and stop is not None and stop < 0:
        return D.add(dim, stop)
    if start < 0 and stop is None:
        return -start if D.at_least(D.add(dim, start), 0) == D.ALWAYS else D.fresh()
    return D.fresh()


def chunk(x: Tensor, chunks, dim=0):
    s = list(shape_of(x))
    d = dim_or_violation(dim, len(s))
    n = need(chunks)
    size = s[d]
    if not _is_int(n) or not _is_int(size):
        raise Unknowable()
    step = -(-size // n)
    parts = [min(step, size - i) for i in range(0, size, step)] if step else []
    return tuple(x.with_shape(tuple(s[:d] + [p] + s[d + 1:]), x.batch_dim if x.batch_dim != d else None)
                 for p in parts)


def split(x: Tensor, split_size, dim=0):
    s = list(shape_of(x))
    d = dim_or_violation(dim, len(s))
    size = s[d]
    split_size = need(split_size)
    if isinstance(split_size, (list, tuple)):
        parts = list(split_size)
        if _is_int(size) and all(_is_int(p) for p in parts) and sum(parts) != size:
            raise Violation(C.SplitSizes(parts, size))
    elif _is_int(split_size) and _is_int(size):
        parts = [min(split_size, size - i) for i in range(0, size, split_size)]
    else:
        raise Unknowable()
    return tuple(x.with_shape(tuple(s[:d] + [p] + s[d + 1:]), x.batch_dim if x.batch_dim != d else None)
                 for p in parts)


def expand(x: Tensor, sizes) -> Tensor:
    s = shape_of(x)
    sizes = size_list(sizes)
    if len(sizes) < len(s):
        raise Violation(C.ExpandSizes())
    pad = len(sizes) - len(s)
    out = []
    for i, t in enumerate(sizes):
        if i < pad:
            out.append(t)
            continue
        cur = s[i - pad]
        if _is_int(t) and t == -1:
            out.append(cur)
        elif _is_int(cur) and cur == 1:
            out.append(t)
        elif D.equal(cur, t) == D.NEVER:
            raise Violation(Broadcast(op="expand", left=tuple(s), right=tuple(sizes), dim=i - len(sizes), a=cur, b=t))
        else:
            out.append(cur)
    return x.with_shape(tuple(out), x.batch_dim + pad if x.batch_dim is not None else None)


def repeat(x: Tensor, sizes) -> Tensor:
    s = shape_of(x)
    sizes = size_list(sizes)
    if len(sizes) < len(s):
        raise Violation(C.RepeatDims())
    pad = len(sizes) - len(s)
    full = (1,) * pad + tuple(s)
    return Tensor(tuple(D.mul(a, b) for a, b in zip(full, sizes)), x.dtype, None)


def numel(x: Tensor):
    return D.prod(shape_of(x))


def flatten(x: Tensor, start=0, end=-1) -> Tensor:
    return flatten_shape(x, start, end)


def einsum(equation: str, operands: Sequence[Tensor]) -> Tensor:
    """torch.einsum: each label's sizes must agree (or be 1, which broadcasts); '...' broadcasts."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, rhs = eq.split("->")
    else:
        lhs, rhs = eq, None
    terms = lhs.split(",")
    if len(terms) != len(operands):
        raise Violation(C.EinsumOperands(len(terms), len(operands)))
    sizes: Dict[str, Any] = {}
    ell_shapes = []
    for term, t in zip(terms, operands):
        s = list(shape_of(t))
        labels = term.replace("...", ".")
        if not all(c.isalpha() or c == "." for c in labels) or labels.count(".") > 1:
            raise Unknowable()
        n_ell = len(s) - (len(labels) - labels.count("."))
        if ("." in labels and n_ell < 0) or ("." not in labels and n_ell != 0):
            raise Violation(C.EinsumSubscripts(term, len(s)))
        i = 0
        for c in labels:
            if c == ".":
                ell_shapes.append(tuple(s[i:i + n_ell]))
                i += n_ell
                continue
            d = s[i]
            i += 1
            if c not in sizes or (_is_int(sizes[c]) and sizes[c] == 1):
                sizes[c] = d
            elif not (_is_int(d) and d == 1):
                if D.equal(sizes[c], d) == D.NEVER:
                    raise Violation(EinsumMismatch(op=equation, label=c, a=sizes[c], b=d,
                                                   shapes=tuple(tuple(shape_of(o)) for o in operands)))
    ell: Any = ()
    for es in ell_shapes:
        ell = broadcast(Tensor(ell), Tensor(es), "einsum").shape if ell or es else ()
    if rhs is None:
        counts: Dict[str, int] = {}
        for c in lhs.replace("...", "").replace(",", ""):
            counts[c] = counts.get(c, 0) + 1
        rhs = ("..." if "..." in lhs else "") + "".join(sorted(c for c, k in counts.items() if k == 1))
    out = []
    for c in rhs.replace("...", "."):
        if c == ".":
            out.extend(ell)
        elif c in sizes:
            out.append(sizes[c])
        else:
            raise Violation(C.EinsumOutputLabel(c))
    return Tensor(tuple(out), operands[0].dtype, None)


def unfold(x: Tensor, dim, size, step) -> Tensor:
    """Tensor.unfold(dim, size, step): windows along dim, the window as a new last dim."""
    s = list(shape_of(x))
    d = dim_or_violation(dim, max(len(s), 1))
    size, step = need(size), need(step)
    if not (_is_int(size) and _is_int(step)) or step <= 0 or size < 0:
        raise Unknowable()
    if D.at_least(D.sub(s[d], size), 0) == D.NEVER:
        raise Violation(Collapse("unfold", d, s[d], kernel=size))
    s[d] = D.floordiv(D.sub(s[d], size), step) + 1
    bd = x.batch_dim if x.batch_dim != d else None
    return Tensor((*s, size), x.dtype, bd)
