"""Code from third-party models that once made shapelint crash or speak on correct code.
Each snippet is run in torch too: it must run cleanly there, and shapelint must say nothing."""
import functools
import os
import textwrap

import pytest
import torch

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

CASES = {
    "starred shape in a tuple (lucidrains attention)": '''
        import torch
        import torch.nn as nn

        class Attention(nn.Module):
            def __init__(self, dim, heads=8):
                super().__init__()
                self.heads = heads
                self.to_out = nn.Linear(dim, dim)

            def forward(self, x):
                b, n, _, h = *x.shape, self.heads
                return self.to_out(x)

        model = Attention(64)
        model(torch.randn(2, 10, 64))
    ''',
    "new_ones with sizes as varargs": '''
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)

            def forward(self, x):
                y = self.fc(x)
                return y + y.new_ones(2, 3, 4)

        model = Net()
        model(torch.randn(2, 3, 4))
    ''',
    "per-step classifier after an LSTM folds batch and time on purpose": '''
        import torch
        import torch.nn as nn

        class Tagger(nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = nn.LSTM(4, 64, batch_first=True)
                self.fc = nn.Linear(64, 4)

            def forward(self, x):
                out, _ = self.lstm(x)
                out = out.contiguous().view(-1, 64)
                return self.fc(out)

        model = Tagger()
        model(torch.randn(8, 10, 4))
    ''',
    "unbatched image into a conv net": '''
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 10, 5)
                self.fc = nn.Linear(10 * 24 * 24, 10)

            def forward(self, x):
                x = F.relu(self.conv1(x))
                x = x.view(-1, 10 * 24 * 24)
                return self.fc(x)

        model = Net()
        model(torch.randn(1, 28, 28))
    ''',
    "(batch, time, features) into a Linear then a Conv1d": '''
        import torch
        import torch.nn as nn

        class TemporalBlock(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(16, 32)
                self.conv = nn.Conv1d(32, 32, kernel_size=3, padding=1)

            def forward(self, x):
                h = self.proj(x).transpose(1, 2)
                return self.conv(h).transpose(1, 2)

        model = TemporalBlock()
        model(torch.randn(4, 20, 16))
    ''',
    "attention that unpacks B, T, C = x.size() (no input shape in the file)": '''
        import torch.nn as nn

        class SelfAttention(nn.Module):
            def __init__(self, dim=32, heads=4):
                super().__init__()
                self.dim, self.heads = dim, heads
                self.qkv = nn.Linear(dim, 3 * dim)
                self.proj = nn.Linear(dim, dim)

            def forward(self, x):
                B, T, C = x.size()
                q, k, v = self.qkv(x).split(self.dim, dim=2)
                q = q.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                k = k.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                v = v.view(B, T, self.heads, C // self.heads).transpose(1, 2)
                att = (q @ k.transpose(-2, -1)).softmax(dim=-1)
                y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
                return self.proj(y)
    ''',
    "reshape(shape=...) keyword form before an einsum (diffusers unpatchify)": '''
        import torch
        import torch.nn as nn

        class Unpatchify(nn.Module):
            def __init__(self, patch=2, channels=4):
                super().__init__()
                self.patch = patch
                self.out_channels = channels
                self.proj = nn.Linear(8, patch * patch * channels)

            def forward(self, hidden_states):
                hidden_states = self.proj(hidden_states)
                height = width = 2
                hidden_states = hidden_states.reshape(
                    shape=(hidden_states.shape[0], height, width, self.patch, self.patch, self.out_channels))
                hidden_states = torch.einsum("nhwpqc->nchpwq", hidden_states)
                output = hidden_states.reshape(
                    shape=(hidden_states.shape[0], self.out_channels, height * self.patch, width * self.patch))
                return output.flatten(start_dim=1, end_dim=2).sum(dim=-1, keepdim=True)

        model = Unpatchify()
        model(torch.randn(3, 4, 8))
    ''',
    "keyword forms of permute/transpose/split/cat": '''
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(6, 6)

            def forward(self, x):
                a, b = torch.split(x, split_size_or_sections=3, dim=-1)
                y = torch.cat(tensors=[b, a], dim=-1).permute(dims=(0, 2, 1)).transpose(dim0=1, dim1=2)
                return self.fc(y.view(size=(-1, 6))).unsqueeze(dim=0).squeeze(dim=0)

        model = Net()
        model(torch.randn(2, 5, 6))
    ''',
    "two functions each build their model and feed it its own input (Python scopes)": '''
        import torch
        import torch.nn as nn

        class A(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 2)

            def forward(self, x):
                return self.fc(x)

        class B(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)

            def forward(self, x):
                return self.conv(x)

        def test_a():
            model = A()
            return model(torch.randn(4, 10))

        def test_b():
            model = B()
            x = torch.randn(1, 3, 32, 32)
            return model(x)

        def test_b_again():
            x = torch.randn(2, 3, 16, 16)
            model = B()
            return model(x)

        test_a()
        test_b()
        test_b_again()
    ''',
    "Python errors that are caught or not certain to happen while building (SHP009 stays quiet)": '''
        import contextlib
        import math
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, widths=(8, 16), depth=0):
                super().__init__()
                try:
                    extra = widths[2]
                except IndexError:
                    extra = widths[-1]
                try:
                    scale = 1 / depth
                except ZeroDivisionError:
                    scale = 1.0
                with contextlib.suppress(ZeroDivisionError):
                    scale = 2 / depth
                if torch.cuda.is_available():
                    extra = widths[5] // depth
                self.scale = scale
                self.fc = nn.Linear(extra, 4)
                for m in self.modules():
                    if isinstance(m, nn.Linear):
                        m.weight.data.normal_(0, math.sqrt(2. / m.in_features))

            def forward(self, x):
                return self.fc(x) * self.scale

        model = Net()
        model(torch.randn(2, 16))
    ''',
    "while loops: unrolled when decidable, havocked when the body may leave early": '''
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, isize=32, repeat=2):
                super().__init__()
                blocks, c, size = [], 3, isize
                while size > 8:
                    blocks.append(nn.Conv2d(c, 2 * c, 4, 2, 1))
                    c, size = 2 * c, size // 2
                while repeat:
                    blocks.append(nn.Conv2d(c, c, 3, 1, 1))
                    repeat -= 1
                extra = []
                while True:
                    extra.append(nn.Conv2d(c, c, 1))
                    if torch.cuda.is_available() or len(extra) >= 2:
                        break
                self.body = nn.Sequential(*blocks)
                self.extra = nn.ModuleList(extra)
                self.head = nn.Linear(c * 8 * 8, 10)

            def forward(self, x):
                return self.head(self.body(x).flatten(1))

        model = Net()
        model(torch.randn(2, 3, 32, 32))
    ''',
    "getattr with a default on a module attribute never set (diffusers' FreeU switch)": '''
        import torch
        import torch.nn as nn

        class Up(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(16, 4)

            def forward(self, x):
                freeu = getattr(self, "s1", None) and getattr(self, "b1", None)
                if freeu:
                    x = torch.cat([x, x], dim=1)
                return self.fc(x)

        model = Up()
        model(torch.randn(2, 16))
    ''',
    "super(Base, self).__init__() skips Base's own __init__ (diffusers' HiDreamAttention)": '''
        import torch
        import torch.nn as nn

        class Attention(nn.Module):
            def __init__(self, query_dim, heads=8):
                super().__init__()
                self.to_q = nn.Linear(query_dim, heads * 4)

        class MyAttention(Attention):
            def __init__(self, query_dim: int = 16):
                super(Attention, self).__init__()
                self.to_q = nn.Linear(query_dim, 8)

            def forward(self, x):
                return self.to_q(x)

        model = MyAttention()
        model(torch.randn(2, 16))
    ''',
    "slice assignment inserts into a list (timm's val2tuple)": '''
        import torch
        import torch.nn as nn

        def val2tuple(x, min_len=1, idx_repeat=-1):
            x = list(x) if isinstance(x, (list, tuple)) else [x]
            if len(x) > 0:
                x[idx_repeat:idx_repeat] = [x[idx_repeat] for _ in range(min_len - len(x))]
            return tuple(x)

        class Net(nn.Module):
            def __init__(self, width=8):
                super().__init__()
                sizes = val2tuple(width, 2)
                self.a = nn.Linear(4, sizes[0])
                self.b = nn.Linear(sizes[0], sizes[1])

            def forward(self, x):
                return self.b(self.a(x))

        model = Net()
        model(torch.randn(2, 4))
    ''',
    "np.newaxis in a tensor index is None (transformers' canary)": '''
        import numpy as np
        import torch
        import torch.nn as nn

        class Pos(nn.Module):
            def __init__(self, length=6, dim=4):
                super().__init__()
                self.length = length
                self.fc = nn.Linear(dim, 3)

            def forward(self, x):
                pos = torch.arange(self.length)[:, np.newaxis]
                return self.fc(x) + pos[: x.shape[1]]

        model = Pos()
        model(torch.randn(2, 6, 4))
    ''',
    "one-line if suite mutating the stage's filters (RawNet's _make_layer)": '''
        import torch
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self, nb_filts):
                super().__init__()
                self.bn1 = nn.BatchNorm1d(nb_filts[0])
                self.conv1 = nn.Conv1d(nb_filts[0], nb_filts[1], 3, padding=1)

            def forward(self, x):
                return self.conv1(self.bn1(x))

        class Net(nn.Module):
            def __init__(self, d_args):
                super().__init__()
                self.block1 = self._make_layer(2, d_args['filts'][2])

            def _make_layer(self, nb_blocks, nb_filts):
                layers = []
                for i in range(nb_blocks):
                    layers.append(Block(nb_filts=nb_filts))
                    if i == 0: nb_filts[0] = nb_filts[1]
                return nn.Sequential(*layers)

            def forward(self, x, is_test=False):
                x = self.block1(x)
                if is_test: return x
                return x.mean(-1)

        model = Net({'filts': [128, [128, 128], [128, 256]]})
        model(torch.randn(2, 128, 50))
    ''',
    "a plug-in default the builders replace (BigGAN's DBlock which_conv)": '''
        import functools
        import torch
        import torch.nn as nn

        class SNConv2d(nn.Conv2d):
            def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
                super().__init__(in_channels, out_channels, kernel_size, stride, padding)

        class DBlock(nn.Module):
            def __init__(self, in_channels, out_channels, which_conv=SNConv2d):
                super().__init__()
                self.conv1 = which_conv(in_channels, out_channels)
                self.conv2 = which_conv(out_channels, out_channels)

            def forward(self, x):
                return self.conv2(torch.relu(self.conv1(x)))
    ''',
    "a list parameter whose name holds a size word (Yolo-v2's anchors, not `nc`)": '''
        import torch
        import torch.nn as nn

        class YoloLoss(nn.Module):
            def __init__(self, num_classes, anchors):
                super().__init__()
                self.num_anchors = len(anchors)
                self.anchors = torch.Tensor(anchors)
                self.conv = nn.Conv2d(8, self.num_anchors * (5 + num_classes), 1)

            def forward(self, x):
                return self.conv(x) * self.anchors[:, 0].sum()

        class Head(nn.Module):
            def __init__(self, num_anchors_list):
                super().__init__()
                self.anchors = torch.Tensor(num_anchors_list)

            def forward(self, x):
                return x * self.anchors[:, 1].sum()
    ''',
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_clean_in_torch_and_silent_in_shapelint(name):
    src = textwrap.dedent(CASES[name])
    ns = {}
    exec(compile(src, "case.py", "exec"), ns)  # the file's own calls run the model in torch
    if "SelfAttention" in ns:
        ns["SelfAttention"]()(torch.randn(2, 7, 32))
    a = analyze_source(src, "case.py")
    assert a.findings == []
    assert not [r.error for r in a.runs if r.error]
    if "YoloLoss" in ns:  # built by the training script with a list of (w, h) pairs: torch runs it
        ns["YoloLoss"](20, [[1.0, 2.0], [3.0, 4.0]])(torch.randn(2, 8, 4, 4))
        ns["Head"]([[1.0, 2.0]])(torch.randn(2, 3))
    if "DBlock" in ns:  # what the project's Discriminator builds: torch runs it
        conv = functools.partial(ns["SNConv2d"], kernel_size=3, padding=1)
        assert ns["DBlock"](3, 8, which_conv=conv)(torch.randn(2, 3, 8, 8)).shape == (2, 8, 8, 8)


def test_one_line_suites_run():
    """`if c: stmt` on one line runs its statement (it was skipped): the return in the suite ends
    forward, the assignment decides the layer torch fails in."""
    code = textwrap.dedent('''
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, wide=True):
                super().__init__()
                width = 8
                if wide: width = 16
                self.conv = nn.Conv2d(3, width, 3, padding=1)
                self.head = nn.Linear(8 * 4 * 4, 10)

            def forward(self, x):
                x = self.conv(x)
                if x.shape[1] > 100: return x
                return self.head(x.flatten(1))

        model = Net()
        model(torch.randn(2, 3, 4, 4))
    ''')
    line = _fails_at(code)
    a = analyze_source(code, "case.py")
    assert [(f.code, f.line) for f in a.findings] == [("SHP002", line)]


def test_inputs_follow_python_scopes():
    """Each function's model is fed that function's input, and a bug is still found through it."""
    src = textwrap.dedent(CASES["two functions each build their model and feed it its own input (Python scopes)"])
    runs = analyze_source(src, "case.py").runs
    fed = sorted((r.ctor_text, tuple(map(tuple, r.inputs))) for r in runs if r.concrete)
    assert fed == [("A()", ((4, 10),)), ("B()", ((1, 3, 32, 32),)), ("B()", ((2, 3, 16, 16),))]
    bug = src.replace("nn.Linear(10, 2)", "nn.Linear(11, 2)")
    with pytest.raises(RuntimeError) as e:
        exec(compile(bug, "bug.py", "exec"), {})
    import traceback
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "bug.py"][-1]
    codes = [(f.code, f.line) for f in analyze_source(bug, "bug.py").findings]
    assert codes == [("SHP002", torch_line)]


