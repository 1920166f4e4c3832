"""The rules, found by scanning the ``shapelint.rules`` package: adding a rule is adding one
module there (with its fixtures).

Each rule module lists its payload classes in ``KINDS`` (see ``shapelint.core.facts.Payload``).
The registry is built when this module is imported, and the import fails
(:class:`RuleRegistryError`) when

* two rules claim one violation kind (the same payload class, or the same ``KIND`` family), or
* a payload class the engine can emit has no rule: every concrete :class:`Payload` subclass
  defined once the emitters (:data:`EMITTERS`, the modules that raise violations) are imported.

A rule may also define ``on_forward_end(facts, output)``: the engine calls it after each forward
pass (SHP005 decides there whether a fold of whole samples into the batch is a bug).
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, Optional, Type

from .core.facts import Fact, Payload

# the modules that raise violations: importing them defines every payload class they can emit
EMITTERS = ("shapelint.frameworks.torch.layers", "shapelint.frameworks.torch.tensor_ops",
            "shapelint.frameworks.torch.tensor_methods", "shapelint.core.interpreter",
            "shapelint.frameworks.keras.layers", "shapelint.frameworks.keras.layers_seq",
            "shapelint.frameworks.keras.model")

ForwardEndHook = Callable[[List[Fact], Any], None]


class RuleRegistryError(ImportError):
    """The rules and the violation kinds the engine emits do not match one to one."""


@dataclass
class Registry:
    rules: List[ModuleType]
    by_kind: Dict[str, ModuleType] = field(default_factory=dict)  # KIND family -> rule
    by_payload: Dict[Type[Payload], ModuleType] = field(default_factory=dict)
    forward_end: List[ForwardEndHook] = field(default_factory=list)


def build(package: ModuleType, emitters: Iterable[str] = EMITTERS,
          payloads: Optional[Iterable[Type[Payload]]] = None) -> Registry:
    """Scan ``package`` for rule modules (``shp*``) and check them against the emitted payloads
    (``payloads``, by default every Payload subclass defined after importing ``emitters``)."""
    found: List[ModuleType] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("shp"):
            found.append(importlib.import_module(f"{package.__name__}.{info.name}"))
    reg = Registry(sorted(found, key=lambda m: m.CODE))
    for mod in reg.rules:
        for cls in getattr(mod, "KINDS", ()):
            if not (isinstance(cls, type) and issubclass(cls, Payload) and dataclasses.is_dataclass(cls)):
                raise RuleRegistryError(f"{mod.__name__}: KINDS lists {cls!r}, not a Payload dataclass")
            for owner in (reg.by_payload.get(cls), reg.by_kind.get(cls.KIND)):
                if owner is not None and owner is not mod:
                    raise RuleRegistryError(f"violation kind {cls.KIND!r} ({cls.__name__}) is claimed by "
                                            f"{owner.CODE} and {mod.CODE}")
            reg.by_payload[cls] = mod
            reg.by_kind[cls.KIND] = mod
        hook = getattr(mod, "on_forward_end", None)
        if hook is not None:
            reg.forward_end.append(hook)
    for name in emitters:
        importlib.import_module(name)
    emitted = list(payloads) if payloads is not None else [c for c in Payload.ALL if dataclasses.is_dataclass(c)]
    orphans = [c for c in emitted if c not in reg.by_payload]
    if orphans:
        raise RuleRegistryError("violation kinds with no rule: " + ", ".join(
            f"{c.__module__}.{c.__name__} ({c.KIND!r})" for c in orphans))
    return reg


def _load() -> Registry:
    from . import rules as pkg

    return build(pkg)


_REGISTRY = _load()


def all_rules() -> List[ModuleType]:
    return _REGISTRY.rules


def rule_for_payload(payload: Payload) -> ModuleType:
    """The rule that owns ``payload`` (the registry guarantees there is exactly one)."""
    return _REGISTRY.by_payload[type(payload)]


def rule_for_kind(kind: str) -> Optional[ModuleType]:
    return _REGISTRY.by_kind.get(kind)


def forward_end_hooks() -> List[ForwardEndHook]:
    return _REGISTRY.forward_end


def rule_by_code(code: str) -> Optional[ModuleType]:
    for r in all_rules():
        if r.CODE == code.upper():
            return r
    return None


def fix_doc(rule: ModuleType) -> str:
    """What ``check --fix`` does for the rule's findings: its ``fix`` hook's docstring, or why it has
    none (``NO_FIX``); every rule says one or the other (tests/test_cli.py)."""
    import inspect

    fixer = getattr(rule, "fix", None)
    if fixer is not None and fixer.__doc__:
        return inspect.cleandoc(fixer.__doc__)
    why = getattr(rule, "NO_FIX", None)
    return f"None: {why}" if why else ""
