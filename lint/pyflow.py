"""Static data flow in one file of a project, for lint/datapipe.py (and constructions' values).

Which assignment of a name reaches a use (through branches argparse defaults decide: ``if
args.dataset == 'cifar10':``, the script's ``if __name__ == '__main__':``), what a function's
parameters were given at the call that led there (``train(train_loader, model)``), the functions
a call reaches in the file or in a sibling module (``from utils import get_loader``), and what a
name imported from torch / torchvision stands for. Anything not decided raises _Unknown. Only the
standard library's ``ast`` is used (no libcst, no torch); every file read is told to READ_HOOK.
"""
from __future__ import annotations

import ast
import copy
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .argspaces import STAR_EXPORTS, imports_of  # noqa: F401  (the data pipeline's names, read here)
from .staticeval import _COMPARE, HOOKS, _FileEval, _is_param, _parsed, _read, _Unknown

_MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "__setitem__"}


class Ctx:
    """Where a name is evaluated: the file, and what the parameters of the functions followed
    were given at the call that led there (id(function) -> param -> (argument, caller's Ctx))."""

    def __init__(self, file: "_File", env=None):
        self.file = file
        self.fe = file.fe
        self.imports = file.imports
        self.where = file.where  # the file, relative to the model file's folder
        self.env: Dict[int, Dict[str, Tuple[ast.expr, "Ctx"]]] = env or {}

    def inner(self, fn: ast.AST, params: Dict[str, Tuple[ast.expr, "Ctx"]], file: "Optional[_File]" = None) -> "Ctx":
        env = dict(self.env)
        env[id(fn)] = params
        return Ctx(file or self.file, env)


class _File:
    """One file of the project as datapipe reads it."""

    def __init__(self, fe: _FileEval, path: str, root: str, base: str):
        self.fe = fe
        self.imports = imports_of(fe.tree)
        self.path, self.root, self.base = path, root, base
        self.where = os.path.relpath(path, base) if path else ""

    def module(self, dotted: str) -> "Optional[_File]":
        """A module of the project imported by this file (``utils``, ``conf.loaders``), if any."""
        parts = dotted.split(".")
        # beside the file, then each folder up to the project root (a repository whose top folder
        # has an __init__.py runs its scripts from there: `from segmentation.tools.my_dataset import ...`)
        dirs = [os.path.dirname(self.path)]
        root = os.path.abspath(self.root)
        while os.path.abspath(dirs[-1]).startswith(root + os.sep) and len(dirs) < 8:
            dirs.append(os.path.dirname(dirs[-1]))
        for d in dict.fromkeys(dirs + [self.root]):
            for cand in (os.path.join(d, *parts) + ".py", os.path.join(d, *parts, "__init__.py")):
                cand = os.path.abspath(cand)
                if cand.startswith(os.path.abspath(self.root) + os.sep) and os.path.isfile(cand):
                    return _load(cand, self.root, self.base)
        return None


_FILES: Dict[Tuple[str, str], Optional[_File]] = {}


def _load(path: str, root: str, base: str) -> Optional[_File]:
    got = _parsed(path)
    if got is None:
        return None
    tree = got[1]
    key = (path, base)
    f = _FILES.get(key)
    if f is None or f.fe.tree is not tree:
        if len(_FILES) > 200:
            _FILES.clear()
        f = _FILES[key] = _File(_FileEval(tree, set(), ""), path, root, base)
    return f