KIND_BUG = '''
import torch
import torch.nn as nn
{imports}


@torch.jit.script
def double(x):
    return torch.cat([x, x], dim=1)


class Net({base}):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 16 * 16, 10)

    def forward(self, x):
        x = double(torch.relu(self.conv(x)))
        return self.fc(x.flatten(1))


model = Net()
model(torch.randn(2, 3, 16, 16))
'''


def _fake_lightning(monkeypatch):
    """Lightning is not installed: torch runs the snippets with its module names bound to nn.Module."""
    import sys
    import types

    for name in ("pytorch_lightning", "lightning", "lightning.pytorch"):
        m = types.ModuleType(name)
        m.LightningModule = torch.nn.Module
        monkeypatch.setitem(sys.modules, name, m)
    monkeypatch.setattr(sys.modules["lightning"], "pytorch", sys.modules["lightning.pytorch"], raising=False)


@pytest.mark.parametrize("imports,base", [
    ("import pytorch_lightning as pl", "pl.LightningModule"),
    ("import lightning as L", "L.LightningModule"),
    ("from lightning.pytorch import LightningModule", "LightningModule"),
    ("import lightning.pytorch as lp", "lp.LightningModule"),
    ("", "torch.jit.ScriptModule"),
])
def test_model_kinds_are_analysed(imports, base, monkeypatch, tmp_path):
    """Modules whose base reaches nn.Module through a known package are analysed like nn.Module
    subclasses, and a @torch.jit.script helper is a plain function (it doubles the channels the
    Linear does not expect): the finding sits on the line torch fails on."""
    import traceback

    _fake_lightning(monkeypatch)
    import runpy

    src = KIND_BUG.format(imports=imports, base=base)
    path = tmp_path / "kind.py"  # torch.jit.script reads the helper's source from a real file
    path.write_text(src)
    with pytest.raises(RuntimeError, match="cannot be multiplied") as e:
        runpy.run_path(str(path))
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == str(path)][-1]
    found = [(f.code, f.line) for f in analyze_source(src, "kind.py").findings]
    assert found == [("SHP002", torch_line)]
    fixed = src.replace("nn.Linear(8 * 16 * 16, 10)", "nn.Linear(16 * 16 * 16, 10)")
    path.write_text(fixed)
    runpy.run_path(str(path))
    assert analyze_source(fixed, "kind.py").findings == []


