"""``shapelint check --fix`` / ``--diff``: libcst codemods for the findings a rule knows how to fix.

How a fix is found, applied and trusted:

* A rule module may define ``fix(payload, node, ctx) -> Optional[Fix]`` next to ``message``
  (see ``shapelint.rules``; ``Fix``, ``Edit``, ``FixContext`` and the shared fixes live in
  ``shapelint.core.fixes``, which imports nothing of the engine). It gets the violation's typed payload, the node the finding sits on,
  and a :class:`FixContext` (the run, the layer the violation belongs to, helpers that read
  constant integers and call arguments). It returns a :class:`Fix`: one or more :class:`Edit`
  (a node of the checked file and the expression that replaces it), a title, and whether it is
  *safe* (``--fix``) or *unsafe* (``--unsafe-fixes`` too, as ruff names them).
* Edits are applied by a libcst transformer that swaps exactly the nodes named (by identity) and
  leaves every other node as parsed, so the rest of the file (formatting, comments) is
  reproduced byte for byte.
* A fix is never trusted on its own: :func:`fix_source` re-analyses the edited file and applies the
  fixes of what that reveals (fixing ``x.view(-1, 320)`` to ``2420`` makes ``nn.Linear(320, 50)``
  wrong next; its fix follows), for a few rounds. The result is kept only if every finding left
  was already there before (none introduced) and at least one was fixed; otherwise the file is
  left as it was and no finding of it is offered as fixable. A chain that cannot be made
  consistent therefore offers no fix.
* A fix whose literal is not in the layer's call (``nn.Linear(hidden, 10)`` with ``hidden=500`` a
  default, a config entry...) offers *choices*, the file's literals holding the wrong size; each is
  tried alone and re-analysed, and the one kept must set the layer's parameter to the right size
  and change nothing else the model is built of or fed, nor any tensor of its forward
  (:func:`_resolve`): a literal that flows to exactly that one use. Not exactly one such literal:
  no fix. An unsafe fallback tries, the same way, the enclosing ``__init__``'s other parameters in
  place of a wrongly named one.
* Safe fixes replace a hardcoded size by the right integer, and only for a run whose input is
  concrete (given by a flag, the config or the file's own ``model(torch.randn(...))``/``summary``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import libcst as cst

from .core.fixes import Edit, Fix, FixContext  # noqa: F401 - the API rules use, re-exported

SAFE, UNSAFE = "safe", "unsafe"


# ------------------------------------------------------------------------------------------------
# Applying edits
# ------------------------------------------------------------------------------------------------


class _Swap(cst.CSTTransformer):
    def __init__(self, edits: Dict[int, cst.BaseExpression]):
        super().__init__()
        self.edits = edits

    def on_leave(self, original, updated):
        new = self.edits.get(id(original))
        if new is None:
            return updated
        if isinstance(original, cst.BaseExpression) and (original.lpar or original.rpar):
            new = new.with_changes(lpar=original.lpar, rpar=original.rpar)
        return new


def apply_fixes(tree: cst.Module, fixes: Sequence[Fix]) -> str:
    """The module's code with the fixes' edits made (one edit per node: the first wins)."""
    edits: Dict[int, cst.BaseExpression] = {}
    for f in fixes:
        if any(id(e.node) in edits for e in f.edits):
            continue
        for e in f.edits:
            edits[id(e.node)] = cst.parse_expression(e.code)
    return tree.visit(_Swap(edits)).code


# ------------------------------------------------------------------------------------------------
# Fixes of one analysis, and the verified chain
# ------------------------------------------------------------------------------------------------


def fixes_of(analysis: Any, unsafe: bool, lines: Optional[List[str]] = None) -> List[Tuple[Any, Fix]]:
    """(finding, fix) for each finding of ``analysis`` whose rule offers one (safe ones only unless
    ``unsafe``); findings silenced by ``# noqa`` are left alone."""
    from .options import suppressed
    from .rules_registry import rule_for_payload

    src = analysis.source
    in_file = {id(n) for n in _walk(src.tree)}
    lines = lines if lines is not None else src.code.splitlines()
    out: List[Tuple[Any, Fix]] = []
    for f in analysis.findings:
        fact = getattr(f, "fact", None)
        if fact is None or fact.payload is None:
            continue
        if 0 < f.line <= len(lines) and suppressed(lines[f.line - 1], f.code):
            continue
        fixer = getattr(rule_for_payload(fact.payload), "fix", None)
        if fixer is None or not in_file.__contains__(id(fact.node)):
            continue
        fx = fixer(fact.payload, fact.node, FixContext(src, f.run, fact.module, in_file))
        if fx is None or (not fx.safe and not unsafe):
            continue
        out.append((f, fx))
    return out