def _qual(node: ast.expr, ctx: Ctx, depth: int = 0) -> str:
    """The dotted name of a torchvision / torch thing (``datasets.CIFAR10`` -> torchvision.datasets.CIFAR10)."""
    if depth > 6:
        raise _Unknown
    if isinstance(node, ast.Attribute):
        return _qual(node.value, ctx, depth + 1) + "." + node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "__dict__":
        key = _text(node.slice, ctx)  # datasets.__dict__[args.dataset.upper()]
        return _qual(node.value.value, ctx, depth + 1) + "." + key
    if isinstance(node, ast.Name):
        fe = ctx.fe
        scope = fe._scope(node)
        vals = fe._binding(node.id, scope)
        if vals is None and node.id in ctx.imports:
            full = ctx.imports[node.id]
            if full is None:
                raise _Unknown
            return full
        if vals is not None and len(vals) == 1 and isinstance(vals[0], (ast.Name, ast.Attribute)):
            return _qual(vals[0], ctx, depth + 1)  # dataloader = datasets.CIFAR10
    raise _Unknown


def _text(node: ast.expr, ctx: Ctx) -> str:
    """A static string, also through ``.upper()`` / ``.lower()``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("upper", "lower") \
            and not node.args and not node.keywords:
        v = _text(node.func.value, ctx)
        return v.upper() if node.func.attr == "upper" else v.lower()
    v = _static(node, ctx)
    if not isinstance(v, str) or not v.isidentifier():
        raise _Unknown
    return v


def _short(q: str, *prefixes: str) -> Optional[str]:
    for p in prefixes:
        if q.startswith(p + "."):
            rest = q[len(p) + 1:]
            return rest.split(".")[-1]
    return None


def _binds(node: ast.AST, name: str) -> bool:
    """Whether a statement binds ``name`` anywhere (not counting nested function bodies)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if n.name == name:
                return True
            if n is not node:
                continue
        if isinstance(n, (ast.Import, ast.ImportFrom)) and \
                any((a.asname or a.name.split(".")[0]) == name for a in n.names):
            return True
        if isinstance(n, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return False


def _direct_binds(n: ast.AST, name: str) -> bool:
    """Whether a statement itself binds ``name`` (not a statement nested in it)."""
    if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Import, ast.ImportFrom, ast.Delete)):
        return _binds(n, name)
    if isinstance(n, (ast.For, ast.AsyncFor)):
        return _binds(n.target, name)
    if isinstance(n, (ast.With, ast.AsyncWith)):
        return any(i.optional_vars is not None and _binds(i.optional_vars, name) for i in n.items)
    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return n.name == name
    return False


def _target_path(target: ast.expr, name: str) -> Optional[List[Tuple[int, Optional[int]]]]:
    """Where ``name`` sits in an assignment target: [(index, arity)] (``i, (x, y)`` -> x: [(1, 2), (0, 2)])."""
    if isinstance(target, ast.Name):
        return [] if target.id == name else None
    if isinstance(target, (ast.Tuple, ast.List)):
        for i, e in enumerate(target.elts):
            p = _target_path(e, name)
            if p is not None:
                if any(isinstance(x, ast.Starred) for x in target.elts):
                    raise _Unknown
                return [(i, len(target.elts))] + p
    return None


def _scan_back(ctx: Ctx, name: str, stmts: List[ast.stmt]):
    """The binding of ``name`` that reaches the end of ``stmts``, or None if they do not bind it."""
    for s in reversed(stmts):
        if not _binds(s, name):
            continue
        if isinstance(s, ast.Assign):
            for t in s.targets:
                p = _target_path(t, name)
                if p is not None:
                    return ("assign", s.value, p)
            raise _Unknown
        if isinstance(s, ast.AnnAssign) and s.value is not None and isinstance(s.target, ast.Name):
            return ("assign", s.value, [])
        if isinstance(s, ast.If):
            try:
                taken = s.body if _is_main(s.test) or _test_value(s.test, ctx) else s.orelse
            except _Unknown:
                if _keeps_shape(s.body, name) and _keeps_shape(s.orelse, name):
                    continue  # `if use_cuda: x = x.cuda()`: either way, the same tensor shape
                raise
            got = _scan_back(ctx, name, taken)
            if got is not None:
                return got
            continue
        if isinstance(s, ast.With):
            got = _scan_back(ctx, name, s.body)
            if got is not None:
                return got
        raise _Unknown  # a loop, a try, an augmented assignment...
    return None


