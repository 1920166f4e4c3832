"""`shapelint summary`: differential tests against torchsummary 1.5.1 and torchinfo 1.8.0 run on
the same models, plus parameter counts and output shapes checked against torch itself.

Every line of our table is compared with the peer's.  A line may differ only where the peer is
wrong; then our line carries the true figure and one of our notes quotes the peer's line exactly
(``would print "Total params: 607"``), and the test checks that quote against the peer's output.
"""
from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import warnings
from pathlib import Path

os.environ["SHAPELINT_STRICT"] = "1"

import pytest  # noqa: E402

from conftest import FIXTURES, build_model, load_fixture_module  # noqa: E402

torch = pytest.importorskip("torch")
torchsummary = pytest.importorskip("torchsummary")
torchinfo = pytest.importorskip("torchinfo")

from shapelint.cli import main  # noqa: E402

# (file, target, inputs without the batch, peer is right in torchsummary / torchinfo)
CASES = [
    ("mnist_net.py", "Net", [(1, 28, 28)]),
    ("lenet5.py", "LeNet5", [(1, 32, 32)]),
    ("cifar_tutorial.py", "Net", [(3, 32, 32)]),
    ("vgg_cfg.py", "VGG('VGG11')", [(3, 32, 32)]),
    ("resnet_blocks.py", "ResNet18", [(3, 32, 32)]),
    ("resnet_blocks.py", "ResNet(Bottleneck, [1, 1, 1, 1])", [(3, 32, 32)]),
    ("summary_shared.py", "SharedConvNet", [(4, 16, 16)]),
    ("summary_two_inputs.py", "TwoInputNet", [(3, 16, 16), (10,)]),
    ("summary_lstm.py", "LSTMClassifier", [(7, 10)]),
    ("summary_frozen.py", "FrozenNet", [(1, 28, 28)]),
    ("summary_custom_param.py", "GainNet", [(3, 16, 16)]),
    ("summary_dense_list.py", "TinyDenseNet", [(3, 16, 16)]),
    ("reparam_norms.py", "Discriminator", [(3, 32, 32)]),  # spectral_norm: weight_orig counts as weight
    # skip blocks nested eight deep, a functools.partial norm and the bias rule it decides
    ("construct_unet_skip_nested.py", "define_G(3, 3, 8, 'unet_256', norm='batch')", [(3, 256, 256)]),
    ("construct_unet_skip_nested.py", "define_G(3, 3, 8, 'unet_128', norm='instance', use_dropout=True)",
     [(3, 128, 128)]),
    ("construct_hourglass_recursion.py", "PoseNet", [(3, 64, 64)]),  # a method recursing on its depth
    ("spatial_transformer.py", "Net", [(1, 28, 28)]),  # F.affine_grid, F.grid_sample
    ("summary_private_norm.py", "Net", [(3, 8, 8)]),  # a norm on torch's private _BatchNorm
]
IDS = [f"{f}::{t}" for f, t, _ in CASES]
# where the peer is wrong, the note must say so (the totals/lines it would print)
PEER_WRONG_TS = {"summary_shared.py", "summary_two_inputs.py", "summary_lstm.py", "summary_frozen.py",
                 "summary_custom_param.py", "summary_dense_list.py"}
BATCH = 2


def ours(*argv, rc=0):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        got = main(["summary", *map(str, argv)])
    assert got == rc
    return buf.getvalue()


def build(file, target):
    mod = load_fixture_module(FIXTURES / file)
    expr = target if "(" in target else f"{target}()"
    return build_model(mod, expr)


def peer_torchsummary(model, sizes):
    buf = io.StringIO()
    size = sizes[0] if len(sizes) == 1 else list(sizes)
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torchsummary.summary(model, size, device="cpu")
        except Exception as e:  # noqa: BLE001 - the peer's crash is part of the comparison
            return buf.getvalue(), e
    return buf.getvalue(), None


