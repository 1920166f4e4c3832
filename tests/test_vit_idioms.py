"""Idioms of vision-transformer code (lucidrains' vit-pytorch, Restormer) that used to leave a model
unknown: ``torch.meshgrid`` for relative-position tables, ``kwargs = dict(locals())`` grouped by
prefix, ``isinstance(normalized_shape, numbers.Integral)``, an ``assert`` on sizes unpacked earlier,
and the image size a model is built with as its input when no input shape is given. torch judges
each case."""
from __future__ import annotations

import os
import textwrap

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from conftest import line_of, torch_fails_at  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("einops")


def _torch_line(code, run):
    return torch_fails_at(code, run, errors=(RuntimeError, ValueError, AssertionError))


def _lines(code, **shapes):
    got = analyze_source(code, "case.py", {k: [v] for k, v in shapes.items()} or None).findings
    return [(f.code, f.line) for f in got], [f.message for f in got]


MESH = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Table(nn.Module):
        def __init__(self, n1=N1, n2=N2):
            super().__init__()
            grid = torch.stack(torch.meshgrid(torch.arange(n1), torch.arange(n2), indexing='IDX'), dim=-1)
            self.register_buffer('grid', grid)

        def forward(self, x):
            return x + self.grid.float().sum(-1)
''')


@pytest.mark.parametrize("n1, n2, idx", [(3, 5, "ij"), (3, 5, "xy"), (4, 4, "xy"), (1, 6, "xy"), (6, 1, "ij")])
def test_meshgrid_shapes_are_torchs(n1, n2, idx):
    code = MESH.replace("N1", str(n1)).replace("N2", str(n2)).replace("IDX", idx)
    line = _torch_line(code, lambda ns: ns["Table"]()(torch.randn(2, n1, n2)))
    assert line in (None, 12)
    codes, msgs = _lines(code, Table=(2, n1, n2))
    assert codes == ([("SHP006", 12)] if line else []), msgs


LOCALS = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    def group_by_prefix(prefix, d):
        picked = [dict(), dict()]
        for key in d.keys():
            picked[int(not key.startswith(prefix))][key] = d[key]
        return dict(map(lambda x: (x[0][len(prefix):], x[1]), tuple(picked[0].items()))), picked[1]


    class Net(nn.Module):
        def __init__(self, s1_dim=16, s2_dim=32, s2_in=IN):
            super().__init__()
            kwargs = dict(locals())
            s1, kwargs = group_by_prefix('s1_', kwargs)
            s2, kwargs = group_by_prefix('s2_', kwargs)
            self.conv1 = nn.Conv2d(3, s1['dim'], 3, padding=1)
            self.conv2 = nn.Conv2d(s2['in'], s2['dim'], 3, padding=1)
            self.head = nn.Linear(len(kwargs), 2)  # self and __class__ (super() names it) are left

        def forward(self, x):
            return self.conv2(self.conv1(x)).mean((2, 3))[:, :2] + self.head(torch.zeros(1, 2))
''')


@pytest.mark.parametrize("in_", [16, 17])
def test_a_configuration_grouped_from_locals(in_):
    code = LOCALS.replace("IN", str(in_))
    ret = line_of(code, "return self.conv2(")
    line = _torch_line(code, lambda ns: ns["Net"]()(torch.randn(2, 3, 8, 8)))
    assert line == (None if in_ == 16 else ret)
    codes, msgs = _lines(code, Net=(2, 3, 8, 8))
    assert codes == ([] if in_ == 16 else [("SHP003", ret)]), msgs


def test_locals_lists_the_class_cell_as_cpython_does():
    # the head's Linear takes 2 features: `self` and `__class__`; a Linear(3, 2) would not fit
    code = LOCALS.replace("IN", "16").replace("torch.zeros(1, 2)", "torch.zeros(1, 3)")
    ret = line_of(code, "return self.conv2(")
    assert _torch_line(code, lambda ns: ns["Net"]()(torch.randn(2, 3, 8, 8))) == ret
    codes, msgs = _lines(code, Net=(2, 3, 8, 8))
    assert codes == [("SHP002", ret)], msgs


NORM = textwrap.dedent('''\
    import numbers

    import torch
    import torch.nn as nn


    class WithBiasLayerNorm(nn.Module):
        def __init__(self, normalized_shape):
            super().__init__()
            if isinstance(normalized_shape, numbers.Integral):
                normalized_shape = (normalized_shape,)
            normalized_shape = torch.Size(normalized_shape)
            self.weight = nn.Parameter(torch.ones(normalized_shape))
            self.bias = nn.Parameter(torch.zeros(normalized_shape))

        def forward(self, x):
            mu = x.mean(-1, keepdim=True)
            sigma = x.var(-1, keepdim=True, unbiased=False)
            return (x - mu) / torch.sqrt(sigma + 1e-5) * self.weight + self.bias


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm = WithBiasLayerNorm(SIZE)

        def forward(self, x):
            return self.norm(x)
''')


@pytest.mark.parametrize("size", ["48", "(48,)", "47", "[47]"])
def test_a_layer_norm_sized_through_numbers_integral(size):
    code = NORM.replace("SIZE", size)
    fails = "47" in size
    assert _torch_line(code, lambda ns: ns["Net"]()(torch.randn(2, 10, 48))) == (19 if fails else None)
    codes, msgs = _lines(code, Net=(2, 10, 48))
    assert codes == ([("SHP006", 19)] if fails else []), msgs


