"""The interpreter's control-flow signals, call frames and limits, shared by its parts
(expressions, statements, calls, objects) without importing the interpreter itself."""
from __future__ import annotations

MAX_DEPTH = 60
MAX_STEPS = 600_000
MAX_UNROLL = 5_000
MAX_REENTRY = 3  # active calls of one function: a fourth (recursion) is unknown, unless it ends
MAX_NESTING = 16  # ... (lint/core/calls.py _bounded_reentry), up to this many active calls


class AnalysisAbort(Exception):
    """The class is too large or too deep to analyse: it becomes unknown (not a crash)."""


class ProbeDone(AnalysisAbort):
    """The input probe (engine._probe) has met a layer for every model input: the rest of its quiet
    pass could only explore more branches (it records nothing), so it ends there."""


class ProbeMismatch(AnalysisAbort):
    """The forward took the other side of a rank test than the input probe took (the input built
    from what the probe met is not one the model takes that way): engine.execute runs it again."""


class ConstructionAbort(Exception):
    """Python raised while the model was being built (SHP009 recorded): nothing after it runs."""


class ConstructionRaises(ConstructionAbort):
    """The model's construction reaches a deliberate ``assert``/``raise`` (a configuration the
    code rejects: ``assert (depth - 2) % 6 == 0``): there is no model, and nothing is reported
    (the class is listed as not analysed, with this reason)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Return(Exception):
    def __init__(self, value) -> None:
        self.value = value


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


class _Raise(Exception):
    """The analysed code raises on this path: the path ends and its result is unknown."""


class Frame:
    __slots__ = ("locals", "func", "returns", "fork", "src")

    def __init__(self, locals_=None, func=None, returns=None, fork=0, src=None) -> None:
        self.locals = locals_ if locals_ is not None else {}
        self.func = func
        self.returns = returns if returns is not None else []  # returns under unknown control flow
        self.fork = fork
        self.src = src  # the module whose globals names resolve in (None: the analysed file)


class ObjectSet:
    """A set of objects by identity that keeps them alive: an ``id()`` alone may be reused by a
    new object once the first is freed, which made results depend on the allocator (a fresh
    list mistaken for one mutated under unknown control flow)."""

    __slots__ = ("_objs",)

    def __init__(self) -> None:
        self._objs: dict = {}

    def add(self, obj) -> None:
        self._objs[id(obj)] = obj

    def __contains__(self, obj) -> bool:
        return self._objs.get(id(obj)) is obj