def peer_torchinfo(model, sizes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = torchinfo.summary(model, input_size=[(BATCH, *s) for s in sizes], verbose=0)
    # torchinfo 1.8.0 on Python >= 3.11 formats its str-Enum unit as "Units.MEGABYTES" (issue #350);
    # its own tests expect "(M)", which is what we print.
    return re.sub(r"\(Units\.(MEGA|GIGA|TERA)BYTES\)", lambda m: f"({m.group(1)[0]})", str(r))


def quoted(notes):
    return [q for n in notes for q in re.findall(r'"([^"]+)"', n)]


def split(text):
    lines = text.rstrip("\n").split("\n")
    table = [ln for ln in lines if not ln.startswith(("Note: ", "Admissible inputs: "))]
    notes = [ln for ln in lines if ln.startswith("Note: ")]
    return table, notes


def compare(mine, peer, notes):
    """Line by line; a differing line is allowed only if a note quotes the peer's line."""
    assert len(mine) == len(peer), "\n".join(mine) + "\n---\n" + "\n".join(peer)
    q = set(quoted(notes))
    for a, b in zip(mine, peer):
        if a != b:
            assert b in q, f"ours:   {a!r}\npeer:   {b!r}\nnotes: {notes}"
    for s in q:  # and every quoted figure is really what the peer printed
        assert s in peer, f"note quotes {s!r}, which the peer does not print"


@pytest.mark.parametrize("file,target,sizes", CASES, ids=IDS)
def test_torchsummary_style_matches_torchsummary(file, target, sizes):
    model = build(file, target)
    peer, err = peer_torchsummary(model, sizes)
    args = [f"{FIXTURES / file}::{target}", "--style", "torchsummary"]
    for s in sizes:  # the whole tensor, batch included, as torchsummary runs it
        args += ["--input-shape", ",".join(map(str, (BATCH, *s)))]
    mine, notes = split(ours(*args))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert f"Total params: {total:,}" in mine
    assert f"Trainable params: {trainable:,}" in mine
    assert f"Non-trainable params: {total - trainable:,}" in mine
    if err is not None:
        assert file in PEER_WRONG_TS
        assert any("crash" in n and type(err).__name__ in n for n in notes), (err, notes)
        printed = [ln for ln in split(peer)[0] if ln]  # what it printed before crashing matches ours
        assert mine[:len(printed)] == printed
        return
    peer_lines, _ = split(peer)
    compare(mine, peer_lines, notes)
    if file in PEER_WRONG_TS:
        assert notes, "the peer is wrong here: a note must say what it would print"
    else:
        assert mine == peer_lines and not notes


@pytest.mark.parametrize("file,target,sizes", CASES, ids=IDS)
def test_torchinfo_style_matches_torchinfo(file, target, sizes):
    model = build(file, target)
    peer_lines, _ = split(peer_torchinfo(model, sizes))
    args = [f"{FIXTURES / file}::{target}", "--style", "torchinfo"]
    for s in sizes:
        args += ["--input-shape", ",".join(map(str, (BATCH, *s)))]
    mine, notes = split(ours(*args))
    compare(mine, peer_lines, notes)
    total = sum(p.numel() for p in model.parameters())
    assert f"Total params: {total:,}" in mine


@pytest.mark.parametrize("depth", [0, 2])
def test_torchinfo_depth(depth):
    model = build("resnet_blocks.py", "ResNet18")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = str(torchinfo.summary(model, input_size=(BATCH, 3, 32, 32), depth=depth, verbose=0))
    peer = re.sub(r"\(Units\.MEGABYTES\)", "(M)", peer)
    mine, notes = split(ours(f"{FIXTURES / 'resnet_blocks.py'}::ResNet18", "--style", "torchinfo",
                             "--input-shape", f"{BATCH},3,32,32", "--depth", depth))
    compare(mine, split(peer)[0], notes)


GOLDEN = Path(__file__).resolve().parent / "golden"


def test_mnist_matches_the_golden_table():
    """The project's golden torchsummary table (tests/golden/), from the file's own summary() call
    and from the same input given on the command line, batch included."""
    expected = (GOLDEN / "mnist_net.torchsummary.txt").read_text().strip("\n")
    mine = ours(f"{FIXTURES / 'mnist_net.py'}::Net")  # the input comes from the file's summary() call
    assert mine.strip("\n") == expected
    assert ours(f"{FIXTURES / 'mnist_net.py'}::Net", "--input-shape", "2,1,28,28").strip("\n") == expected
    peer, err = peer_torchsummary(build("mnist_net.py", "Net"), [(1, 28, 28)])
    assert err is None and peer.strip("\n") == expected


def _torch_calls(model, inputs):
    """(name, output shape) of every submodule call, in call order, from real hooks."""
    names = {id(m): n for n, m in model.named_modules()}
    order = []

    def shape(o):
        if isinstance(o, torch.Tensor):
            return list(o.shape)
        if isinstance(o, (tuple, list)):
            return [shape(e) for e in o]
        return None

    handles = []
    for n, m in model.named_modules():
        if not n:
            continue

        def pre(mod, inp, _n=n):
            order.append([_n, None])
            mod._shapelint_slot = len(order) - 1

        def post(mod, inp, out, _n=n):
            order[mod._shapelint_slot][1] = shape(out)
        handles += [m.register_forward_pre_hook(pre), m.register_forward_hook(post)]
    model.eval()
    with torch.no_grad():
        out = model(*inputs)
    for h in handles:
        h.remove()
    del names
    return order, out


@pytest.mark.parametrize("file,target,sizes", CASES, ids=IDS)
def test_json_against_torch(file, target, sizes):
    model = build(file, target)
    args = [f"{FIXTURES / file}::{target}", "--style", "torchinfo", "--format", "json"]
    for s in sizes:
        args += ["--input-shape", ",".join(map(str, (BATCH, *s)))]
    doc = json.loads(ours(*args))
    assert set(doc) >= {"model", "input_shapes", "output_shapes", "layers", "totals", "memory", "admissible_inputs"}
    assert doc["totals"]["params"] == sum(p.numel() for p in model.parameters())
    assert doc["totals"]["trainable"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    inputs = [torch.rand(BATCH, *s) for s in sizes]
    calls, out = _torch_calls(model, inputs)
    assert [[r["name"], r["output_shape"]] for r in doc["layers"]] == calls
    outs = out if isinstance(out, (tuple, list)) else [out]
    assert doc["output_shapes"] == [list(o.shape) for o in outs]
    assert doc["admissible_inputs"] is None
    mods = dict(model.named_modules())
    for r in doc["layers"]:
        own = list(mods[r["name"]].parameters(recurse=False))
        assert r["params"] == sum(p.numel() for p in own), r
        assert r["trainable"] == sum(p.numel() for p in own if p.requires_grad), r
        assert set(r) == {"name", "type", "depth", "output_shape", "params", "trainable", "mult_adds"}
        assert r["type"] == mods[r["name"]].__class__.__name__


def _runs(model, shape):
    try:
        with torch.no_grad():
            model.eval()
            model(torch.rand(*shape))
        return True
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.parametrize("file,target,chan", [
    ("mnist_net.py", "Net", 1),
    ("lenet5.py", "LeNet5", 1),
    ("resnet_blocks.py", "ResNet18", 3),
    ("cifar_tutorial.py", "Net", 3),
])
def test_admissible_inputs_against_torch(file, target, chan):
    """Every region's corners run in torch, and the sizes just outside a square region do not."""
    doc = json.loads(ours(f"{FIXTURES / file}::{target}", "--input-shape", f"N,{chan},H,W", "--format", "json"))
    adm = doc["admissible_inputs"]
    assert adm and adm["admissible"] and adm["components"], doc
    model = build(file, target)
    for combo in itertools.product(*[c["boxes"] for c in adm["components"]]):
        reg = {k: v for box in combo for k, v in box.items()}
        (hlo, hhi), (wlo, whi) = reg["H"], reg["W"]
        hhi, whi = hhi or hlo + 40, whi or wlo + 40
        for h in (hlo, hhi):
            for w in (wlo, whi):
                assert _runs(model, (1, chan, h, w)), (reg, h, w)
        if (hlo, hhi) == (wlo, whi):
            assert not _runs(model, (1, chan, hlo - 1, hlo - 1)), reg
            if reg["H"][1] is not None:
                assert not _runs(model, (1, chan, hhi + 1, hhi + 1)), reg


def test_periodic_admissible_unet():
    """UNet's skip connections need H and W divisible by 8 (torch.cat of the upsampled path)."""
    target = "UNet(n_channels=1, n_classes=2)"
    out = ours(f"{FIXTURES / 'unet_skip.py'}::{target}", "--input-shape", "N,1,H,W")
    assert "Admissible inputs: accepts H, W a multiple of 8 with 1 channel" in out
    model = build("unet_skip.py", target)
    assert _runs(model, (1, 1, 8, 24)) and _runs(model, (1, 1, 16, 16))
    assert not _runs(model, (1, 1, 12, 16)) and not _runs(model, (1, 1, 16, 20))


def test_symbolic_mnist_text():
    out = ours(f"{FIXTURES / 'mnist_net.py'}::Net", "--input-shape", "N,1,H,W")
    assert "[-1, 20, (H-12)//2, (W-12)//2]" in out
    assert "Admissible inputs: accepts H, W in 28..31 with 1 channel" in out
    assert "Params size (MB): 0.08" in out


def test_no_admissible_input(capsys):
    """A model that fails for every size: the table, the verdict, the finding on stderr, exit 1."""
    out = ours(f"{FIXTURES / 'mnist_linear_mismatch.py'}::Net", "--input-shape", "N,1,H,W", rc=1)
    assert "Admissible inputs: none" in out
    assert re.search(r"mnist_linear_mismatch\.py:\d+:\d+: SHP002 ", capsys.readouterr().err)


def test_markdown_and_bad_input(capsys):
    md = ours(f"{FIXTURES / 'mnist_net.py'}::Net", "--format", "markdown")
    assert "| Conv2d-1 | [-1, 10, 24, 24] | 260 |" in md and "- Total params: 21,840" in md
    for argv in (["summary", "nope.py::Net"], ["summary", f"{FIXTURES / 'mnist_net.py'}::Nope"],
                 ["summary", f"{FIXTURES / 'mnist_net.py'}"],
                 ["summary", f"{FIXTURES / 'mnist_net.py'}::Net", "--input-shape", "1,x-1"],
                 ["summary", f"{FIXTURES / 'mnist_net.py'}::Net(("]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("shapelint: ") and "Traceback" not in err and err.count("\n") == 1, err


def _file_constructions():
    """For every clean fixture not in CASES, the first construction its file feeds concrete inputs
    (one per file, to keep the run short)."""
    from conftest import clean_fixture_files

    from shapelint.engine import analyze_source

    covered = {f for f, _, _ in CASES}
    out = []
    for p in clean_fixture_files():
        if p.name in covered or p.name.startswith("confirm_"):
            continue
        seen = set()
        for r in analyze_source(p.read_text(), str(p), strict=True).runs:
            if r.concrete and r.inputs and r.input_origin in ("call", "summary") and not seen:
                seen.add(r.ctor_text)
                dtypes = tuple(t.dtype for t in r.input_tensors)
                out.append(pytest.param(p.name, r.ctor_text, [tuple(s) for s in r.inputs], dtypes,
                                        id=f"{p.name}::{r.ctor_text}"))
    return out


@pytest.mark.parametrize("file,ctor,inputs,dtypes", _file_constructions())
def test_torchinfo_style_on_every_fixture(file, ctor, inputs, dtypes):
    """The torchinfo table for every other fixture model, at the inputs its file feeds it."""
    model = build_model(load_fixture_module(FIXTURES / file), ctor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = str(torchinfo.summary(model, input_size=inputs, verbose=0, device="cpu",
                                     dtypes=[torch.long if d == "long" else torch.float for d in dtypes]))
    peer = re.sub(r"\(Units\.(MEGA|GIGA|TERA)BYTES\)", lambda m: f"({m.group(1)[0]})", peer)
    args = [f"{FIXTURES / file}::{ctor}", "--style", "torchinfo"]
    for s in inputs:
        args += ["--input-shape", ",".join(map(str, s))]
    mine, notes = split(ours(*args))
    compare(mine, split(peer)[0], notes)


# --------------------------------------------------------------------------- one meaning for an input shape


@pytest.mark.parametrize("file,target,sizes", [c for c in CASES if c[0] in ("mnist_net.py", "summary_two_inputs.py",
                                                                               "summary_lstm.py")])
def test_same_input_shape_text_in_both_styles(file, target, sizes):
    """The same --input-shape text (the whole tensor, batch included) gives each style its peer's
    table, and the same input and output shapes in JSON; torch agrees on the output shapes."""
    texts = [",".join(map(str, (BATCH, *s))) for s in sizes]
    args = [f"{FIXTURES / file}::{target}"]
    for t in texts:
        args += ["--input-shape", t]
    docs = {style: json.loads(ours(*args, "--style", style, "--format", "json"))
            for style in ("torchsummary", "torchinfo")}
    want = [[BATCH, *s] for s in sizes]
    assert docs["torchsummary"]["input_shapes"] == docs["torchinfo"]["input_shapes"] == want
    model = build(file, target)
    model.eval()
    with torch.no_grad():
        out = model(*[torch.rand(BATCH, *s) for s in sizes])
    outs = out if isinstance(out, (tuple, list)) else [out]
    for doc in docs.values():
        assert doc["output_shapes"] == [list(o.shape) for o in outs]


def _refused(argv, capsys):
    assert main(["summary", *map(str, argv)]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "Traceback" not in cap.err and cap.err.count("\n") == 1, cap
    return cap.err


@pytest.mark.parametrize("style", ["torchsummary", "torchinfo"])
def test_input_without_batch_is_refused(style, capsys):
    """torchsummary's input_size (1, 28, 28) typed as --input-shape: a message, not a table of '?'."""
    model = build("mnist_net.py", "Net")
    with torch.no_grad(), warnings.catch_warnings():  # torch reads (1, 28, 28) as one unbatched image
        warnings.simplefilter("ignore")
        assert model.eval()(torch.rand(1, 28, 28)).shape == (1, 10)
    err = _refused([f"{FIXTURES / 'mnist_net.py'}::Net", "--input-shape", "1,28,28", "--style", style], capsys)
    assert "no batch dimension" in err and "Conv2d 'conv1'" in err and "2,1,28,28" in err
    err = _refused([f"{FIXTURES / 'mnist_net.py'}::Net", "--input-shape", "2,1,1,28,28", "--style", style], capsys)
    assert "5 dims" in err and "N, C, H, W (4 dims)" in err
    with pytest.raises(RuntimeError):  # and torch refuses 5 dims
        model(torch.rand(2, 1, 1, 28, 28))
    err = _refused([f"{FIXTURES / 'summary_lstm.py'}::LSTMClassifier", "--input-shape", "7,10"], capsys)
    assert "LSTM 'lstm'" in err and "2,7,10" in err


def test_model_that_cannot_be_built_or_run_is_refused(capsys):
    """Wrong constructor arguments, too few inputs: Python's own reason, exit 2, no table."""
    with pytest.raises(TypeError):
        build("mnist_net.py", "Net(1, 2, 3)")
    err = _refused([f"{FIXTURES / 'mnist_net.py'}::Net(1, 2, 3)", "--input-shape", "2,1,28,28"], capsys)
    assert "Net() takes 0 positional arguments but 3 were given" in err
    err = _refused([f"{FIXTURES / 'mnist_net.py'}::Net(depth=3)", "--input-shape", "2,1,28,28"], capsys)
    assert "unexpected keyword argument 'depth'" in err
    model = build("summary_two_inputs.py", "TwoInputNet")
    with pytest.raises(TypeError):
        model(torch.rand(2, 3, 16, 16))
    for style in ("torchsummary", "torchinfo"):
        err = _refused([f"{FIXTURES / 'summary_two_inputs.py'}::TwoInputNet", "--input-shape", "2,3,16,16",
                        "--style", style], capsys)
        assert "takes 2 inputs" in err and "1 --input-shape was given" in err


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_shape_error_exits_1_with_the_finding(fmt, capsys):
    """A model torch rejects at this input: the table (rows up to the error), the finding as
    `shapelint check` prints it on stderr (code, line), exit 1; never exit 0."""
    path = FIXTURES / "mnist_net_56.py"
    model = build("mnist_net_56.py", "Net")
    with pytest.raises(RuntimeError, match="is invalid for input of size"):
        model(torch.rand(2, 1, 56, 56))
    assert main(["summary", f"{path}::Net", "--format", fmt]) == 1
    cap = capsys.readouterr()
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if "# expect: SHP001" in ln)
    assert f"mnist_net_56.py:{line}:" in cap.err and " SHP001 " in cap.err and "Traceback" not in cap.err
    if fmt == "json":
        assert any("SHP001" in n for n in json.loads(cap.out)["notes"])


def test_parser_styles_are_the_registered_renderers():
    from shapelint.commands.summary import RENDERERS, STYLES

    assert set(STYLES) == set(RENDERERS)


SELECTION = '''import numpy as np
import torch
import torch.nn as nn


class channel_selection(nn.Module):
    """network-slimming's: keeps the channels whose weight is non-zero (numpy on the values)."""

    def __init__(self, num_channels):
        super().__init__()
        self.indexes = nn.Parameter(torch.ones(num_channels))

    def forward(self, x):
        selected = np.squeeze(np.argwhere(self.indexes.data.cpu().numpy()))
        return x[:, selected, :, :]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.select = channel_selection(8)
        self.fc = nn.Linear(8 * 30 * 30, 10)

    def forward(self, x):
        return self.fc(self.select(self.conv(x)).flatten(1))
'''


def test_params_size_is_printed_when_only_shapes_are_unknown(tmp_path):
    """Shapes after a value-dependent selection are unknown ('?' rows, no forward/backward size),
    but every parameter is counted: the Params size line is torchsummary's."""
    path = tmp_path / "sel.py"
    path.write_text(SELECTION)
    mine, notes = split(ours(f"{path}::Net", "--input-shape", "2,3,32,32", "--style", "torchsummary"))
    peer, err = peer_torchsummary(build_model(load_fixture_module(path), "Net()"), [(3, 32, 32)])
    assert err is None
    q = set(quoted(notes))
    for label in ("Total params", "Trainable params", "Params size"):
        (theirs,) = [ln for ln in peer.splitlines() if ln.startswith(label)]
        (ours_,) = [ln for ln in mine if ln.startswith(label)]
        # the same line, or ours is the true count and a note quotes theirs (torchsummary counts
        # `weight` and `bias` only: channel_selection's `indexes` is left out of its total)
        assert ours_ == theirs or theirs in q, (ours_, theirs, notes)
    assert "Total params: 72,242" in mine and "Params size (MB): 0.28" in mine
    assert "Forward/backward pass size (MB): ?" in mine  # the shapes it does not know, it says so
