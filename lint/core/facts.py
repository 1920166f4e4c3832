"""What the analysis learns, as typed facts, and how a shape rule reports them.

* :class:`Payload` is the typed content of one violation. Each rule module in ``shapelint.rules``
  declares its payload classes (one ``@dataclass`` per case, subclassing :class:`Payload`) and
  lists them in its ``KINDS``; ``KIND`` names the family the rule owns (``"config"``,
  ``"reshape_size"``...). The engine raises ``Violation(SomePayload(...))``; the registry
  (``shapelint.rules_registry``) checks at import that every payload class has exactly one rule.
* :class:`Fact` is what a run records: a violation (with its payload), an assumption the rule
  could not decide (:class:`Assumption`), or a fold of whole samples into the batch (:class:`Fold`,
  which the SHP005 rule settles at the end of forward).
* :class:`AnalysisContext` collects the facts of one analysis run. It is an explicit object owned
  by the interpreter, never a module-global list.

Shape rules in the layer table are plain functions ``rule(args, *tensors)`` with no context
parameter. While the interpreter runs one (``Interpreter.tensor_rule``) it sets a
:data:`contextvars.ContextVar` to a :class:`RuleScope` bound to the call's node; :func:`assumed`
and :func:`folded` report through it. A ContextVar is per thread (and per asyncio task), so two
threads running ``analyze_source`` at once never see each other's scope; outside a rule call the
variable is unset and both functions do nothing.
"""
from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Dict, List, Optional, Tuple, Type

if TYPE_CHECKING:  # pragma: no cover
    from .values import ModuleValue


class Payload:
    """Base of every violation payload. A subclass is a ``@dataclass`` declared in a rule module;
    ``KIND`` is the violation family (one rule owns each family)."""

    KIND: ClassVar[str] = ""

    # every concrete payload class defined anywhere: the registry checks each has a rule
    ALL: ClassVar[List[Type["Payload"]]] = []

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if cls.KIND:
            Payload.ALL.append(cls)

    def fields(self) -> Dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


class Violation(Exception):
    """torch would raise here, whatever the unknowns are. The payload's class selects the rule."""

    def __init__(self, payload: Payload) -> None:
        if not isinstance(payload, Payload) or not dataclasses.is_dataclass(payload):
            raise TypeError(f"Violation needs a Payload dataclass, got {payload!r}")
        super().__init__(payload.KIND)
        self.payload: Payload = payload

    @property
    def kind(self) -> str:
        return self.payload.KIND


class Unknowable(Exception):
    """A rule cannot tell (an unknown argument): the caller makes the result unknown."""


class BindError(Exception):
    """Call arguments that do not fit a signature."""


@dataclass
class Assumption:
    """A rule relied on ``a == b`` without being able to decide it (``D.equal`` is DEPENDS);
    `shapelint summary` derives the admissible inputs from these."""

    a: Any
    b: Any
    what: str


@dataclass
class Fold:
    """``view(-1, K)`` moved whole samples between rows: batch ``batch`` became ``new_batch``.
    Whether that is a bug is decided at the end of forward (rules/shp005)."""

    per_sample: Any
    k: Any
    batch: Any
    new_batch: Any
    shape: Tuple[Any, ...]


@dataclass
class Narrowing:
    """A check that holds for only a few values of one input size (``symbol`` in ``values``: a
    residual add of ``H-1`` and ``H`` broadcasts only at H = 2) and fails for every other one with
    ``payload``. The engine runs the model at each of those values (engine._settle_narrowing): if
    it fails at every one, the check is a violation after all."""

    payload: Payload
    symbol: str
    values: Tuple[int, ...]


@dataclass
class Fact:
    kind: str  # 'violation' | 'assume' | 'fold' | 'narrow' | 'bound' (payload: a dim that must be >= 1)
    node: Any
    payload: Any = None  # a Payload (violation), an Assumption (assume) or a Fold (fold)
    module: Optional["ModuleValue"] = None  # the layer the violation belongs to, if any
    src: Any = None  # the SourceModule the node lies in
    sites: Tuple[Any, ...] = ()  # (call node, SourceModule) of the calls that led there
    constructing: bool = False  # recorded while the model was built (torch raises in __init__)

    @property
    def data(self) -> Dict[str, Any]:
        """The payload's fields as a dict, with ``kind`` for a violation (a read-only view)."""
        p = self.payload
        if p is None or not dataclasses.is_dataclass(p):
            return {}
        out = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
        if self.kind == "violation" and isinstance(p, Payload):
            out["kind"] = p.KIND
        return out


