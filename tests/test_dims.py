"""Unit tests of shapelint.core.dims against brute force.

* random chains of conv / pool / transposed-conv / upsample formulas built with the dims ops are
  evaluated symbolically (``dims.evaluate`` and ``dims.substitute``) and compared to the same
  chain computed with plain Python ints (independent formulas, see docs/formulas.md), for H in 1..200;
* ``equal()`` / ``can_equal()`` / ``at_least()`` may answer NEVER only when a brute-force search
  over the valid sizes (every intermediate size >= 1, i.e. where torch would run) finds no
  solution, and ALWAYS only when every size agrees;
* canonical forms: formulas that are equal as functions of H built by different routes compare
  equal (``==``, ``hash``, text), e.g. conv k3 s2 p1 and conv k1 s2 p0.
"""
from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shapelint.core import dims as D
from shapelint.frameworks.torch.layers import conv_output, pool_output

H_RANGE = range(1, 201)
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------- a chain of formulas
# Each step is a tuple; `sym_step` applies it with the dims ops (symbolic or int), `ref_step` with
# plain Python ints, written independently from the torch docs.


@st.composite
def steps(draw):
    kind = draw(st.sampled_from(["conv", "pool_ceil", "pool_floor", "tconv", "scale", "ceildiv", "min", "affine"]))
    k = draw(st.integers(1, 7))
    s = draw(st.integers(1, 4))
    d = draw(st.integers(1, 3))
    if kind == "conv":
        return (kind, k, s, draw(st.integers(0, 3)), d)
    if kind in ("pool_ceil", "pool_floor"):
        eff = d * (k - 1) + 1
        return (kind, k, s, draw(st.integers(0, eff // 2)), d)
    if kind == "tconv":
        return (kind, k, s, draw(st.integers(0, 3)), d, draw(st.integers(0, max(s, d) - 1)))
    if kind == "scale":
        return (kind, draw(st.sampled_from([0.5, 1.5, 2.0, 0.7, 1.3, 0.29, 3.0, 2.5])))
    if kind == "ceildiv":
        return (kind, draw(st.integers(1, 5)))
    if kind == "min":
        return (kind, draw(st.integers(1, 60)))
    return (kind, draw(st.integers(1, 3)), draw(st.integers(-4, 4)))


def sym_step(L, step):
    kind = step[0]
    if kind == "conv":
        _, k, s, p, d = step
        return conv_output(L, k, s, p, d)
    if kind == "pool_ceil":
        _, k, s, p, d = step
        return pool_output(L, k, s, p, d, True)
    if kind == "pool_floor":
        _, k, s, p, d = step
        return pool_output(L, k, s, p, d, False)
    if kind == "tconv":
        _, k, s, p, d, op = step
        return D.add(D.mul(D.sub(L, 1), s), -2 * p + d * (k - 1) + op + 1)
    if kind == "scale":
        return D.floor_scale(L, step[1])
    if kind == "ceildiv":
        return D.ceildiv(L, step[1])
    if kind == "min":
        return D.dmin(L, step[1])
    _, a, b = step
    return D.add(D.mul(L, a), b)


def ref_step(L: int, step) -> int:
    kind = step[0]
    if kind in ("conv", "pool_floor"):
        _, k, s, p, d = step
        return (L + 2 * p - d * (k - 1) - 1) // s + 1
    if kind == "pool_ceil":
        _, k, s, p, d = step
        out = math.ceil((L + 2 * p - d * (k - 1) - 1) / s) + 1
        # the last window must start inside the input or the left padding
        if (out - 1) * s >= L + p:
            out -= 1
        return out
    if kind == "tconv":
        _, k, s, p, d, op = step
        return (L - 1) * s - 2 * p + d * (k - 1) + op + 1
    if kind == "scale":
        return math.floor(L * step[1])
    if kind == "ceildiv":
        return -(-L // step[1])
    if kind == "min":
        return min(L, step[1])
    _, a, b = step
    return L * a + b


def sym_chain(L, chain):
    for stp in chain:
        L = sym_step(L, stp)
    return L


def ref_chain(L: int, chain):
    """The final value and whether every intermediate size was >= 1 (torch would run)."""
    valid = L >= 1
    for stp in chain:
        L = ref_step(L, stp)
        valid = valid and L >= 1
    return L, valid


chains = st.lists(steps(), min_size=1, max_size=6)


@SETTINGS
@given(chains)
def test_chain_evaluates_like_plain_ints(chain):
    f = sym_chain(D.sym("H"), chain)
    for h in H_RANGE:
        want, _ = ref_chain(h, chain)
        assert D.evaluate(f, {"H": h}) == want, (D.text(f), h)
        # the int path of the same ops (what a concrete run computes)
        assert sym_chain(h, chain) == want, (chain, h)
    for h in (1, 7, 64, 199):
        assert D.substitute(f, {"H": h}) == ref_chain(h, chain)[0]


def _plain_ceil_pool(L, k, s, p, d):
    return ref_step(L, ("pool_ceil", k, s, p, d))


def test_ceil_mode_reference_example():
    # docs/formulas.md, pooling: MaxPool1d(2, 2, padding=1, ceil_mode=True), L=5 -> 3 (naive ceil gives 4)
    assert pool_output(5, 2, 2, 1, 1, True) == 3
    assert D.evaluate(pool_output(D.sym("L"), 2, 2, 1, 1, True), {"L": 5}) == 3
    assert _plain_ceil_pool(5, 2, 2, 1, 1) == 3


def test_floor_scale_is_ieee_double():
    # docs/formulas.md, upsample: floor(100 * 0.29) = 28, not 29
    assert D.floor_scale(100, 0.29) == 28
    assert D.evaluate(D.floor_scale(D.sym("H"), 0.29), {"H": 100}) == 28


# --------------------------------------------------------------------------- equal / can_equal


def _brute_force_1(chain, target, lo=1, hi=400):
    """Values of H in [lo, hi] where the chain is valid and equals target."""
    out = []
    for h in range(lo, hi + 1):
        v, valid = ref_chain(h, chain)
        if valid and v == target:
            out.append(h)
    return out


@SETTINGS
@given(chains, st.integers(1, 300), st.booleans())
def test_equal_never_only_without_solution_1d(chain, target, hit):
    f = sym_chain(D.sym("H"), chain)
    if hit:  # a target that is reached somewhere, so NEVER would be wrong
        vals = [ref_chain(h, chain) for h in range(1, 201)]
        vals = [v for v, ok in vals if ok and v >= 1]
        if vals:
            target = vals[target % len(vals)]
    rel = D.equal(f, target)
    if rel == D.NEVER:
        sols = _brute_force_1(chain, target)
        assert not sols, f"equal({D.text(f)}, {target}) is NEVER but H={sols[:5]} solve it"
        if isinstance(f, D.Lin):
            assert not D.can_equal(f, target)
    elif rel == D.ALWAYS:
        for h in H_RANGE:
            assert ref_chain(h, chain)[0] == target
    if isinstance(f, D.Lin) and not D.can_equal(f, target):
        assert not _brute_force_1(chain, target)


@SETTINGS
@given(chains, st.integers(-3, 40))
def test_at_least_never_only_when_never(chain, lo):
    f = sym_chain(D.sym("H"), chain)
    rel = D.at_least(f, lo)
    vals = [ref_chain(h, chain)[0] for h in range(1, 1025)]
    if rel == D.NEVER:
        assert max(vals) < lo, f"at_least({D.text(f)}, {lo}) is NEVER but reaches {max(vals)}"
    elif rel == D.ALWAYS:
        assert min(vals) >= lo


@SETTINGS
@given(st.lists(steps(), min_size=1, max_size=4), st.lists(steps(), min_size=1, max_size=4),
       st.integers(1, 64), st.integers(1, 5000), st.booleans())
def test_equal_never_only_without_solution_2d(chain_h, chain_w, channels, target, hit):
    """A flatten product C * f(H) * g(W) against a Linear's in_features."""
    fh = sym_chain(D.sym("H"), chain_h)
    fw = sym_chain(D.sym("W"), chain_w)
    f = D.prod([channels, fh, fw])
    table_h = {h: ref_chain(h, chain_h) for h in range(1, 121)}
    table_w = {w: ref_chain(w, chain_w) for w in range(1, 121)}
    if hit:
        vals = sorted({channels * vh * vw for vh, okh in table_h.values() if okh
                       for vw, okw in table_w.values() if okw})
        if vals:
            target = vals[target % len(vals)]
    rel = D.equal(f, target)
    if rel == D.NEVER:
        sols = [(h, w) for h, (vh, okh) in table_h.items() if okh
                for w, (vw, okw) in table_w.items() if okw and channels * vh * vw == target]
        assert not sols, f"equal({D.text(f)}, {target}) is NEVER but (H, W)={sols[:5]} solve it"
    elif rel == D.ALWAYS:
        for h in (1, 5, 50):
            for w in (1, 7, 33):
                assert channels * ref_chain(h, chain_h)[0] * ref_chain(w, chain_w)[0] == target


@st.composite
def branch_pairs(draw):
    """Two branches from one input, the second the first with one number changed (as a one-literal
    bug changes a padding or a kernel), or two unrelated ones."""
    left = draw(st.lists(steps(), min_size=1, max_size=3))
    if draw(st.booleans()):
        return left, draw(st.lists(steps(), min_size=1, max_size=3))
    i = draw(st.integers(0, len(left) - 1))
    step = list(left[i])
    ints = [j for j in range(1, len(step)) if isinstance(step[j], int)]
    if not ints:
        return left, left
    j = draw(st.sampled_from(ints))
    floor = 0 if (step[0], j) in (("conv", 3), ("pool_ceil", 3), ("pool_floor", 3), ("tconv", 3), ("tconv", 5)) \
        else (-4 if step[0] == "affine" and j == 2 else 1)
    step[j] = max(floor, step[j] + draw(st.sampled_from([-1, 1, 2])))
    if step[0] in ("pool_ceil", "pool_floor"):  # torch: padding at most half the effective kernel
        step[3] = min(step[3], (step[4] * (step[1] - 1) + 1) // 2)
    if step[0] == "tconv":  # output_padding below stride or dilation
        step[5] = min(step[5], max(step[2], step[4]) - 1)
    right = list(left)
    right[i] = tuple(step)
    return left, right


@SETTINGS
@given(st.lists(steps(), min_size=0, max_size=3), branch_pairs())
def test_equal_never_between_two_branches_only_without_solution(common, pair):
    """Two branches from one input (a skip connection and the path it is added or concatenated to):
    NEVER only when no integer H (not only the valid ones) makes them agree."""
    left, right = pair
    base = sym_chain(D.sym("H"), common)
    f, g = sym_chain(base, left), sym_chain(base, right)
    rel = D.equal(f, g)
    if rel == D.NEVER:
        same = [h for h in range(1, 3001)
                if ref_chain(ref_chain(h, common)[0], left)[0] == ref_chain(ref_chain(h, common)[0], right)[0]]
        assert not same, f"equal({D.text(f)}, {D.text(g)}) is NEVER but H={same[:5]} agree"
    elif rel == D.ALWAYS:
        for h in H_RANGE:
            c = ref_chain(h, common)[0]
            assert ref_chain(c, left)[0] == ref_chain(c, right)[0]


def test_never_zero_periodic_examples():
    H = D.sym("H")
    # a U-Net skip: four 2x2 pools then four 2x upsamplings, against the encoder's map, with one
    # conv padded by 2 instead of 1 before the pools (each 3x3 conv adds 2): never equal
    enc = D.add(H, 4)
    down = enc
    for _ in range(4):
        down = pool_output(down, 2, 2, 0, 1, False)
    up = D.mul(down, 16)
    assert D.equal(up, enc) == D.DEPENDS  # H + 4 a multiple of 16: equal
    assert D.equal(D.add(up, 1), D.mul(enc, 1)) == D.DEPENDS
    odd = D.add(D.mul(D.floordiv(H, 16), 2), 1)  # a transposed conv k3 s2 on H//16
    assert D.equal(odd, D.floordiv(H, 8)) == D.DEPENDS  # equal when H mod 16 >= 8
    assert D.equal(D.mul(D.floordiv(H, 16), 2), D.add(D.floordiv(H, 8), 2)) == D.NEVER
    assert D.never_zero(D.sub(D.add(D.mul(D.floordiv(D.add(H, 46), 16), 2), 2), D.floordiv(D.add(H, 30), 8)))
    # slopes differ: grows without bound, not decided
    assert D.equal(D.floordiv(H, 2), D.floordiv(H, 3)) == D.DEPENDS
    # two symbols: not decided here
    assert D.equal(D.add(H, D.sym("W")), D.add(H, D.add(D.sym("W"), 0))) == D.ALWAYS


def test_image_sides_start_at_two():
    """An image input's H and W stand for sizes >= 2 (torch broadcasts a 1-pixel map): a residual
    one pixel larger than its input never broadcasts then, and the solver's searches start at 2."""
    H = D.sym("H", lo=2)
    assert D.least(D.add(H, 1), "H") == 2 and D.least(D.sym("H"), "H") == 1
    assert D.equal(H, 1) == D.NEVER and D.equal(D.sym("H"), 1) == D.DEPENDS
    assert D.equal(D.floordiv(H, 2), 1) == D.DEPENDS  # H = 2 or 3
    assert D.equal(D.sub(H, 1), 1) == D.DEPENDS


def test_equal_never_examples():
    H, W = D.sym("H"), D.sym("W")
    # LeNet-style single side: 16 * (((H-4)//2 - 4)//2) reaches every multiple of 16, nothing else
    f = D.mul(16, pool_output(conv_output(pool_output(conv_output(H, 5, 1, 0, 1), 2, 2, 0, 1, False),
                                          5, 1, 0, 1), 2, 2, 0, 1, False))
    assert D.equal(f, 80) == D.DEPENDS
    assert D.equal(f, 81) == D.NEVER
    g = D.prod([16, conv_output(H, 5, 1, 0, 1), conv_output(W, 5, 1, 0, 1)])
    assert D.equal(g, 400) == D.DEPENDS  # H = W = 9
    assert D.equal(g, 401) == D.NEVER
    assert D.equal(g, 16 * 13) == D.DEPENDS  # 13 = 13 * 1: H = 17, W = 5
    # a stride-2 output is ceil(H/2): every value >= 1 is reachable
    h2 = conv_output(H, 3, 2, 1, 1)
    for t in range(1, 50):
        assert D.equal(h2, t) == D.DEPENDS
    assert D.equal(D.add(H, 1), D.add(H, 2)) == D.NEVER
    assert D.equal(D.add(H, 1), D.add(1, H)) == D.ALWAYS


def test_can_equal_product_with_gaps():
    # 4*H: only multiples of 4; 2*(H//3)+1 only odd values
    H = D.sym("H")
    f = D.mul(H, 4)
    for t in range(1, 100):
        assert D.can_equal(f, t) == (t % 4 == 0)
    g = D.add(D.mul(D.floordiv(H, 3), 2), 1)
    for t in range(1, 60):
        want = any(2 * (h // 3) + 1 == t for h in range(1, 400))
        if not D.can_equal(g, t):
            assert not want, t
        if t % 2 == 0:
            assert not D.can_equal(g, t), t  # even values are never reached


# --------------------------------------------------------------------------- canonical forms


def test_canonical_strided_conv_and_shortcut():
    H = D.sym("H")
    a = conv_output(H, 3, 2, 1, 1)  # 3x3 stride-2 conv, padding 1
    b = conv_output(H, 1, 2, 0, 1)  # 1x1 stride-2 shortcut
    assert a == b
    assert hash(a) == hash(b)
    assert D.text(a) == D.text(b)
    assert D.equal(a, b) == D.ALWAYS
    assert D.sub(a, b) == 0


@pytest.mark.parametrize("k,p", [(3, 1), (5, 2), (7, 3), (1, 0)])
def test_canonical_same_conv_is_identity(k, p):
    H = D.sym("H")
    assert conv_output(H, k, 1, p, 1) == H
    assert D.equal(conv_output(H, k, 1, p, 1), H) == D.ALWAYS


def test_canonical_forms_misc():
    H, W = D.sym("H"), D.sym("W")
    assert D.floordiv(D.floordiv(H, 2), 2) == D.floordiv(H, 4)
    assert D.add(H, W) == D.add(W, H)
    assert D.mul(H, W) == D.mul(W, H)
    assert D.prod([3, H, W]) == D.prod([W, 3, H])
    assert D.add(D.floordiv(H, 2), 1) == D.floordiv(D.add(H, 2), 2)
    assert D.sub(D.add(H, 5), 5) == H
    assert D.floordiv(D.mul(H, 4), 2) == D.mul(H, 2)
    assert D.floor_scale(H, 2.0) == D.mul(H, 2)
    # two stride-2 maxpools == one stride-4 pool of kernel 4 (floor mode, no padding)
    two = pool_output(pool_output(H, 2, 2, 0, 1, False), 2, 2, 0, 1, False)
    assert two == pool_output(H, 4, 4, 0, 1, False)
    # the same conv chain built twice is the same object text, whatever the route
    a = D.add(D.mul(D.sub(H, 1), 2), 1)
    b = D.sub(D.mul(H, 2), 1)
    assert a == b


@SETTINGS
@given(st.integers(1, 7), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))
def test_canonical_equal_functions_compare_equal(k, s, p, d):
    """Two conv configurations that give the same function of H on a large range must compare
    equal when dims reduces both to (H + c)//s + 1 (same stride): the canonical form is
    determined by s and by 2p - d(k-1) alone."""
    H = D.sym("H")
    a = conv_output(H, k, s, p, d)
    eff = d * (k - 1)
    # the 1-dilation kernel with the same effective extent and the same padding
    b = conv_output(H, eff + 1, s, p, 1)
    assert a == b and hash(a) == hash(b)
    for h in range(1, 100):
        assert D.evaluate(a, {"H": h}) == (h + 2 * p - eff - 1) // s + 1


@st.composite
def skip_pairs(draw):
    """A U-Net level: the skip (a few stride-1 convs) and the path below it (a 2x2 pool, convs whose
    padding may not keep the size, a 2x upsampling) that is added to or concatenated with it."""
    def conv():
        k = draw(st.integers(1, 5))
        return ("conv", k, 1, draw(st.integers(0, (k + 1) // 2)), 1)
    left = [conv() for _ in range(draw(st.integers(1, 2)))]
    mid = [conv() for _ in range(draw(st.integers(1, 2)))]
    up = ("tconv", 2, 2, 0, 1, 0) if draw(st.booleans()) else ("scale", 2.0)
    return left, left + [("pool_floor", 2, 2, 0, 1)] + mid + [up]


@SETTINGS
@given(st.lists(steps(), min_size=0, max_size=3), st.one_of(branch_pairs(), skip_pairs()), st.booleans())
def test_broadcast_reported_only_where_no_valid_size_broadcasts(common, pair, image):
    """A residual or attention add of two branches of one input (tensor_ops.broadcast): reported only
    when no input size (from 2 for an image, else 1) for which both branches are valid sizes, every
    intermediate size too, lets torch broadcast them (equal, or either of them 1), but for a size
    below MIN_BROADCAST_IMAGE where one side is 1 (a single pixel of an image, or of a block's
    feature map that differs from the other side everywhere else)."""
    from shapelint.core.values import Tensor
    from shapelint.frameworks.torch import tensor_ops as T
    from shapelint.frameworks.torch.layers import Violation

    left, right = pair
    lo = 2 if image else 1
    base = sym_chain(D.sym("H", lo=lo), common)
    f, g = sym_chain(base, left), sym_chain(base, right)
    try:
        T.broadcast(Tensor((2, 3, f)), Tensor((2, 3, g)), "+")
    except Violation:
        for h in range(lo, 3001):
            c, ok = ref_chain(h, common)
            a, ok_a = ref_chain(c, left)
            b, ok_b = ref_chain(c, right)
            if ok and ok_a and ok_b:
                if h < T.MIN_BROADCAST_IMAGE and a != b:
                    continue  # one side a single pixel of a tiny map: not a size the model is for
                if image and h < T.MIN_BROADCAST_IMAGE and a == b == 1:
                    continue  # two single-pixel maps of a tiny image (tensor_ops._narrow): nor is this
                assert a != b and a != 1 and b != 1, (D.text(f), D.text(g), h, a, b)


def _brute_fit(common, left, right, lo, ok, hi=3000):
    out = []
    for h in range(lo, hi + 1):
        c = ref_chain(h, common)[0]
        a, b = ref_chain(c, left)[0], ref_chain(c, right)[0]
        if a >= 1 and b >= 1 and ok(a, b):
            out.append(h)
    return out


@SETTINGS
@given(st.lists(steps(), min_size=0, max_size=3), st.one_of(branch_pairs(), skip_pairs()), st.booleans(),
       st.booleans())
def test_finitely_where_lists_every_fitting_size(common, pair, image, concat):
    """D.finitely_where (a residual add or skip concat that fits at only a few input sizes; the
    engine then checks the model at each): when it answers, its values are exactly the sizes from
    2 (an image) or 1 up to 3000 where both branches are >= 1 and fit, none beyond its proof."""
    from shapelint.frameworks.torch import tensor_ops as T

    left, right = pair
    lo = 2 if image else 1
    base = sym_chain(D.sym("H", lo=lo), common)
    f, g = sym_chain(base, left), sym_chain(base, right)
    ok = int.__eq__ if concat else T._broadcasts
    got = D.finitely_where(f, g, ok)
    if got is None:
        return
    symbol, values = got
    assert symbol == "H" and len(values) <= D.MAX_NARROW
    assert values == _brute_fit(common, left, right, lo, ok), (D.text(f), D.text(g), values)


def test_finitely_where_examples():
    from shapelint.frameworks.torch import tensor_ops as T

    H = D.sym("H", lo=2)
    # a 4x4 kernel padded by 1 in a residual block: H-1 against H broadcasts only at H = 2
    assert D.finitely_where(D.sub(H, 1), H, T._broadcasts) == ("H", [2])
    # ...and never concatenates
    assert D.finitely_where(D.sub(H, 1), H, int.__eq__) == ("H", [])
    # a 3x3 pool under a 2x upsampling against its skip: 2*(H//3) == H nowhere from 2 on
    assert D.finitely_where(D.mul(D.floordiv(H, 3), 2), H, int.__eq__) == ("H", [])
    # sizes that agree for every even H: not finitely many, no answer
    assert D.finitely_where(D.mul(D.floordiv(H, 2), 2), H, int.__eq__) is None
    # two symbols, or an unknown size: no answer
    assert D.finitely_where(D.sym("W"), H, T._broadcasts) is None
    assert D.finitely_where(D.fresh(), H, T._broadcasts) is None