def test_module_level_sequential_without_a_call_is_analysed_symbolically():
    """fixtures/model_kind_sequential_symbolic_bug.py never calls its model: torch, fed any image,
    fails at the conv the finding names (its definition line), and the fixed file is silent."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "fixtures" / "model_kind_sequential_symbolic_bug.py"
    src = path.read_text()
    ns = {}
    exec(compile(src, str(path), "exec"), ns)
    for h, w in ((8, 8), (13, 5)):
        with pytest.raises(RuntimeError, match="expected input.*to have 32 channels"):
            ns["features"](torch.randn(2, 3, h, w))
    marked = [i for i, line in enumerate(src.splitlines(), 1) if "# expect: SHP003" in line]
    assert [(f.code, f.line) for f in analyze_source(src, str(path)).findings] == [("SHP003", marked[0])]
    fixed = src.replace("nn.Conv2d(32, 64", "nn.Conv2d(16, 64")
    exec(compile(fixed, "fixed.py", "exec"), ns)
    ns["features"](torch.randn(2, 3, 8, 8))
    assert analyze_source(fixed, "fixed.py").findings == []


def test_decidable_while_loops_are_unrolled():
    """The stage builders run: the head's wrong size is found (torch fails on that line too)."""
    import traceback

    src = textwrap.dedent(CASES["while loops: unrolled when decidable, havocked when the body may leave early"])
    bug = src.replace("nn.Linear(c * 8 * 8, 10)", "nn.Linear(c * 4 * 4, 10)")
    with pytest.raises(RuntimeError) as e:
        exec(compile(bug, "bug.py", "exec"), {})
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "bug.py"][-1]
    assert [(f.code, f.line) for f in analyze_source(bug, "bug.py").findings] == [("SHP002", torch_line)]


