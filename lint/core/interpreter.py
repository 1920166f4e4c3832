"""An abstract interpreter for the small, honest subset of Python that model code uses.

It runs ``__init__`` to build the module tree (layers with their bound arguments, containers,
user blocks) and ``forward`` over abstract tensors whose shapes are tuples of symbolic dims.  It
records *facts* (layer calls, violations, assumptions); it never formats a message.

Whatever it does not model evaluates to UNKNOWN for that value only.  Code under a condition it
cannot decide runs *speculatively*: its violations are not recorded (a branch may be dead for
this configuration), and what it assigns becomes unknown unless both branches agree.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

import libcst as cst

from ..frameworks import Framework, registered
from .facts import AnalysisContext, CallRecord, Fact, Fold, RuleScope, Unknowable, Violation, rule_scope
from .project import ModuleRef, Project
from .source import ClassInfo, SourceModule
from .values import UNKNOWN, ClassValue, FunctionValue, ModuleValue, ObjectValue, Qual, Tensor

from .frames import (MAX_DEPTH, MAX_STEPS, MAX_UNROLL, AnalysisAbort, ConstructionAbort, ProbeMismatch,  # noqa: F401
                     ConstructionRaises, Frame, ObjectSet, _Break, _Continue, _Raise, _Return)

from .builtins import BUILTINS
from .limits import MAX_ALLOC, TIME_CHECK_EVERY, current_deadline, size_of
from .calls import CallsMixin
from .expressions import ExpressionsMixin
from .objects import ObjectsMixin
from .statements import StatementsMixin

# the argparse defaults of a module-level `opt = parser.parse_args()` (code, name) -> {option:
# value} or None; registered by shapelint.engine (lint/staticeval.py reads them with Python's ast)
OPTIONS_HOOK: Optional[Callable[[str, str], Optional[Dict[str, Any]]]] = None


def _parses_args(expr: Any) -> bool:
    """``parser.parse_args()`` (no arguments: the command line's)."""
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and \
        expr.func.attr.value == "parse_args" and not expr.args


class Interpreter(ExpressionsMixin, StatementsMixin, CallsMixin, ObjectsMixin):
    """Evaluation state and facts; expressions, statements, calls and the object model are mixins
    (core/expressions.py, statements.py, calls.py, objects.py), framework meaning is asked of
    ``self.frameworks`` (see lint/frameworks/__init__.py)."""

    def __init__(self, source: SourceModule, strict: bool = False, project: Optional[Project] = None) -> None:
        self.src = source
        self.strict = strict
        self.context = AnalysisContext()  # the facts of this run (core/facts.py)
        self.facts: List[Fact] = self.context.facts
        self.calls: List[CallRecord] = []
        self.speculative = 0
        self.quiet = False  # probing: record nothing
        self.guessed_input = False  # an input's rank is guessed by convention (a GAN's latent z): no rank-only finding
        self.violated = False  # a violation was recorded in this run: no unknown-rank tail is started after it
        self.constructing = False  # building the run's model (SHP009 applies)
        # the branch to take at undecidable tests met while building the model, by (id of the test,
        # how many times it was met undecided), when the engine splits the run (engine._split_branches);
        # any other is run both ways and merged
        self.decisions: Dict[Tuple[int, int], bool] = {}
        self.branch_points: List[Tuple[int, int]] = []  # the undecided tests met, in order
        self._branch_seen: Dict[int, int] = {}
        # (a, b): sizes a decided test makes equal (`stride == 1 and inp == oup` taken true)
        self.equalities: List[Tuple[Any, Any]] = []
        self.try_depth = 0  # inside a try body (or a suppressing with): a Python error may be caught
        self.depth = 0
        self.steps = 0
        self.allocated = 0  # elements built by concrete operations (core/limits.py MAX_ALLOC)
        self.order = 0
        self.call_depth = 0
        self.active_functions: Dict[int, int] = {}  # id(function node) -> active calls
        self.active_receivers: Dict[int, List[Optional[int]]] = {}  # id(function node) -> id(self) of each
        self.havoc = ObjectSet()  # lists/dicts mutated under unknown control flow (kept alive)
        # `**kwargs` dicts of calls that expanded no other dict: every key they hold is known, so a
        # missing one is Python's KeyError (expressions.getitem); a module global's dict is not
        # among them (computed lazily, it misses later module-level insertions)
        self.complete_dicts = ObjectSet()
        # parts of the code not followed (a loop not unrolled): (what, node, SourceModule), for
        # `shapelint summary`, whose totals are then lower bounds
        self.skipped: List[tuple] = []
        self.probes: Dict[int, Any] = {}  # probe id -> first layer applied to that input
        self.probe_target = 0  # during engine._probe: how many inputs it looks for (ProbeDone)
        self.probe_paths: Dict[int, Tuple[Any, ...]] = {}  # probe id -> its steps before that layer
        # probe ids whose first layer accepts several ranks (BatchNorm1d, Linear): a later layer
        # given the same input (RawNet's `bn1(x)` then `conv1(x)`) tells its rank instead
        self.probe_weak: set = set()
        self.probe_ranks: Dict[int, int] = {}  # probe id -> its rank, from `b, c, t = x.shape` before any layer
        # `if x.dim() == 3: x = x.unsqueeze(0)` on a probed input: the probe takes one side (the
        # side probe_flip says) instead of merging both into nothing; id(test) -> that side, which
        # the real run must then take too (checked once, the run is abandoned otherwise)
        self.probe_choices: Dict[int, bool] = {}
        self.probe_flip = False
        self.probe_rank_tests = True  # off once a forward has gone the other way (ProbeMismatch)
        self._globals: Dict[int, Dict[str, Any]] = {}
        self._globals_busy: set = set()
        self._registrations: Dict[int, Dict[str, Any]] = {}  # module-level setattr(thismodule, ...)
        self._class_values: Dict[int, ClassValue] = {}
        self.project = project if project is not None else Project(source)
        # where the analysis is: the module each active function belongs to, and the call sites
        # that led here (to place a finding inside an imported module at a line of this file)
        self.src_stack: List[SourceModule] = [source]
        self.call_sites: List[tuple] = []
        self.frameworks: Tuple[Framework, ...] = registered()
        self.deadline = current_deadline().for_run()  # this class's time budget (core/limits.py)
        # frameworks' models of library functions (lint/frameworks/torch/libraries.py), by qualified name
        self.library_models = tuple(f.library_model for f in self.frameworks if f.library_model is not None)
        self._library_model_cache: Dict[int, Any] = {}

    # ------------------------------------------------------------------ facts
    def violation(self, v: Violation, node, module: Optional[ModuleValue] = None):
        if self.speculative or self.quiet:
            return
        self.context.violation(v.payload, node, module, self.src_stack[-1], tuple(self.call_sites))
        self.context.facts[-1].constructing = self.constructing

    def construction_error(self, payload, node) -> None:
        """Python raises here while the model is built: recorded (SHP009) and the construction
        ends, when it is certain to get here (not speculative, not in a try, not while a module
        global is computed lazily); else the value is simply unknown."""
        if not self.constructing or self.speculative or self.quiet or self.try_depth or self._globals_busy:
            return
        self.context.violation(payload, node, None, self.src_stack[-1], tuple(self.call_sites))
        raise ConstructionAbort()

    def decided(self, test, frame) -> Optional[bool]:
        """The branch to take at an undecidable ``test`` (`if nb_filts[0] != nb_filts[1]:` on
        symbolic sizes) met while building the model, when the run is one side of a split
        (engine._split_branches); None: run both and merge. The sizes a decided test makes equal
        are noted (``equalities``)."""
        if self.quiet and self.probe_target and self.probe_rank_tests and not self.speculative and \
                self._probe_rank_test(test, frame):
            self.probe_choices[id(test)] = self.probe_flip
            return self.probe_flip
        if not self.constructing or self.speculative or self.quiet:
            return None
        n = self._branch_seen.get(id(test), 0)
        self._branch_seen[id(test)] = n + 1
        key = (id(test), n)
        c = self.decisions.get(key)
        if c is None:
            self.branch_points.append(key)
            return None
        self._note_equalities(test, c, frame)
        return c

    def _probe_rank_test(self, test, frame) -> bool:
        """``test`` reads the rank of a model input whose shape the probe looks for (``x.dim()``,
        ``x.ndim``, ``len(x.shape)``, ``len(x.size())``) before any layer has told it."""
        found = False

        def operand(node):
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args and \
                    node.func.attr.value in ("dim", "ndimension"):
                return node.func.value
            if isinstance(node, cst.Attribute) and node.attr.value == "ndim":
                return node.value
            if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" and \
                    len(node.args) == 1:
                a = node.args[0].value
                if isinstance(a, cst.Attribute) and a.attr.value == "shape":
                    return a.value
                if isinstance(a, cst.Call) and isinstance(a.func, cst.Attribute) and not a.args and \
                        a.func.attr.value == "size":
                    return a.func.value
            return None

        class Walk(cst.CSTVisitor):
            def on_visit(self, node) -> bool:
                nonlocal found
                e = operand(node)
                if e is not None:
                    found = found or _is_probe(e)
                    return False
                return not found

        def _is_probe(e) -> bool:
            self.speculative += 1
            try:
                v = self.eval(e, frame)
            finally:
                self.speculative -= 1
            return isinstance(v, Tensor) and v.probe is not None and v.shape is None and not v.probe_path

        test.visit(Walk())
        return found

    def probe_choice_kept(self, test, truth) -> None:
        """The real run meets a rank test the probe decided (``probe_choices``): the input built
        from what the probe met is one the model takes only if this run goes the same way."""
        c = self.probe_choices.pop(id(test), None)
        if c is not None and truth is not UNKNOWN and bool(truth) != c and not self.quiet:
            raise ProbeMismatch("the input's rank test went the other way than the probe took")

    def _note_equalities(self, test, truth: bool, frame) -> None:
        """``a == b`` taken true, ``a != b`` taken false (inside `and` taken true, `or` taken false,
        `not`): the two sizes are equal on this side of the split."""
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            self._note_equalities(test.expression, not truth, frame)
        elif isinstance(test, cst.BooleanOperation):
            if isinstance(test.operator, cst.And) == truth:
                self._note_equalities(test.left, truth, frame)
                self._note_equalities(test.right, truth, frame)
        elif isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            op = test.comparisons[0].operator
            if isinstance(op, cst.Equal) and truth or isinstance(op, cst.NotEqual) and not truth:
                self.speculative += 1  # evaluated again only to read the two sizes: nothing is recorded
                try:
                    a, b = self.eval(test.left, frame), self.eval(test.comparisons[0].comparator, frame)
                finally:
                    self.speculative -= 1
                self.equalities.append((a, b))

    def assume(self, a, b, node, what):
        if not self.speculative and not self.quiet:
            self.context.assume(a, b, node, what)

    def tick(self):
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise AnalysisAbort("step budget exhausted")
        if not self.steps & (TIME_CHECK_EVERY - 1) and self.deadline.passed():
            raise AnalysisAbort(f"time budget ({self.deadline.budget:g} s) spent")

    def charge(self, v: Any) -> Any:
        """Count what a concrete operation built; past MAX_ALLOC the class is abandoned (memory)."""
        n = size_of(v)
        if n:
            self.allocated += n
            if self.allocated > MAX_ALLOC:
                raise AnalysisAbort("size budget exhausted")
        return v

    def eval_or_unknown(self, node, frame: Frame) -> Any:
        """eval for the planner: a budget spent makes the value unknown (a run would be abandoned)."""
        try:
            return self.eval(node, frame)
        except AnalysisAbort:
            return UNKNOWN

    # ------------------------------------------------------------------ names
    def class_value(self, info: ClassInfo) -> ClassValue:
        return self._class_values.setdefault(id(info), ClassValue(info))

    def lookup_global(self, name: str, src: Optional[SourceModule] = None) -> Any:
        src = src or self.src
        table = self._globals.setdefault(id(src), {})
        if name in table:
            return table[name]
        v: Any
        if name in src.classes:
            v = self.class_value(src.classes[name])
        elif name in src.functions:
            v = FunctionValue(src.functions[name], src)
            if _is_stub(src.functions[name]):
                got = self._registered(src).get(name)
                if got is not None:
                    v = got
        elif name in src.assigns:
            key = (id(src), name)
            if key in self._globals_busy:
                return UNKNOWN
            self._globals_busy.add(key)
            try:
                exprs = src.assigns[name]
                # Only a name assigned once at top level is a constant we can trust.
                v = self.eval(exprs[0], Frame(src=src)) if len(exprs) == 1 else UNKNOWN
                if isinstance(v, ObjectValue) and name in src.filled:
                    # a configuration object filled attribute by attribute at the top level
                    table[name] = v
                    frame, speculative = Frame(src=src), self.speculative
                    self.speculative = 0  # the module's own code, run once whatever asked for it
                    try:
                        for stmt in src.filled[name]:
                            self.assign(stmt.targets[0].target, self.eval(stmt.value, frame), frame)
                    finally:
                        self.speculative = speculative
                if len(exprs) == 1 and _parses_args(exprs[0]) and OPTIONS_HOOK is not None:
                    # `opt = parser.parse_args()`: the options at their argparse defaults
                    got = OPTIONS_HOOK(src.code, name)
                    if got is not None:
                        v = ObjectValue(None, dict(got))
            finally:
                self._globals_busy.discard(key)
        elif (id(src), name) in self._globals_busy:
            return UNKNOWN  # modules importing each other's names in a cycle
        elif name in src.rel_imports:
            level, module, imported = src.rel_imports[name]
            absolute = self.project.absolute_name(src, level, module)
            sub = self.project.module(f"{absolute}.{imported}") if absolute and not module and imported else None
            if sub is not None and absolute and self.project.module(absolute) is src:
                # `from . import mobilenetv2` in the package's own __init__.py: its submodule
                v = ModuleRef(sub)
            else:
                self._globals_busy.add((id(src), name))
                try:
                    v = self.import_from(absolute, imported)
                finally:
                    self._globals_busy.discard((id(src), name))
        elif name in src.imports:
            qual = src.imports[name]
            v = UNKNOWN
            if self.project.owns(qual):
                mod, _, attr = qual.rpartition(".")
                self._globals_busy.add((id(src), name))
                try:
                    v = self.import_from(mod, attr) if mod else UNKNOWN
                finally:
                    self._globals_busy.discard((id(src), name))
                if v is UNKNOWN:
                    ref = self.project.module(qual)
                    v = ModuleRef(ref) if ref is not None else UNKNOWN
            if v is UNKNOWN:
                v = Qual(qual)
        elif self._star_lookup(name, src) is not None:
            v = self._star_lookup(name, src)
        elif name in BUILTINS:
            v = Qual("builtins." + name)
        elif "*" in src.imports and name[:1].isupper():
            v = Qual(src.imports["*"] + "." + name)
        else:
            v = UNKNOWN
        table[name] = v
        return v

    def _registered(self, src: SourceModule) -> Dict[str, Any]:
        """The names a module-level loop sets on the module itself (pytorch-cifar-models:
        ``thismodule = sys.modules[__name__]``, then ``for dataset in [...]: ... setattr(thismodule,
        f"{dataset}_{model_name}", partial(_resnet, layers=layers, ...))``, over stub ``def
        cifar10_resnet20(*args, **kwargs) -> CifarResNet: pass`` lines that only name them), run
        once, after the stubs, on known values. What the loops cannot decide is left out."""
        key = ("registered", id(src))
        if key in self._globals_busy:
            return {}
        cached = self._registrations.get(id(src))
        if cached is not None:
            return cached
        out: Dict[str, Any] = {}
        self._registrations[id(src)] = out
        names = [n for n, exprs in src.assigns.items() if len(exprs) == 1 and _this_module(exprs[0])]
        if not names:
            return out
        reg = ObjectValue(None, {})
        self._globals_busy.add(key)
        try:
            for stmt in src.tree.body:
                if not (isinstance(stmt, cst.For) and _sets_on(stmt, names)):
                    continue
                frame = Frame({n: reg for n in names}, src=src)
                try:
                    self.exec_stmt(stmt, frame)
                except (_Raise, _Break, _Continue, _Return, AnalysisAbort, ConstructionAbort, ConstructionRaises):
                    return out  # a loop Python would leave early, or the analysis gave up: none of it
            out.update({k: v for k, v in reg.attrs.items() if v is not UNKNOWN})
        finally:
            self._globals_busy.discard(key)
        return out

    def _star_lookup(self, name: str, src: SourceModule) -> Any:
        """A name brought in by `from .parts import *` (a module of the project), else None."""
        for level, module in src.star_imports:
            absolute = self.project.absolute_name(src, level, module) if level else module
            if not absolute or (not level and not self.project.owns(absolute)):
                continue
            mod = self.project.module(absolute)
            if mod is None or mod is src:
                continue
            if name in mod.classes or name in mod.functions or name in mod.assigns or \
                    name in mod.imports or name in mod.rel_imports:
                return self.lookup_global(name, mod)
        return None

    def import_from(self, module: Optional[str], name: str) -> Any:
        """`from module import name` inside the project: a name of that module, or a submodule."""
        if not module:
            return UNKNOWN
        mod = self.project.module(module)
        if mod is not None and name is not None:
            if name in mod.classes or name in mod.functions or name in mod.assigns or \
                    name in mod.imports or name in mod.rel_imports:
                return self.lookup_global(name, mod)
        if mod is not None and name is not None and mod.star_imports and (id(mod), name) not in self._globals_busy:
            # a package re-exporting its modules (`from .base import *` in models/__init__.py); a
            # name it re-exports wins over a submodule of that name, as in Python (`from
            # .mobilenetv2 import *` binds the package's `mobilenetv2` to the function)
            self._globals_busy.add((id(mod), name))
            try:
                v = self._star_lookup(name, mod)
            finally:
                self._globals_busy.discard((id(mod), name))
            if v is not None:
                return v
        sub = self.project.module(f"{module}.{name}")
        if sub is not None:
            return ModuleRef(sub)
        return UNKNOWN

    def lookup(self, name: str, frame: Frame) -> Any:
        if name in frame.locals:
            return frame.locals[name]
        if name == "True":
            return True
        if name == "False":
            return False
        if name == "None":
            return None
        return self.lookup_global(name, frame.src)

    def _module_name(self, src: SourceModule) -> Optional[str]:
        import os as _os

        root = self.project.root
        if not root or not src.path:
            return None
        rel = _os.path.relpath(_os.path.abspath(src.path), root)
        rel = rel[:-3] if rel.endswith(".py") else rel
        parts = rel.split(_os.sep)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    def tensor_rule(self, thunk, node, module=None):
        # the rule reports assumptions and folds through a per-thread scope (core/facts.py)
        scope = RuleScope(lambda a, b, what: self.assume(a, b, node, what), lambda f: self.fold(f, node),
                          lambda n: self.narrow(n, node, module), lambda d: self.bound(d, node))
        with rule_scope(scope):
            try:
                return thunk()
            except Violation as v:
                self.violation(v, node, module)
                if not self.speculative and not self.quiet:
                    self.violated = True
                return Tensor(None)
            except Unknowable:
                return Tensor(None)

    def bound(self, d, node):
        if not self.speculative and not self.quiet:
            self.context.bound(d, node)

    def narrow(self, narrowing, node, module=None):
        if not self.speculative and not self.quiet:
            self.context.narrow(narrowing, node, module, self.src_stack[-1], tuple(self.call_sites))

    def fold(self, fold: Fold, node):
        if not self.speculative and not self.quiet:
            self.context.fold(fold, node)


def _is_stub(fdef: cst.FunctionDef) -> bool:
    """``def f(*args, **kwargs) -> Model: pass`` (or ``...``, after a docstring): a name only."""
    body = fdef.body.body
    stmts = [s for line in body for s in (line.body if isinstance(line, cst.SimpleStatementLine) else [line])] \
        if isinstance(fdef.body, cst.IndentedBlock) else list(body)
    if stmts and isinstance(stmts[0], cst.Expr) and isinstance(stmts[0].value, (cst.SimpleString,
                                                                                 cst.ConcatenatedString)):
        stmts = stmts[1:]
    return len(stmts) == 1 and (isinstance(stmts[0], cst.Pass) or
                                isinstance(stmts[0], cst.Expr) and isinstance(stmts[0].value, cst.Ellipsis))


def _this_module(e: cst.BaseExpression) -> bool:
    """``sys.modules[__name__]``."""
    return isinstance(e, cst.Subscript) and isinstance(e.value, cst.Attribute) and \
        isinstance(e.value.value, cst.Name) and e.value.value.value == "sys" and e.value.attr.value == "modules" and \
        len(e.slice) == 1 and isinstance(e.slice[0].slice, cst.Index) and \
        isinstance(e.slice[0].slice.value, cst.Name) and e.slice[0].slice.value.value == "__name__"


def _sets_on(stmt: cst.CSTNode, names: List[str]) -> bool:
    """Whether ``stmt`` holds a ``setattr(name, ...)`` call on one of ``names``."""
    found = []

    class _V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "setattr" and node.args and \
                    isinstance(node.args[0].value, cst.Name) and node.args[0].value.value in names:
                found.append(node)

    stmt.visit(_V())
    return bool(found)

