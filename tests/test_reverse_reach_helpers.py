"""A file of layer builders that other files assemble into the model (KAIR's basicblock.py, whose
``conv(mode='4')`` makes the ``nn.PixelShuffle`` network_imdn.py's IMDN calls; CurveNet's walk.py,
imported by curvenet_util.py's blocks, which curvenet_cls.py assembles):

* ``--input-shape Net=...`` while linting the builders' file reaches it through the model's file
  even when that file imports it only through another (two hops), and even when many other files
  import it too (the one defining the declared class is analysed first);
* a layer the builders' file makes, failing where another file calls it, is reported where it is
  built (the line to fix), and a driver's finding names that line too.

torch says where each declared input fails."""
import os
import subprocess
import sys
import traceback

import pytest

torch = pytest.importorskip("torch")

BLOCKS = '''\
import torch.nn as nn


def conv(cin, cout, mode="C"):
    layers = []
    for t in mode:
        if t == "C":
            layers.append(nn.Conv2d(cin, cout, 3, padding=1))
        elif t == "4":
            layers.append(nn.PixelShuffle(upscale_factor=4))
    return nn.Sequential(*layers)
'''

PARTS = '''\
import torch.nn as nn
import blocks as B


class Upsampler(nn.Module):
    def __init__(self, nc, out_nc):
        super().__init__()
        self.body = B.conv(nc, out_nc * 16, mode="C4")

    def forward(self, x):
        return self.body(x)
'''

MODEL = '''\
import torch.nn as nn
from parts import Upsampler


class Net(nn.Module):
    def __init__(self, nc=8):
        super().__init__()
        self.head = nn.Conv2d(3, nc, 3, padding=1)
        self.up = Upsampler(nc, 3)

    def forward(self, x):
        return self.up(self.head(x))
'''

DECOY = '''\
import torch.nn as nn
import blocks


class Other{i}(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = blocks.conv(3, 3)

    def forward(self, x):
        return self.body(x)
'''


def _project(tmp_path, blocks=BLOCKS):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "blocks.py").write_text(blocks)
    (tmp_path / "parts.py").write_text(PARTS)
    (tmp_path / "net_model.py").write_text(MODEL)
    for i in range(4):  # importers of blocks.py found before the model's file, in path order
        (tmp_path / f"a{i}_other.py").write_text(DECOY.format(i=i))
    return tmp_path


def _torch_line(root, name="blocks.py"):
    """The line of ``name`` torch's traceback shows last, or the line building the layer that
    raised (a torch layer's forward has no frame of the project)."""
    sys.path.insert(0, str(root))
    mods = ("blocks", "parts", "net_model")
    try:
        for m in mods:
            sys.modules.pop(m, None)
        import net_model
        try:
            net_model.Net()(torch.randn(2, 3, 8, 8))
        except RuntimeError as e:
            return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename.endswith(name)], str(e)
        return None
    finally:
        sys.path.remove(str(root))
        for m in mods:
            sys.modules.pop(m, None)


def _check(root, path, *args):
    env = dict(os.environ, SHAPELINT_STRICT="1")
    p = subprocess.run([sys.executable, "-m", "shapelint", "check", "--no-cache", str(path), *args],
                       capture_output=True, text=True, cwd=root, env=env)
    return p.returncode, p.stdout, p.stderr


def test_a_layer_a_helper_builds_is_reported_where_it_is_built(tmp_path):
    bug = BLOCKS.replace("upscale_factor=4", "upscale_factor=3")
    root = _project(tmp_path, bug)
    frames, error = _torch_line(root)
    assert frames == [] and "pixel_shuffle" in error  # torch fails inside the layer, called by parts.py
    line = bug.splitlines().index('            layers.append(nn.PixelShuffle(upscale_factor=3))') + 1
    rc, out, err = _check(root, root / "blocks.py", "--input-shape", "Net=2,3,8,8")
    assert rc == 1, out + err
    assert out.startswith(f"{root / 'blocks.py'}:{line}:") and "SHP007" in out, out + err
    assert "reached through Net() of net_model.py" in out and out.count("\n") == 1, out
    # a script building the model: its finding names the line that built the layer
    (root / "drive.py").write_text("import torch\nfrom net_model import Net\n\nNet()(torch.randn(2, 3, 8, 8))\n")
    rc, out, err = _check(root, root / "drive.py")
    assert rc == 1 and f"PixelShuffle built at blocks.py:{line})" in out, out + err


def test_clean_helpers_stay_quiet_through_the_model(tmp_path):
    root = _project(tmp_path)
    assert _torch_line(root) is None
    rc, out, err = _check(root, root / "blocks.py", "--input-shape", "Net=2,3,8,8")
    assert (rc, out) == (0, ""), out + err


def test_a_bug_two_imports_away_is_reached_with_the_declared_input(tmp_path):
    bug = BLOCKS.replace("nn.Conv2d(cin, cout, 3, padding=1)", "nn.Conv2d(cin + 1, cout, 3, padding=1)")
    root = _project(tmp_path, bug)
    frames, error = _torch_line(root)
    assert "channels" in error
    line = bug.splitlines().index("            layers.append(nn.Conv2d(cin + 1, cout, 3, padding=1))") + 1
    rc, out, err = _check(root, root / "blocks.py", "--input-shape", "Net=2,3,8,8")
    assert rc == 1 and f"blocks.py:{line}:" in out and "SHP003" in out, out + err


HEAD = '''\
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.fc = nn.Linear(features, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))
'''

SHALLOW = '''\
import torch.nn as nn
from head import Head


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.MaxPool2d(2))
        self.head = Head(16 * 4 * 4)

    def forward(self, x):
        return self.head(self.features(x))
'''

# the same name in another file of the project, for 16x16 images (BigGAN.py's and BigGANdeep.py's
# Generator beside layers.py)
DEEP = SHALLOW.replace("Head(16 * 4 * 4)", "Head(16 * 8 * 8)")


def test_a_declared_class_two_importers_define_is_the_one_it_runs_through(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "head.py").write_text(HEAD)
    (tmp_path / "a_shallow.py").write_text(SHALLOW)
    (tmp_path / "b_deep.py").write_text(DEEP)
    ns_a, ns_b = {}, {}
    exec(compile(SHALLOW.replace("from head import Head", HEAD), "a.py", "exec"), ns_a)
    exec(compile(DEEP.replace("from head import Head", HEAD), "b.py", "exec"), ns_b)
    x = torch.randn(2, 3, 8, 8)
    assert ns_a["Net"]()(x).shape == (2, 10)
    with pytest.raises(RuntimeError):
        ns_b["Net"]()(x)  # 16x16 images only: the declaration is not for this one
    rc, out, err = _check(tmp_path, tmp_path / "head.py", "--input-shape", "Net=2,3,8,8")
    assert (rc, out) == (0, ""), out + err
    # a bug of head.py that fails through both is reported
    (tmp_path / "head.py").write_text(HEAD.replace("x.flatten(1)", "x.flatten(2)"))
    for ns in (ns_a, ns_b):
        ns.clear()
    exec(compile(SHALLOW.replace("from head import Head", HEAD.replace("x.flatten(1)", "x.flatten(2)")),
                 "a.py", "exec"), ns_a)
    with pytest.raises(RuntimeError):
        ns_a["Net"]()(x)
    rc, out, err = _check(tmp_path, tmp_path / "head.py", "--input-shape", "Net=2,3,8,8")
    line = HEAD.splitlines().index("        return self.fc(x.flatten(1))") + 1
    assert rc == 1 and f"head.py:{line}:" in out, out + err
