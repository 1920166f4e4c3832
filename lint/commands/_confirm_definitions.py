"""Which statements of the user's file the --confirm child runs (see
:func:`definitions_only`): imports, definitions, docstrings, and module-level assignments that
call nothing or only value constructors. Plain stdlib; the child loads this file by path."""
from __future__ import annotations

import ast
from typing import Dict, Optional, Set, Tuple

# Calls a kept module-level constant may make: pure builtins and constructors of plain values.
SAFE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "bytes", "chr", "dict", "divmod", "enumerate", "filter", "float",
    "frozenset", "getattr", "hasattr", "int", "isinstance", "issubclass", "len", "list", "map", "max",
    "min", "object", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted",
    "str", "sum", "tuple", "type", "zip",
})
# Qualified callables that only build values (resolved through the file's own imports).
SAFE_QUALIFIED = frozenset({
    "functools.partial", "collections.namedtuple", "collections.OrderedDict", "collections.defaultdict",
    "collections.deque", "typing.TypeVar", "typing.NamedTuple", "typing.cast", "typing.NewType",
    "dataclasses.field", "torch.device", "torch.finfo", "torch.iinfo", "torch.Size",
    "os.path.join", "os.path.dirname", "os.path.basename", "os.path.abspath", "os.path.realpath",
    "os.path.expanduser", "os.getenv", "os.environ.get", "math.sqrt", "math.ceil", "math.floor",
    "math.log", "math.log2", "math.prod", "math.gcd", "math.pow", "math.exp", "math.isqrt",
})
# Module-level constructors of torch.nn layers (`ACT = nn.ReLU()`) only allocate a module.
SAFE_PREFIXES = ("torch.nn.",)


# ------------------------------------------------------------------------------------------------
# Which statements run
# ------------------------------------------------------------------------------------------------

def _imports(tree: ast.Module) -> Dict[str, str]:
    """Local name -> qualified name, from the module's top-level imports (also inside try)."""
    out: Dict[str, str] = {}

    def visit(body):
        for s in body:
            if isinstance(s, ast.Import):
                for a in s.names:
                    if a.asname:
                        out[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        out[top] = top
            elif isinstance(s, ast.ImportFrom) and s.module and not s.level:
                for a in s.names:
                    if a.name != "*":
                        out[a.asname or a.name] = f"{s.module}.{a.name}"
            elif isinstance(s, ast.Try):
                visit(s.body)
                for h in s.handlers:
                    visit(h.body)
    visit(tree.body)
    return out


def _dotted(node) -> Optional[str]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _safe_call(call: ast.Call, imports: Dict[str, str]) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in SAFE_BUILTINS and func.id not in imports
    if isinstance(func, ast.Attribute) and isinstance(func.value, (ast.Constant, ast.List, ast.Tuple,
                                                                   ast.Dict, ast.Set, ast.JoinedStr)):
        return True  # a method of a literal: "a b".split(), ", ".join([...])
    name = _dotted(func)
    if name is None:
        return False
    head, _, rest = name.partition(".")
    qual = imports.get(head)
    if qual is None:
        return False
    qual = f"{qual}.{rest}" if rest else qual
    if qual in SAFE_QUALIFIED:
        return True
    last = qual.rsplit(".", 1)[-1]
    return any(qual.startswith(p) for p in SAFE_PREFIXES) and last[:1].isupper()


def _safe_value(node, imports) -> bool:
    """An expression whose evaluation calls nothing but :data:`SAFE_BUILTINS`/:data:`SAFE_QUALIFIED`.
    Lambda bodies are not evaluated when the lambda is defined, so their calls do not count."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Lambda):
            stack.extend(d for d in n.args.defaults + n.args.kw_defaults if d is not None)
            continue
        if isinstance(n, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
        if isinstance(n, ast.Call) and not _safe_call(n, imports):
            return False
        stack.extend(ast.iter_child_nodes(n))
    return True


def _is_main_guard(node) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    sides = [node.test.left] + list(node.test.comparators)
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)


def _assigned_names(stmt) -> Set[str]:
    out = set()
    for n in ast.walk(stmt):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
    return out


def definitions_only(tree: ast.Module) -> Tuple[ast.Module, Set[str]]:
    """The statements ``--confirm`` executes, and the names that dropped statements would bind.

    Kept at module level: a docstring; ``import``/``from ... import``; ``def``/``async def``/
    ``class`` (with their decorators, default values and class bodies, which Python runs when it
    defines them); assignments (``=``, annotated) whose right side calls nothing, or only pure
    builtins (``range``, ``list``, ``dict``, ...), value constructors (``functools.partial``,
    ``collections.namedtuple``, ``torch.device``, ``os.path.join``, ``math.*``, ...) and
    ``torch.nn`` layer constructors; and ``try`` blocks made only of such statements (the optional
    import pattern). Dropped: ``if __name__ == "__main__":`` blocks and every other statement:
    expression statements (``train()``, ``torch.manual_seed(0)``), loops, ``with`` blocks, other
    ``if`` blocks, assignments that call anything else (``model = Net()``, ``data = load()``).
    """
    imports = _imports(tree)
    dropped: Set[str] = set()

    def keep(s) -> bool:
        if isinstance(s, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                          ast.Pass)):
            return True
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant):
            return True  # docstrings
        if isinstance(s, ast.Assign):
            return _safe_value(s.value, imports) and all(_safe_value(t, imports) for t in s.targets)
        if isinstance(s, ast.AnnAssign):
            return s.simple == 1 and (s.value is None or _safe_value(s.value, imports))
        if isinstance(s, ast.Try) and not getattr(s, "finalbody", None):
            bodies = [s.body, s.orelse] + [h.body for h in s.handlers]
            return all(keep(x) for b in bodies for x in b)
        return False

    body = []
    for s in tree.body:
        if keep(s):
            body.append(s)
        else:
            dropped |= _assigned_names(s)
    for s in body:
        dropped -= _assigned_names(s)
    return ast.Module(body=body, type_ignores=[]), dropped