def _test_value(test: ast.expr, ctx: Ctx) -> Any:
    """A branch's test: a static value, an option read through a parameter (``args.dataset ==
    'cifar10'`` in ``get_dataset(args)``), or whether a value is None."""
    try:
        return _decide(test, ctx)
    except (_Unknown, RecursionError):
        return _none_test(test, ctx)


_KEEPS_SHAPE = {"cuda", "cpu", "to", "float", "double", "half", "detach", "contiguous", "clone", "requires_grad_"}


def _keeps_shape(stmts: List[ast.stmt], name: str) -> bool:
    """Every binding of ``name`` in ``stmts`` is ``name = name.cuda()`` / ``.to(device)`` /
    ``Variable(name)`` (also inside ``a, b = a.cuda(), b.cuda()``): the shape ``name`` had."""
    for s in stmts:
        if not _binds(s, name):
            continue
        if not (isinstance(s, ast.Assign) and len(s.targets) == 1):
            return False
        t, v = s.targets[0], s.value
        if isinstance(t, ast.Tuple) and isinstance(v, ast.Tuple) and len(t.elts) == len(v.elts):
            pairs = list(zip(t.elts, v.elts))
        else:
            pairs = [(t, v)]
        for te, ve in pairs:
            if isinstance(te, ast.Name) and te.id == name and not _same_tensor(ve, name):
                return False
            if not isinstance(te, ast.Name) and _binds(te, name):
                return False
    return True


def _same_tensor(v: ast.expr, name: str) -> bool:
    while True:
        if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in _KEEPS_SHAPE:
            v = v.func.value
        elif isinstance(v, ast.Call) and len(v.args) >= 1 and \
                (getattr(v.func, "id", None) == "Variable" or getattr(v.func, "attr", None) == "Variable"):
            v = v.args[0]
        else:
            return isinstance(v, ast.Name) and v.id == name


def _is_main(test: ast.expr) -> bool:
    """``__name__ == "__main__"``: the script's own run, the one that trains the model."""
    return isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__" and \
        len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq) and isinstance(test.comparators[0], ast.Constant) \
        and test.comparators[0].value == "__main__"


def _stmt(fe: _FileEval, node: ast.AST) -> ast.AST:
    while not isinstance(node, ast.stmt):
        if id(node) not in fe.parents:
            raise _Unknown  # a node made up by the analysis
        node = fe.parents[id(node)]
    return node


def _reach(ctx: Ctx, name: str, use: ast.AST):
    """The binding of ``name`` that reaches ``use``: ('assign', value, path), ('for', loop, path),
    ('param', function) or ('global', value, path); _Unknown when not decidable."""
    fe = ctx.fe
    cur = _stmt(fe, use)
    while True:
        parent = fe.parents.get(id(cur))
        if parent is None:
            raise _Unknown
        block = next((b for b in (getattr(parent, f, None) for f in ("body", "orelse", "finalbody"))
                      if isinstance(b, list) and cur in b), None)
        if block is not None:
            i = block.index(cur)
            got = _scan_back(ctx, name, block[:i])
            if got is not None:
                return got
            if isinstance(parent, (ast.For, ast.While)) and block is parent.body and \
                    any(_binds(s, name) for s in block[i + 1:]) and \
                    not (isinstance(parent, ast.For) and _target_path(parent.target, name) is not None):
                raise _Unknown  # rebound later in the loop: reaches the next iteration (unless
                # the loop's own target binds it afresh: `for input, t in loader: input = input.cuda()`)
        if isinstance(parent, ast.Try) and block is not parent.body and \
                any(_binds(x, name) for x in list(parent.body) + list(parent.handlers) if x is not cur):
            raise _Unknown  # in a handler, else or finally: how far the try body ran is not known
        if isinstance(parent, ast.For) and block is parent.body:
            p = _target_path(parent.target, name)
            if p is not None:
                return ("for", parent, p)
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if _is_param(parent, name):
                return ("param", parent)
            if any(_binds(s, name) for s in parent.body):
                raise _Unknown
            got = _scan_back(ctx, name, fe.tree.body)  # a module global: its last binding ...
            if got is None or _live_bindings(ctx, name) != 1:
                raise _Unknown  # ... when the only one the script runs (else: which, at the call?)
            return got
        if isinstance(parent, (ast.Module, ast.ClassDef, ast.Lambda)):
            raise _Unknown
        cur = parent


