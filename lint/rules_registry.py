"""The rules, found by scanning the ``shapelint.rules`` package: adding a rule is adding one
module there (with its fixtures)."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Dict, List, Optional

_RULES: Optional[List] = None
_BY_KIND: Dict[str, object] = {}


def all_rules() -> List:
    global _RULES
    if _RULES is None:
        from . import rules as pkg

        found = []
        for info in pkgutil.iter_modules(pkg.__path__):
            if info.name.startswith("shp"):
                mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
                found.append(mod)
                for kind in getattr(mod, "KINDS", ()):
                    _BY_KIND[kind] = mod
        _RULES = sorted(found, key=lambda m: m.CODE)
    return _RULES


def rule_for_kind(kind: str):
    all_rules()
    return _BY_KIND.get(kind)


def rule_by_code(code: str):
    for r in all_rules():
        if r.CODE == code.upper():
            return r
    return None
