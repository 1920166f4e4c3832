"""A configuration object filled attribute by attribute at a module's top level (yacs' `_C = CN()`
then `_C.MODEL.WIDTH = 16`, py-faster-rcnn's EasyDict `__C` and its alias `cfg`, an
`argparse.Namespace()`), read by a model's constructor through an import: its values are those
fills, replayed in order when the name is first read. A fill under a condition or a loop, or a
read of the name between fills, leaves the object's attributes unknown. A yacs `clone()` copies it.
torch builds and runs each model with the same configuration."""
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

CONFIG = textwrap.dedent('''\
    import argparse

    __C = argparse.Namespace()
    cfg = __C
    __C.MODEL = argparse.Namespace()
    __C.MODEL.WIDTH = 16
    __C.MODEL.POOL = __C.MODEL.WIDTH - 9  # a fill reading an earlier one: 7
    __C.DATA = argparse.Namespace()
    __C.DATA.CHANNELS = 3
''')

NET = textwrap.dedent('''\
    import torch.nn as nn
    from config import cfg


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            w = cfg.MODEL.WIDTH
            self.conv = nn.Conv2d(cfg.DATA.CHANNELS, w, 3, padding=1)
            self.conv2 = nn.Conv2d(w * MUL, w, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(cfg.MODEL.POOL)
            self.fc = nn.Linear(w * cfg.MODEL.POOL * FEAT, 10)

        def forward(self, x):
            x = self.pool(self.conv2(self.conv(x)))
            x = x.view(x.size(0), -1)
            return self.fc(x)
''')


def _project(tmp_path, config, net):
    (tmp_path / "config.py").write_text(config)
    (tmp_path / "net.py").write_text(net)
    (tmp_path / "setup.py").write_text("")
    return str(tmp_path / "net.py")


def _torch_line(tmp_path, code, config):
    mod = types.ModuleType("config")
    exec(compile(config, str(tmp_path / "config.py"), "exec"), mod.__dict__)
    sys.modules["config"] = mod
    try:
        ns: dict = {}
        exec(compile(code, "net.py", "exec"), ns)
        ns["Net"]()(torch.randn(2, 3, 32, 32))
    except RuntimeError as e:
        return [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == "net.py"][-1]
    finally:
        sys.modules.pop("config", None)
    return None


@pytest.mark.parametrize("ch, fc, line", [(2, 7, 15), (1, 6, 17), (1, 7, None)])
def test_a_model_sized_by_a_filled_configuration(tmp_path, ch, fc, line):
    code = NET.replace("MUL", str(ch)).replace("FEAT", str(fc))
    assert _torch_line(tmp_path, code, CONFIG) == line
    path = _project(tmp_path, CONFIG, code)
    got = analyze_source(code, path).findings
    assert [f.line for f in got] == ([line] if line else []), [f.message for f in got]


@pytest.mark.parametrize("change", [
    "if True:\n    __C.MODEL.WIDTH = 8\n",     # a fill under a condition
    "print(cfg.MODEL)\n__C.MODEL.WIDTH = 8\n",  # the name read between fills
    "cfg.MODEL.WIDTH = 8\n",                   # filled under the alias too
])
def test_an_order_that_matters_leaves_it_unknown(tmp_path, change):
    # the model is broken whatever WIDTH is (conv2 expects twice the channels), but the values are
    # not the linter's to guess: no finding that needs them (the channel count) is made up
    config = CONFIG + change
    code = NET.replace("MUL", "2").replace("FEAT", "7")
    assert _torch_line(tmp_path, code, config) == 15
    path = _project(tmp_path, config, code)
    got = analyze_source(code, path).findings
    assert all("16" not in f.message and "32" not in f.message for f in got), [f.message for f in got]


YACS = textwrap.dedent('''\
    from yacs.config import CfgNode


    class ConfigNode(CfgNode):
        def __init__(self, init_dict=None, key_list=None, new_allowed=False):
            super().__init__(init_dict, key_list, new_allowed)


    config = ConfigNode()
    config.MODEL = ConfigNode()
    config.MODEL.WIDTH = 16
    config.MODEL.POOL = 7
    config.DATA = ConfigNode()
    config.DATA.CHANNELS = 3


    def get_default_config():
        return config.clone()


    cfg = get_default_config()
''')


def test_a_yacs_default_configuration_and_its_clone(tmp_path):
    code = NET.replace("MUL", "1").replace("FEAT", "6")
    path = _project(tmp_path, YACS, code)
    got = analyze_source(code, path).findings
    assert [(f.code, f.line) for f in got] == [("SHP002", 17)], [f.message for f in got]
    # torch, with a stand-in for yacs' CfgNode (a dict with attribute access): the same failure
    yacs = types.ModuleType("yacs")
    yacs_config = types.ModuleType("yacs.config")

    class CfgNode(dict):
        def __init__(self, init_dict=None, key_list=None, new_allowed=False):
            super().__init__(init_dict or {})

        __getattr__ = dict.__getitem__

        def __setattr__(self, k, v):
            self[k] = v

        def clone(self):
            return CfgNode({k: v.clone() if isinstance(v, CfgNode) else v for k, v in self.items()})

    yacs_config.CfgNode = CfgNode
    sys.modules["yacs"], sys.modules["yacs.config"] = yacs, yacs_config
    try:
        assert _torch_line(tmp_path, code, YACS) == 17
    finally:
        sys.modules.pop("yacs", None)
        sys.modules.pop("yacs.config", None)