def test_getattr_default_on_a_module_decides_the_branch():
    """getattr(self, "s1", None) on a module that never set s1 is None, as in torch: the branch it
    guards is not taken, and the head's wrong size is found (UNet2DConditionModel's up blocks)."""
    import traceback

    src = textwrap.dedent(CASES["getattr with a default on a module attribute never set (diffusers' FreeU switch)"])
    bug = src.replace("nn.Linear(16, 4)", "nn.Linear(15, 4)")
    with pytest.raises(RuntimeError) as e:
        exec(compile(bug, "bug.py", "exec"), {})
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "bug.py"][-1]
    assert [(f.code, f.line) for f in analyze_source(bug, "bug.py").findings] == [("SHP002", torch_line)]


def test_slice_assignment_and_two_argument_super_are_followed():
    """The list after `x[-1:-1] = [...]` and the class built through `super(Base, self)` are known:
    the head's wrong size is found on the line torch fails on."""
    import traceback

    for name, good, bad in [("slice assignment inserts into a list (timm's val2tuple)",
                             "nn.Linear(sizes[0], sizes[1])", "nn.Linear(sizes[0] + 1, sizes[1])"),
                            ("super(Base, self).__init__() skips Base's own __init__ (diffusers' HiDreamAttention)",
                             "nn.Linear(query_dim, 8)", "nn.Linear(query_dim + 1, 8)")]:
        bug = textwrap.dedent(CASES[name]).replace(good, bad)
        with pytest.raises(RuntimeError) as e:
            exec(compile(bug, "bug.py", "exec"), {})
        torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "bug.py"][-1]
        assert [(f.code, f.line) for f in analyze_source(bug, "bug.py").findings] == [("SHP002", torch_line)], name


