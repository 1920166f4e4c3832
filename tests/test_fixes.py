"""``shapelint check --fix/--diff/--unsafe-fixes`` (lint/fixes.py), with torch as the judge: every
bug fixture that gets a safe fix becomes a file that lints clean and that torch runs, on the
fixture's own input, without error (fixtures/verify_with_torch.py on the fixed file, its
``# expect`` markers removed); formatting and comments outside the edited spans are unchanged."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from conftest import FIXTURES
from shapelint.engine import analyze_source
from shapelint.fixes import fix_source

# every bug fixture is in exactly one of SAFE, UNSAFE, NO_FIX (the test below fails if one is added
# or lost without saying so)
SAFE = ["cifar_tutorial_bug", "confirm_trains_at_import", "construct_channel_shuffle_bug",
        "construct_checkpoint_bug", "construct_config_keys_bug", "construct_factory_kwargs_bug",
        "construct_hasattr_shortcut_bug", "construct_index_gather_bug", "construct_inplace_function_bug",
        "construct_size_by_use_bug",
        "construct_swin_patch_merging_bug", "conv1d_net_bug", "gan_latent_linear_bug", "keras_mnist_reshape_bug",
        "lenet5_bug",
        "mnist_linear_mismatch", "mnist_net_56", "model_kind_lightning_bug", "model_kind_sequential_bug",
        "pair_discriminator_bug",
        "reparam_norms_bug", "rule_shp001_unflatten", "rule_shp001_view_size0", "rule_shp002_flatten_linear",
        "rule_shp002_sequential", "rule_shp003_batchnorm", "rule_shp003_groupnorm", "rule_shp003_instancenorm",
        "rule_shp005_batch_fold", "rule_shp005_reshape_fold", "seq_bert_encoder_bug", "seq_gru_attention_bug",
        "seq_nanogpt_bug", "spatial_transformer_bug", "vgg_cfg_bug"]
# fixed only with --unsafe-fixes: code other than a size changes (a variable, a layer class, an
# argument added), or one of several plausible sizes is picked
UNSAFE = ["construct_norm_partial_bug", "construct_sequential_subclass_bug", "conv3d_net_bug",
          "keras_collapse_bug", "pooled_gate_bug", "quantized_autograd_fn_bug", "rule_shp003_layernorm", "rule_shp004_conv",
          "rule_shp007_output_padding",
          "rule_shp007_same_stride", "rule_shp008_batchnorm2d"]
_MISSING = "the repair is a missing statement, not a size: "
_UPSTREAM = "SHP006 has no fix: the cause is a layer upstream of the failing op, "
NO_FIX = {
    "construct_block_config_bug": _MISSING + "the repeat blocks lack `input_channels = out_channels`",
    "construct_dense_block_bug": _MISSING + "num_features is updated after the transition is built",
    "construct_factory_local_model_bug": "in_features = widths[0] * 30 * 30: two literals decide it together",
    "construct_init_and_scripting_bug": "out_channels = 8 + 8 + 12 forgets the pool branch: three literals, "
                                        "and the fix is a missing term",
    "construct_while_stage_builder_bug": _MISSING + "the loop does not double the channel count",
    "construct_regnet_widths_bug": "groups must divide the width: which of its divisors was meant is not decided",
    "rule_shp007_groups": "groups=32 must divide 48 channels: which divisor (or width) was meant is not decided",
    "rule_shp007_pixelshuffle": "conv3 emits channels * upscale_factor where upscale_factor ** 2 is meant: "
                                "an expression upstream of the shuffle, not a number",
    "seq_transformer_classifier_bug": "d_model=512 sizes the encoder and the head: the literal has two uses",
    "rule_shp004_maxpool": "the collapsing pool is one module called after every conv: any change to it "
                           "changes all five calls",
    "rule_shp006_residual_channels": "a widening block needs a projection shortcut: a new layer, not a number",
    "rule_shp006_se_block": "the (B, C) gate needs a reshape to (B, C, 1, 1): new code, not a number",
    "construct_squeeze_excitation_bug": _UPSTREAM + "fc2 outputs squeeze_channels, not input_channels",
    "construct_convnext_block_bug": "layer_scale is torch.ones(dim) where (dim, 1, 1) is meant: a new shape",
    "construct_vit_encoder_bug": "pos_embedding forgets the class token (seq_length + 1): an expression",
    "resnet_block_bug": _UPSTREAM + "the shortcut conv lacks stride=stride",
    "unet_skip_bug": _UPSTREAM + "the second DoubleConv conv lacks padding=1",
    "unet_skip_sizes_bug": _UPSTREAM + "the first DoubleConv conv pads by 2",
    "construct_hourglass_recursion_bug": _UPSTREAM + "the input (72x72) is the fault, not a literal",
    "construct_unet_skip_nested_bug": "unet_256 fed 128x128 images: the input or the generator's name is "
                                      "the fault, not a literal",
    "construct_math_prod_flatten_bug": "in_features = math.prod(out) for 64x64 images: the input or the "
                                       "size parameter is the fault, not a literal",
    "construct_factory_sizes_bug": _UPSTREAM + "conv3x3 pads by 2",
    "construct_autograd_function_bug": _UPSTREAM + "the second branch's last conv has a 2x2 kernel",
    "residual_shrink_bug": _UPSTREAM + "conv2 has a 4x4 kernel padded by 1",
    "global_residual_tiny_fit_bug": _UPSTREAM + "the first conv lost its padding",
    "feature_distill_compare_bug": _UPSTREAM + "the connector conv has a 2x2 kernel",
    "meanshift_eye_bug": "a view of a constant (the identity): the fixer repairs sizes the layers yield",
    "view_zero_inferred_bug": "view(0, -1, 1, 1): a 0 that no size the tensor holds can replace by itself",
    "keras_unet_bug": _UPSTREAM + "the encoder's 'valid' convolutions shrink the skip",
    "seq_positional_encoding_bug": "any table of at least 80 positions works: a capacity, not one right number",
    "seq_numpy_position_table_bug": "any table of at least 30 positions works: a capacity, not one right number",
    "rule_shp008_unpack": "the unpacking names one size too many: the fix is code (`b, c, _`), not a number",
    "seq_nanogpt_overflow_bug": "block_size sizes the position table and the causal mask; any value >= 40 "
                                "works: not one right number",
    "seq_lstm_lm_bug": "h0 is built for one layer where nlayers=2: the state's shape, not a literal of the layer",
    "seq_einops_vit_bug": "patch_size 6 does not divide 32: which divisor was meant is not decided",
    "rule_shp008_conv_flat": "a (4, 784) input for a conv: the image shape (1, 28, 28) is not written anywhere",
    "rule_shp009_arity": "a call with the wrong number of arguments: which argument is extra is not decided",
    "rule_shp009_config_index": "an index past the end of a config tuple: the missing entry is not decided",
    "rule_shp009_weight_init": "a division by zero in the weight init: no size to fix",
    "rule_shp010_crop_like": "the authors' own size check fails: the stride that makes it is elsewhere",
    "unpool_segnet_bug": _UPSTREAM + "unpool1 is given kernel 3 for a kernel-2 pooling",
}
MARK = re.compile(r"\s*#\s*expect:.*$")


def _verify():
    torch = pytest.importorskip("torch")  # noqa: F841
    spec = importlib.util.spec_from_file_location("verify_with_torch", FIXTURES / "verify_with_torch.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["verify_with_torch"] = mod
    spec.loader.exec_module(mod)
    return mod


def _bug_fixtures():
    """The fixtures with a marked bug that torch can run (not those marked ``verify: skip``)."""
    return sorted(p for p in FIXTURES.glob("*.py") if p.name != "verify_with_torch.py"
                  and "# expect:" in p.read_text() and "verify: skip" not in p.read_text())


def _only_numbers_changed(before: str, after: str, allowed=r"[\d\s*+()/-]*") -> None:
    """Same lines; a changed line differs from the original in one span that held and holds a
    constant (safe fixes); every comment is kept byte for byte."""
    a, b = before.splitlines(True), after.splitlines(True)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x == y:
            continue
        i = 0
        while i < min(len(x), len(y)) and x[i] == y[i]:
            i += 1
        j = 0
        while j < min(len(x), len(y)) - i and x[-1 - j] == y[-1 - j]:
            j += 1
        assert re.fullmatch(allowed, x[i:len(x) - j]) and re.fullmatch(allowed, y[i:len(y) - j]), (x, y)
        if "#" in x:
            assert x[x.index("#"):] == y[y.index("#"):]


def test_every_bug_fixture_is_safe_unsafe_or_no_fix():
    names = [p.stem for p in _bug_fixtures()]
    assert sorted(SAFE + UNSAFE + list(NO_FIX)) == names  # each once, none missed
    safe = [n for n in names if fix_source((FIXTURES / f"{n}.py").read_text(), n).changed]
    assert safe == SAFE
    rest = [n for n in names if n not in SAFE]
    assert [n for n in rest if fix_source((FIXTURES / f"{n}.py").read_text(), n, unsafe=True).changed] == UNSAFE


def _check_with_torch(verify, name: str, before: str, after: str, tmp_path) -> None:
    """torch judges the fixed file: the same constructions and inputs, no marker left to excuse an
    error; and the original fails there (the fix is what made the difference)."""
    fixed = tmp_path / f"{name}.py"
    fixed.write_text("\n".join(MARK.sub("", line) for line in after.splitlines()) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = verify.check_file(fixed.resolve())
    assert res.ok and not res.skipped, "; ".join(res.reasons)
    broken = tmp_path / "broken" / f"{name}.py"
    broken.parent.mkdir()
    broken.write_text("\n".join(MARK.sub("", line) for line in before.splitlines()) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not verify.check_file(broken.resolve()).ok


def _check_with_keras(before: str, after: str) -> None:
    """Keras (torch backend) builds the fixed model and runs it on its declared input; the original
    fails to build."""
    keras = pytest.importorskip("keras")
    np = pytest.importorskip("numpy")

    def build(code: str):
        code = code.replace("from tensorflow import keras", "import keras").replace(
            "from tensorflow.keras import", "from keras import")
        ns: dict = {"__name__": "fixed"}
        exec(compile(code, "fixed.py", "exec"), ns)
        keras.backend.clear_session(free_memory=False)
        return ns["build_model"]()

    model = build(after)
    shape = (2,) + tuple(model.inputs[0].shape[1:])
    assert tuple(model(np.zeros(shape, "float32")).shape)[0] == 2
    with pytest.raises(ValueError):
        build(before)


def _same_layout(before: str, after: str) -> None:
    """Unsafe fixes rewrite an expression: same lines, and every comment kept byte for byte."""
    a, b = before.splitlines(), after.splitlines()
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if x != y and "#" in x:
            assert x[x.index("#"):] == y[y.index("#"):]


@pytest.mark.parametrize("name", SAFE + UNSAFE)
def test_fix_lints_clean_and_runs(name, tmp_path):
    path = FIXTURES / f"{name}.py"
    before = path.read_text()
    unsafe = name in UNSAFE
    out = fix_source(before, str(path), unsafe=unsafe)
    assert out.changed and out.fixed
    if unsafe:
        _same_layout(before, out.after)
    else:
        _only_numbers_changed(before, out.after)
    assert analyze_source(out.after, str(path), strict=True).findings == []
    if name.startswith("keras_"):
        _check_with_keras(before, out.after)
    else:
        _check_with_torch(_verify(), name, before, out.after, tmp_path)


FLAT = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 20, 5)  # twenty maps
        self.fc = nn.Linear(330,   10)   # odd spacing, kept outside the edit

    def forward(self, x):
        x = F.relu(self.conv(x))
        x = x.view(-1, 330)  # hand-computed
        return self.fc(x)
'''

FOLD = '''\
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, width=32):
        super().__init__()
        self.width = width
        self.conv = nn.Conv2d(3, 64, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(self.conv(x))
        x = x.view(-1, self.width)   # two rows per sample
        return self.fc(x)


if __name__ == "__main__":
    Head()(torch.randn(2, 3, 8, 8))
'''


def _run(code: str, cls: str, *shapes):
    torch = pytest.importorskip("torch")
    ns: dict = {"__name__": "fixed"}
    exec(compile(code, "fixed.py", "exec"), ns)
    model = ns[cls]().eval()
    with torch.no_grad():
        return [model(torch.randn(*s)).shape for s in shapes]


def test_unsafe_fixes_flatten_and_lazy_linear():
    """A flatten size wrong for every input: no safe fix; the unsafe one is torch.flatten + LazyLinear."""
    assert not fix_source(FLAT, "flat.py").changed
    out = fix_source(FLAT, "flat.py", unsafe=True)
    assert "x = torch.flatten(x, 1)  # hand-computed\n" in out.after
    assert "self.fc = nn.LazyLinear(10)   # odd spacing, kept outside the edit\n" in out.after
    assert [x for x in out.after.splitlines() if x not in FLAT.splitlines()] == [
        "        self.fc = nn.LazyLinear(10)   # odd spacing, kept outside the edit",
        "        x = torch.flatten(x, 1)  # hand-computed"]
    assert analyze_source(out.after, "flat.py", strict=True).findings == []
    with pytest.raises(RuntimeError):
        _run(FLAT, "Net", (2, 1, 28, 28))
    assert _run(out.after, "Net", (2, 1, 28, 28)) == [(2, 10)]


def test_unsafe_fix_keeps_the_batch():
    assert not fix_source(FOLD, "fold.py").changed  # the view's size is not a literal: no safe fix
    out = fix_source(FOLD, "fold.py", unsafe=True)
    assert "        x = x.view(x.size(0), -1)   # two rows per sample\n" in out.after
    assert "self.fc = nn.Linear(64, 10)" in out.after
    assert analyze_source(out.after, "fold.py", strict=True).findings == []
    assert _run(FOLD, "Head", (2, 3, 8, 8)) == [(4, 10)]  # the bug: a batch of 2 became 4
    assert _run(out.after, "Head", (2, 3, 8, 8)) == [(2, 10)]


def _with_default(uses: str = "") -> str:
    """FLAT with the Linear sized by a default ``k=330``; ``uses``: a line that reads ``k`` too."""
    return FLAT.replace("def __init__(self):", "def __init__(self, k=330):").replace(
        "super().__init__()\n", "super().__init__()\n" + (f"        {uses}\n" if uses else "")).replace(
        "nn.Linear(330,   10)", "nn.Linear(k, 10)") + \
        "\n\nif __name__ == '__main__':\n    Net()(torch.randn(2, 1, 28, 28))\n"


def test_chain_edits_the_default_the_size_comes_from():
    """Fixing the view leaves a Linear sized by a parameter's default: the default is edited where it
    is written, since that literal flows to this one use only; torch runs the result."""
    code = _with_default()
    out = fix_source(code, "m.py")
    assert "    def __init__(self, k=11520):\n" in out.after and "x = x.view(-1, 11520)  # hand-computed" in out.after
    _only_numbers_changed(code, out.after)
    assert analyze_source(out.after, "m.py", strict=True).findings == []
    with pytest.raises(RuntimeError):
        _run(code, "Net", (2, 1, 28, 28))
    assert _run(out.after, "Net", (2, 1, 28, 28)) == [(2, 10)]


@pytest.mark.parametrize("uses", ["self.k = k", "self.aux = nn.Linear(k, 3)"])
def test_no_fix_when_the_literal_has_another_use(uses):
    """The default also sets an attribute or another layer: editing it would change more than the
    one size, so the chain cannot be made consistent and no fix is offered."""
    code = _with_default(uses)
    assert uses in code and analyze_source(code, "m.py", strict=True).findings
    assert not fix_source(code, "m.py").changed


CFG = '''\
import torch
import torch.nn as nn

WIDTHS = (16, 500)  # conv width, head width


class Head(nn.Module):
    def __init__(self, widths=WIDTHS):
        super().__init__()
        self.conv = nn.Conv2d(3, widths[0], 3)
        self.fc = nn.Linear(widths[1], 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(x), 1))


if __name__ == "__main__":
    Head()(torch.randn(2, 3, 6, 6))
'''


def test_fix_edits_the_config_entry():
    out = fix_source(CFG, "cfg.py")
    assert "WIDTHS = (16, 256)  # conv width, head width\n" in out.after
    assert [x for x in out.after.splitlines() if x not in CFG.splitlines()] == [
        "WIDTHS = (16, 256)  # conv width, head width"]
    assert analyze_source(out.after, "cfg.py", strict=True).findings == []
    with pytest.raises(RuntimeError):
        _run(CFG, "Head", (2, 3, 6, 6))
    assert _run(out.after, "Head", (2, 3, 6, 6)) == [(2, 10)]
    # the wrong entry read: the index is the literal (WIDTHS[0] -> WIDTHS[1], the only entry of 256)
    index = CFG.replace("(16, 500)", "(16, 256)").replace("nn.Linear(widths[1], 10)", "nn.Linear(widths[0], 10)")
    out = fix_source(index, "cfg.py")
    assert [x for x in out.after.splitlines() if x not in index.splitlines()] == [
        "        self.fc = nn.Linear(widths[1], 10)"]
    assert _run(out.after, "Head", (2, 3, 6, 6)) == [(2, 10)]
    # the same entry read by the conv too: no literal flows to the Linear alone
    both = CFG.replace("nn.Conv2d(3, widths[0], 3)", "nn.Conv2d(3, widths[1], 3)")
    assert analyze_source(both, "cfg.py", strict=True).findings
    assert not fix_source(both, "cfg.py").changed


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "shapelint", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_diff_fix_and_marks(tmp_path):
    src = (FIXTURES / "mnist_net_56.py").read_text()
    (tmp_path / "m.py").write_text(src)
    r = _cli("check", "m.py", cwd=tmp_path)
    assert r.returncode == 1 and " SHP001 [*] x.view(-1, 320)" in r.stdout
    r = _cli("check", "--diff", "m.py", cwd=tmp_path)
    assert r.returncode == 1
    assert "-        x = x.view(-1, 320)  # expect: SHP001\n+        x = x.view(-1, 2420)  # expect: SHP001" in r.stdout
    assert (tmp_path / "m.py").read_text() == src  # --diff writes nothing
    r = _cli("check", "--fix", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == "", r.stdout + r.stderr
    assert "fixed 1 finding in 1 file" in r.stderr
    assert (tmp_path / "m.py").read_text() == fix_source(src, "m.py").after
    r = _cli("check", "--diff", "m.py", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""


def test_cli_unsafe_mark_in_json(tmp_path):
    (tmp_path / "flat.py").write_text(FLAT)
    r = _cli("check", "--format", "json", "flat.py", cwd=tmp_path)
    assert '"fix"' not in r.stdout
    r = _cli("check", "--format", "json", "--unsafe-fixes", "flat.py", cwd=tmp_path)
    assert '"fix": "unsafe"' in r.stdout
    r = _cli("check", "--fix", "flat.py", cwd=tmp_path)
    assert r.returncode == 1 and (tmp_path / "flat.py").read_text() == FLAT  # unsafe: not without the flag
    r = _cli("check", "--fix", "--unsafe-fixes", "flat.py", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_flake8_marks_fixable(tmp_path):
    (tmp_path / "m.py").write_text((FIXTURES / "mnist_net_56.py").read_text())
    (tmp_path / "g.py").write_text((FIXTURES / "rule_shp007_groups.py").read_text())
    r = subprocess.run([sys.executable, "-m", "flake8", "--select=SHP", "m.py", "g.py"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert "m.py:19:13: SHP001 [*] x.view(-1, 320)" in r.stdout
    assert "g.py:13:22: SHP007 nn.Conv2d" in r.stdout  # no fix offered


SUM = '''\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.a = nn.Linear(8, hidden + 2)
        self.b = nn.Linear(hidden + 4, 3)  # two extra features, not four

    def forward(self, x):
        return self.b(self.a(x))


if __name__ == "__main__":
    Net()(torch.randn(2, 8))
'''


def test_fix_solves_the_one_literal_of_a_sum():
    out = fix_source(SUM, "sum.py")
    assert [x for x in out.after.splitlines() if x not in SUM.splitlines()] == [
        "        self.b = nn.Linear(hidden + 2, 3)  # two extra features, not four"]
    with pytest.raises(RuntimeError):
        _run(SUM, "Net", (2, 8))
    assert _run(out.after, "Net", (2, 8)) == [(2, 3)]


def test_no_fix_when_no_single_literal_decides():
    """A sum with two literals, and an Unflatten target that any of its entries could fix."""
    two = SUM.replace("nn.Linear(hidden + 4, 3)", "nn.Linear(hidden + 2 + 2, 3)")
    assert analyze_source(two, "two.py", strict=True).findings and not fix_source(two, "two.py").changed
    unflat = (FIXTURES / "rule_shp001_unflatten.py").read_text().replace("(16, 7, 7)", "(2, 2, 7)")
    assert analyze_source(unflat, "u.py", strict=True).findings
    assert not fix_source(unflat, "u.py").changed  # 392 = 98*2*2 = 2*98*2 = 2*2*98: which entry?


POOLED = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F

SIZE = 4


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.fc = nn.Linear(SIZE, 10)

    def forward(self, x):
        x = self.act(F.adaptive_avg_pool2d(self.conv(x), SIZE))
        return self.fc(x.flatten(1))


if __name__ == "__main__":
    Net()(torch.randn(2, 3, 8, 8))
'''


def test_no_fix_when_the_literal_also_shapes_the_forward():
    """SIZE sizes the Linear and the pooled map: editing it changes tensors on the way (the ReLU's
    input), so it is not a literal of that one use."""
    findings = analyze_source(POOLED, "p.py", strict=True).findings
    assert [f.code for f in findings] == ["SHP002"]
    assert not fix_source(POOLED, "p.py").changed
    with pytest.raises(RuntimeError):
        _run(POOLED, "Net", (2, 3, 8, 8))
