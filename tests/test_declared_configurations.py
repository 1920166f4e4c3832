"""A declared ``--input-shape`` given to constructions nobody wrote: their defaults are guesses.

* A factory called with its defaults (``vgg11()``, ``in_channels=3``) fed a declared 1-channel
  spectrogram: the first layer's channels are the guess's, not the user's mistake, and nothing
  that follows it is the user's configuration either (pytorch-speech-commands, PointNet).
* A class built symbolically whose boolean default decides how it reads its input
  (PointNet++'s ``normal_channel=False``): when the other value runs the declared input cleanly,
  the declaration is for that configuration; when no value does, the finding stands.
Each verdict is checked against torch.
"""
from __future__ import annotations

import textwrap

import pytest

from shapelint.engine import analyze_source
from shapelint.options import InputSpec

torch = pytest.importorskip("torch")

FACTORIES = textwrap.dedent('''\
    import torch.nn as nn


    class VGG(nn.Module):
        def __init__(self, num_classes=10, in_channels=3):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(in_channels, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Linear(16 * 8 * 8, num_classes)

        def forward(self, x):
            x = self.features(x)
            return self.classifier(x.view(x.size(0), -1))


    def vgg11(pretrained=False, in_channels=3, **kwargs):
        return VGG(in_channels=in_channels, **kwargs)
''')

POINTNET = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class PointSeg(nn.Module):
        def __init__(self, num_classes, normal_channel=False):
            super().__init__()
            self.normal_channel = normal_channel
            self.conv = nn.Conv1d(6 if normal_channel else 3, 16, 1)
            self.head = nn.Conv1d(16, num_classes, 1)

        def forward(self, xyz):
            centroid = xyz[:, :3, :].mean(2, keepdim=True)
            if self.normal_channel:
                feats = torch.cat([xyz[:, :3, :] - centroid, xyz[:, 3:, :]], 1)
            else:
                feats = xyz - centroid
            return self.head(torch.relu(self.conv(feats)))
''')


# the same, centring in a helper function, and a last step shapelint does not follow (a round trip
# through numpy): the other configuration's output is unknown, but it went past the failing call
POINTNET_HELPER = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    def centre(xyz, normals):
        centroid = xyz[:, :3, :].mean(2, keepdim=True)
        if normals:
            return torch.cat([xyz[:, :3, :] - centroid, xyz[:, 3:, :]], 1)
        return xyz - centroid


    class PointSeg(nn.Module):
        def __init__(self, num_classes, normal_channel=False):
            super().__init__()
            self.normal_channel = normal_channel
            self.conv = nn.Conv1d(6 if normal_channel else 3, 16, 1)
            self.head = nn.Conv1d(16, num_classes, 1)

        def forward(self, xyz):
            feats = centre(xyz, self.normal_channel)
            out = self.head(torch.relu(self.conv(feats)))
            return torch.from_numpy(out.detach().numpy().copy())
''')


def _run(code: str, expr: str, x):
    ns: dict = {}
    exec(compile(code, "case.py", "exec"), ns)
    return eval(expr, ns)(x)


def test_a_factorys_default_channels_are_not_the_declared_inputs_mistake():
    x = torch.randn(2, 1, 32, 32)
    assert _run(FACTORIES, "vgg11(in_channels=1)", x).shape == (2, 10)  # the declared input's configuration
    with pytest.raises(RuntimeError):
        _run(FACTORIES, "vgg11()", x)  # the invented one's guess
    a = analyze_source(FACTORIES, "case.py", {"VGG": [InputSpec((2, 1, 32, 32))]}, strict=True)
    assert a.findings == []
    # the file building it with 3 channels itself: the declaration meets that construction, and is reported
    own = FACTORIES + "\n\nmodel = vgg11()\n"
    with pytest.raises(RuntimeError) as e:
        _run(own, "model", x)
    assert "channels" in str(e.value)
    got = analyze_source(own, "case.py", {"VGG": [InputSpec((2, 1, 32, 32))]}, strict=True).findings
    assert [f.code for f in got] == ["SHP003"]


def test_a_boolean_default_that_takes_the_declared_input_makes_it_another_configuration():
    x = torch.randn(2, 6, 64)
    assert _run(POINTNET, "lambda t: PointSeg(5, normal_channel=True)(t)", x).shape == (2, 5, 64)
    with pytest.raises(RuntimeError):
        _run(POINTNET, "lambda t: PointSeg(5)(t)", x)
    a = analyze_source(POINTNET, "case.py", {"PointSeg": [InputSpec((2, 6, 64))]}, strict=True)
    assert a.findings == []
    # no value of the flag takes 6 channels: the finding stands, where torch fails
    import traceback

    fixed = POINTNET.replace("6 if normal_channel else 3", "3")
    for flag in (True, False):
        with pytest.raises(RuntimeError) as e:
            _run(fixed, f"lambda t: PointSeg(5, normal_channel={flag})(t)", x)
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    got = analyze_source(fixed, "case.py", {"PointSeg": [InputSpec((2, 6, 64))]}, strict=True).findings
    assert [(f.line, f.code) for f in got] == [(torch_line, "SHP006")], [(f.line, f.message) for f in got]