def _walk(tree: cst.CSTNode):
    from .core.cstwalk import children

    stack = [tree]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(children(n))


@dataclass
class FixOutcome:
    path: str
    before: str
    after: str  # == before when nothing was fixed
    fixed: List[Tuple[int, int, str, str]] = field(default_factory=list)  # (line, col, code, title), first round
    rounds: int = 0
    remaining: int = 0

    @property
    def changed(self) -> bool:
        return self.after != self.before

    def diff(self) -> str:
        name = self.path.lstrip("/")
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            f"a/{name}", f"b/{name}"))


def fix_source(code: str, path: str, shapes: Optional[Dict[str, Any]] = None, select=None, ignore=None,
               unsafe: bool = False, rounds: int = 6, strict: Optional[bool] = None,
               first: Any = None, constructions: Optional[Dict[str, List[str]]] = None,
               time_budget: Optional[float] = None) -> FixOutcome:
    """Fix ``code`` and verify the result by analysing it again (see the module docstring).
    ``first``: the analysis of ``code`` when the caller has it already; ``constructions``
    (``--construct``) and ``time_budget``: as the check's analysis was made."""
    from .engine import analyze_source

    from .findings import _selected

    # the chain is analysed under every rule: --select/--ignore choose what is fixed first, but a
    # fix must not introduce a finding of any rule
    if first is None or select or ignore:
        first = analyze_source(code, path, shapes, strict=strict, constructions=constructions,
                               time_budget=time_budget)
    before = {(f.line, f.code) for f in first.findings}
    out = FixOutcome(path, code, code)
    current, analysis, fixed = code, first, []
    for i in range(rounds):
        fxs = fixes_of(analysis, unsafe)
        if i == 0:
            fxs = [(f, fx) for f, fx in fxs if _selected(f.code, select, ignore)]
        fxs = [(f, r) for f, fx in fxs
               for r in [_resolve(fx, analysis, unsafe, (path, shapes, strict, constructions, time_budget))]
               if r is not None]
        if i == 0:
            fixed = [(f.line, f.col + 1, f.code, fx.title) for f, fx in fxs]
        if not fxs:
            break
        new = apply_fixes(analysis.source.tree, [fx for _, fx in fxs])
        if new == current:
            break
        current = new
        try:
            analysis = analyze_source(current, path, shapes, strict=strict, constructions=constructions,
                                      time_budget=time_budget)
        except cst.ParserSyntaxError:  # pragma: no cover - an edit is always one expression
            return out
        out.rounds = i + 1
        if not analysis.findings:
            break
    if current == code or not fixed:
        return out
    left = {(f.line, f.code) for f in analysis.findings}
    if not left <= before or len(current.splitlines()) != len(code.splitlines()) and left:
        return out  # a fix would introduce (or move) a finding: offer none
    if left & {(line, c) for line, _, c, _ in fixed}:
        return out  # a finding said to be fixed is still there
    out.after, out.fixed, out.remaining = current, fixed, len(analysis.findings)
    return out


def _resolve(fx: Fix, analysis: Any, unsafe: bool, how: Tuple[Any, ...]) -> Optional[Fix]:
    """``fx`` itself, or for a fix offering choices (see :class:`shapelint.core.fixes.Fix`) the one
    choice that sets the claimed parameter and changes nothing else the model is built of or fed
    (:func:`_built`, in every run); else its fallback's (unsafe ones only if ``unsafe``); None when
    not exactly one does. ``how``: (path, shapes, strict, constructions, time_budget) as analysed."""
    if not fx.choices:
        return fx
    got = _choose(fx, analysis, how)
    if got is None and fx.fallback is not None and (fx.fallback.safe or unsafe):
        got = _choose(fx.fallback, analysis, how)
    return got