def _live_bindings(ctx: Ctx, name: str) -> int:
    """How many module-level statements binding ``name`` run (argparse defaults deciding branches)."""
    fe = ctx.fe
    return sum(1 for n in ast.walk(fe.tree) if isinstance(n, ast.stmt) and fe._scope(n) is fe.tree and
               _direct_binds(n, name) and _runs(_conditions(fe, n, fe.tree), ctx))


def reaching_value(fe: _FileEval, node: ast.Name) -> ast.expr:
    """For constructions' _FileEval: the value assigned to ``node``'s name that reaches it."""
    try:
        b = _reach(Ctx(_File(fe, "", "", "")), node.id, node)
    except RecursionError:
        raise _Unknown
    if b[0] != "assign" or b[2]:
        raise _Unknown
    return b[1]


def _mutated(ctx: Ctx, name: str, use: ast.AST) -> bool:
    """``name.append(...)``, ``name.transforms.append(...)``, ``name.dataset.transform = ...``
    anywhere in the file (any name of that spelling: precision first)."""
    for n in ast.walk(ctx.fe.tree):
        if not isinstance(n, (ast.Attribute, ast.Subscript)):
            continue
        base = n.value
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not (isinstance(base, ast.Name) and base.id == name):
            continue
        if isinstance(n.ctx, (ast.Store, ast.Del)):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.attr in _DISPLAY_ONLY:
                continue  # `data_loader.desc = "[epoch 1] loss ..."`: a tqdm bar's text
            return True
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and \
                (n.attr in _MUTATORS or n.attr in ("transforms", "transform")):
            return True
    return False


# attributes a progress bar wrapping a loader shows, nothing the batches depend on
_DISPLAY_ONLY = frozenset({"desc", "postfix"})


def _static(node: ast.expr, ctx: Ctx, depth: int = 0) -> Any:
    """A static value (literals, argparse defaults: constructions' _FileEval), also through the
    parameters of the functions followed (``batch_size`` given ``args.b`` by the caller)."""
    try:
        return ctx.fe.value(node, ctx.fe._scope(node))
    except _Unknown:
        if depth > 8:
            raise
        if not isinstance(node, ast.Name):
            return _static_over_self(node, ctx, depth)
    b = _reach(ctx, node.id, node)
    got = ctx.env.get(id(b[1]), {}).get(node.id) if b[0] == "param" else None
    if got is None:
        raise _Unknown
    return _static(got[0], got[1], depth + 1)


_PURE_BUILTINS = frozenset({"int", "float", "round", "min", "max", "abs", "len"})