@dataclass
class CallRecord:
    module: "ModuleValue"
    inputs: List[Any]
    output: Any
    node: Any
    depth: int
    start: int
    end: int = -1
    speculative: bool = False  # made on a branch of an undecidable `if` (both branches run)


@dataclass
class AnalysisContext:
    """The facts of one analysis run (one interpreter). Not shared between runs or threads."""

    facts: List[Fact] = field(default_factory=list)

    def violation(self, payload: Payload, node: Any, module: Optional["ModuleValue"] = None, src: Any = None,
                  sites: Tuple[Any, ...] = ()) -> None:
        self.facts.append(Fact("violation", node, payload, module, src, sites))

    def assume(self, a: Any, b: Any, node: Any, what: str) -> None:
        self.facts.append(Fact("assume", node, Assumption(a, b, what)))

    def fold(self, fold: Fold, node: Any) -> None:
        self.facts.append(Fact("fold", node, fold))

    def bound(self, d: Any, node: Any) -> None:
        self.facts.append(Fact("bound", node, d))

    def narrow(self, narrowing: Narrowing, node: Any, module: Optional["ModuleValue"] = None, src: Any = None,
               sites: Tuple[Any, ...] = ()) -> None:
        self.facts.append(Fact("narrow", node, narrowing, module, src, sites))


@dataclass
class RuleScope:
    """What a shape rule may report while it runs, bound (by the interpreter) to the call being
    evaluated: ``assume(a, b, what)``, ``fold(Fold)`` and ``narrow(Narrowing)``."""

    assume: Callable[[Any, Any, str], None]
    fold: Callable[[Fold], None]
    narrow: Callable[[Narrowing], None] = lambda n: None
    bound: Callable[[Any], None] = lambda d: None


_SCOPE: ContextVar[Optional[RuleScope]] = ContextVar("shapelint_rule_scope", default=None)


class rule_scope:  # noqa: N801 - used as a context manager, as contextlib's were
    """Run a shape rule with ``scope`` receiving its assumptions and folds (this thread only).
    A class, not a contextlib generator: it is entered once per layer call."""

    __slots__ = ("scope", "token")

    def __init__(self, scope: RuleScope) -> None:
        self.scope = scope

    def __enter__(self) -> None:
        self.token = _SCOPE.set(self.scope)

    def __exit__(self, *exc: Any) -> None:
        _SCOPE.reset(self.token)


def assumed(a: Any, b: Any, what: str) -> None:
    """A rule relies on ``a == b``, which it cannot decide."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.assume(a, b, what)


def positive(d: Any) -> None:
    """torch needs ``d >= 1`` here, which the rule cannot decide (a reflection pad's input must be
    larger than the padding): a constraint for the admissible inputs and --confirm's witness."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.bound(d)


def narrowed(payload: Payload, symbol: str, values: Tuple[int, ...]) -> None:
    """A check passes only where ``symbol`` is one of ``values`` (and fails with ``payload`` elsewhere)."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.narrow(Narrowing(payload, symbol, tuple(values)))


def folded(fold: Fold) -> None:
    """A view(-1, K) moved whole samples between rows; whether that is a bug is decided later."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.fold(fold)


# Where a tensor came from, for `shapelint summary`'s graph (commands/summary/graph.py): while set
# to a dict, the interpreter records each tensor a function, method or operator returns as
# ``id(result) -> (result, [input tensors])`` (the objects are kept, so ids stay unique). Unset
# (the lint path): nothing is recorded.
LINEAGE: ContextVar[Optional[Dict[int, Any]]] = ContextVar("shapelint_lineage", default=None)


def record_lineage(result: Any, inputs: Any) -> None:
    book = LINEAGE.get()
    if book is None or id(result) in book:
        return
    from .values import Tensor

    if not isinstance(result, Tensor):
        return
    flat: List[Any] = []
    for v in inputs:
        if isinstance(v, (list, tuple)):
            flat.extend(x for x in v if isinstance(x, Tensor))
        elif isinstance(v, Tensor) and v is not result:
            flat.append(v)
    if flat:
        book[id(result)] = (result, flat)
