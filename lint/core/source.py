"""One parsed source file: its imports, top-level names, classes and functions."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import libcst as cst


def dotted(node) -> Optional[str]:
    """'a.b.c' for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def is_main_guard(stmt) -> bool:
    """`if __name__ == "__main__":`"""
    if not isinstance(stmt, cst.If) or not isinstance(stmt.test, cst.Comparison):
        return False
    t = stmt.test
    names = [t.left] + [c.comparator for c in t.comparisons]
    return any(isinstance(n, cst.Name) and n.value == "__name__" for n in names)


# the value of a name bound by an unpacking this module does not follow: never a known constant
_NOT_KNOWN = cst.Name("__shapelint_not_known__")


@dataclass(eq=False)
class ClassInfo:  # noqa: D101
    name: str
    node: cst.ClassDef = field(repr=False)
    # the module defining the class, held weakly (``source``): a strong reference would make a
    # cycle (module -> classes -> module) that keeps the whole syntax tree alive until the cyclic
    # collector traverses it, instead of freeing it when the analysis is dropped
    source_ref: "weakref.ReferenceType[SourceModule]" = field(repr=False)
    methods: Dict[str, cst.FunctionDef] = field(default_factory=dict)
    setters: Dict[str, cst.FunctionDef] = field(default_factory=dict)  # @name.setter of a property
    class_assigns: Dict[str, cst.BaseExpression] = field(default_factory=dict)
    fields: List[tuple] = field(default_factory=list)  # annotated class attributes, in order (dataclasses)
    decorators: List[str] = field(default_factory=list)

    @property
    def source(self) -> "SourceModule":
        src = self.source_ref()
        if src is None:
            raise ReferenceError(f"class {self.name}: its module is gone")
        return src

    @property
    def base_nodes(self):
        return [a.value for a in self.node.bases if a.keyword is None]


class SourceModule:
    def __init__(self, code: str, path: str = "<string>"):
        self.path = path
        self.code = code
        self.tree = cst.parse_module(code)
        self.imports: Dict[str, str] = {}  # local name -> qualified name
        self.rel_imports: Dict[str, tuple] = {}  # local name -> (level, module, name or None)
        self.star_imports: List[tuple] = []  # (level, module) of `from module import *`
        self.functions: Dict[str, cst.FunctionDef] = {}
        self.classes: Dict[str, ClassInfo] = {}
        self.assigns: Dict[str, List[cst.BaseExpression]] = {}  # top-level simple assignments, in order
        self._index(self.tree.body, top=True)
        # a configuration object filled at the top level (`_C = CN()`, then `_C.MODEL = CN()`,
        # `_C.MODEL.DEPTH = 50`): name -> its attribute assignments, in order, when nothing else at
        # the top level touches the name before the last of them (core/interpreter.py lookup_global)
        self.filled: Dict[str, List[cst.Assign]] = _filled_objects(self.tree.body, self.assigns)

    def _index(self, body, top):
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for s in stmt.body:
                    self._index_small(s)
            elif isinstance(stmt, cst.FunctionDef):
                self.functions[stmt.name.value] = stmt
            elif isinstance(stmt, cst.ClassDef):
                self._index_class(stmt)
            elif isinstance(stmt, (cst.If, cst.Try)) and not is_main_guard(stmt):
                # `try: import x except ImportError:` and `if TYPE_CHECKING:` style blocks; every
                # branch, so that a name each branch binds its own way (`if opt.dataset == 'mnist':
                # nc = 1 else: nc = 3`) is seen bound twice, not as the constant of the first
                self._index(stmt.body.body, top)
                if isinstance(stmt, cst.Try):
                    for h in stmt.handlers:
                        self._index(h.body.body, top)
                orelse = stmt.orelse
                while orelse is not None:
                    if isinstance(orelse, cst.If):  # elif
                        self._index(orelse.body.body, top)
                        orelse = orelse.orelse
                    else:  # else (of an if or a try)
                        self._index(orelse.body.body, top)
                        orelse = None
                if isinstance(stmt, cst.Try) and stmt.finalbody is not None:
                    self._index(stmt.finalbody.body.body, top)

    def _index_small(self, s):
        if isinstance(s, cst.Import):
            for alias in s.names:
                full = dotted(alias.name)
                if alias.asname is not None:
                    self.imports[alias.asname.name.value] = full
                else:
                    top = full.split(".")[0]
                    self.imports[top] = top
        elif isinstance(s, cst.ImportFrom):
            if s.relative:
                if isinstance(s.names, cst.ImportStar):
                    self.star_imports.append((len(s.relative), dotted(s.module) if s.module is not None else ""))
                    return
                mod = dotted(s.module) if s.module is not None else ""
                for alias in s.names:
                    name = dotted(alias.name)
                    local = alias.asname.name.value if alias.asname is not None else name
                    self.rel_imports[local] = (len(s.relative), mod, name)
                return
            if s.module is None:
                return
            mod = dotted(s.module)
            if isinstance(s.names, cst.ImportStar):
                if mod in ("torch.nn", "torch.nn.modules", "torch.nn.functional"):
                    self.imports.setdefault("*", mod)
                else:
                    self.star_imports.append((0, mod))
                return
            for alias in s.names:
                name = dotted(alias.name)
                local = alias.asname.name.value if alias.asname is not None else name
                self.imports[local] = f"{mod}.{name}"
        elif isinstance(s, cst.Assign):
            for t in s.targets:
                if isinstance(t.target, cst.Name):
                    self.assigns.setdefault(t.target.value, []).append(s.value)
                elif isinstance(t.target, (cst.Tuple, cst.List)):
                    self._unpack(t.target, s.value)
        elif isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Name) and s.value is not None:
            self.assigns.setdefault(s.target.value, []).append(s.value)

    def _unpack(self, target, value) -> None:
        """``a, b = 64, 256``: each name its element; any other unpacking binds the names to
        something not known here (so they are never taken for constants assigned once)."""
        elts = [e.value for e in target.elements]
        vals = [e.value for e in value.elements] if isinstance(value, (cst.Tuple, cst.List)) and \
            not any(isinstance(e, cst.StarredElement) for e in value.elements) else None
        if vals is not None and (len(vals) != len(elts) or any(isinstance(e, cst.StarredElement)
                                                                 for e in target.elements)):
            vals = None
        for i, e in enumerate(elts):
            if isinstance(e, cst.Name):
                self.assigns.setdefault(e.value, []).append(vals[i] if vals is not None else _NOT_KNOWN)
            elif isinstance(e, (cst.Tuple, cst.List)):
                self._unpack(e, vals[i] if vals is not None else _NOT_KNOWN)

    def _index_class(self, node: cst.ClassDef):
        info = ClassInfo(node.name.value, node, weakref.ref(self))
        for d in node.decorators:
            name = dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            if name:
                info.decorators.append(name)
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
        for stmt in body:
            if isinstance(stmt, cst.FunctionDef):
                name = stmt.name.value
                if any(dotted(d.decorator) == f"{name}.setter" for d in stmt.decorators):
                    info.setters[name] = stmt  # the property's getter stays the method of that name
                else:
                    info.methods[name] = stmt
            elif isinstance(stmt, cst.SimpleStatementLine):
                for s in stmt.body:
                    if isinstance(s, cst.Assign):
                        for t in s.targets:
                            if isinstance(t.target, cst.Name):
                                info.class_assigns[t.target.value] = s.value
                    elif isinstance(s, cst.AnnAssign) and isinstance(s.target, cst.Name):
                        if not _is_classvar(s.annotation.annotation):  # a ClassVar is no dataclass field
                            info.fields.append((s.target.value, s.value))
                        if s.value is not None:
                            info.class_assigns[s.target.value] = s.value
        self.classes[info.name] = info

    def code_for(self, node) -> str:
        return self.tree.code_for_node(node)