def _static_over_self(node: ast.expr, ctx: Ctx, depth: int) -> Any:
    """An expression over a class's own attributes (``int(self.resize * 1.25)`` in a dataset's
    ``__getitem__``): each ``self.x`` replaced by the static value its one store gives (the
    constructor's arguments as ``ctx`` holds them), then evaluated."""
    attrs = [n for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and
             n.value.id == "self" and isinstance(n.ctx, ast.Load)]
    if not attrs or len(attrs) > 8:
        raise _Unknown
    values: Dict[int, Any] = {}
    for a in attrs:
        vals = _self_attr_values(ctx, a)
        got = {repr(_static(v, ctx, depth + 1)) for v in vals} if vals else set()
        if len(got) != 1:
            raise _Unknown
        values[id(a)] = _static(vals[0], ctx, depth + 1)
        if not isinstance(values[id(a)], (int, float, str, bool, tuple)) or values[id(a)] is None:
            raise _Unknown

    if any(isinstance(n, ast.Name) and (n.id not in _PURE_BUILTINS or n.id in ctx.fe.defined) and
           not (isinstance(p, ast.Attribute) and id(p) in values)
           for p in ast.walk(node) for n in ast.iter_child_nodes(p)):
        raise _Unknown  # only literals, the attributes and int()/round()/min()... : nothing local to look up
    twin = copy.deepcopy(node)  # the expression with the attributes replaced; the source tree is untouched
    pairs = dict(zip((id(n) for n in ast.walk(node)), ast.walk(twin)))
    replace = {id(pairs[k]): v for k, v in values.items()}

    class _Subst(ast.NodeTransformer):
        def visit_Attribute(self, n: ast.Attribute) -> Any:
            if id(n) in replace:
                return ast.copy_location(ast.Constant(replace[id(n)]), n)
            return self.generic_visit(n)

    return ctx.fe.value(_Subst().visit(twin), ctx.fe._scope(node))


def _decide(node: ast.expr, ctx: Ctx, depth: int = 0) -> Any:
    """A branch's test, also when it reads a parameter given the caller's argparse namespace
    (``if args.net == 'vgg16':`` in ``get_network(args)``)."""
    if depth > 8:
        raise _Unknown
    try:
        return _static(node, ctx)
    except _Unknown:
        pass
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        b = _reach(ctx, node.value.id, node)
        got = ctx.env.get(id(b[1]), {}).get(node.value.id) if b[0] == "param" else None
        if got is None or not isinstance(got[0], ast.Name):
            raise _Unknown
        a, c = got
        probe = ast.Attribute(value=a, attr=node.attr, ctx=ast.Load())
        return c.fe.value(probe, c.fe._scope(a))
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left, right = _decide(node.left, ctx, depth + 1), _decide(node.comparators[0], ctx, depth + 1)
        if isinstance(node.ops[0], (ast.In, ast.NotIn)) and not isinstance(right, (tuple, list, str)):
            raise _Unknown
        try:
            return _COMPARE[type(node.ops[0])](left, right)
        except TypeError:
            raise _Unknown
    if isinstance(node, ast.BoolOp):
        vals = [_decide(v, ctx, depth + 1) for v in node.values]
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _decide(node.operand, ctx, depth + 1)
    raise _Unknown


def _conditions(fe: _FileEval, node: ast.AST, scope: ast.AST) -> List[Tuple[ast.expr, bool]]:
    """The branches (test, taken?) a statement of ``scope`` lies in; _Unknown inside a loop or a try."""
    out: List[Tuple[ast.expr, bool]] = []
    node = _stmt(fe, node)
    while True:
        parent = fe.parents.get(id(node))
        if parent is None:
            raise _Unknown
        if parent is scope:
            return out
        if isinstance(parent, ast.If):
            out.append((parent.test, node in parent.body))
        elif not isinstance(parent, ast.With) and not (isinstance(parent, ast.Try) and node in parent.body):
            raise _Unknown
        node = parent


def _runs(conds, ctx: Ctx) -> bool:
    # outermost test first: `if args.resume: if os.path.isfile(args.resume): ...` is decided by
    # the option before the inner test, which only a run knows, is read
    return all((_is_main(t) or bool(_decide(t, ctx))) == want for t, want in reversed(conds))


def _function(func: ast.expr, ctx: Ctx, kind: type = ast.FunctionDef) -> Optional[Tuple[Any, _File]]:
    """The module-level function of the project a call calls: one of this file, or one a sibling
    module defines (``from utils import get_loader``; ``import utils; utils.get_loader``); with
    ``kind=ast.ClassDef``, the class it instantiates."""
    file, name = ctx.file, None
    if isinstance(func, ast.Name):
        if func.id in file.fe.defined:
            name = func.id
        else:
            full = file.imports.get(func.id)
            if full is None or "." not in full or full.split(".")[0] in ("torch", "torchvision"):
                return None
            mod, name = full.rsplit(".", 1)
            file = file.module(mod)  # type: ignore[assignment]
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        full = file.imports.get(func.value.id)
        if full is None or full.split(".")[0] in ("torch", "torchvision"):
            return None
        name = func.attr
        file = file.module(full)  # type: ignore[assignment]
    if file is None or name is None:
        return None
    defs = [s for s in file.fe.tree.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and
            s.name == name]
    return (defs[0], file) if len(defs) == 1 and isinstance(defs[0], kind) else None


