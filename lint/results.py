"""What an analysis produces: one :class:`Run` per (construction, input) of a model class, and the
:class:`Finding` objects reported for it.

Kept apart from :mod:`shapelint.engine` (which re-exports both) so that the modules that read
results (findings, commands, reporters) need not import the engine: no import cycle.  The
types named only in annotations are imported for type checkers, never at run time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from .core import dims as D

if TYPE_CHECKING:  # pragma: no cover - annotations only
    import libcst as cst

    from .core.interpreter import CallRecord, Fact
    from .core.source import ClassInfo
    from .core.values import ModuleValue, Tensor
    from .options import InputSpec


@dataclass
class Finding:
    path: str
    line: int
    col: int
    code: str
    message: str
    run: Optional["Run"] = field(default=None, repr=False, compare=False)
    fact: Optional["Fact"] = field(default=None, repr=False, compare=False)  # the violation (fixes read it)

    def as_dict(self) -> Dict[str, Any]:
        return {"path": self.path, "line": self.line, "col": self.col, "code": self.code, "message": self.message}


@dataclass
class Run:
    """One analysis of a class: how it is built, what it is fed, and what came out."""

    cls: Optional[ClassInfo]  # None until built, for a factory call (``resnet50()``)
    ctor: Optional[cst.BaseExpression]  # None: the class's defaults, ``Cls()``
    ctor_text: str
    inputs: Optional[List[InputSpec]]  # None: inferred symbolically
    input_origin: str  # 'option' | 'summary' | 'call' | 'symbolic'
    ctor_locals: Dict[str, Any] = field(default_factory=dict)
    root: Optional[ModuleValue] = None
    input_tensors: List[Tensor] = field(default_factory=list)
    # inputs of a rank no layer fixes (a Linear or an Embedding first): the smallest such input
    # without its batch and its dtype, for --confirm's witness ((in_features,), 'float')
    rank_free: Dict[int, Tuple[Tuple[int, ...], str]] = field(default_factory=dict)
    output: Any = None
    calls: List[CallRecord] = field(default_factory=list)
    facts: List[Fact] = field(default_factory=list)
    error: Optional[str] = None
    # the call in the linted file a finding inside an imported module is reported at (the
    # ``model(x)`` that feeds the input, else the construction); None: the construction itself
    site: Any = None
    # where the construction was found outside this file ('train.py:57'), or 'option' for --construct
    built_at: Optional[str] = None
    # where the construction's input comes from when its file's data pipeline gives it
    # ('train.py:88 (CIFAR10, RandomCrop(32, padding=4))', lint/datapipe.py)
    input_from: Optional[str] = None
    # constructor arguments given as values (not source): the symbolic construction of a class
    # nobody builds (each int-like parameter a symbolic dim, the others unknown; a key of its
    # configuration dict for a parameter used as one), or a factory's symbolic arguments (then
    # ``ctor`` is the call, these the values its names stand for)
    ctor_kwargs: Optional[Dict[str, Any]] = None
    # a symbolic construction of a class with a class or function as a parameter's default (which
    # the project's builders replace): construction errors there are not certain (engine)
    default_callables: bool = False
    # one of the symbolic constructions of a class at each stride a block is built with (1, 2): its
    # violations count only where every run of the group has the same one (engine._agreed)
    agree: Optional[Tuple[Any, ...]] = None
    skipped: List[Any] = field(default_factory=list)  # the interpreter's (what, node, source) not followed
    call_node: Any = None  # where the file calls a container model (`model(x)`): its findings' line
    # the construction reaches a deliberate assert/raise (core/frames.py ConstructionRaises): why
    # there is no model (the class is listed as not analysed with this reason; nothing reported)
    not_built: Optional[str] = None
    from_options: bool = False  # built from argparse defaults found in another file (lint/constructions.py)
    # built with holes (an argument the project computes from its data, unknown or a symbolic size):
    # a failure of the analysis on such values abandons the run, as for symbolic constructions
    holes: bool = False
    # ids of the layers that first meet each model input (engine._probe): a declared input that a
    # construction nobody wrote takes at a different channel count there is not its input
    first_layers: frozenset = frozenset()
    # a construction the file feeds itself, run at a declared input instead: the file's own input
    own_inputs: Optional[List[Any]] = None
    # a construction nobody wrote: a factory of the file called with its defaults (``vgg11()``), the
    # class's own defaults (``Net()``); its default channel count is a guess (engine._invented_misfits)
    invented: bool = False
    # the declared input misfit an invented construction's first layer (engine._invented_misfits)
    misfit: bool = False
    # input sizes fixed to one value (symbol -> int): the runs engine._settle_narrowing makes to
    # check a model at the few sizes where one of its checks passes
    fixed: Dict[str, int] = field(default_factory=dict)
    # the branch taken at undecidable tests met while building the model (one side of a split run,
    # engine._split_branches), the tests it met undecided, and the sizes its decided tests make equal
    decisions: Dict[Tuple[int, int], bool] = field(default_factory=dict)
    branch_points: List[Tuple[int, int]] = field(default_factory=list)
    equalities: List[Tuple[Any, Any]] = field(default_factory=list)
    # least input sizes past the few where a settled narrowing's check passes (--confirm's witness
    # must not pick those: there the model fails elsewhere)
    lows: Dict[str, int] = field(default_factory=dict)

    @property
    def concrete(self) -> bool:
        return self.inputs is not None and all(isinstance(d, int) for s in self.inputs for d in s)

    def input_text(self) -> str:
        # a named input (CLASS.param=, model(x, cond=...)) is shown with its name
        names = [getattr(s, "name", None) for s in self.inputs or ()]
        positional = [n for n in names if n is None]
        names = positional + [n for n in names if n is not None]
        parts = []
        for i, t in enumerate(self.input_tensors):
            if t.shape is None:
                continue
            text = "x".join(D.text(d) for d in t.shape)
            name = names[i] if i < len(names) else None
            parts.append(f"{name}={text}" if name else text)
        return " and ".join(parts)


__all__ = ["Finding", "Run"]

def short_construction(text: str) -> str:
    """A construction as messages name it: a yacs tree passed whole (lint/yacsflow.py), often
    hundreds of entries, is ``CfgNode(...)`` (where names the command line and YAML it comes from)."""
    if "yacs.config.CfgNode(" not in text:
        return text
    import ast

    class Short(ast.NodeTransformer):
        def visit_Call(self, node: ast.Call) -> ast.AST:
            if ast.unparse(node.func) == "yacs.config.CfgNode":
                return ast.Name(id="CfgNode(...)", ctx=ast.Load())
            return self.generic_visit(node)

    try:
        return ast.unparse(Short().visit(ast.parse(text, mode="eval")))
    except (SyntaxError, ValueError, RecursionError):
        return text
