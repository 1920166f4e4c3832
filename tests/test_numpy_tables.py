"""Tables built with numpy before torch gets them (lint/core/ndarray.py) and long comprehensions of
numbers (summarised: expressions.py ``_bulk``). numpy and torch are the judges: a random chain of
numpy operations is run for real, and the tensor torch makes of it must have the shape the analysis
gives; where numpy raises, the analysis knows no shape and reports nothing."""
from __future__ import annotations

import os
import textwrap
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")
np = pytest.importorskip("numpy")

MODEL = textwrap.dedent('''\
    import numpy as np
    import torch
    import torch.nn as nn


    class Table(nn.Module):
        def __init__(self):
            super().__init__()
    {body}
            self.register_buffer("t", torch.tensor(t, dtype=torch.float32))

        def forward(self, x):
            return self.t
''')


def _run_both(body: str):
    code = MODEL.format(body=textwrap.indent(textwrap.dedent(body), " " * 8))
    ns: dict = {}
    try:
        exec(compile(code, "case.py", "exec"), ns)
        want = tuple(ns["Table"]()(torch.zeros(1)).shape)
    except (ValueError, IndexError, TypeError):
        want = None
    a = analyze_source(code, "case.py", {"Table": [(1,)]})
    assert a.findings == [], body
    (run,) = a.runs
    got = run.output.shape if run.output is not None and hasattr(run.output, "shape") else None
    return want, got


# ------------------------------------------------------------------------------------------------
# the forms model code uses, one by one
# ------------------------------------------------------------------------------------------------

CASES = [
    # the sinusoid table of the attention-is-all-you-need family: 200 x 512, summarised
    """
    def angles(position, d_hid):
        return [position / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
    t = np.array([angles(p, 512) for p in range(200)])
    t[:, 0::2] = np.sin(t[:, 0::2])
    t[:, 1::2] = np.cos(t[:, 1::2])
    """,
    # the same written as one nested comprehension with a guard for the first row
    """
    t = np.array([[pos / np.power(10000, 2 * i / 300) for i in range(300)] if pos != 0 else np.zeros(300)
                  for pos in range(150)])
    t[1:, 0::2] = np.sin(t[1:, 0::2])
    """,
    # a thin-plate-spline control grid (deep-text-recognition's TPS)
    """
    F = 20
    ctrl_pts_x = np.linspace(-1.0, 1.0, int(F / 2))
    ctrl_pts_y_top = -1 * np.ones(int(F / 2))
    ctrl_pts_y_bottom = np.ones(int(F / 2))
    top = np.stack([ctrl_pts_x, ctrl_pts_y_top], axis=1)
    bottom = np.stack([ctrl_pts_x, ctrl_pts_y_bottom], axis=1)
    C = np.concatenate([top, bottom], axis=0)
    hat = np.concatenate([np.ones((F, 1)), C], axis=1)
    t = np.concatenate([hat, np.zeros((F, 3))], axis=1).T
    """,
    # a grid of pixel centres, reshaped and transposed
    """
    xs = (np.arange(0, 32) + 0.5) / 32
    t = np.stack([np.outer(np.ones(16), xs), np.outer(np.arange(16) / 16, np.ones(32))], axis=-1)
    t = t.reshape(-1, 2).transpose(1, 0)[None]
    """,
    # deep-text-recognition's TPS: the inverse of the (F+3)x(F+3) system, and the sampling grid's
    # radial basis (meshgrid, tile, norm along an axis, a matrix product)
    """
    F = 20
    C = np.concatenate([np.stack([np.linspace(-1.0, 1.0, F // 2), -1 * np.ones(F // 2)], axis=1),
                        np.stack([np.linspace(-1.0, 1.0, F // 2), np.ones(F // 2)], axis=1)], axis=0)
    hat_C = np.zeros((F, F), dtype=float)
    np.fill_diagonal(hat_C, 1)
    hat_C = (hat_C ** 2) * np.log(hat_C)
    delta_C = np.concatenate([np.concatenate([np.ones((F, 1)), C, hat_C], axis=1),
                              np.concatenate([np.zeros((2, 3)), np.transpose(C)], axis=1),
                              np.concatenate([np.zeros((1, 3)), np.ones((1, F))], axis=1)], axis=0)
    inv_delta_C = np.linalg.inv(delta_C)
    gx = (np.arange(-100, 100, 2) + 1.0) / 100
    gy = (np.arange(-32, 32, 2) + 1.0) / 32
    P = np.stack(np.meshgrid(gx, gy), axis=2).reshape([-1, 2])
    P_diff = np.tile(np.expand_dims(P, axis=1), (1, F, 1)) - np.expand_dims(C, axis=0)
    rbf_norm = np.linalg.norm(P_diff, ord=2, axis=2, keepdims=False)
    P_hat = np.concatenate([np.ones((P.shape[0], 1)), P, np.square(rbf_norm)], axis=1)
    t = P_hat @ inv_delta_C[:, :F + 3]
    """,
    # float ranges: numpy's length is ceil((stop - start) / step)
    "t = np.stack([np.arange(0.5, 3.2, 0.25), np.arange(1.0, 4.3, 0.25)[:11], np.arange(10.5)[:11] * 1.0])",
    # numpy's errors: ragged data, a bad broadcast, an index past the end: no shape, no finding
    "t = np.array([[1.0, 2.0], [3.0]])",
    "t = np.ones((3, 4)) + np.ones((4, 3))",
    "t = np.ones((3, 4))[:, 5]",
    "t = np.concatenate([np.ones((2, 3)), np.ones((2, 4))], axis=0)",
]