def test_the_other_configuration_need_only_go_past_the_failing_call():
    x = torch.randn(2, 6, 64)
    assert _run(POINTNET_HELPER, "lambda t: PointSeg(5, normal_channel=True)(t)", x).shape == (2, 5, 64)
    with pytest.raises(RuntimeError):
        _run(POINTNET_HELPER, "lambda t: PointSeg(5)(t)", x)
    a = analyze_source(POINTNET_HELPER, "case.py", {"PointSeg": [InputSpec((2, 6, 64))]}, strict=True)
    assert a.findings == []
    run = next(r for r in a.runs if r.cls is not None and r.cls.name == "PointSeg")
    assert run.input_origin == "option"


CLS = textwrap.dedent('''\
    import torch
    import torch.nn as nn


    class PointCls(nn.Module):
        def __init__(self, num_class, normal_channel=True):
            super().__init__()
            self.normal_channel = normal_channel
            self.conv = nn.Conv1d(6 if normal_channel else 3, 32, 1)
            self.fc = nn.Linear(32, num_class)

        def forward(self, xyz):
            B, _, _ = xyz.shape
            x = torch.max(torch.relu(self.conv(xyz)), 2, keepdim=True)[0]
            x = x.view(B, 32)
            return self.fc(x)
''')


def test_the_flipped_default_that_takes_the_declared_input_is_checked_in_its_place():
    """PointNet++'s classifier defaults to normal_channel=True (6 channels); a declared xyz-only
    2x3x1024 misfits that guess's first layer, and is checked on normal_channel=False instead: a
    view sized one number wrong is reported where torch fails, for that configuration."""
    import traceback

    x = torch.randn(2, 3, 64)
    assert _run(CLS, "lambda t: PointCls(5, normal_channel=False)(t)", x).shape == (2, 5)
    assert analyze_source(CLS, "case.py", {"PointCls": [InputSpec((2, 3, 64))]}, strict=True).findings == []
    bad = CLS.replace("x.view(B, 32)", "x.view(B, 33)")
    with pytest.raises(RuntimeError) as e:
        _run(bad, "lambda t: PointCls(5, normal_channel=False)(t)", x)
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    got = analyze_source(bad, "case.py", {"PointCls": [InputSpec((2, 3, 64))]}, strict=True).findings
    assert [(f.line, f.code) for f in got] == [(torch_line, "SHP001")], [f.message for f in got]
    assert "normal_channel=False" in got[0].message


TWO_DATASETS = textwrap.dedent('''\
    import math

    import torch
    import torch.nn as nn


    class VAE(nn.Module):
        def __init__(self, latent, channels, filters):
            super().__init__()
            self.conv1 = nn.Conv2d(channels, filters, 3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(filters, filters, 3, stride=2, padding=1)
            self.mu = nn.Linear(math.prod([filters, 16, 16]), latent)

        def forward(self, x):
            x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
            return self.mu(torch.flatten(x, 1))


    def build(dataset):
        if dataset == "mnist":
            return VAE(8, 1, 16)
        return VAE(8, 3, 16)


    mnist = build("mnist")
    celeba = build("celeba")
''')


@pytest.mark.parametrize("size", [64, 48])
def test_the_configuration_whose_first_layer_takes_the_declared_channels_is_the_one_checked(size):
    """torch-vae: VAE(..., 1, ...) for MNIST beside VAE(..., 3, ...) for CelebA, and a declared
    2x1xSxS. The 3-channel configuration's first conv (sized by a parameter) is another input's; the
    1-channel one is checked in full, and its own fault (a projection sized for 64x64, given 48x48)
    is reported where torch fails."""
    import traceback

    x = torch.randn(2, 1, size, size)
    with pytest.raises(RuntimeError, match="channels"):
        _run(TWO_DATASETS, "celeba", x)
    try:
        _run(TWO_DATASETS, "mnist", x)
        want = []
    except RuntimeError as e:
        want = [([f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1],
                 "SHP002")]
    assert want or size == 64
    got = analyze_source(TWO_DATASETS, "case.py", {"VAE": [InputSpec((2, 1, size, size))]}, strict=True).findings
    assert [(f.line, f.code) for f in got] == want, [(f.line, f.message) for f in got]
