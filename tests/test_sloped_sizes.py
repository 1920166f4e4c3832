"""Sizes that are multiples of one constructor parameter (``nn.Linear(d_model, 2 * d_model)`` then
``nn.Linear(3 * d_model, d_model)``): they differ for every size the parameter stands for (a
layer's size is at least 1), so the class nobody builds in sight is reported for any value.
torch judges each case at several values; ``dims.equal`` itself is checked against brute force."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.core import dims as D  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

FEED = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, d_model, n_head):
            super().__init__()
            self.fc1 = nn.Linear(d_model, d_model * @A@)
            self.norm = nn.LayerNorm(d_model * @A@)
            self.fc2 = nn.Linear(d_model * @B@, d_model)

        def forward(self, x):
            return self.fc2(self.norm(self.fc1(x)))
''')

RESIDUAL = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Mix(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.up = nn.Linear(dim, dim * @A@)
            self.side = nn.Linear(dim, @B@ * dim + @C@)

        def forward(self, x):
            return self.up(x) + self.side(x)
''')

SIZES = [1, 2, 8, 64]


def _line(code, cls, build, shape):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns[cls](*build)(torch.randn(*shape))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


def _feed(a, b):
    return FEED.replace("@A@", str(a)).replace("@B@", str(b))


def _residual(a, b, c):
    return RESIDUAL.replace("@A@", str(a)).replace("@B@", str(b)).replace("@C@", str(c))


@pytest.mark.parametrize("a,b", [(2, 3), (4, 2), (1, 2)])
def test_a_multiple_that_never_fits_is_reported(a, b):
    code = _feed(a, b)
    (line,) = {_line(code, "Block", (d, 4), (2, 5, d)) for d in SIZES}
    assert line is not None
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP002", line)], [f.message for f in got]
    assert "for any value of d_model" in got[0].message


def test_the_same_multiple_is_silent():
    code = _feed(2, 2)
    assert {_line(code, "Block", (d, 4), (2, 5, d)) for d in SIZES} == {None}
    assert analyze_source(code, "case.py").findings == []


@pytest.mark.parametrize("a,b,c", [(2, 3, 0), (3, 1, 1), (4, 2, 1)])
def test_an_add_that_never_broadcasts_is_reported(a, b, c):
    code = _residual(a, b, c)
    (line,) = {_line(code, "Mix", (d,), (2, d)) for d in SIZES}
    assert line is not None
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", line)], [f.message for f in got]


@pytest.mark.parametrize("a,b,c", [(3, 1, 4), (2, 1, 2), (3, 2, 3)])
def test_sizes_that_fit_for_one_value_are_silent(a, b, c):
    # 3*dim against dim + 4 fits at dim = 2 (torch runs), and 2*dim against dim + 2 at dim = 2;
    # 3*dim against 2*dim + 3 at dim = 3: the parameter may be that value
    code = _residual(a, b, c)
    fits = [d for d in range(1, 10) if _line(code, "Mix", (d,), (2, d)) is None]
    assert fits, "torch runs the class at some size"
    assert analyze_source(code, "case.py").findings == []


@settings(max_examples=300, deadline=None)
@given(st.integers(-6, 6), st.integers(-40, 40), st.integers(1, 5), st.integers(-30, 30),
       st.integers(1, 3))
def test_equal_matches_brute_force(k, c, step, c2, lo):
    # d = k*s + c + (s + c2) // step, for s >= lo: NEVER only if no value there makes it zero
    s = D.sym("s", lo=lo)
    x = D.add(D.add(D.mul(s, k), c), D.floordiv(D.add(s, c2), step))
    rel = D.equal(x, 0) if isinstance(x, int) else D.equal(D.add(x, s), s)
    zeros = [v for v in range(lo, 5000) if D.evaluate(x, {"s": v}) == 0]
    if rel == D.NEVER:
        assert zeros == []
    if rel == D.ALWAYS:
        assert len(zeros) == 5000 - lo
