"""Frozen parameters (``.parameters()``/``named_parameters()`` loops, ``requires_grad_`` on modules and
parameters): trainable and non-trainable totals equal torch's, and the torchsummary table and notes
equal what the installed torchsummary 1.5.1 prints (or the crash it raises)."""
from __future__ import annotations

import pytest

from conftest import FIXTURES, build_model, load_fixture_module

torch = pytest.importorskip("torch")
pytest.importorskip("torchsummary")

from test_summary import compare, ours, peer_torchsummary, split  # noqa: E402

FILE = FIXTURES / "summary_frozen_loops.py"
CASES = [("Frozen", (1, 12, 12), None), ("NamedFrozen", (7,), "long")]


@pytest.mark.parametrize("target,size,dtype", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("style", ["torchsummary", "torchinfo"])
def test_totals_equal_torch(target, size, dtype, style):
    model = build_model(load_fixture_module(FILE), f"{target}()")
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 0 < trainable < total
    shape = ",".join(map(str, (2, *size))) + (f":{dtype}" if dtype else "")
    mine, _ = split(ours(f"{FILE}::{target}", "--input-shape", shape, "--style", style))
    assert f"Total params: {total:,}" in mine
    assert f"Trainable params: {trainable:,}" in mine
    assert f"Non-trainable params: {total - trainable:,}" in mine


@pytest.mark.parametrize("target,size,dtype", CASES, ids=[c[0] for c in CASES])
def test_torchsummary_text_and_notes(target, size, dtype):
    model = build_model(load_fixture_module(FILE), f"{target}()")
    peer, err = peer_torchsummary(model, [size])
    shape = ",".join(map(str, (2, *size))) + (f":{dtype}" if dtype else "")
    mine, notes = split(ours(f"{FILE}::{target}", "--input-shape", shape))
    if err is not None:
        # the crash note names the module and the exception torchsummary really raises, and nothing else
        (note,) = notes
        assert type(err).__name__ in note and str(err).split(" (")[0] in note, (err, note)
        assert "Embedding 'emb'" in note
        return
    compare(mine, split(peer)[0], notes)