PLACEHOLDER_DEFAULTS = '''
import torch
import torch.nn as nn


class Vit(nn.Module):
    def __init__(self, in_chans=3, widths=(), num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(in_chans, widths[0], 3)
        self.head = nn.Linear(widths[0], num_classes)

    def forward(self, x):
        return self.head(self.stem(x).mean((2, 3)))


def vit_tiny():
    return Vit(widths=(8, 16))


def vit_bad():
    return Vit(widths=())
'''


def test_placeholder_defaults_nobody_writes_are_not_a_construction_error():
    """timm's `EfficientVit(widths=())`: Python raises on the class's own defaults, but only the
    factories build it, with real values: unknown, no SHP009. The same defaults written in a
    call of the file (`Vit(widths=())` in a factory) are still reported, where torch raises."""
    import traceback

    ns = {}
    exec(compile(PLACEHOLDER_DEFAULTS, "case.py", "exec"), ns)
    assert ns["vit_tiny"]()(torch.randn(2, 3, 8, 8)).shape == (2, 10)
    with pytest.raises(IndexError):
        ns["Vit"]()
    with pytest.raises(IndexError) as e:
        ns["vit_bad"]()
    torch_line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]
    a = analyze_source(PLACEHOLDER_DEFAULTS, "case.py")
    assert [(f.code, f.line) for f in a.findings] == [("SHP009", torch_line)]
    assert analyze_source(PLACEHOLDER_DEFAULTS.replace("\n\ndef vit_bad():\n    return Vit(widths=())\n", ""),
                          "case.py").findings == []


