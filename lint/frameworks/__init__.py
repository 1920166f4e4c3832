"""What a deep-learning framework means to the engine.

The core interprets plain Python; everything a framework gives meaning to (its layer classes, its
tensors' methods and functions, its module containers, a user class deriving from its base module)
is asked of the registered :class:`Framework` objects, in registration order.  Each hook answers
:data:`NOT_MINE` for a value or name it does not model, and the next framework is asked; when none
claims it, the core's generic answer applies (mostly UNKNOWN).

A framework owns qualified-name prefixes (``torch.``): a class deriving from an owned name is not
a plain Python object, and ``isinstance(v, owned.Name)`` is the framework's to decide.

The torch framework (``frameworks/torch/framework.py``) and the Keras one
(``frameworks/keras/framework.py``, asked first: it claims only ``keras.`` names and its own
values) are registered by default; another one registers itself with :func:`register`.  The lint
path imports no framework library: a framework here is a model of one, in pure Python.
"""
from __future__ import annotations

from typing import List, Tuple

from ..core.framework_api import NOT_MINE, Framework  # noqa: F401  (the interface lives in core)

# a file that mentions none of these words uses no built-in framework: the checker skips it unread
MARKERS = ("torch", "keras")


def mentions_framework(code: str) -> bool:
    """Could ``code`` use a built-in framework (does it mention one)?  Cheap: no import, no parse."""
    return any(m in code for m in MARKERS)


_REGISTRY: List[Framework] = []
_defaults_loaded = False


def register(framework: Framework, first: bool = False) -> None:
    """Add a framework; ``first`` puts it before those already registered (asked earlier)."""
    if first:
        _REGISTRY.insert(0, framework)
    else:
        _REGISTRY.append(framework)


def registered() -> Tuple[Framework, ...]:
    """The frameworks in the order the interpreter asks them (the built-in ones loaded on first use)."""
    global _defaults_loaded
    if not _defaults_loaded:
        from .torch import framework  # noqa: F401  (registers the torch framework, once: the import lock)
        from .keras import framework as _keras  # noqa: F401  (registers Keras, first: it claims only its own)
        _defaults_loaded = True
    return tuple(_REGISTRY)
