"""Calls of a function already active (lint/core/calls.py ``_bounded_reentry``): a method of the
block nested in the block (a U-Net's skip blocks) and a recursion on decided values (an hourglass's
depth) are followed as Python runs them; a recursion on undecided values, or deeper than
MAX_NESTING, becomes unknown, without a finding and without abandoning the class. Each expected
line is where torch raises."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import traceback

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.core.frames import MAX_NESTING  # noqa: E402
from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

CHAIN = '''
import torch
import torch.nn as nn


class Skip(nn.Module):
    def __init__(self, c, inner=None):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)
        self.inner = inner
        self.up = nn.Upsample(scale_factor=2)

    def forward(self, x):
        y = self.conv(x)
        if self.inner is not None:
            y = self.inner(y)
        return x + self.up(y)


class Net(nn.Module):
    def __init__(self, depth):
        super().__init__()
        block = None
        for _ in range(depth):
            block = Skip(4, block)
        self.body = block

    def forward(self, x):
        return self.body(x)


model = Net({depth})
model(torch.randn(2, 4, {size}, {size}))
'''


def _torch_line(code: str):
    """The line of case.py where torch raises running ``code``, or None when it runs clean."""
    try:
        exec(compile(code, "case.py", "exec"), {"__name__": "case"})
    except Exception as e:  # noqa: BLE001 - torch's verdict
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
    return None


@pytest.mark.parametrize("depth,size", [(6, 64), (6, 96), (10, 1024), (10, 1000)])
def test_blocks_nested_in_blocks_are_followed_as_torch_runs_them(depth, size):
    code = textwrap.dedent(CHAIN.format(depth=depth, size=size))
    line = _torch_line(code)
    a = analyze_source(code, "case.py", strict=True)
    assert [f.line for f in a.findings] == ([line] if line else [])
    assert not [r.error for r in a.runs if r.error]
    if line is None:
        (run,) = [r for r in a.runs if r.concrete]
        assert run.output.shape == (2, 4, size, size)


FLAT = '''
import torch
import torch.nn as nn


class Skip(nn.Module):
    def __init__(self, c, inner=None, out=None):
        super().__init__()
        self.conv = nn.Conv2d(c, out or c, 3, padding=1)
        self.inner = inner

    def forward(self, x):
        y = self.conv(x)
        if self.inner is not None:
            y = self.inner(y)
        return x + y


class Net(nn.Module):
    def __init__(self, depth):
        super().__init__()
        block = Skip(4, out=5)  # the innermost block adds 5 channels to 4
        for _ in range(depth - 1):
            block = Skip(4, block)
        self.body = block

    def forward(self, x):
        return self.body(x)


model = Net({depth})
model(torch.randn(2, 4, 8, 8))
'''


@pytest.mark.parametrize("depth", [4, MAX_NESTING, MAX_NESTING + 4])
def test_nesting_deeper_than_the_cap_is_unknown_not_wrong(depth):
    # torch fails in the innermost block; within MAX_NESTING shapelint follows it there, deeper
    # the innermost calls are not followed: nothing is said (unknown), the class is not abandoned
    code = textwrap.dedent(FLAT.format(depth=depth))
    line = _torch_line(code)
    assert line is not None
    a = analyze_source(code, "case.py", strict=True)
    assert [f.line for f in a.findings] == ([line] if depth <= MAX_NESTING else [])
    assert not [r.error for r in a.runs if r.error]


RECURSIVE_BUILD = '''
import torch
import torch.nn as nn


class Tree(nn.Module):
    def __init__(self, c, depth):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.left = Tree(c, depth - 1) if depth > 0 else None
        self.right = Tree(c, depth - 1) if depth > 0 else None

    def forward(self, x):
        y = self.conv(x)
        if self.left is not None:
            y = self.left(y) + self.right(y)
        return y
'''


def test_a_recursion_on_an_undecided_value_stays_unknown_and_cheap():
    # nobody builds Tree: its depth is a symbol, so `depth > 0` is never decided; the recursion
    # is cut at MAX_REENTRY as before, not followed MAX_NESTING deep (2**16 blocks)
    code = textwrap.dedent(RECURSIVE_BUILD)
    start = time.process_time()
    a = analyze_source(code, "case.py", strict=True)
    assert time.process_time() - start < 5
    assert a.findings == []


def test_a_recursive_build_on_decided_values_matches_torch():
    code = textwrap.dedent(RECURSIVE_BUILD) + "\nmodel = Tree(3, 4)\nmodel(torch.randn(2, 3, 8, 8))\n"
    assert _torch_line(code) is None
    a = analyze_source(code, "case.py", strict=True)
    (run,) = [r for r in a.runs if r.concrete]
    assert run.output.shape == (2, 3, 8, 8) and a.findings == []
    bad = code.replace("self.conv = nn.Conv2d(c, c, 3, padding=1)", "self.conv = nn.Conv2d(c, c, 3)")
    line = _torch_line(bad)
    assert line is not None
    assert [f.line for f in analyze_source(bad, "case.py", strict=True).findings] == [line]


NETS = '''
import functools

import torch
import torch.nn as nn


class Down(nn.Module):
    def __init__(self, cin, cout, norm_layer=nn.BatchNorm2d):
        super().__init__()
        if type(norm_layer) == functools.partial:
            bias = norm_layer.func == nn.InstanceNorm2d
        else:
            bias = norm_layer == nn.InstanceNorm2d
        self.conv = nn.Conv2d(cin, cout, 4, stride=2, padding=1, bias=bias)
        self.norm = norm_layer(cout)

    def forward(self, x):
        return self.norm(self.conv(x))


class Disc(nn.Module):
    def __init__(self, cin, ndf, norm_layer):
        super().__init__()
        self.body = nn.Sequential(Down(cin, ndf, norm_layer), Down(ndf, ndf * 2, norm_layer))
        self.fc = nn.Linear(ndf * 2 * 8 * 8, 1)

    def forward(self, x):
        return self.fc(self.body(x).flatten(1))


def init_net(net, gpu_ids=()):
    if len(gpu_ids) > 0:
        net = torch.nn.DataParallel(net, gpu_ids)
    return net


def define_D(cin, ndf, norm="batch", gpu_ids=()):
    if norm == "batch":
        norm_layer = functools.partial(nn.BatchNorm2d, affine=True)
    else:
        norm_layer = functools.partial(nn.InstanceNorm2d, affine=False)
    net = Disc(cin, ndf, norm_layer)
    return init_net(net, gpu_ids)
'''


@pytest.mark.parametrize("size", [32, 40])
def test_a_factory_returning_what_init_net_hands_back_is_built_from_a_driver(tmp_path, size):
    """``return init_net(net, gpu_ids)`` (pix2pix, CycleGAN): the driver file's model is the
    factory's class; its failing line is named where torch fails in nets.py."""
    (tmp_path / "nets.py").write_text(textwrap.dedent(NETS))
    drv = tmp_path / "drv.py"
    drv.write_text("import torch\nfrom nets import define_D\n\nmodel = define_D(3, 8, norm='instance')\n"
                   f"model(torch.randn(2, 3, {size}, {size}))\n")
    run = subprocess.run([sys.executable, str(drv)], cwd=tmp_path, capture_output=True, text=True)
    torch_lines = [int(ln.split("line ")[1].split(",")[0]) for ln in run.stderr.splitlines()
                   if 'nets.py", line' in ln]
    a = analyze_source(drv.read_text(), str(drv), strict=True)
    if run.returncode == 0:
        assert a.findings == []
        (r,) = [r for r in a.runs if r.concrete]
        assert r.output.shape == (2, 1)
    else:
        (f,) = a.findings
        assert f"(in nets.py:{torch_lines[-1]})" in f.message, (f.message, run.stderr)
