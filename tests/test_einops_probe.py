"""A model whose input is first rearranged by einops (a ViT's patch embedding, ``Rearrange('b c (h
p1) (w p2) -> b (h w) (p1 p2 c)', p1=p, p2=p)`` then ``LayerNorm``/``Linear``; a ``rearrange`` into a
first ``Conv2d``), analysed with no input shape: the input is the one the pattern turns into what the
first layer takes (``(N, 3, p*h, p*w)``), and what fails for every such input is reported. torch
decides each case at two input sizes."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("einops")

VIT = textwrap.dedent('''\
    import torch
    from torch import nn
    from einops.layers.torch import Rearrange


    class PatchNet(nn.Module):
        def __init__(self, patch=P, dim=64, classes=10):
            super().__init__()
            self.embed = nn.Sequential(
                Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)', p1=patch, p2=patch),
                NORM
                nn.Linear(patch * patch * CIN, dim),
            )
            self.mix = nn.Linear(dim, MIX)
            self.head = nn.Linear(HEAD, classes)

        def forward(self, img):
            x = self.embed(img)
            x = self.mix(x)
            return self.head(x.mean(dim=1))
''')

CONV = textwrap.dedent('''\
    import torch
    from torch import nn
    from einops import rearrange


    class ConvPatch(nn.Module):
        def __init__(self, p=P):
            super().__init__()
            self.p = p
            self.proj = nn.Conv2d(p * p * CIN, 32, 1)
            self.out = nn.Conv2d(32, 16, 3, padding=1)
            self.skip = nn.Conv2d(32, 16, K, padding=PAD)

        def forward(self, x):
            x = rearrange(x, 'b c (h p1) (w p2) -> b (c p1 p2) h w', p1=self.p, p2=self.p)
            x = self.proj(x)
            return self.out(x) + self.skip(x)
''')


def _fails(code, cls, sides):
    """The lines torch fails on at each input size (None: it runs)."""
    return {torch_fails_at(code, lambda ns: ns[cls]()(torch.randn(2, 3, *s)), errors=(RuntimeError, ValueError,
                                                                                        Exception))
            for s in sides}


def _findings(code):
    res = analyze_source(code, "case.py")
    return [(f.code, f.line) for f in res.findings], [f.message for f in res.findings], res


@pytest.mark.parametrize("p, norm, cin, mix, head", [
    (4, True, 3, 64, 64), (4, False, 3, 64, 64), (2, True, 3, 64, 64),
    (4, True, 3, 64, 128), (4, False, 3, 32, 64), (4, True, 3, 64, 63), (2, False, 3, 48, 48),
])
def test_vit_patch_embedding_input(p, norm, cin, mix, head):
    code = VIT.replace("P,", f"{p},").replace("CIN", str(cin)).replace("MIX", str(mix)).replace("HEAD", str(head))
    code = code.replace("NORM", f"nn.LayerNorm(patch * patch * {cin})," if norm else "")
    lines = _fails(code, "PatchNet", [(32, 32), (16, 24)])
    assert len(lines) == 1, lines  # these bugs do not depend on the image size
    line = lines.pop()
    codes, msgs, res = _findings(code)
    assert [ln for _c, ln in codes] == ([line] if line else []), msgs
    run = res.runs[0]
    assert run.inputs is None and run.input_tensors[0].shape is not None  # built from the pattern
    if line:
        assert f"Nx{cin}x{p}*hx{p}*w" in msgs[0]


@pytest.mark.parametrize("p, k, pad", [(2, 3, 1), (2, 2, 0), (4, 1, 0), (2, 3, 0), (4, 5, 2), (2, 1, 1)])
def test_rearrange_into_conv_input(p, k, pad):
    code = CONV.replace("P)", f"{p})").replace("CIN", "3").replace("K,", f"{k},").replace("PAD", str(pad))
    lines = _fails(code, "ConvPatch", [(32, 32), (64, 48)])
    assert len(lines) == 1, lines
    line = lines.pop()
    codes, msgs, _res = _findings(code)
    assert [ln for _c, ln in codes] == ([line] if line else []), msgs


def test_channels_the_pattern_cannot_give_leave_the_input_unknown():
    # 3*2*2 = 12 channels expected, the conv takes 10: no c makes (c p1 p2) 10, no input is made up
    code = CONV.replace("P)", "2)").replace("p * p * CIN", "10").replace("K,", "3,").replace("PAD", "1")
    codes, msgs, res = _findings(code)
    assert codes == [], msgs
    assert res.runs[0].input_tensors[0].shape is None
