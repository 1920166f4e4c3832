"""einops from its pattern strings, against einops itself on torch tensors: the same output shapes,
a finding exactly where einops refuses (wrong rank, an axis that does not divide or match), on the
line it refuses on."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_seq_layers import EXAMPLES, check

pytest.importorskip("einops")

EINOPS_HEADER = "from einops import rearrange, reduce, repeat, pack, unpack, einsum\n" \
                "from einops.layers.torch import Rearrange, Reduce\n"

FN = """
class Net(nn.Module):
    def forward(self, x):
        return {call}
"""


def run(call, inputs):
    return check(EINOPS_HEADER + FN.format(call=call), inputs)


@pytest.mark.parametrize("call,inputs", [
    ("rearrange(x, 'b c h w -> b (h w) c')", [(2, 3, 4, 5)]),
    ("rearrange(x, 'b (h p1) (w p2) c -> b (h w) (p1 p2 c)', p1=4, p2=4)", [(2, 16, 8, 3)]),
    ("rearrange(x, 'b n (h d) -> b h n d', h=4)", [(2, 7, 32)]),
    ("rearrange(x, '... (h d) -> ... h d', d=8)", [(2, 7, 32)]),
    ("rearrange(x, 'b ... c -> b c ...')", [(2, 3, 4, 5)]),
    ("rearrange(x, 'b ... -> b (...)')", [(2, 3, 4, 5)]),
    ("rearrange(x, 'b 1 c -> b c')", [(2, 1, 5)]),
    ("rearrange(x, 'b c -> b c 1 ()')", [(2, 5)]),
    ("reduce(x, 'b c h w -> b c', 'mean')", [(2, 3, 4, 5)]),
    ("reduce(x, 'b c (h 2) (w 2) -> b c h w', 'max')", [(2, 3, 4, 6)]),
    ("reduce(x, 'b n d -> b () d', reduction='mean')", [(2, 7, 8)]),
    ("repeat(x, 'h w -> h w c', c=3)", [(4, 5)]),
    ("repeat(x, 'h w -> (h 2) (w 3)')", [(4, 5)]),
    ("repeat(x, '() n d -> b n d', b=6)", [(1, 7, 8)]),
    ("einsum(x, x, 'b i d, b j d -> b i j')", [(2, 5, 8)]),
    ("unpack(*pack([x, x[:, :1]], 'b * d'), 'b * d')[1]", [(2, 5, 8)]),
    ("pack([x, x.mean(1)], 'b * d')[0]", [(2, 5, 8)]),
    # refused
    ("rearrange(x, 'b c h w -> b (h w) c')", [(2, 3, 4)]),
    ("rearrange(x, 'b (h p1) (w p2) c -> b (h w) (p1 p2 c)', p1=3, p2=4)", [(2, 16, 8, 3)]),
    ("rearrange(x, 'b n (h d) -> b h n d', h=5)", [(2, 7, 32)]),
    ("rearrange(x, 'b n (h d) -> b h n d', h=4, d=4)", [(2, 7, 32)]),
    ("rearrange(x, 'b 1 c -> b c')", [(2, 3, 5)]),
    ("rearrange(x, 'b c h ... -> b c h ...')", [(2, 3)]),
    ("reduce(x, 'b c (h 2) (w 2) -> b c h w', 'max')", [(2, 3, 5, 6)]),
    ("einsum(x, x[:, :, :4], 'b i d, b j d -> b i j')", [(2, 5, 8)]),
])
def test_functions(call, inputs):
    run(call, inputs)


LAYER = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Sequential(
            Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1={p}, p2={p}),
            nn.Linear({p} * {p} * 3, 32),
        )
        self.pool = Reduce('b n d -> b d', 'mean')

    def forward(self, x):
        return self.pool(self.patch(x))
"""


@pytest.mark.parametrize("p,inputs", [(4, [(2, 3, 16, 16)]), (8, [(2, 3, 32, 16)]), (5, [(2, 3, 16, 16)])])
def test_layers(p, inputs):
    a = run_body(LAYER.format(p=p), inputs)
    if p == 5:
        assert [f.code for f in a.findings] == ["SHP001"]


def run_body(body, inputs):
    return check(EINOPS_HEADER + body, inputs)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(h=st.integers(1, 4), w=st.integers(1, 4), p=st.integers(1, 3), c=st.integers(1, 3),
       dh=st.integers(0, 2), op=st.sampled_from(["rearrange", "reduce"]))
def test_patchify_property(h, w, p, c, dh, op):
    """A patchify pattern over random sizes: no finding when einops accepts, one when it refuses."""
    pat = "b c (h p1) (w p2) -> b (h w) (p1 p2 c)" if op == "rearrange" else "b c (h p1) (w p2) -> b c h w"
    extra = ", 'max'" if op == "reduce" else ""
    run(f"{op}(x, '{pat}'{extra}, p1={p}, p2={p})", [(2, c, h * p + dh, w * p)])
