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