def _fails_at(code: str, error=RuntimeError, ns=None) -> int:
    """The line of case.py where Python (torch) raises ``error`` running ``code``."""
    import traceback

    with pytest.raises(error) as e:
        exec(compile(code, "case.py", "exec"), {} if ns is None else ns)
    return [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == "case.py"][-1]


def test_a_wrong_call_in_a_function_nothing_calls_is_not_reported():
    """pytorch-speech-commands' dpn.py: `def test(): net = DPN92()` without its num_classes, left
    uncalled (`# test()`). The call would raise TypeError, but nothing runs it: no SHP009. Once
    something calls test(), Python raises there, and it is reported on that line."""
    from conftest import FIXTURES

    path = FIXTURES / "construction_uncalled_test.py"
    code = path.read_text()
    assert analyze_source(code, str(path), strict=True).findings == []
    # called directly, or by its name in a string (`globals()['test']()`): Python raises there
    for call in ("test()\n", "globals()['test']()\n"):
        called = code.replace("# test()\n", call)
        assert called != code
        line = _fails_at(called, TypeError, {"__name__": "case"})
        a = analyze_source(called, "case.py", strict=True)
        assert [(f.code, f.line) for f in a.findings] == [("SHP009", line)], call


SMALL_INT_IDENTITY = '''
import torch
import torch.nn as nn


class Discriminator(nn.Module):
    def __init__(self, n_channels=8, n_blocks=4):
        super().__init__()
        blocks, in_channels = [], 3
        for i in range(n_blocks):
            out_channels = (n_channels if i is 0 else in_channels * 2) if i % 2 is 0 else in_channels
            blocks += [nn.Conv2d(in_channels, out_channels, 3, stride=1 if i % 2 is 0 else 2, padding=1)]
            in_channels = out_channels
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d((6, 6))
        self.fc = nn.Linear(out_channels * 6 * 6, 1)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(x)).view(x.size(0), -1))


model = Discriminator()
model(torch.randn(2, 3, 24, 24))
'''


