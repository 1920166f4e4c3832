"""Configurations as dicts with attribute access (`ml_collections.ConfigDict`, filled attribute by
attribute as ViT's configs.py does; `EasyDict` of a dict) and blocks repeated with
`copy.deepcopy(layer)` (ViT's Encoder): the model is built and followed. torch judges, with a
minimal ConfigDict standing in for ml_collections (not installed here): the clean model's output
shape and parameter count, and a wrong size reported where torch fails."""
from __future__ import annotations

import os
import sys
import textwrap
import traceback
import types

import pytest

os.environ["SHAPELINT_STRICT"] = "1"

from shapelint.engine import analyze_source  # noqa: E402

torch = pytest.importorskip("torch")

VIT = textwrap.dedent('''\
    import copy

    import ml_collections
    import torch
    import torch.nn as nn


    def get_config():
        config = ml_collections.ConfigDict()
        config.patches = ml_collections.ConfigDict({'size': (8, 8)})
        config.hidden_size = 32
        config.transformer = ml_collections.ConfigDict()
        config.transformer.mlp_dim = 64
        config.transformer.num_layers = 3
        return config


    CONFIGS = {'tiny': get_config()}


    class Block(nn.Module):
        def __init__(self, config):
            super().__init__()
            self.norm = nn.LayerNorm(config.hidden_size)
            self.fc1 = nn.Linear(config.hidden_size, config.transformer["mlp_dim"])
            self.fc2 = nn.Linear(config.transformer["mlp_dim"], config.hidden_size)

        def forward(self, x):
            return x + self.fc2(torch.relu(self.fc1(self.norm(x))))


    class ViT(nn.Module):
        def __init__(self, config, img_size=32, num_classes=10):
            super().__init__()
            patch = config.patches["size"]
            grid = config.patches.get("grid")
            self.embed = nn.Conv2d(3, config.hidden_size, patch, stride=patch)
            self.layer = nn.ModuleList()
            for _ in range(config.transformer["num_layers"]):
                layer = Block(config)
                self.layer.append(copy.deepcopy(layer))
            self.head = nn.Linear(config.hidden_size if grid is None else 1, num_classes)

        def forward(self, x):
            x = self.embed(x).flatten(2).transpose(1, 2)
            for blk in self.layer:
                x = blk(x)
            return self.head(x[:, 0])


    if __name__ == "__main__":
        model = ViT(CONFIGS['tiny'])
        model(torch.randn(2, 3, 32, 32))
''')


class _ConfigDict(dict):
    def __getattr__(self, k):
        try:
            return self[k]
        except KeyError as e:
            raise AttributeError(k) from e

    def __setattr__(self, k, v):
        self[k] = _ConfigDict(v) if isinstance(v, dict) and not isinstance(v, _ConfigDict) else v


def _torch(code):
    sys.modules["ml_collections"] = types.SimpleNamespace(ConfigDict=lambda d=None: _ConfigDict(d or {}))
    ns: dict = {"__name__": "case"}
    try:
        exec(compile(code, "case.py", "exec"), ns)
        model = ns["ViT"](ns["CONFIGS"]["tiny"])
        try:
            out = model(torch.randn(2, 3, 32, 32))
        except RuntimeError as e:
            return None, [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "case.py"][-1]
        return (tuple(out.shape), sum(p.numel() for p in model.parameters())), None
    finally:
        del sys.modules["ml_collections"]


def test_the_config_and_the_deep_copied_blocks_are_followed():
    (shape, params), line = _torch(VIT)
    assert line is None
    a = analyze_source(VIT, "case.py")
    assert a.findings == []
    (run,) = [r for r in a.runs if r.cls is not None and r.cls.name == "ViT" and r.concrete]
    assert tuple(run.output.shape) == shape
    blocks = run.root.children["layer"].ordered_children()
    assert len(blocks) == 3 and len({id(b.children["fc1"].params["weight"]) for b in blocks}) == 3

    def count(m):
        return sum(__import__("math").prod(p.shape) for p in m.params.values()) + \
            sum(count(c) for c in m.children.values())
    assert count(run.root) == params


@pytest.mark.parametrize("old,new", [("config.transformer.mlp_dim = 64", "config.transformer.mlp_dim = 64\n"
                                      "    config.transformer['mlp_dim'] = 48"),
                                     ("self.fc2 = nn.Linear(config.transformer[\"mlp_dim\"], config.hidden_size)",
                                      "self.fc2 = nn.Linear(config.transformer[\"mlp_dim\"], 2 * config.hidden_size)")])
def test_a_wrong_size_is_reported_where_torch_fails(old, new):
    code = VIT.replace(old, new)
    _, line = _torch(code)
    if line is None:  # an item assignment the model takes in its stride: nothing to report
        assert analyze_source(code, "case.py").findings == []
        return
    got = analyze_source(code, "case.py").findings
    assert [f.line for f in got] == [line]
