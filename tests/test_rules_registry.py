"""The registry maps each violation kind to exactly one rule, and fails at import otherwise."""
from __future__ import annotations

import dataclasses
import importlib
import sys
import textwrap
import threading
from pathlib import Path
from types import ModuleType

import pytest

from shapelint import rules_registry
from shapelint.core.facts import Payload, Violation
from shapelint.engine import analyze_source


def _fake_rules(tmp_path: Path, name: str, modules: dict) -> ModuleType:
    pkg = tmp_path / name
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for mod, src in modules.items():
        (pkg / f"{mod}.py").write_text(textwrap.dedent(src))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))


_RULE = '''
from dataclasses import dataclass
from shapelint.core.facts import Payload

CODE = "{code}"

@dataclass
class {cls}(Payload):
    KIND = "{kind}"
    x: int

KINDS = ({cls},)

def message(p, node, ctx):
    return str(p.x)
'''


def test_two_rules_claiming_one_kind_fail(tmp_path, monkeypatch):
    monkeypatch.setattr(Payload, "ALL", [])
    pkg = _fake_rules(tmp_path, "fake_rules_dup", {
        "shp901_a": _RULE.format(code="SHP901", cls="A", kind="dup_kind"),
        "shp902_b": _RULE.format(code="SHP902", cls="B", kind="dup_kind"),
    })
    with pytest.raises(rules_registry.RuleRegistryError, match="claimed by SHP901 and SHP902"):
        rules_registry.build(pkg, emitters=())


def test_emitted_kind_without_rule_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(Payload, "ALL", [])
    pkg = _fake_rules(tmp_path, "fake_rules_orphan", {
        "shp901_a": _RULE.format(code="SHP901", cls="A", kind="owned"),
    })

    @dataclasses.dataclass
    class Orphan(Payload):  # an engine payload nobody claims
        KIND = "orphan"
        y: int

    with pytest.raises(rules_registry.RuleRegistryError, match="no rule: .*Orphan"):
        rules_registry.build(pkg, emitters=())
    # the same rules with only their own payload emitted: fine
    reg = rules_registry.build(pkg, emitters=(), payloads=[pkg.shp901_a.A])
    assert reg.by_kind["owned"] is pkg.shp901_a


def test_failure_happens_at_import(tmp_path, monkeypatch):
    """Importing the registry with a rules package whose kinds clash raises ImportError."""
    monkeypatch.setattr(Payload, "ALL", list(Payload.ALL))
    pkg = _fake_rules(tmp_path, "fake_rules_import", {
        "shp901_a": _RULE.format(code="SHP901", cls="A", kind="k"),
        "shp902_b": _RULE.format(code="SHP902", cls="B", kind="k"),
    })
    import shapelint

    monkeypatch.setattr(shapelint, "rules", pkg, raising=False)
    monkeypatch.setitem(sys.modules, "shapelint.rules", pkg)
    monkeypatch.delitem(sys.modules, "shapelint.rules_registry")
    with pytest.raises(ImportError):
        importlib.import_module("shapelint.rules_registry")
    monkeypatch.undo()
    sys.modules["shapelint.rules_registry"] = rules_registry


def test_real_rules_cover_every_payload():
    reg = rules_registry.build(importlib.import_module("shapelint.rules"))
    emitted = [c for c in Payload.ALL if dataclasses.is_dataclass(c)]
    assert emitted and all(reg.by_payload[c].CODE.startswith("SHP") for c in emitted)
    # a violation needs a payload dataclass
    with pytest.raises(TypeError):
        Violation("config")  # type: ignore[arg-type]


_FOLD = '''
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(WIDTH, 10)

    def forward(self, x):
        x = self.conv(x)
        x = x.view(-1, WIDTH)
        return self.fc(x)

Net()(torch.randn(4, 1, 10, 10))
'''


def test_facts_do_not_cross_threads():
    """Runs in several threads at once each see their own assumptions and folds (the scope is a
    ContextVar, not a global list)."""
    widths = [256, 128, 512, 64, 512, 256, 128, 64]
    expected = {w: [f.message for f in analyze_source(_FOLD.replace("WIDTH", str(w))).findings] for w in set(widths)}
    results: dict = {}

    def work(i: int, w: int) -> None:
        results[i] = [f.message for f in analyze_source(_FOLD.replace("WIDTH", str(w))).findings]

    threads = [threading.Thread(target=work, args=(i, w)) for i, w in enumerate(widths)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results[i] == expected[w] for i, w in enumerate(widths))
    assert [w for w in set(widths) if expected[w]] and [w for w in set(widths) if not expected[w]]


def test_known_codes_from_module_names_match_the_rules():
    from shapelint.options import known_codes
    from shapelint.rules_registry import all_rules

    assert known_codes() == sorted(r.CODE for r in all_rules())
