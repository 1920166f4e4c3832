"""A conv stack fed a tensor whose rank the analysis cannot tell (Wav2Lip's `if len(x.size()) > 4:`
folds time into the batch first; any input no layer can tell): a ConvNd takes ``(C, *spatial)``
or ``(N, C, *spatial)``, so its channels are dim ``-(n+1)`` either way. The output's last dims are
known all the same (``Tensor.tail``), and the next conv or BatchNorm2d checks its channels there.
Spatial sizes stay opaque: nothing is claimed about them. torch judges at 4-D and 5-D inputs."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

NET = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(
                nn.Conv2d(6, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(BN), nn.ReLU(inplace=True),
                nn.Conv2d(CH, 64, 3, padding=1), nn.LeakyReLU(0.2),
                nn.ConvTranspose2d(64, 16, 4, stride=2, padding=1),
            )

        def forward(self, x):
            if len(x.size()) > 4:
                x = torch.cat([x[:, :, i] for i in range(x.size(2))], dim=0)
            return self.enc(x)
''')
CALL = 18


def _fails_at(code, shape):
    return torch_fails_at(code, lambda ns: ns["Net"]().eval()(torch.randn(*shape)))


@pytest.mark.parametrize("bn, ch", [(32, 33), (32, 16), (31, 32)])
def test_a_channel_mismatch_after_an_input_of_unknown_rank(bn, ch):
    code = NET.replace("BN", str(bn)).replace("CH", str(ch))
    assert {_fails_at(code, s) for s in [(2, 6, 32, 32), (2, 6, 5, 24, 24), (1, 6, 17, 9)]} == {CALL}
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP003", CALL)], [f.message for f in got]


def test_the_clean_stack_is_silent():
    code = NET.replace("BN", "32").replace("CH", "32")
    assert {_fails_at(code, s) for s in [(2, 6, 32, 32), (2, 6, 5, 24, 24)]} == {None}
    assert analyze_source(code, "case.py").findings == []


_PASS = ("relu", "pool", "apool")  # layers that keep whatever channels they are given
LAYER = st.sampled_from(["conv", "convt", "bn", "relu", "in", "pool", "apool"])


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(st.tuples(LAYER, st.sampled_from([4, 6, 8]), st.sampled_from([4, 6, 8])), min_size=2, max_size=6))
def test_random_stacks_on_an_input_of_unknown_rank(stack):
    """A finding only where torch fails with a channel error at every size tried; a channel error
    torch raises is found (spatial sizes are opaque here: a kernel larger than the map is not)."""
    layers = []
    for kind, cin, cout in stack:
        layers.append({"conv": f"nn.Conv2d({cin}, {cout}, 3, padding=1)",
                       "convt": f"nn.ConvTranspose2d({cin}, {cout}, 3, padding=1)",
                       "bn": f"nn.BatchNorm2d({cin})", "relu": "nn.ReLU()",
                       "in": f"nn.InstanceNorm2d({cin}, affine=True)",
                       "pool": "nn.MaxPool2d(2, ceil_mode=True)", "apool": "nn.AdaptiveAvgPool2d(3)"}[kind])
    first_c = next((cin for kind, cin, _ in stack if kind not in _PASS), 4)
    code = textwrap.dedent(f'''\
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential({", ".join(layers)})

            def forward(self, x):
                if len(x.size()) > 4:
                    x = x.flatten(0, 1)
                return self.body(x)
    ''')
    fails = set()
    for shape in [(2, first_c, 12, 12), (2, 3, first_c, 10, 10)]:
        ns: dict = {}
        exec(compile(code, "case.py", "exec"), ns)
        try:
            ns["Net"]().eval()(torch.randn(*shape))
            fails.add(None)
        except (RuntimeError, ValueError) as e:
            fails.add("channels" if any(w in str(e) for w in ("channels", "running_mean", "weight", "elements",
                                                                "num_features")) else str(e))
    got = analyze_source(code, "case.py").findings
    if got:
        assert fails == {"channels"}, (code, fails, [f.message for f in got])
        assert {f.code for f in got} == {"SHP003"}
    # the first layer meets the raw input: its own channels are not checked (no input is known)
    later = [(k, ci) for k, ci, _ in stack if k not in _PASS][1:]
    if fails == {"channels"} and later:
        assert got, (code, fails)


POOL = textwrap.dedent('''\
    import torch.nn as nn


    class D(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3, padding=1)
            self.downsample = nn.AvgPool2d(3, stride=2, padding=[PAD, 1], count_include_pad=False)

        def forward(self, x):
            if len(x.size()) > 4:
                x = x.flatten(0, 1)
            return self.downsample(self.conv(x))
''')


@pytest.mark.parametrize("pad", [1, 2])
def test_a_pool_padding_torch_refuses_whatever_the_input(pad):
    code = POOL.replace("PAD", str(pad))
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    refused = set()
    for shape in [(2, 3, 32, 32), (2, 4, 3, 9, 17)]:
        try:
            ns["D"]()(torch.randn(*shape))
            refused.add(False)
        except RuntimeError as e:
            refused.add("pad should be at most half" in str(e))
    got = analyze_source(code, "case.py").findings
    assert refused == {pad == 2}
    assert [(f.code, f.line) for f in got] == ([("SHP007", 13)] if pad == 2 else []), [f.message for f in got]