def _bind(fn: ast.FunctionDef, call: ast.Call, caller: Ctx,
          callee: Ctx) -> Optional[Dict[str, Tuple[ast.expr, Ctx]]]:
    """fn's parameters -> (the argument, or the default, and where to evaluate it)."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    a = fn.args
    params = [p.arg for p in a.posonlyargs + a.args]
    if len(call.args) > len(params):
        return None
    out = {p: (v, caller) for p, v in zip(params, call.args)}
    names = set(params) | {p.arg for p in a.kwonlyargs}
    extra = ast.Dict(keys=[], values=[])  # what fn's **kwargs receives: the keywords it does not name
    for k in call.keywords:
        if k.arg in out or (k.arg not in names and a.kwarg is None):
            return None
        if k.arg in names:
            out[k.arg] = (k.value, caller)
        else:
            extra.keys.append(ast.Constant(k.arg))
            extra.values.append(k.value)
    if a.kwarg is not None:
        # read in the caller's scope (its parent is the call), and kept alive with the tree
        caller.fe.parents[id(extra)] = call
        caller.fe.__dict__.setdefault("_made", []).append(extra)
        out[a.kwarg.arg] = (extra, caller)
    for p, d in zip(params[len(params) - len(a.defaults):], a.defaults):
        out.setdefault(p, (d, callee))
    for q, kd in zip(a.kwonlyargs, a.kw_defaults):
        if kd is not None:
            out.setdefault(q.arg, (kd, callee))
    return out


def _returned(fn: ast.FunctionDef) -> ast.expr:
    """The value of a function whose only return is its last statement."""
    own = list(_own_nodes(fn.body))  # a nested function's (or lambda's) body is not run here
    returns = [n for n in own if isinstance(n, ast.Return)]
    last = returns[0] if len(returns) == 1 else None
    if last is None or not fn.body or last is not fn.body[-1] or last.value is None:
        raise _Unknown
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.AsyncFunctionDef, ast.ClassDef)) for n in own):
        raise _Unknown
    return last.value


def _own_nodes(stmts) -> Iterator[ast.AST]:
    """The nodes of a function body, not those of the functions and lambdas it defines (their
    defaults and decorators are run, and are included)."""
    todo = list(stmts)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, (ast.FunctionDef, ast.Lambda)):
            todo.extend(n.args.defaults + [d for d in n.args.kw_defaults if d is not None])
            todo.extend(getattr(n, "decorator_list", []))
        else:
            todo.extend(ast.iter_child_nodes(n))


def _read_text(path: str) -> Optional[str]:
    got = _read(path)
    return got[0] if got else None


def _arg(node: ast.Call, pos: Optional[int], kw: str) -> Optional[ast.expr]:
    for k in node.keywords:
        if k.arg == kw:
            return k.value
    if pos is not None and len(node.args) > pos:
        return node.args[pos]
    return None


HOOKS["reaching_value"] = reaching_value


# -- ``self`` attributes of a module-level class, and None tests ------------------------------


def _self_class(fe: _FileEval, node: ast.AST) -> Optional[ast.ClassDef]:
    """The module-level class whose method ``node`` (a ``self.X``) is in, when ``self`` is that
    method's first parameter, never rebound, and no base class of the project could store into
    ``self`` too (bases: ``object``, or ones from outside the project)."""
    fn = fe._scope(node)
    cls = fe.parents.get(id(fn))
    if not (isinstance(fn, ast.FunctionDef) and isinstance(cls, ast.ClassDef) and cls in fe.tree.body):
        return None
    a = fn.args
    if not (a.posonlyargs + a.args) or (a.posonlyargs + a.args)[0].arg != "self" or \
            any(d.id == "self" for d in ast.walk(fn) if isinstance(d, ast.Name) and isinstance(d.ctx, ast.Store)):
        return None
    imports = imports_of(fe.tree) if cls.bases else {}
    for b in cls.bases:
        if isinstance(b, ast.Name) and b.id == "object" and "object" not in fe.defined:
            continue
        root = b
        while isinstance(root, ast.Attribute):
            root = root.value
        # a base of this file or of another project module may store the same attribute: only
        # object and torch's / Lightning's classes are bases whose code is known not to
        full = imports.get(root.id) if isinstance(root, ast.Name) else None
        if not full or full.split(".")[0] not in ("torch", "pytorch_lightning", "lightning"):
            return None
    return cls


def _self_stores(cls: ast.ClassDef, attr: str, parents: Dict[int, ast.AST],
                 placeholders: bool = False) -> List[ast.AST]:
    """Every place the class's methods store ``self.ATTR`` or into it (``self.ATTR.x = ...``,
    ``self.ATTR += ...``, ``setattr(self, ...)``, ``self.__dict__``): the plain ``self.ATTR = value``
    targets (not ``= None`` unless ``placeholders``), with a None for anything else that may store it."""
    out: List[ast.AST] = []
    for n in ast.walk(cls):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "vars") or \
                isinstance(n, ast.Attribute) and n.attr == "__dict__":
            return [None]  # type: ignore[list-item]
        if not isinstance(n, ast.Attribute):
            continue
        inner = n
        while isinstance(inner.value, ast.Attribute) and not isinstance(inner.ctx, ast.Load):
            inner = inner.value  # self.ATTR.x = ...
        if isinstance(inner.value, ast.Name) and inner.value.id == "self" and inner.attr == attr and \
                not isinstance(n.ctx, ast.Load):
            if n is inner and not placeholders and _none_placeholder(n, parents):
                continue
            out.append(n if n is inner else None)  # type: ignore[arg-type]
    return out


def _none_placeholder(target: ast.Attribute, parents: Dict[int, ast.AST]) -> bool:
    """``self.train_loader = None``: a loader or a model is iterated or called, which None is not;
    where that works, the attribute holds its other value."""
    a = parents.get(id(target))
    return isinstance(a, ast.Assign) and len(a.targets) == 1 and a.targets[0] is target and \
        isinstance(a.value, ast.Constant) and a.value.value is None


def _self_attr_value(fe: _FileEval, node: ast.Attribute) -> Optional[ast.expr]:
    """``self.train_loader`` read in a method of a module-level class: the value of the one
    ``self.train_loader = value`` of the class (in a branch the source decides), when nothing else
    stores it or into it. The value is evaluated where it is stored (its method's parameters unknown)."""
    if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
        return None
    cls = _self_class(fe, node)
    if cls is None:
        return None
    stores = _self_stores(cls, node.attr, fe.parents)
    if len(stores) != 1 or stores[0] is None:
        return None
    assign = fe.parents.get(id(stores[0]))
    if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and assign.targets[0] is stores[0]):
        return None
    if _self_class(fe, assign) is not cls:
        return None
    return assign.value

