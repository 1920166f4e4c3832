"""Inputs of every form (one syntax for `check`'s --input-shape, the config and `summary`'s
--input-shape without the class): named inputs (CLASS.param=DIMS), keys of a dict input
(CLASS.param.key=DIMS), dtypes (:long), keyword calls found in the file; dict and tuple outputs in
the summary JSON.  torch is the oracle for every finding and shape."""
from __future__ import annotations

import contextlib
import io
import json
import textwrap
import warnings

import pytest

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")

from shapelint.cli import main  # noqa: E402
from shapelint.options import InputSpec, ShapelintInputError, input_shapes, parse_named_dims  # noqa: E402

MODEL = """
import torch
import torch.nn as nn


class CondTagger(nn.Module):
    def __init__(self, vocab=100, dim=8, cond_dim=4, tags=3):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim)
        self.cond = nn.Linear(cond_dim, dim)
        self.fc = nn.Linear(dim, tags)

    def forward(self, batch, *, cond):
        h = self.emb(batch["ids"]).mean(1) * batch["mask"] + self.cond(cond)
        return {"logits": self.fc(h), "hidden": (h, h.sum(-1))}
"""


def test_parse_named_dict_and_dtype():
    got = input_shapes(["Net=2,16:long", "Net.cond=2,4", "Net.batch.x=N,3:float32"])["Net"]
    assert [tuple(s) for s in got] == [(2, 16), (2, 4), ("N", 3)]
    assert [(s.name, s.dtype) for s in got] == [(None, "long"), ("cond", None), ("batch.x", "float")]
    assert parse_named_dims("batch.ids=2,7:long") == InputSpec((2, 7), "batch.ids", "long")
    for bad in ("Net=2,16:longg", "Net.a.b.c=2", "Net.1x=2"):
        with pytest.raises(ShapelintInputError):
            input_shapes([bad])


