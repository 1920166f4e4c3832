"""Reach with no construction in sight (issue 9): the model file alone, no input shape, no
script. A class whose constructor needs values nobody in the file gives is still analysed:

* ``VGG(vgg_name)`` indexing its module's ``cfg`` dict: once for each key of ``cfg``;
* ``def preresnet20(num_classes): return PreResNet(depth=20, ...)``: the factory, with a symbolic
  ``num_classes``;
* ``Unet(in_ch, out_ch)``: symbolic channel counts, the input's channels a symbol too;
* ``Discriminator(M)``: a size by its use (``M // 16``), whatever its name;
* ``Generator(z_dim)`` whose ``forward(self, z)`` starts with a Linear: a batch of latent vectors;

and what is reported holds for every value of the symbols (every image size from 2x2, every
channel and class count). The fixtures' ``__main__`` blocks are the torch oracle of their markers
(tests/test_verify_with_torch.py); here the same files without that block must give the same
findings, and torch must fail on the marked line for several values of what stayed symbolic.
"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

from shapelint.engine import analyze_source

EXPECT = re.compile(r"#\s*expect:\s*(SHP\d{3})")

# (fixture, the construction named in the message, why it stands for every value, torch variants:
#  (construction, input shape) that must all fail on the marked line)
CASES = [
    ("construct_config_keys_bug.py", "VGG(vgg_name='VGG11')", "(for each key of cfg)",
     [("VGG('VGG11')", (2, 3, 32, 32)), ("VGG('VGG13')", (2, 3, 64, 64)), ("VGG('VGG13')", (1, 3, 40, 72))]),
    ("construct_factory_sizes_bug.py", "preresnet20(num_classes=num_classes)", "(for any value of num_classes)",
     [("preresnet20(10)", (2, 3, 32, 32)), ("preresnet20(1)", (2, 3, 2, 2)), ("preresnet32(7)", (1, 3, 17, 40))]),
    ("unet_skip_sizes_bug.py", "Unet(in_ch=in_ch, out_ch=out_ch)", "(for any value of in_ch, out_ch)",
     [("Unet(3, 1)", (2, 3, 64, 64)), ("Unet(1, 5)", (1, 1, 16, 20)), ("Unet(7, 2)", (2, 7, 33, 2))]),
    ("gan_latent_linear_bug.py", "Generator(z_dim=z_dim)", "(for any value of z_dim)",
     [("Generator(128)", (2, 128)), ("Generator(7, ngf=64)", (3, 7))]),
    ("construct_size_by_use_bug.py", "Discriminator(M=M)", "(for any value of M)",
     [("Discriminator(32)", (2, 3, 32, 32)), ("Discriminator(64)", (1, 3, 64, 64)), ("Discriminator(7)", (2, 3, 9, 13))]),
    # the add fits only where the branch is 1x1 (W = 2), and there a later block fails: checked by
    # running the model at W = 2 (engine._settle_narrowing)
    # (a single pixel broadcasts against anything: an add that fits only where one side is 1x1 of
    # an image smaller than 8x8 is not a size a model is written for, tensor_ops._narrow)
    ("residual_shrink_bug.py", "W-1 vs W", "(they fit only for W = 2, where one side is a single pixel)",
     [("PreActResNet()", (2, 3, 32, 32)), ("PreActResNet((1, 1, 1))", (1, 3, 17, 40)),
      ("PreActResNet()", (2, 3, 3, 3))]),
    # VDSR's global residual after an unpadded conv: fits at 3x3 only, where the model runs
    # (test_a_fit_at_a_tiny_image_only_is_reported below)
    ("global_residual_tiny_fit_bug.py", "W-2 vs W", "(they fit only for W = 3, where one side is a single pixel)",
     [("Net()", (2, 1, 64, 64)), ("Net(3, 8, 1)", (1, 3, 9, 17)), ("Net()", (1, 1, 4, 4)), ("Net()", (1, 1, 8, 3))]),
]
CLEAN = ["construct_config_keys.py", "construct_factory_sizes.py", "unet_skip_sizes.py", "construct_size_by_use.py",
         "gan_latent_linear.py", "construct_autograd_function.py", "residual_shrink.py", "global_residual_tiny_fit.py"]


def _alone(name: str, tmp_path: Path) -> Path:
    """The fixture without its ``__main__`` block: nothing in the file builds or feeds the model."""
    code = (FIXTURES / name).read_text()
    cut = code.find('\nif __name__ == "__main__":')
    assert cut > 0
    path = tmp_path / name
    path.write_text(code[:cut + 1])
    return path


def _markers(path: Path):
    return {(i, m.group(1)) for i, line in enumerate(path.read_text().splitlines(), 1)
            for m in [EXPECT.search(line)] if m}


@pytest.mark.parametrize("name,ctor,why,variants", CASES, ids=[c[0] for c in CASES])
def test_reported_with_no_construction_in_sight(name, ctor, why, variants, tmp_path):
    path = _alone(name, tmp_path)
    a = analyze_source(path.read_text(), str(path), strict=True)
    assert {(f.line, f.code) for f in a.findings} == _markers(FIXTURES / name), [f.message for f in a.findings]
    (f,) = a.findings
    assert ctor in f.message and why in f.message, f.message
    assert all(c["analysed"] for c in a.coverage), a.coverage
    if "they fit only for W = 2" in why:  # --confirm's witness starts past W = 2 only: the H
        assert f.run.lows == {"W": 3}      # narrowing settled inside the W = 2 run is that run's
    if "they fit only for W = 3" in why:
        assert f.run.lows == {"W": 4}


@pytest.mark.parametrize("name", CLEAN)
def test_clean_counterparts_stay_quiet(name, tmp_path):
    path = _alone(name, tmp_path)
    a = analyze_source(path.read_text(), str(path), strict=True)
    assert not a.findings, [f.message for f in a.findings]
    assert all(c["analysed"] for c in a.coverage), a.coverage
    assert not [r.error for r in a.runs if r.error]


@pytest.mark.parametrize("name,ctor,why,variants", CASES, ids=[c[0] for c in CASES])
def test_torch_fails_on_the_marked_line_for_other_values(name, ctor, why, variants, tmp_path):
    """The claim is for every value: torch agrees at sizes and counts the fixture's __main__ does not use."""
    torch = pytest.importorskip("torch")
    path = _alone(name, tmp_path)
    spec = importlib.util.spec_from_file_location(f"_sym_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ((line, _code),) = _markers(FIXTURES / name)
    for construction, shape in variants:
        model = eval(construction, vars(mod))
        with pytest.raises(RuntimeError) as e:
            model(torch.randn(*shape))
        frames = [fr for fr in e.traceback if Path(str(fr.path)).resolve() == path.resolve()]
        assert frames and frames[-1].lineno + 1 == line, (construction, shape, e.value)
    # (the clean files run in torch from their own __main__: tests/test_verify_with_torch.py)
    sys.modules.pop(spec.name, None)


ONE_BLOCK = """
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, kernel_size=4, padding=1)

    def forward(self, x):
        return self.conv(x) + x
"""


def test_a_fit_at_a_tiny_image_only_is_reported():
    """The same one-pixel-short residual with nothing after it: at 2x2 torch broadcasts the 1x1
    branch and the model runs, and at no other size. A 2x2 image is not one a model is written
    for: the add is reported, naming the one size where it fits; at 8x8 and above (and at every
    size from 3x3) torch fails on that line."""
    a = analyze_source(ONE_BLOCK, "one_block.py", strict=True)
    (f,) = a.findings
    assert f.code == "SHP006" and "(they fit only for W = 2, where one side is a single pixel)" in f.message
    assert f.line == 11 and f.run.lows == {"W": 3}
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(ONE_BLOCK, "one_block.py", "exec"), ns)
    block = ns["Block"]()
    assert block(torch.randn(1, 3, 2, 2)).shape == (1, 3, 2, 2)
    for side in (3, 5, 8, 33):
        with pytest.raises(RuntimeError, match="must match the size"):
            block(torch.randn(1, 3, side, side))