def _self_attr_values(ctx: "Ctx", node: ast.Attribute) -> List[ast.expr]:
    """The values ``self.ATTR`` (read in a method of a module-level class) may hold: those of the
    class's ``self.ATTR = value`` stores (``= None`` ones too) in branches not decided against
    (``if transform is None:`` with the constructor's arguments in ``ctx``); [] when anything else
    may store it."""
    fe = ctx.fe
    if not (isinstance(node.value, ast.Name) and node.value.id == "self"):
        return []
    cls = _self_class(fe, node)
    if cls is None:
        return []
    out: List[ast.expr] = []
    for t in _self_stores(cls, node.attr, fe.parents, placeholders=True):
        assign = fe.parents.get(id(t)) if t is not None else None
        if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and assign.targets[0] is t):
            return []
        method = fe._scope(assign)
        if _self_class(fe, assign) is not cls or fe.parents.get(id(method)) is not cls:
            return []
        try:
            if not _runs(_conditions(fe, assign, method), ctx):
                continue
        except (_Unknown, RecursionError):
            pass  # undecided: a candidate
        out.append(assign.value)
    return out


_NOT_NONE_ROOTS = ("torchvision", "torch", "PIL", "cv2", "numpy", "albumentations")


def _dict_entry(node: ast.Subscript, ctx: Ctx) -> ast.expr:
    """The value a static key selects from a dict literal, written there or bound once to a name the
    file never changes (``data_transform = {"train": Compose([...]), "val": ...}``)."""
    base = node.value
    if isinstance(base, ast.Name):
        if _mutated(ctx, base.id, node):
            raise _Unknown
        b = _reach(ctx, base.id, node)
        if b[0] != "assign" or b[2]:
            raise _Unknown
        base = b[1]
    if not isinstance(base, ast.Dict) or not all(isinstance(k, ast.Constant) for k in base.keys):
        raise _Unknown  # a ** expansion, or keys not literal
    key = _static(node.slice, ctx)
    found = [v for k, v in zip(base.keys, base.values) if k.value == key]  # type: ignore[union-attr]
    if len(found) != 1 or len({k.value for k in base.keys}) != len(base.keys):  # type: ignore[union-attr]
        raise _Unknown
    return found[0]