def _ours(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = main([*map(str, argv)])
    return rc, out.getvalue()


def _torch(code, ids, mask, cond):
    ns = {}
    exec(compile(code, "<m>", "exec"), ns)
    m = ns["CondTagger"]()
    try:
        with torch.no_grad():
            return m({"ids": torch.randint(0, 100, ids), "mask": torch.ones(*mask)}, cond=torch.randn(*cond)), None
    except RuntimeError as e:
        return None, e


@pytest.mark.parametrize("ids,mask,cond", [((2, 7), (2, 1), (2, 4)), ((2, 7), (2, 2), (2, 4)),
                                           ((2, 7), (2, 1), (2, 5)), ((3, 7), (3, 8), (3, 4))])
def test_check_with_named_and_dict_inputs(tmp_path, ids, mask, cond):
    p = tmp_path / "m.py"
    p.write_text(MODEL)
    _, err = _torch(MODEL, ids, mask, cond)
    rc, out = _ours("check", p, "--no-cache", "--input-shape", f"CondTagger.batch.ids={','.join(map(str, ids))}:long",
                    "--input-shape", f"CondTagger.batch.mask={','.join(map(str, mask))}",
                    "--input-shape", f"CondTagger.cond={','.join(map(str, cond))}")
    assert (rc != 0) == (err is not None), out
    if err is not None:
        assert "cond=" in out and "batch.ids=" in out  # the inputs are named in the message


def test_keyword_call_in_the_file(tmp_path):
    code = MODEL.replace("def forward(self, batch, *, cond):\n        h = self.emb(batch[\"ids\"]).mean(1) * batch[\"mask\"]",
                         "def forward(self, ids, *, cond):\n        h = self.emb(ids).mean(1)")
    code += "\n\nmodel = CondTagger()\nmodel(torch.randint(0, 100, (2, 7)), cond=torch.randn(2, COND))\n"
    for c, bad in ((4, False), (5, True)):
        p = tmp_path / f"k{c}.py"
        p.write_text(code.replace("COND", str(c)))
        ns = {}
        with pytest.raises(RuntimeError) if bad else contextlib.nullcontext():
            exec(compile(code.replace("COND", str(c)), "<m>", "exec"), ns)
        rc, out = _ours("check", p, "--no-cache")
        assert (rc != 0) == bad, out
        if bad:
            assert "self.cond(cond)" in out and "cond=2x5" in out


def test_summary_named_inputs_match_torchinfo_and_torch(tmp_path):
    p = tmp_path / "m.py"
    p.write_text(MODEL)
    ns = {}
    exec(compile(MODEL, "<m>", "exec"), ns)
    model = ns["CondTagger"]()
    ids, cond = torch.randint(0, 100, (2, 7)), torch.randn(2, 4)
    batch = {"ids": ids, "mask": torch.ones(2, 1)}
    args = [f"{p}::CondTagger", "--input-shape", "batch.ids=2,7:long", "--input-shape", "batch.mask=2,1",
            "--input-shape", "cond=2,4"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = str(torchinfo.summary(model, input_data=[batch], cond=cond, verbose=0))
    peer = peer.replace("(Units.MEGABYTES)", "(M)")
    rc, mine = _ours("summary", *args, "--style", "torchinfo")
    assert rc == 0 and mine.strip("\n") == peer.strip("\n")
    rc, text = _ours("summary", *args, "--format", "json")
    doc = json.loads(text)
    with torch.no_grad():
        out = model(batch, cond=cond)
    assert doc["output_shapes"] == [{"logits": list(out["logits"].shape),
                                     "hidden": [list(t.shape) for t in out["hidden"]]}]
    assert doc["input_names"] == ["batch.ids", "batch.mask", "cond"]
    assert doc["input_shapes"] == [[2, 7], [2, 1], [2, 4]]


def test_summary_long_input_dtype_changes_input_size(tmp_path):
    """An index input given as :long is 8 bytes an element, as torchinfo measures it."""
    code = textwrap.dedent("""
        import torch.nn as nn

        class Emb(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(50000, 64)

            def forward(self, x):
                return self.emb(x)
        """)
    p = tmp_path / "e.py"
    p.write_text(code)
    ns = {}
    exec(compile(code, "<m>", "exec"), ns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = str(torchinfo.summary(ns["Emb"](), input_data=torch.randint(0, 5, (64, 4096)), verbose=0))
    rc, mine = _ours("summary", f"{p}::Emb", "--input-shape", "64,4096:long", "--style", "torchinfo")
    (want,) = [ln for ln in peer.splitlines() if ln.startswith("Input size")]
    assert want in mine


# -- the inputs older code writes: Variable(...), torch.FloatTensor / torch.Tensor of sizes or of a
# numpy array with a known shape. torch says which shape each expression has (and whether the model
# accepts it); shapelint must infer the same input and report the head's bug on that line, or stay
# silent where it cannot know the shape.
LEGACY_MODEL = """
import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8 * 31 * 31, 10)

    def forward(self, x):
        return self.fc(self.conv(x).view(x.size(0), -1))


if __name__ == "__main__":
    model = Net()
    x = {expr}
    out = model(x)
"""

LEGACY_INPUTS = [
    ("Variable(torch.randn(2, 3, 32, 32))", True),
    ("torch.autograd.Variable(torch.rand(2, 3, 32, 32), requires_grad=True)", True),
    ("torch.Tensor(2, 3, 32, 32)", True),
    ("torch.FloatTensor(2, 3, 32, 32)", True),
    ("Variable(torch.FloatTensor(np.random.random((1, 3, 32, 32))))", True),
    ("torch.Tensor(np.random.uniform(0, 1, (2, 3, 32, 32)))", True),
    ("torch.FloatTensor(np.random.rand(2, 3, 32, 32))", True),
    ("torch.tensor(np.zeros((2, 3, 32, 32)), dtype=torch.float32)", True),
    ("torch.FloatTensor(np.ones(shape=(2, 3, 32, 32)))", True),
    ("torch.FloatTensor(np.zeros((2, 3, 32, 32), dtype=np.float32))", True),
    ("torch.from_numpy(np.zeros((2, 3, 32, 32), dtype=np.float32))", True),
    ("torch.from_numpy(np.random.rand(2, 3, 32, 32).astype(np.float32))", True),
    # not followed: float64 data (torch refuses it before any shape), a data list
    ("torch.tensor(np.zeros((2, 3, 32, 32)))", False),
    ("torch.from_numpy(np.random.rand(2, 3, 32, 32))", False),
    ("torch.FloatTensor([[1.0, 2.0]])", False),
]


@pytest.mark.parametrize("expr,found", LEGACY_INPUTS)
def test_legacy_input_expressions(tmp_path, expr, found):
    code = LEGACY_MODEL.format(expr=expr)
    path = tmp_path / "m.py"
    path.write_text(code)
    rc, out = _ours("check", "--no-cache", path)
    ns: dict = {"__name__": "__main__"}
    with pytest.raises(RuntimeError) as e:  # torch: the head expects 7688 features, the map gives 7200
        exec(compile(code, str(path), "exec"), ns)
    tb = [t for t in e.traceback if str(t.path) == str(path)]
    if not found:
        assert out == "" and rc == 0
        return
    assert "mat1 and mat2 shapes cannot be multiplied" in str(e.value)
    assert out.startswith(f"{path}:{tb[-1].lineno + 1}:") and "SHP002" in out, out
    shape = tuple(ns["x"].shape)
    assert "for input " + "x".join(map(str, shape)) in out, out


@pytest.mark.parametrize("expr", ["Variable(torch.FloatTensor(2, 3, 32, 32))",
                                  "torch.autograd.Variable(torch.Tensor(2, 3, 32, 32))"])
def test_legacy_input_in_another_file(tmp_path, expr):
    """The model built and called by a sibling script (its construction found by the project
    scan): the same forms give the model file its input."""
    body = LEGACY_MODEL.split('if __name__ == "__main__":')[0]
    (tmp_path / "net.py").write_text(body)
    (tmp_path / "drive.py").write_text("import torch\nfrom torch.autograd import Variable\n\nfrom net import Net\n\n"
                                       f"model = Net()\nout = model({expr})\n")
    rc, out = _ours("check", "--no-cache", tmp_path / "net.py")
    assert rc == 1 and "SHP002" in out and "for input 2x3x32x32" in out and "drive.py:6 builds it" in out, out
    import runpy
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
            runpy.run_path(str(tmp_path / "drive.py"))
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("net", None)


REBOUND = '''import torch
import torch.nn as nn


class STN3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv1d(3, 64, 1)

    def forward(self, x):
        return self.conv1(x)


class STNkd(nn.Module):
    def __init__(self, k=64):
        super().__init__()
        self.conv1 = nn.Conv1d(k, 64, 1)

    def forward(self, x):
        return self.conv1(x)


if __name__ == "__main__":
    trans = STN3d()
    out = trans(torch.rand(4, 3, 50))
    trans = STNkd(k=64)
    out = trans(torch.rand(4, NK, 50))
'''


@pytest.mark.parametrize("nk", [64, 65])
def test_a_name_bound_twice_feeds_the_model_it_holds_there(tmp_path, nk):
    """pointnet.pytorch's own __main__ reuses one name for two models: each call is the model
    bound just before it, never the last one bound (a false SHP003 on STNkd fed STN3d's input)."""
    from shapelint.engine import analyze_source

    code = REBOUND.replace("NK", str(nk))
    a = analyze_source(code, str(tmp_path / "m.py"), strict=True)
    runs = {(r.ctor_text, r.input_text()) for r in a.runs if r.concrete}
    assert ("STN3d()", "4x3x50") in runs and (("STNkd(k=64)", f"4x{nk}x50") in runs)
    got = [(f.line, f.code) for f in a.findings]
    path = tmp_path / "m.py"
    path.write_text(code)
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300)
    if nk == 64:
        assert got == [] and r.returncode == 0, (got, r.stderr)
    else:  # the second model fed 65 channels: torch fails in STNkd's forward, where it is reported
        assert got == [(20, "SHP003")] and 'line 20' in r.stderr, (got, r.stderr)
    # under a branch the call is not in, no binding is assumed to reach it
    branchy = code.replace("    trans = STNkd(k=64)\n", "    if len(out):\n        trans = STNkd(k=64)\n")
    b = analyze_source(branchy, str(tmp_path / "m.py"), strict=True)
    assert not [r for r in b.runs if r.concrete and r.ctor_text == "STNkd(k=64)"]
    assert b.findings == []
