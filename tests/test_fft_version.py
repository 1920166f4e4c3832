"""torch.fft's shape rules and torch.__version__ (Autoformer's `compared_version(torch.__version__,
'1.5.0')` picks a conv's padding), against torch itself."""
from __future__ import annotations

import os
import textwrap
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import static_shapes, torch_shapes

os.environ["SHAPELINT_STRICT"] = "1"
torch = pytest.importorskip("torch")

HEADER = "import math\nimport torch\nimport torch.nn as nn\n\n"


def _torch(code, inputs):
    ns = {}
    exec(compile(code, "<case>", "exec"), ns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ns["Net"]()
        try:
            with torch.no_grad():
                return model(*[torch.randn(*s) for s in inputs]), None
        except Exception as e:  # noqa: BLE001 - torch's verdict is the oracle
            return None, e


def check(body, inputs, *, known=True):
    from shapelint.engine import analyze_source

    code = HEADER + textwrap.dedent(body)
    out, err = _torch(code, inputs)
    a = analyze_source(code, "case.py", {"Net": [tuple(s) for s in inputs]}, strict=True)
    if err is not None:
        assert a.findings, f"torch raised {type(err).__name__}: {err}\nbut shapelint found nothing in\n{code}"
        import traceback

        line = [f.lineno for f in traceback.extract_tb(err.__traceback__) if f.filename == "<case>"][-1]
        assert line in {f.line for f in a.findings}, (line, a.findings, code)
        return a
    assert not a.findings, f"torch accepts, shapelint reports {a.findings}\n{code}"
    runs = [r for r in a.runs if r.concrete]
    assert runs
    static = static_shapes(runs[0].output)
    if known:
        assert static is not None, f"output unknown; torch gives {torch_shapes(out)}"
    if static is not None:
        assert static == torch_shapes(out), (static, torch_shapes(out), code)
    return a


FFT = """
class Net(nn.Module):
    def forward(self, x):
        y = torch.fft.{op}(x{args})
        return y.real if y.is_complex() else y
"""

# .real/.is_complex() are not modelled for every case: the transform's own output is checked below
FFT_RAW = """
class Net(nn.Module):
    def forward(self, x):
        return torch.fft.{op}(x{args}).abs()
"""


@pytest.mark.parametrize("op,shape,args", [
    ("rfft", (2, 8, 96), ""), ("rfft", (2, 8, 95), ", dim=1"), ("rfft", (2, 8, 96), ", n=50"),
    ("irfft", (2, 8, 49), ""), ("irfft", (2, 8, 49), ", n=96"), ("irfft", (2, 8, 49), ", n=97, dim=-1"),
    ("fft", (3, 7), ""), ("fft", (3, 7), ", n=10, dim=0"), ("ifft", (3, 7), ", 4"),
    ("rfft2", (2, 3, 8, 10), ""), ("irfft2", (2, 3, 8, 6), ""), ("irfft2", (2, 3, 8, 6), ", s=(8, 11)"),
    ("rfftn", (2, 3, 8, 10), ", dim=(1, 2)"), ("fftn", (2, 3, 4), ""), ("irfftn", (2, 3, 8, 6), ", s=(5, 9)"),
    ("fft2", (4, 5, 6), ", s=(3, 3)"), ("hfft", (2, 9), ""), ("ihfft", (2, 9), ""),
    ("fftshift", (2, 9), ""), ("rfft", (2, 8, 96), ", dim=-1, norm='ortho'"),
])
def test_fft_shapes_match_torch(op, shape, args):
    check(FFT_RAW.format(op=op, args=args), [shape])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(op=st.sampled_from(["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]),
       shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       n=st.one_of(st.none(), st.integers(1, 12)), dim=st.integers(-3, 2))
def test_fft_one_dim_property(op, shape, n, dim):
    args = ""
    if n is not None:
        args += f", n={n}"
    args += f", dim={dim}"
    code = FFT_RAW.format(op=op, args=args)
    _, err = _torch(HEADER + textwrap.dedent(code), [tuple(shape)])
    if err is not None:
        return  # a bad dim or too few points: torch's refusal, which the rule leaves unknown
    check(code, [tuple(shape)])


def test_spectral_mixing_then_a_wrong_linear_is_found():
    """irfft(rfft(x) * w, n=L) keeps L: a Linear sized for L // 2 + 1 fails on the line torch does."""
    a = check("""
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(49, 10)

        def forward(self, x):
            q = torch.fft.rfft(x, dim=-1)
            corr = torch.fft.irfft(q * torch.conj(q), n=x.shape[-1], dim=-1)
            return self.head(corr)
    """, [(2, 4, 96)])
    assert {f.code for f in a.findings} == {"SHP002"}


def test_autocorrelation_top_k_aggregation_is_followed():
    """Autoformer's delay aggregation: topk over a mean, a list comprehension of columns stacked,
    rolls by each delay; the output keeps the values' shape."""
    check("""
    class Net(nn.Module):
        def __init__(self, factor=1):
            super().__init__()
            self.factor = factor

        def forward(self, values):
            head, channel, length = values.shape[1], values.shape[2], values.shape[3]
            q = torch.fft.rfft(values, dim=-1)
            corr = torch.fft.irfft(q * torch.conj(q), n=length, dim=-1)
            top_k = int(self.factor * math.log(length))
            mean_value = torch.mean(torch.mean(corr, dim=1), dim=1)
            index = torch.topk(torch.mean(mean_value, dim=0), top_k, dim=-1)[1]
            weights = torch.stack([mean_value[:, index[i]] for i in range(top_k)], dim=-1)
            tmp_corr = torch.softmax(weights, dim=-1)
            delays_agg = torch.zeros_like(values).float()
            for i in range(top_k):
                pattern = torch.roll(values, -int(index[i]), -1)
                delays_agg = delays_agg + pattern * \\
                    (tmp_corr[:, i].unsqueeze(1).unsqueeze(1).unsqueeze(1).repeat(1, head, channel, length))
            return delays_agg
    """, [(2, 4, 8, 24)])


# ------------------------------------------------------------------ torch.__version__

OTHERS = ["1.5.0", "1.5", "2.0", "2.0.0", "1.10", "1.10.0", "2.13", "2.13.0", "2.13.1", "2.14", "3.0", "10.0",
          (1, 5), (2, 0), (2, 13), (2, 13, 0), (3,)]


@pytest.mark.parametrize("other", OTHERS)
def test_torch_version_compares_as_torch_does(other):
    from shapelint.core.values import TorchVersion

    real = torch.__version__
    ours = TorchVersion(str(real))
    for op in ("<", "<=", ">", ">=", "==", "!="):
        assert eval(f"ours {op} other") == eval(f"real {op} other"), (op, real, other)


def test_torch_version_is_the_installed_one():
    from shapelint.core.values import torch_version

    assert torch_version() == str(torch.__version__)


def test_lint_path_reads_the_version_without_importing_torch(tmp_path):
    import subprocess
    import sys

    code = ("import sys\nfrom shapelint.core.values import torch_version\nv = torch_version()\n"
            "assert 'torch' not in sys.modules, 'torch imported'\nprint(v)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(torch.__version__)


VERSIONED = """
def compared_version(ver1, ver2):
    list1 = str(ver1).split(".")
    list2 = str(ver2).split(".")
    for i in range(len(list1)) if len(list1) < len(list2) else range(len(list2)):
        if int(list1[i]) == int(list2[i]):
            pass
        elif int(list1[i]) < int(list2[i]):
            return -1
        else:
            return 1
    if len(list1) == len(list2):
        return True
    elif len(list1) < len(list2):
        return False
    else:
        return True


class Net(nn.Module):
    def __init__(self, c_in=7, d_model=16):
        super().__init__()
        padding = 1 if {cond} else 2
        self.conv = nn.Conv1d(c_in, d_model, kernel_size=3, padding=padding, padding_mode='circular')
        self.head = nn.Linear(96, 4)

    def forward(self, x):
        return self.head(self.conv(x.permute(0, 2, 1)))
"""


@pytest.mark.parametrize("cond", ["compared_version(torch.__version__, '1.5.0')", "torch.__version__ >= '1.5.0'",
                                  "torch.__version__ >= (1, 5)", "torch.__version__ < '2.0'",
                                  "int(torch.__version__.split('.')[0]) >= 2",
                                  "float(torch.__version__[:3]) >= 1.5"])
def test_branches_on_the_torch_version_are_decided(cond):
    """The padding decides the length the head sees: 96 (padding 1) runs, 98 fails in the head."""
    check(VERSIONED.format(cond=cond), [(2, 96, 7)])