def test_identity_of_small_ints_is_decided_as_cpython_does():
    """SRGAN's discriminator writes `i is 0` and `i % 2 is 0`: CPython keeps one object per small
    int, so these are equality (with a SyntaxWarning). The channel widths follow, and a head sized
    one number wrong is reported where torch fails."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(SMALL_INT_IDENTITY, "case.py", "exec"), {})
        assert analyze_source(SMALL_INT_IDENTITY, "case.py", strict=True).findings == []
        bad = SMALL_INT_IDENTITY.replace("AdaptiveAvgPool2d((6, 6))", "AdaptiveAvgPool2d((6, 5))")
        torch_line = _fails_at(bad)
    got = analyze_source(bad, "case.py", strict=True).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", torch_line)], [f.message for f in got]


POINT_GROUPING = '''
import torch
import torch.nn as nn


def index_points(points, idx):
    B = points.shape[0]
    view_shape = list(idx.shape)
    view_shape[1:] = [1] * (len(view_shape) - 1)
    repeat_shape = list(idx.shape)
    repeat_shape[0] = 1
    batch_indices = torch.arange(B, dtype=torch.long).view(view_shape).repeat(repeat_shape)
    return points[batch_indices, idx, :]


def knn(xyz, new_xyz, k):
    dist = torch.cdist(new_xyz, xyz) if False else -2 * torch.matmul(new_xyz, xyz.permute(0, 2, 1))
    return dist.sort(dim=-1)[1][:, :, :k]


class Grouping(nn.Module):
    def __init__(self, npoint=16, k=8):
        super().__init__()
        self.npoint, self.k = npoint, k
        self.conv = nn.Conv2d(3, 32, 1)

    def forward(self, xyz):
        xyz = xyz.permute(0, 2, 1)
        centers = index_points(xyz, torch.zeros(xyz.shape[0], self.npoint, dtype=torch.long))
        idx = knn(xyz, centers, self.k)
        grouped = index_points(xyz, idx) - centers.unsqueeze(2)
        return torch.max(self.conv(grouped.permute(0, 3, 2, 1)), 2)[0]


model = Grouping()
model(torch.randn(2, 3, 64))
'''


def test_point_grouping_by_index_tensors_is_followed():
    """PointNet++'s index_points (`points[batch_indices, idx, :]` with index tensors of two and three
    dims) and a k-nearest selection by `sort`: the grouped points' shapes are torch's, so a conv
    sized one number wrong after them is reported where torch fails."""
    ns = {}
    exec(compile(POINT_GROUPING, "case.py", "exec"), ns)
    assert ns["model"](torch.randn(2, 3, 64)).shape == (2, 32, 16)
    a = analyze_source(POINT_GROUPING, "case.py", strict=True)
    assert a.findings == []
    run = next(r for r in a.runs if r.concrete)
    assert run.output.shape == (2, 32, 16)
    bad = POINT_GROUPING.replace("nn.Conv2d(3, 32, 1)", "nn.Conv2d(4, 32, 1)")
    torch_line = _fails_at(bad)
    got = analyze_source(bad, "case.py", strict=True).findings
    assert [(f.code, f.line) for f in got] == [("SHP003", torch_line)], [f.message for f in got]


CLASS_EQUALITY = '''
import torch
import torch.nn as nn


class Basic(nn.Module):
    def __init__(self, c, growth):
        super().__init__()
        self.conv = nn.Conv2d(c, growth, 3, padding=1)

    def forward(self, x):
        return torch.cat((x, self.conv(x)), 1)


class Bottleneck(Basic):
    pass


class DenseNet(nn.Module):
    def __init__(self, depth=10, block=Bottleneck, growth=4):
        super().__init__()
        n = (depth - 4) / 3 if block == Basic else (depth - 4) // 6
        c, layers = 8, []
        self.conv1 = nn.Conv2d(3, c, 3, padding=1)
        for i in range(n):
            layers.append(block(c, growth))
            c += growth
        self.dense = nn.Sequential(*layers)
        self.pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(c, 10)

    def forward(self, x):
        x = self.pool(self.dense(self.conv1(x)))
        return self.fc(x.view(x.size(0), -1))


model = DenseNet()
model(torch.randn(2, 3, 8, 8))
'''


def test_classes_compared_with_equality_decide_the_depth():
    """pytorch-speech-commands' DenseNet: `n = (depth - 4) / 3 if block == BasicBlock else (depth - 4) // 6`.
    Classes compare by identity, so n is known (an int), the blocks are built and the head's
    size is checked; a pool sized one number wrong is reported where torch fails."""
    exec(compile(CLASS_EQUALITY, "case.py", "exec"), {})
    a = analyze_source(CLASS_EQUALITY, "case.py", strict=True)
    assert a.findings == [] and next(r for r in a.runs if r.concrete).output.shape == (2, 10)
    bad = CLASS_EQUALITY.replace("nn.AvgPool2d(8)", "nn.AvgPool2d(9)")
    torch_line = _fails_at(bad)
    got = analyze_source(bad, "case.py", strict=True).findings
    assert [(f.code, f.line) for f in got] == [("SHP004", torch_line)], [f.message for f in got]


REGISTERED = '''
import sys
from functools import partial

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, inplanes, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1)

    def forward(self, x):
        return self.conv2(torch.relu(self.conv1(x))) + x


class CifarNet(nn.Module):
    def __init__(self, layers, width, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(width, width) for _ in range(layers)])
        self.fc = nn.Linear(width, num_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(x.mean((2, 3)))


def _net(arch, layers, width, **kwargs):
    return CifarNet(layers, width, **kwargs)


def cifar10_net2(*args, **kwargs) -> CifarNet: pass
def cifar100_net4(*args, **kwargs) -> CifarNet: pass


thismodule = sys.modules[__name__]
for dataset in ["cifar10", "cifar100"]:
    for layers, model_name in zip([2, 4], ["net2", "net4"]):
        num_classes = 10 if dataset == "cifar10" else 100
        setattr(thismodule, f"{dataset}_{model_name}",
                partial(_net, arch=model_name, layers=layers, width=16, num_classes=num_classes))
'''


def test_factories_a_module_loop_registers_are_built(tmp_path):
    """pytorch-cifar-models: stub `def cifar10_resnet20(*args, **kwargs) -> CifarResNet: pass`
    lines, replaced by a module-level loop's `setattr(thismodule, name, partial(_resnet, ...))`:
    the registered partials are the factories (they were read as functions returning None, and
    CifarResNet was never built). A bug in the block is found where torch fails; the clean file is
    silent and its models analysed."""
    import importlib.util
    import traceback

    def load(code, name):
        p = tmp_path / f"{name}.py"
        p.write_text(code)
        spec = importlib.util.spec_from_file_location(name, p)
        mod = importlib.util.module_from_spec(spec)
        sys_modules = __import__("sys").modules
        sys_modules[name] = mod
        spec.loader.exec_module(mod)
        return mod, str(p)

    mod, path = load(REGISTERED, "registered_ok")
    assert mod.cifar100_net4()(torch.randn(2, 3, 8, 8)).shape == (2, 100)
    a = analyze_source(REGISTERED, path)
    assert a.findings == []
    assert all(e["analysed"] for e in a.coverage)
    built = {r.ctor_text for r in a.runs if r.root is not None}
    assert {"cifar10_net2()", "cifar100_net4()"} <= built
    bad = REGISTERED.replace("self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1)",
                             "self.conv2 = nn.Conv2d(planes, planes, kernel_size=2, padding=1)")
    mod, path = load(bad, "registered_bad")
    with pytest.raises(RuntimeError) as e:
        mod.cifar10_net2()(torch.randn(2, 3, 8, 8))
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename == path][-1]
    a = analyze_source(bad, path)
    assert line in {f.line for f in a.findings}, a.findings


def test_a_registered_factory_imported_by_a_script_is_built(tmp_path):
    """`from registered import cifar10_net2; model = cifar10_net2(); model(x)` in a script: the
    imported name is the partial the module's loop registered, and its model is fed the script's
    input (the finding names the model file's line torch fails on)."""
    import traceback

    bad = REGISTERED.replace("self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1)",
                             "self.conv2 = nn.Conv2d(planes, planes, kernel_size=2, padding=1)")
    (tmp_path / "registered.py").write_text(bad)
    driver = "import torch\nfrom registered import cifar10_net2\n\nmodel = cifar10_net2()\nmodel(torch.randn(2, 3, 8, 8))\n"
    (tmp_path / "train.py").write_text(driver)
    import sys as _sys

    _sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(RuntimeError) as e:
            exec(compile(driver, str(tmp_path / "train.py"), "exec"), {})
    finally:
        _sys.path.remove(str(tmp_path))
        _sys.modules.pop("registered", None)
    line = [f.lineno for f in traceback.extract_tb(e.tb) if f.filename.endswith("registered.py")][-1]
    a = analyze_source(driver, str(tmp_path / "train.py"))
    assert any(f"registered.py:{line}" in f.message for f in a.findings), a.findings