def _is_none(node: ast.expr, ctx: "Ctx", depth: int = 0) -> bool:
    """Whether ``node``'s value is None (True) or certainly not (False): a literal, a container, a
    lambda, an instance of a known library's class (``transforms.Compose([...])``), through names,
    parameters and ``self`` attributes; _Unknown otherwise (a function of the project may return None)."""
    if depth > 12:
        raise _Unknown
    if isinstance(node, ast.Constant):
        return node.value is None
    if isinstance(node, (ast.Lambda, ast.List, ast.Tuple, ast.Dict, ast.ListComp, ast.JoinedStr)):
        return False
    if isinstance(node, ast.Call):
        q = _qual(node.func, ctx)
        last = q.split(".")[-1]
        if q.split(".")[0] in _NOT_NONE_ROOTS and last[:1].isupper():
            return False  # a class: its instance
        raise _Unknown
    if isinstance(node, ast.Name):
        b = _reach(ctx, node.id, node)
        if b[0] == "param":
            got = ctx.env.get(id(b[1]), {}).get(node.id)
            if got is None:
                raise _Unknown
            return _is_none(got[0], got[1], depth + 1)
        if b[0] == "assign" and not b[2]:
            return _is_none(b[1], ctx, depth + 1)
        raise _Unknown
    if isinstance(node, ast.Attribute):
        vals = {_is_none(v, ctx, depth + 1) for v in _self_attr_values(ctx, node)}
        if len(vals) == 1:
            return vals.pop()
    if isinstance(node, ast.Subscript):  # data_transform["train"]: the entry of a dict literal
        return _is_none(_dict_entry(node, ctx), ctx, depth + 1)
    raise _Unknown


def _none_test(test: ast.expr, ctx: "Ctx") -> bool:
    """``if self.transform is not None:`` / ``if transform:`` / ``if not self.transform:`` decided
    by whether the value is None (an object of a library class is true)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return not _none_test(test.operand, ctx)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.IsNot)) and \
            isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None:
        none = _is_none(test.left, ctx)
        return none if isinstance(test.ops[0], ast.Is) else not none
    if isinstance(test, (ast.Name, ast.Attribute)):
        return not _is_none(test, ctx)
    raise _Unknown