def _choose(fx: Fix, analysis: Any, how: Tuple[Any, ...]) -> Optional[Fix]:
    from .engine import analyze_source

    path, shapes, strict, constructions, time_budget = how
    module, param, want = fx.claim or (None, "", None)
    before = _built(analysis)
    claimed = {(r, m.name, param) for r, m in _modules(analysis) if m.node is module.node}
    mine = {(r, m.name, param) for r, m in _modules(analysis) if m is module}
    good = []
    for e in fx.choices:
        code = apply_fixes(analysis.source.tree, [Fix((e,), fx.title)])
        try:
            edited = analyze_source(code, path, shapes, strict=strict, constructions=constructions,
                                    time_budget=time_budget)
        except cst.ParserSyntaxError:  # pragma: no cover - an edit is one integer or name
            continue
        after = _built(edited)
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        if mine and changed <= claimed and all(after.get(k) == repr(want) for k in mine) \
                and _same_forward(analysis, edited):
            good.append(e)
    if len(good) != 1:
        return None
    return Fix((good[0],), fx.title.replace("{choice}", good[0].code), fx.safe)


def _same_forward(before: Any, after: Any) -> bool:
    """Every module call of ``before`` is made in ``after`` too, in the same order, on the same
    input and output shapes where ``before`` knew them (not past where its forward failed): a
    size fixed for one layer changes no tensor (a constant that also shapes the forward,
    ``F.adaptive_avg_pool2d(x, SIZE)``, does)."""
    if len(before.runs) != len(after.runs):
        return False
    for rb, ra in zip(before.runs, after.runs):
        if len(ra.calls) < len(rb.calls):
            return False
        for b, a in zip(rb.calls, ra.calls):
            if b.module.name != a.module.name:
                return False
            for was, now in ((b.inputs, a.inputs), ([b.output], [a.output])):
                known = _shapes(was)  # unknown past the failure: not compared
                if "None" not in known and known != _shapes(now):
                    return False
    return True


def _shapes(values: List[Any]) -> str:
    return repr([getattr(v, "shape", type(v).__name__) for v in values])


def _modules(analysis: Any):
    """(run index, module) of every module built, in every run."""
    for r, run in enumerate(analysis.runs):
        stack = [run.root] if run.root is not None else []
        while stack:
            m = stack.pop()
            yield r, m
            stack.extend(m.children.values())


def _built(analysis: Any) -> Dict[Tuple[int, str, str], str]:
    """What the model is built of and fed, as text: each run's input, each layer's type and
    constructor arguments, each user module's integer attributes and own parameter/buffer shapes."""
    out: Dict[Tuple[int, str, str], str] = {}
    for r, run in enumerate(analysis.runs):
        out[(r, "", "<input>")] = repr(run.inputs)
    for r, m in _modules(analysis):
        out[(r, m.name, "<type>")] = m.type_name
        if m.kind == "layer":  # its parameters follow from its arguments
            out.update(((r, m.name, k), repr(v)) for k, v in (m.args or {}).items())
            continue
        out.update(((r, m.name, "." + k), repr(v)) for k, v in m.attrs.items() if isinstance(v, int))
        out.update(((r, m.name, "param:" + k), repr(p.shape)) for k, p in m.params.items())
    return out


def fixable(analysis: Any, code: str, path: str, shapes=None, select=None, ignore=None,
            unsafe: bool = False, constructions: Optional[Dict[str, List[str]]] = None,
            time_budget: Optional[float] = None) -> Set[Tuple[int, str]]:
    """(line, code) of the findings of ``analysis`` that ``--fix`` (``unsafe``: with
    ``--unsafe-fixes``) would fix, after verification: what ``[*]`` marks in the output."""
    if not analysis.findings or not fixes_of(analysis, unsafe):
        return set()
    out = fix_source(code, path, shapes, select, ignore, unsafe=unsafe, first=analysis,
                     constructions=constructions, time_budget=time_budget)
    return {(line, c) for line, _, c, _ in out.fixed} if out.changed else set()