@pytest.mark.parametrize("body", CASES)
def test_tables_as_torch_gets_them(body):
    want, got = _run_both(body)
    assert got == want


def test_a_long_comprehension_is_summarised_not_run():
    """200 x 512 items would exhaust the step budget run one by one (the class was abandoned)."""
    body = CASES[0]
    code = MODEL.format(body=textwrap.indent(textwrap.dedent(body), " " * 8))
    a = analyze_source(code, "case.py", {"Table": [(1,)]})
    assert [r.error for r in a.runs] == [None]


def test_a_summarised_list_keeps_its_length_and_first_item_only():
    """``len`` of a summarised list is exact, its first item is computed, the others are unknown: a
    layer sized by the first item is built, one sized by another item is not guessed."""
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                widths = [4 + (i % 3) for i in range(300)]
                self.a = nn.Linear(len(widths), widths[0])
                self.b = nn.Linear(widths[0], widths[1])

            def forward(self, x):
                return self.b(self.a(x))
    ''')
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    want = tuple(ns["Net"]()(torch.zeros(2, 300)).shape)
    a = analyze_source(code, "case.py", {"Net": [(2, 300)]})
    assert a.findings == []
    (run,) = a.runs
    assert want == (2, 5)
    # widths[1] is not guessed: the output's last dim is not a number
    assert run.output is None or run.output.shape is None or not isinstance(run.output.shape[-1], int)


def test_a_comprehension_with_effects_is_run_item_by_item():
    """``[layers.append(...) for ...]`` makes None items: not summarised, so every layer is built."""
    code = textwrap.dedent('''\
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                layers = []
                [layers.append(nn.Linear(8, 8)) for _ in range(130)]
                self.body = nn.Sequential(*layers)
                self.head = nn.Linear(8, 3)

            def forward(self, x):
                return self.head(self.body(x))
    ''')
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    want = tuple(ns["Net"]()(torch.zeros(2, 8)).shape)
    a = analyze_source(code, "case.py", {"Net": [(2, 8)]})
    (run,) = a.runs
    assert run.output is not None and run.output.shape == want


# ------------------------------------------------------------------------------------------------
# random chains of numpy operations
# ------------------------------------------------------------------------------------------------

def _slice_text(draw, rank):
    parts = []
    for _ in range(draw(st.integers(0, rank))):
        parts.append(draw(st.sampled_from([":", "1:", ":-1", "0::2", "1::2", "0", "-1", "None", "::3", "2:5"])))
    if draw(st.booleans()) and parts:
        parts.insert(draw(st.integers(0, len(parts))), "...")
    return "[" + ", ".join(parts) + "]" if parts else "[...]"


@st.composite
def chains(draw):
    shape = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3))
    lines = [draw(st.sampled_from([
        f"t = np.zeros({tuple(shape)})",
        f"t = np.ones({tuple(shape)}, dtype=np.float32)",
        f"t = np.random.rand({', '.join(map(str, shape))})",
        f"t = np.arange({int(np.prod(shape))}).reshape({tuple(shape)}) * 1.0",
    ]))]
    rank = len(shape)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["slice", "unary", "bin", "cat", "stack", "expand", "reshape", "T",
                                   "transpose", "list"]))
        other = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
        if op == "slice":
            lines.append(f"t = t{_slice_text(draw, rank)}")
        elif op == "unary":
            lines.append(f"t = np.{draw(st.sampled_from(['sin', 'cos', 'exp', 'sqrt', 'abs', 'tanh']))}(t)")
        elif op == "bin":
            rhs = draw(st.sampled_from([f"np.ones({tuple(other)})", "2.0", "t", "t[..., :1]"]))
            lines.append(f"t = t {draw(st.sampled_from(['+', '-', '*', '/']))} {rhs}")
        elif op == "cat":
            lines.append(f"t = np.concatenate([t, t], axis={draw(st.integers(-2, 2))})")
        elif op == "stack":
            lines.append(f"t = np.stack([t, t, t], axis={draw(st.integers(-2, 2))})")
        elif op == "expand":
            lines.append(f"t = np.expand_dims(t, {draw(st.integers(-2, 2))})")
        elif op == "reshape":
            lines.append(draw(st.sampled_from(["t = t.reshape(-1)", "t = t.reshape(-1, 2)", "t = t.reshape(2, -1)",
                                               "t = np.reshape(t, (1, -1))"])))
        elif op == "T":
            lines.append("t = t.T")
        elif op == "transpose":
            lines.append(draw(st.sampled_from(["t = np.transpose(t)", "t = t.transpose(1, 0)",
                                               "t = np.transpose(t, (0, 2, 1))"])))
        else:
            lines.append(f"t = np.array([t{_slice_text(draw, rank)} for _ in range({draw(st.integers(0, 3))})])")
    return "\n".join(lines)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chains())
def test_random_numpy_chains_match_numpy(body):
    want, got = _run_both(body)  # no finding either way (checked there)
    if want is not None:
        # every operation of the chain is modelled: the analysis knows the shape
        assert got == want, body


FROM_NUMPY = textwrap.dedent('''\
    import numpy as np
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            grid = np.stack(np.meshgrid(np.linspace(-1, 1, 8), np.linspace(-1, 1, 6)), axis=-1)
            self.register_buffer("grid", CONVERT)
            self.fc = nn.Linear(WIDTH, 4)

        def forward(self, x):
            return self.fc(x + self.grid.reshape(1, -1))
''')


@pytest.mark.parametrize("convert,width,line", [
    ("torch.from_numpy(grid).float()", 96, None),     # converted: float, followed
    ("torch.from_numpy(grid).float()", 97, 14),       # followed: the Linear is checked
    ("torch.from_numpy(grid)", 97, 14),               # float64: torch refuses the Linear's dtype
    ("torch.from_numpy(grid).to(torch.float32)", 97, 14),
])
def test_arrays_made_tensors_keep_numpys_dtype(convert, width, line):
    code = FROM_NUMPY.replace("CONVERT", convert).replace("WIDTH", str(width))
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    try:
        ns["Net"]()(torch.zeros(2, 96))
        got_line, err = None, ""
    except RuntimeError as e:
        got_line, err = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1], str(e)
    assert got_line == line
    found = analyze_source(code, "case.py", {"Net": [(2, 96)]}).findings
    if "float()" in convert or "float32" in convert:
        assert [(f.code, f.line) for f in found] == ([] if line is None else [("SHP002", line)])
    else:
        assert "dtype" in err or "Double" in err  # not a shape error: nothing is reported
        assert found == []