def _is_classvar(ann) -> bool:
    base = ann.value if isinstance(ann, cst.Subscript) else ann
    name = dotted(base)
    return name in ("ClassVar", "typing.ClassVar")


def _filled_objects(body, assigns) -> Dict[str, List[cst.Assign]]:
    """Top-level ``name.attr... = value`` statements of each name assigned once at the top level,
    when every top-level statement that mentions the name up to the last of them is its own
    assignment or one of those (a method called on it, `cfg.merge_from_file(...)`, or a read
    between the fills would make the order matter: no fills are kept for it)."""
    candidates = {r for r in (_fill_root(s) for stmt in body if isinstance(stmt, cst.SimpleStatementLine)
                              for s in stmt.body) if r is not None and len(assigns.get(r, ())) == 1}
    if not candidates:
        return {}
    try:
        return _fills(body, assigns)
    except RecursionError:  # a statement nested beyond Python's stack (the input guards' files)
        return {}


def _fill_root(s) -> Optional[str]:
    """``name`` of a ``name.attr... = value`` statement."""
    if not (isinstance(s, cst.Assign) and len(s.targets) == 1 and isinstance(s.targets[0].target, cst.Attribute)):
        return None
    t: Any = s.targets[0].target
    while isinstance(t, cst.Attribute):
        t = t.value
    return t.value if isinstance(t, cst.Name) else None


def _fills(body, assigns) -> Dict[str, List[cst.Assign]]:
    fills: Dict[str, List[cst.Assign]] = {}
    spoiled: set = set()
    # `cfg = __C` (py-faster-rcnn): one object under two names; a mention of either is of both
    alias = {k: v[0].value for k, v in assigns.items() if len(v) == 1 and isinstance(v[0], cst.Name)}
    for stmt in body:
        if isinstance(stmt, (cst.If, cst.For, cst.While, cst.With, cst.Try)) and not is_main_guard(stmt):
            # a fill under a condition or a loop (`if args.large: cfg.WIDTH = 128`): which value
            # holds is not known here, nor is any later one
            mentioned = {n.value for n in _names_in(stmt)}
            spoiled |= mentioned | {alias[n] for n in mentioned if n in alias}
            continue
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for s in stmt.body:
            root = _fill_root(s)
            names = {n.value for n in _names_in(s)}
            # (a fill may read earlier ones: `__C.DATA_DIR = osp.join(__C.ROOT_DIR, 'data')`, replayed in order)
            if isinstance(s, cst.Assign) and root is not None and root in assigns and len(assigns[root]) == 1 and \
                    root not in spoiled:
                fills.setdefault(root, []).append(s)
                names.discard(root)
            for n in names | {alias[n] for n in names if n in alias}:
                if n in fills:
                    spoiled.add(n)  # read or changed another way after some fills: order matters
    # touched under either name, or filled under both (the order between them would matter):
    # neither is kept
    for a, b in alias.items():
        if a in spoiled or b in spoiled or (a in fills and b in fills):
            spoiled |= {a, b}
    return {k: v for k, v in fills.items() if k not in spoiled}


def _names_in(node) -> List[cst.Name]:
    out: List[cst.Name] = []

    class V(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            out.append(n)

    node.visit(V())
    return out
