"""`shapelint summary` on sequence models against torchinfo 1.8.0 (text for text; a differing line
only where a note quotes torchinfo's line) and against torch (parameter totals; every submodule
call's output shape, from real hooks, in training mode so that the transformer layers run their
children as torchinfo sees them)."""
from __future__ import annotations

import json
import re
import warnings

import pytest

from conftest import FIXTURES, build_model, load_fixture_module

torch = pytest.importorskip("torch")
torchinfo = pytest.importorskip("torchinfo")

from test_summary import compare, ours, split  # noqa: E402

# (fixture, target, the inputs its __main__ block feeds, as (shape, dtype))
CASES = [
    ("seq_transformer_classifier.py", "TransformerClassifier", [((2, 16, 32), "float")]),
    ("seq_nanogpt.py", "GPT", [((2, 16), "long")]),
    ("seq_bert_encoder.py", "BertEncoder", [((2, 24), "long")]),
    ("seq_lstm_lm.py", "RNNModel", [((35, 4), "long")]),
    ("seq_gru_attention.py", "Seq2Seq", [((2, 12), "long"), ((2, 9), "long")]),
    ("seq_einops_vit.py", "ViT", [((2, 3, 32, 32), "float")]),
    ("seq_positional_encoding.py", "TransformerModel", [((35, 4), "long")]),
]
IDS = [c[1] for c in CASES]


def _inputs(spec):
    torch.manual_seed(0)
    return [torch.randint(0, 2, s) if d == "long" else torch.randn(*s) for s, d in spec]


def _peer(model, spec):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = torchinfo.summary(model, input_data=_inputs(spec), verbose=0)
    return re.sub(r"\(Units\.(MEGA|GIGA|TERA)BYTES\)", lambda m: f"({m.group(1)[0]})", str(r))


@pytest.mark.parametrize("file,target,spec", CASES, ids=IDS)
def test_torchinfo_text(file, target, spec):
    model = build_model(load_fixture_module(FIXTURES / file), f"{target}()")
    peer, _ = split(_peer(model, spec))
    mine, notes = split(ours(f"{FIXTURES / file}::{target}", "--style", "torchinfo"))
    compare(mine, peer, notes)
    total = sum(p.numel() for p in model.parameters())
    assert f"Total params: {total:,}" in mine


def test_transformer_classifier_is_torchinfos_17154():
    """The issue's 2-layer d_model=32 encoder + head: torchinfo's table, line for line."""
    file, target, spec = CASES[0]
    model = build_model(load_fixture_module(FIXTURES / file), f"{target}()")
    assert sum(p.numel() for p in model.parameters()) == 17154
    peer, _ = split(_peer(model, spec))
    mine, notes = split(ours(f"{FIXTURES / file}::{target}", "--style", "torchinfo"))
    assert "Total params: 17,154" in mine and "Total params: 17,154" in peer


def test_tied_weight_footnote():
    """nanoGPT ties wte to lm_head: torch has one tensor, torchinfo counts it twice; we print the true
    figure and quote torchinfo's in a note."""
    model = build_model(load_fixture_module(FIXTURES / "seq_nanogpt.py"), "GPT()")
    true = sum(p.numel() for p in model.parameters())
    peer, _ = split(_peer(model, [((2, 16), "long")]))
    mine, notes = split(ours(f"{FIXTURES / 'seq_nanogpt.py'}::GPT", "--style", "torchinfo"))
    assert f"Total params: {true:,}" in mine
    (peer_total,) = [ln for ln in peer if ln.startswith("Total params")]
    assert peer_total != f"Total params: {true:,}"
    assert any(peer_total in n and "counted twice" in n for n in notes)


def _torch_calls(model, inputs):
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
    model.train()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = model(*inputs)
    for h in handles:
        h.remove()
    return order, out


@pytest.mark.parametrize("file,target,spec", CASES, ids=IDS)
def test_json_against_torch(file, target, spec):
    model = build_model(load_fixture_module(FIXTURES / file), f"{target}()")
    doc = json.loads(ours(f"{FIXTURES / file}::{target}", "--style", "torchinfo", "--format", "json"))
    assert doc["totals"]["params"] == sum(p.numel() for p in model.parameters())
    assert doc["totals"]["trainable"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    calls, out = _torch_calls(model, _inputs(spec))
    assert [[r["name"], r["output_shape"]] for r in doc["layers"]] == calls