VIT = textwrap.dedent('''\
    import torch
    import torch.nn as nn
    from einops import rearrange


    class ViT(nn.Module):
        def __init__(self, image_size=224, patch_size=16, dim=64):
            super().__init__()
            self.to_patch = nn.Conv2d(3, dim, patch_size, stride=STRIDE)
            self.pos = nn.Parameter(torch.randn(1, (image_size // patch_size) ** 2, dim))
            self.head = nn.Linear(dim, 10)

        def forward(self, img):
            x = rearrange(self.to_patch(img), 'b c h w -> b (h w) c')
            x = x + self.pos
            return self.head(x.mean(1))


    model = ViT(image_size=IMAGE)
''')


@pytest.mark.parametrize("stride, image", [(16, 224), (8, 224), (16, 96), (12, 96)])
def test_the_image_size_a_model_is_built_with_is_its_input(stride, image):
    code = VIT.replace("STRIDE", str(stride)).replace("IMAGE", str(image))
    line = _torch_line(code, lambda ns: ns["model"](torch.randn(2, 3, image, image)))
    assert line == (None if stride == 16 else 15)
    got = analyze_source(code, "case.py").findings  # no input shape given
    assert [(f.code, f.line) for f in got] == ([] if stride == 16 else [("SHP006", 15)]), [f.message for f in got]
    assert all(f"Nx3x{image}x{image}" in f.message for f in got)


MOBILE = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class MobileNet(nn.Module):
        def __init__(self, n_class=10, input_size=64):
            super().__init__()
            ASSERT
            self.stem = nn.Conv2d(3, 16, 3, 2, 1)
            self.body = nn.Conv2d(16, 16, 3, STRIDE, 1)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(16, n_class)

        def forward(self, x):
            x = self.body(self.stem(x)) + self.stem(x)
            return self.fc(self.pool(x).flatten(1))
''')


@pytest.mark.parametrize("stride, asserted", [(1, True), (2, True), (2, False), (1, False)])
def test_an_input_size_the_constructor_asserts_divisible_is_the_image_size(stride, asserted):
    # MobileNetV2's and ShuffleNetV2's `input_size=224` with `assert input_size % 32 == 0`: the image
    # side; without the assert an `input_size` may be features (an LSTM's, an MLP's): no input is made
    code = MOBILE.replace("STRIDE", str(stride)).replace(
        "ASSERT", "assert input_size % 32 == 0" if asserted else "pass")
    line = _torch_line(code, lambda ns: ns["MobileNet"]()(torch.randn(2, 3, 64, 64)))
    assert line == (None if stride == 1 else 15)
    runs = [r for r in analyze_source(code, "case.py").runs if r.cls is not None and r.cls.name == "MobileNet"]
    assert runs and all((r.input_from == "the image size it is built with (64x64)") == asserted for r in runs)
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == ([("SHP006", 15)] if line else []), [f.message for f in got]
    assert all(("Nx3x64x64" in f.message) == asserted for f in got)


def test_an_input_resolution_is_the_image_size():
    # CLIP's VisionTransformer(input_resolution, patch_size, ...): its positional table is sized by it
    code = VIT.replace("image_size", "input_resolution").replace("STRIDE", "8").replace("IMAGE", "96")
    assert _torch_line(code, lambda ns: ns["model"](torch.randn(2, 3, 96, 96))) == 15
    code = code.replace("model = ViT(input_resolution=96)", "")
    got = analyze_source(code, "case.py").findings
    assert [(f.code, f.line) for f in got] == [("SHP006", 15)], [f.message for f in got]
    assert "Nx3x224x224" in got[0].message


def test_an_image_size_is_not_the_input_of_a_latent_generator():
    code = textwrap.dedent('''\
        import torch.nn as nn


        class G(nn.Module):
            def __init__(self, image_size=64, nz=100):
                super().__init__()
                self.fc = nn.Linear(nz, 3 * image_size * image_size)

            def forward(self, z):
                return self.fc(z).view(-1, 3, 64, 64)
    ''')
    run = [r for r in analyze_source(code, "case.py").runs if r.cls is not None and r.cls.name == "G"]
    assert run and all(r.input_from is None for r in run)


WINDOW = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class Windowed(nn.Module):
        def __init__(self, window_size=8):
            super().__init__()
            self.window_size = window_size
            self.proj = nn.Conv2d(3, 16, 3, stride=STRIDE, padding=1)

        def forward(self, x):
            x = self.proj(x)
            height, width, wsz = *x.shape[-2:], self.window_size
            assert (height % wsz) == 0 and (width % wsz) == 0, 'not divisible by the window size'
            return x
''')


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_an_assert_on_sizes_unpacked_before_it(stride):
    code = WINDOW.replace("STRIDE", str(stride))
    line = _torch_line(code, lambda ns: ns["Windowed"]()(torch.randn(2, 3, 32, 32)))
    assert line == (None if stride != 3 else 14)  # 32 -> 11 with stride 3
    codes, msgs = _lines(code, Windowed=(2, 3, 32, 32))
    assert codes == ([] if stride != 3 else [("SHP010", 14)]), msgs


def test_a_container_filled_in_a_loop_not_unrolled_is_unknown():
    # the loop's count is a run-time value: which dict of `picked` it fills, and how much, is not
    # known; they used to stay empty (a false SHP002: in_features=1)
    code = textwrap.dedent('''\
        import torch
        import torch.nn as nn


        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                n = int(torch.randint(1, 2, (1,)).item())
                picked = [dict(), dict()]
                for i in range(n):
                    picked[int(i > 5)][f'k{i}'] = i
                self.head = nn.Linear(len(picked[0]) + 1, 2)

            def forward(self, x):
                return self.head(x)
    ''')
    assert _torch_line(code, lambda ns: ns["Net"]()(torch.randn(1, 2))) is None
    assert _lines(code, Net=(1, 2))[0] == []
