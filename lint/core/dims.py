"""Symbolic tensor dimensions.

A dimension is a plain ``int`` or a :class:`Lin`: an exact integer expression over symbols
(``N``, ``H``, ``W``...) kept in a canonical linear form ``const + sum(coeff * atom)``, where an
atom is a symbol, a floor division of a ``Lin`` by a positive constant, a product, a ``min`` or a
floor of a float scale.  Conv/pool/upsample formulas only ever need these, and the canonical form
makes equal formulas compare equal (``(H - 1)//2 + 1`` from a strided conv and from a strided
1x1 shortcut are the same object), so most questions are answered without search.

Questions about a claim ``a == b`` have three answers (:data:`ALWAYS`, :data:`NEVER`,
:data:`DEPENDS`).  NEVER is only returned when it is proven: by constant arithmetic, or by an
exhaustive search that relies on monotonicity (every conv/pool formula is non-decreasing in its
input size).  Anything else is DEPENDS, and callers stay silent on DEPENDS.
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Dict, Iterable, List, Optional, Tuple, Union

ALWAYS = "always"
NEVER = "never"
DEPENDS = "depends"

# Search bound for symbol values: a monotone binary search costs ~log2(BOUND) evaluations.
BOUND = 1 << 20


class Atom:
    __slots__ = ("_key", "_hash")
    _key: str
    _hash: int

    def key(self) -> str:  # canonical text, also used for ordering
        raise NotImplementedError

    def eval(self, env) -> int:  # the value under concrete symbol values
        raise NotImplementedError

    def __eq__(self, other):
        return isinstance(other, Atom) and self.key() == other.key()

    def __hash__(self):
        try:
            return self._hash
        except AttributeError:
            self._hash = hash(self.key())
            return self._hash

    def __lt__(self, other):
        return self.key() < other.key()


class Sym(Atom):
    """A named symbol. Opaque symbols stand for a size nobody knows; no claim about them is made.
    ``lo``: the smallest value it stands for (1; an image's height and width: 2, see
    frameworks/torch/inputs.py)."""

    __slots__ = ("name", "opaque", "lo")

    def __init__(self, name: str, opaque: bool = False, lo: int = 1):
        self.name = name
        self.opaque = opaque
        self.lo = lo

    def key(self):
        return self.name

    def eval(self, env):
        return env[self.name]

    def symbols(self):
        return {self.name}

    def is_opaque(self):
        return self.opaque

    def monotone(self):
        return True


class FloorDiv(Atom):
    __slots__ = ("num", "k")

    def __init__(self, num: "Lin", k: int):
        self.num = num
        self.k = k

    def key(self):
        try:
            return self._key
        except AttributeError:
            n = self.num
            bare = n.const == 0 and len(n.terms) == 1 and n.terms[0][1] == 1 and isinstance(n.terms[0][0], Sym)
            self._key = f"{n.text()}//{self.k}" if bare else f"({n.text()})//{self.k}"
            return self._key

    def eval(self, env):
        return _eval(self.num, env) // self.k

    def symbols(self):
        return self.num.symbols()

    def is_opaque(self):
        return self.num.is_opaque()

    def monotone(self):
        return self.num.monotone()


class Prod(Atom):
    __slots__ = ("factors",)

    def __init__(self, factors: Tuple[Union[Atom, "Lin"], ...]):
        self.factors = factors

    def key(self):
        try:
            return self._key
        except AttributeError:
            parts = []
            for f in self.factors:
                t = f.key() if isinstance(f, Sym) else f"({_text(f)})"
                parts.append(t)
            self._key = "*".join(parts)
            return self._key

    def eval(self, env):
        r = 1
        for f in self.factors:
            r *= _eval(f, env)
        return r

    def symbols(self):
        s = set()
        for f in self.factors:
            s |= f.symbols()
        return s

    def is_opaque(self):
        return any(f.is_opaque() for f in self.factors)

    def monotone(self):
        # Non-decreasing only where every factor is >= 0; the solver restricts to that region.
        return all(f.monotone() for f in self.factors)


class Min(Atom):
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a, self.b = a, b

    def key(self):
        try:
            return self._key
        except AttributeError:
            self._key = f"min({_text(self.a)}, {_text(self.b)})"
            return self._key

    def eval(self, env):
        return min(_eval(self.a, env), _eval(self.b, env))

    def symbols(self):
        return _symbols(self.a) | _symbols(self.b)

    def is_opaque(self):
        return _opaque(self.a) or _opaque(self.b)

    def monotone(self):
        return _monotone(self.a) and _monotone(self.b)


class FloorScale(Atom):
    """floor(x * f) for a float f, computed in IEEE double as torch does for scale_factor."""

    __slots__ = ("a", "f")

    def __init__(self, a, f: float):
        self.a, self.f = a, f

    def key(self):
        try:
            return self._key
        except AttributeError:
            self._key = f"floor({_text(self.a)}*{self.f!r})"
            return self._key

    def eval(self, env):
        return math.floor(_eval(self.a, env) * self.f)

    def symbols(self):
        return _symbols(self.a)

    def is_opaque(self):
        return _opaque(self.a)

    def monotone(self):
        return self.f >= 0 and _monotone(self.a)


class Lin:
    """const + sum(coeff * atom), canonical; never built with no terms (that is an int)."""

    __slots__ = ("const", "terms", "_key", "_hash")
    _key: str
    _hash: int

    def __init__(self, const: int, terms: Tuple[Tuple[Atom, int], ...]):
        self.const = const
        self.terms = terms

    # ---- identity -----------------------------------------------------------------------------
    def text(self) -> str:
        try:
            return self._key
        except AttributeError:
            pass
        out = ""
        for atom, c in self.terms:
            t = atom.key()
            if isinstance(atom, Prod) and c == 1:
                pass
            if c == 1:
                piece = t
            elif c == -1:
                piece = "-" + t
            else:
                piece = f"{c}*{t}"
            if out and not piece.startswith("-"):
                out += "+" + piece
            else:
                out += piece
        if self.const:
            out += f"{self.const:+d}"
        self._key = out
        return out

    def __repr__(self):
        return self.text()

    __str__ = text

    def __eq__(self, other):
        return isinstance(other, Lin) and self.text() == other.text()

    def __hash__(self):
        try:
            return self._hash
        except AttributeError:
            self._hash = hash(self.text())
            return self._hash

    def symbols(self):
        s = set()
        for a, _ in self.terms:
            s |= a.symbols()
        return s

    def is_opaque(self):
        return any(a.is_opaque() for a, _ in self.terms)

    def monotone(self):
        return all(c > 0 and a.monotone() for a, c in self.terms)

    # ---- arithmetic ---------------------------------------------------------------------------
    def __add__(self, o):
        return add(self, o)

    __radd__ = __add__

    def __sub__(self, o):
        return sub(self, o)

    def __rsub__(self, o):
        return sub(o, self)

    def __mul__(self, o):
        return mul(self, o)

    __rmul__ = __mul__

    def __neg__(self):
        return mul(self, -1)

    def __floordiv__(self, k):
        return floordiv(self, k)


Dim = Union[int, Lin]


def _text(x) -> str:
    if isinstance(x, int):
        return str(x)
    return x.key() if isinstance(x, Atom) else x.text()


def _eval(x, env) -> int:
    if isinstance(x, int):
        return x
    if isinstance(x, Atom):
        return x.eval(env)
    r = x.const
    for a, c in x.terms:
        r += c * a.eval(env)
    return r


def _symbols(x):
    return set() if isinstance(x, int) else x.symbols()


def _opaque(x):
    return False if isinstance(x, int) else x.is_opaque()


def _monotone(x):
    return True if isinstance(x, int) else x.monotone()


def _as_lin(x: Dim):
    """(const, {atom: coeff})"""
    if isinstance(x, int):
        return x, {}
    return x.const, dict(x.terms)


# A canonical form larger than these is a fresh opaque symbol (unknown), never an exponential
# blow-up: `h = h * h` repeated doubles the factors of a product each time.
MAX_TERMS = 64
MAX_FACTORS = 32
MAX_TEXT = 2_000
MAX_COEFF = 1 << 64


def _make(const: int, terms: Dict[Atom, int]) -> Dim:
    terms = {a: c for a, c in terms.items() if c != 0}
    if not terms:
        return const
    if len(terms) > MAX_TERMS or abs(const) > MAX_COEFF or any(abs(c) > MAX_COEFF for c in terms.values()) or \
            sum(len(a.key()) for a in terms) > MAX_TEXT:
        return fresh()
    # Canonical: a lone floor division absorbs the constant, (n)//k + c == (n + c*k)//k.
    if const and len(terms) == 1:
        (a, c), = terms.items()
        if c == 1 and isinstance(a, FloorDiv):
            return floordiv(add(a.num, const * a.k), a.k)
    return Lin(const, tuple(sorted(terms.items(), key=lambda t: t[0].key())))


def sym(name: str, opaque: bool = False, lo: int = 1) -> Lin:
    return Lin(0, ((Sym(name, opaque, lo), 1),))


def least(x, name: str) -> int:
    """The smallest value the symbol ``name`` of ``x`` stands for (its ``lo``; 1 when absent)."""
    if isinstance(x, int):
        return 1
    if isinstance(x, Sym):
        return x.lo if x.name == name else 1
    if isinstance(x, Lin):
        return max((least(a, name) for a, _c in x.terms), default=1)
    if isinstance(x, FloorDiv):
        return least(x.num, name)
    if isinstance(x, Prod):
        return max((least(f, name) for f in x.factors), default=1)
    if isinstance(x, Min):
        return max(least(x.a, name), least(x.b, name))
    if isinstance(x, FloorScale):
        return least(x.a, name)
    return 1


_opaque_counter = [0]


def fresh(prefix: str = "?") -> Lin:
    """A new opaque symbol: a dimension nothing is known about."""
    _opaque_counter[0] += 1
    return sym(f"{prefix}{_opaque_counter[0]}", opaque=True)


def is_dim(x) -> bool:
    return (isinstance(x, int) and not isinstance(x, bool)) or isinstance(x, Lin)


def add(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    ca, ta = _as_lin(a)
    cb, tb = _as_lin(b)
    # Undo a constant absorbed into a lone floor division so that sums stay canonical.
    for t in tb.items():
        ta[t[0]] = ta.get(t[0], 0) + t[1]
    return _make(ca + cb, ta)


def sub(a: Dim, b: Dim) -> Dim:
    return add(a, mul(b, -1))


def mul(a: Dim, b: Dim) -> Dim:
    if isinstance(a, int) and isinstance(b, int):
        return a * b
    if isinstance(b, int):
        a, b = b, a
    if isinstance(a, int):
        if a == 0:
            return 0
        cb, tb = _as_lin(b)
        return _make(a * cb, {t: c * a for t, c in tb.items()})
    # Both symbolic: a product atom with the numeric coefficients pulled out.
    coeff = 1
    factors = []
    for x in (a, b):
        for f in _factors(x):  # type: ignore[arg-type]  # both are Lin here
            if isinstance(f, int):
                coeff *= f
            else:
                factors.append(f)
    if len(factors) > MAX_FACTORS:
        return fresh()
    factors.sort(key=lambda f: f.key() if isinstance(f, Atom) else "(" + f.text())
    return _make(0, {Prod(tuple(factors)): coeff})


def _factors(x: Lin):
    if x.const == 0 and len(x.terms) == 1:
        atom, c = x.terms[0]
        if isinstance(atom, Prod):
            return [c, *atom.factors]
        return [c, atom]
    return [x]


def floordiv(a: Dim, k: int) -> Dim:
    """a // k for a positive int k, exact (Python/torch floor semantics)."""
    if not isinstance(k, int) or k <= 0:
        raise ValueError("floordiv by a non-positive or symbolic divisor")
    if isinstance(a, int):
        return a // k
    if k == 1:
        return a
    const, terms = _as_lin(a)
    # floor((k*A + B)/k) == A + floor(B/k) for integer A.
    pulled = {t: c // k for t, c in terms.items() if c % k == 0}
    rest = {t: c for t, c in terms.items() if c % k != 0}
    q, r = divmod(const, k)
    if not rest:
        return _make(q, pulled)
    if pulled:
        return add(_make(q, pulled), floordiv(_make(r, rest), k))
    if const == 0 and len(terms) == 1:
        (atom, c), = terms.items()
        if c == 1 and isinstance(atom, FloorDiv):
            # floor(floor(n/m)/k) == floor(n/(m*k)) for positive m, k.
            return floordiv(atom.num, atom.k * k)
    return Lin(0, ((FloorDiv(a, k), 1),))


def ceildiv(a: Dim, k: int) -> Dim:
    return floordiv(add(a, k - 1), k)


def dmin(a: Dim, b: Dim) -> Dim:
    d = sub(a, b)
    if isinstance(d, int):
        return a if d <= 0 else b
    if _text(a) > _text(b):
        a, b = b, a
    return _make(0, {Min(a, b): 1})


def floor_scale(a: Dim, f: float) -> Dim:
    f = float(f)
    if f.is_integer():
        return mul(a, int(f))
    if isinstance(a, int):
        return math.floor(a * f)
    return _make(0, {FloorScale(a, f): 1})


def prod(dims: Iterable[Dim]) -> Dim:
    r: Dim = 1
    for d in dims:
        r = mul(r, d)
    return r


def evaluate(x: Dim, env: Dict[str, int]) -> int:
    return _eval(x, env)


def symbols(x: Dim):
    return _symbols(x)


def text(x: Dim) -> str:
    """Readable form: ``(H-12)//4``, ``20*((H-12)//4)*((W-12)//4)``."""
    if isinstance(x, int):
        return str(x)
    return x.text()


# ------------------------------------------------------------------------------------------------
# Questions
# ------------------------------------------------------------------------------------------------

def equal(a: Dim, b: Dim) -> str:
    """Is a == b for every input size (ALWAYS), for none (NEVER), or only for some (DEPENDS)?"""
    d = sub(a, b)
    if isinstance(d, int):
        return ALWAYS if d == 0 else NEVER
    if isinstance(a, int) or isinstance(b, int):
        f, t = (b, a) if isinstance(a, int) else (a, b)
        return NEVER if not can_equal(f, t) else DEPENDS  # type: ignore[arg-type]  # f: Lin, t: int
    return NEVER if never_zero(d) else DEPENDS


MAX_PERIOD = 1 << 12


def never_zero(d: Dim) -> bool:
    """Proven: ``d`` (one symbol, linear terms and floor divisions) is non-zero for every integer
    value of its symbol. When d's slope is 0 it is periodic: with P a multiple of every floor
    division's step, ``x // k`` at ``s + P`` is ``x // k`` at ``s`` plus an integer, so
    ``d(s + P) == d(s)`` for every integer s, and one period decides it (two skip connections
    that pool and upsample differently: ``2*((H+4)//2//2) - (H+2)//2``)."""
    if isinstance(d, int):
        return d != 0
    if d.is_opaque():
        return False
    syms = d.symbols()
    if len(syms) != 1:
        return False
    s = next(iter(syms))
    steps: List[int] = []
    slope = _slope(d, s, steps)
    if slope is None:
        return False
    period = _period(steps)
    if period is None:
        return False
    if slope == 0:
        return all(_eval(d, {s: v}) != 0 for v in range(1, period + 1))
    return _sloped_never_zero(d, s, slope, period)


_MAX_ROOT_SCAN = 1 << 12


def _sloped_never_zero(d: "Lin", s: str, slope: Fraction, period: int) -> bool:
    """``d`` grows by exactly ``slope * period`` per period (see :func:`finitely_where`), so
    ``g(v) = d(v) - slope * v`` repeats with the period: d can be 0 only where ``slope * v`` lies
    in ``[-max g, -min g]``, a bounded range of v, each of which (from the symbol's least value:
    a constructor's size 1, an image's side 2) is checked (``2*d_model`` against ``3*d_model``: 0
    only at d_model = 0, no size)."""
    lo = least(d, s)
    gs = [_eval(d, {s: v}) - slope * v for v in range(lo, lo + period)]
    a, b = -max(gs) / slope, -min(gs) / slope
    first, last = max(lo, math.floor(min(a, b))), math.ceil(max(a, b))
    if last - first > _MAX_ROOT_SCAN:
        return False
    return all(_eval(d, {s: v}) != 0 for v in range(first, last + 1))


def _period(steps: List[int]) -> Optional[int]:
    """The least common multiple of the floor divisions' steps (None past MAX_PERIOD)."""
    period = 1
    for k in steps:
        period = period * k // math.gcd(period, k)
        if period > MAX_PERIOD:
            return None
    return period


def _slope(x, s: str, steps: List[int]) -> Optional[Fraction]:
    """How much x grows per unit of symbol s, when x is linear in s up to floor divisions (each
    division's step, the denominator of its slope, goes to ``steps``); None otherwise."""
    if isinstance(x, int):
        return Fraction(0)
    if isinstance(x, Lin):
        total = Fraction(0)
        for a, c in x.terms:
            v = _slope(a, s, steps)
            if v is None:
                return None
            total += c * v
        return total
    if isinstance(x, Sym):
        return Fraction(1) if x.name == s else None
    if isinstance(x, FloorDiv):
        v = _slope(x.num, s, steps)
        if v is None:
            return None
        q = v / x.k
        steps.append(q.denominator)
        return q
    return None  # products, min, float scales: not decided here


def at_least(a: Dim, lo: int) -> str:
    """Is a >= lo always / never / depends (used for 'output size must be >= 1')."""
    if isinstance(a, int):
        return ALWAYS if a >= lo else NEVER
    if a.is_opaque() or not a.monotone():
        return DEPENDS
    syms = sorted(a.symbols())
    top = {s: BOUND for s in syms}
    if _eval(a, top) < lo:
        return NEVER
    return DEPENDS


def can_equal(f: Lin, target: int) -> bool:
    """Does some assignment of positive sizes make f == target?  True unless disproved."""
    if f.is_opaque() or not f.monotone():
        return True
    syms = sorted(f.symbols())
    if len(syms) == 1:
        return _reach(lambda v: _eval(f, {syms[0]: v}), target, _lower(f, syms[0]))
    # Separable product: c * prod_s G_s(s) + const, each group depending on one symbol.
    if len(f.terms) != 1:
        return True
    atom, c = f.terms[0]
    if not isinstance(atom, Prod):
        return True
    m, rem = divmod(target - f.const, c)
    if rem or m <= 0:
        return False  # every group is >= 1 in the valid region, so the product is >= 1
    groups: Dict[str, list] = {}
    for fac in atom.factors:
        s = _symbols(fac)
        if len(s) != 1:
            return True
        groups.setdefault(next(iter(s)), []).append(fac)
    evals = []
    for s, facs in groups.items():
        lo = max(_lower(fac, s) for fac in facs)
        evals.append((s, facs, lo))

    def fn(s, facs):
        def g(v):
            r = 1
            for fac in facs:
                r *= _eval(fac, {s: v})
            return r
        return g

    funcs = [(fn(s, facs), lo) for s, facs, lo in evals]
    return _factorable(m, funcs)


def first_at_least(g, target: int, lo: int = 1, hi: int = BOUND) -> Optional[int]:
    """Smallest v in [lo, hi] with g(v) >= target, for a non-decreasing g; None if there is none."""
    if g(hi) < target:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if g(mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _lower(f, s) -> int:
    """Smallest value of symbol s (>= its least value) from which monotone f is >= 1 (the valid region)."""
    v = first_at_least(lambda x: _eval(f, {s: x}), 1, least(f, s))
    return BOUND if v is None else v


def _reach(g, target, lo) -> bool:
    v = first_at_least(g, target, lo)
    return v is not None and g(v) == target


def _divisors(m: int):
    small, large = [], []
    i = 1
    while i * i <= m:
        if m % i == 0:
            small.append(i)
            if i * i != m:
                large.append(m // i)
        i += 1
        if i > 100000:  # give up on enormous targets: cannot disprove
            return None
    return small + large[::-1]


def _factorable(m: int, funcs) -> bool:
    if not funcs:
        return m == 1
    (g, lo), rest = funcs[0], funcs[1:]
    if not rest:
        return _reach(g, m, lo)
    divs = _divisors(m)
    if divs is None:
        return True
    return any(_reach(g, d, lo) and _factorable(m // d, rest) for d in divs)


def solutions(f: Dim, target: int, symbol: str, lo: int = 1, hi: int = 4096):
    """The values of one symbol (others absent) in [lo, hi] where f == target, as a range list."""
    out = []
    for v in range(lo, hi + 1):
        if _eval(f, {symbol: v}) == target:
            out.append(v)
    return out


def substitute(x: Dim, env: Dict[str, int]) -> Dim:
    """Replace the symbols given in env by ints; others stay."""
    if isinstance(x, int):
        return x
    if not (x.symbols() & env.keys()):
        return x
    r: Dim = x.const
    for a, c in x.terms:
        r = add(r, mul(_subst_atom(a, env), c))
    return r


def _subst_atom(a: Atom, env) -> Dim:
    if isinstance(a, Sym):
        return env.get(a.name, Lin(0, ((a, 1),)))
    if isinstance(a, FloorDiv):
        return floordiv(substitute(a.num, env), a.k)
    if isinstance(a, Prod):
        return prod(substitute(f, env) if isinstance(f, Lin) else _subst_atom(f, env) for f in a.factors)
    if isinstance(a, Min):
        return dmin(substitute(a.a, env), substitute(a.b, env))
    if isinstance(a, FloorScale):
        return floor_scale(substitute(a.a, env), a.f)
    raise TypeError(a)


def as_int(x: Dim) -> Optional[int]:
    return x if isinstance(x, int) else None


MAX_NARROW = 4  # at most this many input sizes are checked one by one (engine: _settle_narrowing)
_NARROW_SCAN = 1 << 13


def finitely_where(a: Dim, b: Dim, ok, free_below: int = 0) -> Optional[Tuple[str, List[int]]]:
    """The few values of the one symbol of ``a`` and ``b`` where ``ok(a, b)`` holds, when that set
    is proven finite: ``(symbol, values)``, or None (several symbols, products, more than
    MAX_NARROW values from ``free_below`` on (the caller sets the smaller ones aside), or no proof). ``ok`` is only ever true where both sizes are >= 1 and either
    equal or one of them is 1 (torch's broadcasting; ``torch.cat`` passes ``a == b``).

    The proof: a and b are non-decreasing and linear in the symbol up to floor divisions, so from
    where both are >= 2 neither is 1 again; their difference d grows by exactly ``slope * P`` per
    period P (P a multiple of every division's step, as in :func:`never_zero`), so once a whole
    period has d of the slope's sign (non-zero), every later value has it too. Before that point
    every value is checked."""
    if isinstance(a, int) or isinstance(b, int) or a.is_opaque() or b.is_opaque():
        return None
    if not (a.monotone() and b.monotone()):
        return None
    syms = a.symbols() | b.symbols()
    if len(syms) != 1 or a.symbols() != b.symbols():
        return None
    s = next(iter(syms))
    steps: List[int] = []
    sa, sb = _slope(a, s, steps), _slope(b, s, steps)
    if sa is None or sb is None or sa <= 0 or sb <= 0:
        return None
    period = _period(steps)
    if period is None:
        return None
    lo = max(least(a, s), least(b, s))
    fa = lambda v: _eval(a, {s: v})  # noqa: E731
    fb = lambda v: _eval(b, {s: v})  # noqa: E731
    two_a, two_b = first_at_least(fa, 2, lo), first_at_least(fb, 2, lo)
    if two_a is None or two_b is None:
        return None
    start = max(two_a, two_b)  # from here on, no side is 1 (nor below)
    slope = sa - sb
    end: Optional[int] = None
    if slope == 0:
        if not never_zero(sub(a, b)):
            return None
        end = start
    else:
        sign = 1 if slope > 0 else -1
        run, v = 0, start
        while v < start + _NARROW_SCAN:
            d = fa(v) - fb(v)
            run = run + 1 if d * sign > 0 else 0
            v += 1
            if run >= period:
                end = v - period
                break
        if end is None:
            return None
    found = []
    for v in range(lo, end):
        x, y = fa(v), fb(v)
        if x >= 1 and y >= 1 and ok(x, y):
            found.append(v)
            if v >= free_below and sum(1 for u in found if u >= free_below) > MAX_NARROW:
                return None
    return s, found