EQUAL_FIT = """
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, kernel_size=3)

    def forward(self, x):
        return self.conv(x) + F.max_pool2d(F.pad(x, (1, 1, 1, 1)), 2)
"""


def test_a_fit_where_the_sides_are_equal_keeps_its_narrowing():
    """H-2 against (H+2)//2 fits at H = 3 (a single pixel: not counted) and at H = 5 and 6, where
    the two sides are equal: small sizes, but real fits. The model is run there, runs, and nothing
    is reported (were every size below 8 dropped, the add would be). torch agrees: it runs at 3, 5
    and 6 and fails at 4 and from 7 on."""
    from shapelint.frameworks.torch.tensor_ops import MIN_BROADCAST_IMAGE

    assert 6 < MIN_BROADCAST_IMAGE
    a = analyze_source(EQUAL_FIT, "equal_fit.py", strict=True)
    assert not a.findings, [f.message for f in a.findings]
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(EQUAL_FIT, "equal_fit.py", "exec"), ns)
    block = ns["Block"]()
    for side in (3, 5, 6):
        block(torch.randn(1, 3, side, side))
    for side in (4, 7, 12):
        with pytest.raises(RuntimeError, match="must match the size"):
            block(torch.randn(1, 3, side, side))


PADDED_FIRST = """
import torch.nn as nn


class Generator(nn.Module):
    def __init__(self, input_nc, ngf=16):
        super().__init__()
        self.model = nn.Sequential(
            nn.ReflectionPad2d(3), nn.LeakyReLU(0.2), nn.Dropout(0.1),
            nn.Conv2d(input_nc, ngf, 7), nn.InstanceNorm2d(ngf), nn.ReLU(True),
            nn.Conv2d(ngf, ngf * 2, 3, stride=2, padding=1), nn.BatchNorm2d(NORM), nn.ReLU(True))

    def forward(self, x):
        return self.model(x)
"""


@pytest.mark.parametrize("norm,found,scaled", [("ngf * 4", True, False), ("ngf * 2", False, False),
                                               ("ngf * 4", True, True)])
def test_a_padding_or_activation_first_lets_the_next_layer_tell_the_input(norm, found, scaled):
    """CycleGAN's generator starts with ReflectionPad2d(3), which takes any rank and channel count:
    the conv after it (through activations and dropouts too) implies the N x input_nc x H x W input;
    so it does through arithmetic with a number first (dlwpt-code's `self.model(input * 255) / 2`)."""
    code = PADDED_FIRST.replace("NORM", norm)
    if scaled:
        code = code.replace("return self.model(x)", "return self.model(x * 255 - 1) / 2 + 0.5")
    a = analyze_source(code, "gen.py", strict=True)
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "Generator"]
    assert run.input_text() == "Nxinput_ncxHxW"
    line = [i for i, t in enumerate(code.splitlines(), 1) if t.startswith("        return self.model(x")][0]
    assert [(f.line, f.code) for f in a.findings] == ([(line, "SHP003")] if found else [])
    torch = pytest.importorskip("torch")
    ns: dict = {}
    exec(compile(code, "gen.py", "exec"), ns)
    for nc, shape in ((3, (2, 3, 32, 32)), (1, (1, 1, 9, 20))):
        model = ns["Generator"](nc)
        if found:
            with pytest.raises(RuntimeError, match="running_mean should contain"):
                model(torch.randn(*shape))
        else:
            model(torch.randn(*shape))


POOL_THEN = """
import torch.nn as nn
import torch.nn.functional as F


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = LAYER

    def forward(self, x):
        return self.conv(POOL)
"""


@pytest.mark.parametrize("layer,pool,found", [
    ("nn.Conv2d(64, 16, 3)", "F.adaptive_avg_pool2d(x, 1)", "SHP004"),
    ("nn.Conv2d(64, 16, 1)", "F.adaptive_avg_pool2d(x, 1)", None),
    ("nn.Conv2d(64, 16, 3)", "F.max_pool2d(x, 2)", None),
    # a 2-D pool before a Conv1d: the input's rank is not the conv's, nothing is derived
    ("nn.Conv1d(64, 16, 3)", "F.adaptive_avg_pool2d(x, 1)", None),
])
def test_a_pool_first_lets_the_layer_after_it_tell_the_input(layer, pool, found):
    """A block whose first op is a pooling: the batch and channels are the next layer's, the
    spatial sizes symbols. A 3x3 conv on the 1x1 pooled map fails for every input (torch agrees at
    16x16 and 40x24); after a max-pool by 2 it fits from 6x6 on, so nothing is said."""
    code = POOL_THEN.replace("LAYER", layer).replace("POOL", pool)
    a = analyze_source(code, "gate.py", strict=True)
    assert [f.code for f in a.findings] == ([found] if found else []), [f.message for f in a.findings]
    if found:
        assert "for input Nx64xHxW" in a.findings[0].message
        torch = pytest.importorskip("torch")
        ns: dict = {}
        exec(compile(code, "gate.py", "exec"), ns)
        for shape in ((2, 64, 16, 16), (1, 64, 40, 24)):
            with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
                ns["Gate"]()(torch.randn(*shape))


@pytest.mark.parametrize("name", ["pair_discriminator_bug.py", "pair_discriminator.py"])
def test_inputs_joined_by_a_cat_take_their_first_layers_input_with_channels_of_their_own(name, tmp_path):
    """pix2pix's conditional discriminator, forward(img_A, img_B) = self.model(torch.cat((img_A,
    img_B), 1)), with no input shape anywhere: each input is the first conv's input with its own
    channel count (C1 + C2 = 6). The bug is reported for every split and size; torch agrees at
    splits and sizes the fixture's __main__ does not use, and runs the clean file at them."""
    torch = pytest.importorskip("torch")
    path = _alone(name, tmp_path)
    a = analyze_source(path.read_text(), str(path), strict=True)
    marks = _markers(FIXTURES / name)
    assert {(f.line, f.code) for f in a.findings} == marks, [f.message for f in a.findings]
    assert not [r.error for r in a.runs if r.error]
    (run,) = [r for r in a.runs if r.ctor_text.startswith("Discriminator(")]
    if not marks:  # followed to the end, not given up: a patch map per sample
        assert run.output is not None and run.output.shape is not None and len(run.output.shape) == 4
    spec = importlib.util.spec_from_file_location(f"_sym_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for c1, size in ((3, 64), (1, 32), (5, 48)):
        model = mod.Discriminator()
        args = (torch.randn(2, c1, size, size), torch.randn(2, 6 - c1, size, size))
        if not marks:
            model(*args)
            continue
        with pytest.raises(RuntimeError) as e:
            model(*args)
        frames = [fr for fr in e.traceback if Path(str(fr.path)).resolve() == path.resolve()]
        ((line, _code),) = marks
        assert frames and frames[-1].lineno + 1 == line, (c1, size, e.value)
    sys.modules.pop(spec.name, None)
