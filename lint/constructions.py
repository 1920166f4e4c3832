"""Constructions of a file's model classes found elsewhere in its project.

A class whose constructor needs arguments is usually built by the training script
(``model = WideResNet(args.layers, 10, args.widen_factor)`` in ``train.py``, with the argparse
defaults giving the numbers), by ``models.__dict__[args.arch](num_classes=10)``, or by a
factory. This module reads the other files of the same project (bounded: the directory tree of
the project root, files whose text names one of the classes or factories, a few hundred at most),
evaluates each such call's arguments statically (literals, arithmetic, names assigned once,
argparse defaults of the parsed namespace, ``int()``/``float()``) and returns the call rewritten
with values only (``WideResNet(28, 10, 10, dropRate=0.0)``), ready to be evaluated in the model
file's own namespace. A call with any argument it cannot decide (``**kwargs``, a config file
value) is left out: no guess, never a construction the project does not write.

Every file read is told to core/project.py's READ_HOOK, so cached results follow those files.
Only the standard library's ``ast`` is used here (cheap; no libcst, no torch).
"""
from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from .argspaces import Resolver, assigned_attrs

MAX_FILES = 400  # files listed under the project root
MAX_BYTES = 1_000_000  # larger files are not read
MAX_CONSTRUCTIONS = 8  # per class or factory
_EXTERNAL = {"torch", "torchvision", "timm", "transformers", "diffusers", "tensorflow", "keras", "numpy"}
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", "site-packages", "build", "dist",
              ".venv", "venv", "env", ".tox", ".mypy_cache", ".pytest_cache", ".eggs"}


@dataclass(frozen=True)
class Construction:
    name: str  # the class or factory of the model file
    text: str  # the call, values only: 'WideResNet(28, 10, 10, dropRate=0.0)'
    where: str  # 'train.py:57' (relative to the model file's folder)
    # the shapes that file feeds the built model (`model(torch.randn(2, 3, 32, 32))`), if any
    inputs: Optional[Tuple[Tuple[int, ...], ...]] = None
    # some argument is an argparse default: one configuration among those the script accepts
    from_options: bool = False
    # where those inputs come from when the file's data pipeline gives them (datapipe.py):
    # 'train.py:88 (CIFAR10, RandomCrop(32, padding=4))'; None for a literal input
    input_from: Optional[str] = None


# What the modules built on this one (pyflow.py: which assignment reaches a use; datapipe.py: the
# inputs a project's data pipeline feeds a model) lend back to it. They register here when imported
# (engine.py imports datapipe with this module), so the import graph stays acyclic.
HOOKS: Dict[str, Any] = {}


class _Unknown(Exception):
    pass


_SAFE_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b, ast.Mod: lambda a, b: a % b}


_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
            ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b}


class _Name(str):
    """A name of the model module (a block class, a function) passed as an argument."""


def _notify(path: str, found: bool, read: bool) -> None:
    from .core.project import READ_HOOK

    note = READ_HOOK.get()
    if note is not None:
        note(path, found, read)


# per process: path -> ((mtime_ns, size), text, [tree]) — checking a whole project reads each of
# its files once, not once per model file
_MEMO: Dict[str, Tuple[Tuple[int, int], str, list]] = {}


def _read(path: str) -> Optional[Tuple[str, list]]:
    try:
        st = os.stat(path)
        if st.st_size > MAX_BYTES:
            return None
        key = (st.st_mtime_ns, st.st_size)
        memo = _MEMO.get(path)
        if memo is not None and memo[0] == key:
            return memo[1], memo[2]
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeError):
        return None
    if len(_MEMO) > 4 * MAX_FILES:
        _MEMO.clear()
    trees: list = []
    _MEMO[path] = (key, text, trees)
    return text, trees


def _parsed(path: str) -> Optional[Tuple[str, ast.Module]]:
    """(text, tree) of a project file, parsed once per process (None: unreadable, unparsable)."""
    _notify(os.path.abspath(path), True, True)
    got = _read(path)
    if got is None:
        return None
    tree = _tree(*got)
    return (got[0], tree) if tree is not None else None


def _tree(text: str, trees: list) -> Optional[ast.Module]:
    """The syntax tree of a file ``_read`` gave, parsed once and kept in its memo (None: unparsable)."""
    if not trees:
        try:
            trees.append(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            trees.append(None)
    return trees[0]


def _candidate_files(root: str, model_path: str) -> List[str]:
    out: List[str] = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in _SKIP_DIRS and not x.startswith("."))
        for f in sorted(files):
            if f.endswith(".py"):
                p = os.path.join(d, f)
                if os.path.abspath(p) != model_path:
                    out.append(p)
                    if len(out) >= MAX_FILES:
                        return out
    return out


class _FileEval:
    """Static values of one file: argparse defaults, names assigned once."""

    def __init__(self, tree: ast.Module, model_names: Set[str], model_stem: str, model_dirs: Set[str] = frozenset(),
                 resolver: Optional[Resolver] = None, path: str = ""):
        self.tree = tree
        self.resolver, self.path = resolver, path
        self.foreign: Dict[str, Dict[str, Any]] = {}  # `opt = parse_opts()`: the namespace's defaults
        self.attr_assigned = assigned_attrs(tree)  # `opt.arch = ...`: not the default any more
        self.model_dirs = model_dirs
        self.model_names = model_names
        self.model_stem = model_stem
        self.defaults: Dict[str, Any] = {}
        self.choices: Dict[str, List[Any]] = {}
        self.namespaces: Set[str] = set()  # names bound to parser.parse_args()
        self.assigns: Dict[int, Dict[str, List[ast.expr]]] = {}  # id(scope) -> name -> values
        self.parents: Dict[int, ast.AST] = {}
        self.defined: Set[str] = set()
        self.imported_model_names: Set[str] = set()
        # argparse values fixed for the call being evaluated: the name ``models.__dict__[args.arch]``
        # selects is the value of ``args.arch`` in the branch conditions around it
        self.override: Dict[str, Any] = {}
        self.read_options = False  # an argparse default was read since the last reset
        self._flow = 0  # nesting of _reaching
        self._collect()

    def _collect(self):
        declared_global: Set[Tuple[int, str]] = set()  # (id(function), name): `global args` in it
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                declared_global |= {(id(self._scope(node)), n) for n in node.names}
        for node in self.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defined.add(node.name)
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                last = mod.split(".")[-1] if mod else ""
                if mod.split(".")[0] in _EXTERNAL:
                    continue
                ours = last == self.model_stem or (last in self.model_dirs) or (node.level and not mod)
                if not ours:
                    continue
                for alias in node.names:
                    if alias.name == "*":
                        self.imported_model_names |= self.model_names
                    elif alias.name in self.model_names and (alias.asname is None or alias.asname == alias.name):
                        self.imported_model_names.add(alias.name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "add_argument":
                self._argument(node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "set_defaults":
                for k in node.keywords:
                    if k.arg:
                        try:
                            self.defaults[k.arg] = self._literal(k.value)
                        except _Unknown:
                            self.defaults[k.arg] = _Unknown
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                v = node.value
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and \
                        v.func.attr in ("parse_args", "parse_known_args"):
                    if v.func.attr == "parse_args":
                        self.namespaces.add(name)
                elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and not v.args and not v.keywords \
                        and self.resolver is not None:
                    d = self.resolver.call_defaults(v.func.id, self.tree, self.path)
                    if d is not None:
                        self.foreign[name] = d
                scope = self._scope(node)
                if (id(scope), name) in declared_global:
                    scope = self.tree  # `global args; args = parser.parse_args()` in main()
                self.assigns.setdefault(id(scope), {}).setdefault(name, []).append(v)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
                scope = self._scope(node)
                self.assigns.setdefault(id(scope), {}).setdefault(node.target.id, []).append(None)
            elif isinstance(node, (ast.For, ast.comprehension)):
                for t in ast.walk(node.target):
                    if isinstance(t, ast.Name):
                        self.assigns.setdefault(id(self._scope(node)), {}).setdefault(t.id, []).append(None)

    def _scope(self, node) -> ast.AST:
        p = self.parents.get(id(node))
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            p = self.parents.get(id(p))
        return p if p is not None else self.tree

    def _argument(self, call: ast.Call):
        dest = None
        for a in call.args:
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                if a.value.startswith("--"):
                    dest = dest or a.value[2:].replace("-", "_")
                elif not a.value.startswith("-"):
                    dest = dest or a.value
        flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if dest is None and flags and flags[0].startswith("-") and not flags[0].startswith("--"):
            dest = flags[0].lstrip("-").replace("-", "_")  # '-net' -> net (argparse's rule)
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        if "dest" in kw and isinstance(kw["dest"], ast.Constant):
            dest = kw["dest"].value
        if not isinstance(dest, str):
            return
        if dest in self.defaults:
            self.defaults[dest] = _Unknown  # declared twice: which one applies is not known
            return
        action = kw.get("action")
        action = action.value if isinstance(action, ast.Constant) else None
        try:
            if "default" in kw:
                value = self._literal(kw["default"])
            elif action == "store_true":
                value = False
            elif action == "store_false":
                value = True
            elif action is None and "nargs" not in kw:
                value = None
            else:
                raise _Unknown
            typ = kw.get("type")
            if isinstance(value, str) and isinstance(typ, ast.Name) and typ.id in ("int", "float"):
                value = int(value) if typ.id == "int" else float(value)
            self.defaults[dest] = value
        except (_Unknown, ValueError):
            self.defaults[dest] = _Unknown
        if isinstance(kw.get("choices"), (ast.List, ast.Tuple)):
            try:
                self.choices[dest] = [self._literal(e) for e in kw["choices"].elts]  # type: ignore[union-attr]
            except _Unknown:
                pass

    def _literal(self, node):
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            raise _Unknown

    # -- values
    def value(self, node: ast.expr, scope: ast.AST, depth: int = 0) -> Any:
        if depth > 12:
            raise _Unknown
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (int, float, str, bool)) or node.value is None:
                return node.value
            raise _Unknown
        if isinstance(node, (ast.Tuple, ast.List)):
            vals = [self.value(e, scope, depth + 1) for e in node.elts]
            return tuple(vals) if isinstance(node, ast.Tuple) else vals
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            v = self.value(node.operand, scope, depth + 1)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v
            raise _Unknown
        if isinstance(node, ast.BinOp) and type(node.op) in _SAFE_BINOPS:
            a = self.value(node.left, scope, depth + 1)
            b = self.value(node.right, scope, depth + 1)
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)):
                try:
                    return _SAFE_BINOPS[type(node.op)](a, b)
                except ZeroDivisionError:
                    raise _Unknown
            raise _Unknown
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            a = self.value(node.left, scope, depth + 1)
            b = self.value(node.comparators[0], scope, depth + 1)
            if isinstance(node.ops[0], (ast.In, ast.NotIn)) and not isinstance(b, (tuple, list, str)):
                raise _Unknown
            try:
                return _COMPARE[type(node.ops[0])](a, b)
            except TypeError:
                raise _Unknown
        if isinstance(node, ast.BoolOp):
            v = self.value(node.values[0], scope, depth + 1)
            for nxt in node.values[1:]:
                if isinstance(node.op, ast.And) and not v or isinstance(node.op, ast.Or) and v:
                    return v
                v = self.value(nxt, scope, depth + 1)
            return v
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return not self.value(node.operand, scope, depth + 1)
        if isinstance(node, ast.IfExp):
            test = self.value(node.test, scope, depth + 1)
            return self.value(node.body if test else node.orelse, scope, depth + 1)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "float") \
                and len(node.args) == 1 and not node.keywords and node.func.id not in self.defined:
            v = self.value(node.args[0], scope, depth + 1)
            try:
                return int(v) if node.func.id == "int" else float(v)
            except (TypeError, ValueError):
                raise _Unknown
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STR_METHODS \
                and not node.keywords:
            return _str_method(node.func.attr, self.value(node.func.value, scope, depth + 1),
                               [self.value(a, scope, depth + 1) for a in node.args])
        ns = self.namespace_defaults(node.value.id, scope) \
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else None
        if ns is not None:
            self.read_options = True
            v = self.override.get(node.attr, ns.get(node.attr, _Unknown))  # type: ignore[union-attr]
            if v is _Unknown:
                raise _Unknown
            return v
        if isinstance(node, ast.Name):
            if node.id in self.imported_model_names and node.id not in self.defined and \
                    not self._bound(node.id, scope):
                return _Name(node.id)
            values = self._binding(node.id, scope, depth)
            if values is not None and len(values) > 1:  # the one that reaches node, if decidable
                got = self._reaching(node)
                return self.value(got, self._scope(got), depth + 1)
            if values is None or len(values) != 1 or values[0] is None:
                raise _Unknown
            return self.value(values[0], self._owner(node.id, scope), depth + 1)
        raise _Unknown

    def _reaching(self, node: ast.Name) -> ast.expr:
        """The value of the one assignment of ``node``'s name that reaches it, through branches
        argparse defaults decide (``if args.dataset == 'cifar10': num_classes = 10``)."""
        reaching_value = HOOKS.get("reaching_value")
        if reaching_value is None or self._flow > 4:
            raise _Unknown
        self._flow += 1
        try:
            return reaching_value(self, node)
        finally:
            self._flow -= 1

    def _bound(self, name, scope) -> bool:
        return name in self.assigns.get(id(scope), {}) or name in self.assigns.get(id(self.tree), {})

    def _binding(self, name, scope, depth: int = 0):
        local = self.assigns.get(id(scope), {})
        if name in local:
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_param(scope, name):
                return None
            return self._taken(local[name], scope, depth)
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_param(scope, name):
            return None
        return self._taken(self.assigns.get(id(self.tree), {}).get(name), self.tree, depth)

    def _taken(self, values, scope, depth: int):
        """Of several assignments of a name, those on branches that run (``if args.dataset ==
        'cifar10': num_classes = 10 else: num_classes = 100``): the others are dropped when their
        conditions are decided against them."""
        if not values or len(values) < 2 or any(v is None for v in values):
            return values
        return [v for v in values if self.reachable(v, scope, depth)]

    def reachable(self, node: ast.AST, scope: ast.AST, depth: int = 0) -> bool:
        """False when an ``if`` around ``node`` (inside ``scope``) is decided against it."""
        child, p = node, self.parents.get(id(node))
        while p is not None and p is not scope:
            if isinstance(p, ast.If) and child is not p.test:
                try:
                    test = bool(self.value(p.test, scope, depth + 1))
                except _Unknown:
                    test = None
                if test is not None and test != any(c is child for c in p.body):
                    return False
            child, p = p, self.parents.get(id(p))
        return True

    def _owner(self, name, scope):
        return scope if name in self.assigns.get(id(scope), {}) else self.tree

    def namespace_defaults(self, name: str, scope) -> Optional[Dict[str, Any]]:
        """The argparse defaults ``name`` holds in ``scope``: ``parser.parse_args()`` of this
        file, ``parse_opts()`` of another (lint/argspaces.py), or a function parameter every
        caller passes such a namespace; without the attributes this file assigns."""
        if name in self.namespaces and self._single(name, scope):
            d = self.defaults
        elif name in self.foreign and self._single(name, scope):
            d = self.foreign[name]
        elif self.resolver is not None and isinstance(scope, ast.FunctionDef) and _is_param(scope, name) and \
                name not in self.assigns.get(id(scope), {}):
            found = self.resolver.param_defaults(scope, name, self.path)
            if found is None:
                return None
            d = found
        else:
            return None
        if (name, "*") in self.attr_assigned:
            return None
        return {k: v for k, v in d.items() if (name, k) not in self.attr_assigned}

    def _single(self, name, scope) -> bool:
        vals = self._binding(name, scope)
        return vals is not None and len(vals) == 1

    def index_names(self, node: ast.expr, scope) -> List[str]:
        """The names ``models.__dict__[args.arch]`` may select: the argparse default and choices."""
        ns = self.namespace_defaults(node.value.id, scope) \
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else None
        if ns is not None:
            out = []
            d = ns.get(node.attr)
            if isinstance(d, str):
                out.append(d)
            out += [c for c in self.choices.get(node.attr, []) if isinstance(c, str) and c not in out]
            return out
        try:
            v = self.value(node, scope)
        except _Unknown:
            return []
        return [v] if isinstance(v, str) else []


_STR_METHODS = {"startswith", "endswith", "lower", "upper", "strip"}


def _str_method(name: str, obj, args) -> Any:
    """``args.arch.startswith('resnext')``, ``block_name.lower()`` on known strings."""
    if not isinstance(obj, str) or isinstance(obj, _Name):
        raise _Unknown
    if name in ("startswith", "endswith"):
        if len(args) != 1 or not (isinstance(args[0], str) or
                                  isinstance(args[0], tuple) and all(isinstance(a, str) for a in args[0])):
            raise _Unknown
        return getattr(obj, name)(args[0])
    if args:
        raise _Unknown
    return getattr(obj, name)()


def _is_param(fn, name) -> bool:
    a = fn.args
    return any(p.arg == name for p in a.posonlyargs + a.args + a.kwonlyargs) or \
        (a.vararg is not None and a.vararg.arg == name) or (a.kwarg is not None and a.kwarg.arg == name)


def _render(v) -> str:
    if isinstance(v, _Name):
        return str(v)
    if isinstance(v, tuple):
        inner = ", ".join(_render(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_render(x) for x in v) + "]"
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        raise _Unknown
    return repr(v)


def find_constructions(model_path: str, root: Optional[str], names: Iterable[str],
                       module_stems: Iterable[str] = ()) -> Dict[str, List[Construction]]:
    """Calls of ``names`` (classes and factories of the model file) in other files under ``root``,
    rewritten with their static values."""
    names = set(names)
    if not names or not model_path:
        return {}
    model_path = os.path.abspath(model_path)
    root = root or os.path.dirname(model_path)
    stem = os.path.splitext(os.path.basename(model_path))[0]
    if stem == "__init__":
        stem = os.path.basename(os.path.dirname(model_path))
    here = os.path.dirname(model_path)
    model_dirs = set()
    d = here
    while d.startswith(root) and d != root:
        model_dirs.add(os.path.basename(d))
        d = os.path.dirname(d)
    out: Dict[str, List[Construction]] = {}
    seen: Set[Tuple[str, str]] = set()
    files = _candidate_files(root, model_path)
    resolver = Resolver(root, files, _parsed, lambda t, p: _FileEval(t, set(), "", resolver=resolver, path=p))
    factory_files: Optional[List[str]] = None
    for path in files:
        _notify(os.path.abspath(path), True, True)
        got = _read(path)
        if got is None:
            continue
        text, trees = got
        if not any(n in text for n in names):
            continue
        parsed = _parsed(path)
        if parsed is None:
            continue
        tree = parsed[1]
        fe = _FileEval(tree, names, stem, model_dirs, resolver=resolver, path=path)
        # a package __init__ next to (or above) the model file re-exports its names
        init_ok = os.path.basename(path) == "__init__.py" and model_path.startswith(os.path.dirname(path) + os.sep)
        where_base = os.path.relpath(path, here)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for name in _called_names(node, fe):
                if name not in names:
                    continue
                if name in fe.defined:
                    continue  # the file's own class of that name
                if not (name in fe.imported_model_names or _module_attr(node.func, stem) or
                        _dict_call(node.func) or init_ok):
                    continue
                scope = fe._scope(node)
                fe.override = _selected(node.func, fe, name)
                fe.read_options = bool(fe.override)
                try:
                    if _dict_call(node.func) and not fe.reachable(node, scope):
                        # the name is the one argparse selects, under a branch the same values
                        # decide against (`if args.arch.startswith('resnext')` with arch 'resnet');
                        # a call naming its class is kept whatever flag guards it
                        continue
                    parts = [_render(fe.value(a, scope)) for a in node.args if not isinstance(a, ast.Starred)]
                    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
                        raise _Unknown
                    parts += [f"{k.arg}={_render(fe.value(k.value, scope))}" for k in node.keywords]
                except _Unknown:
                    continue
                finally:
                    fe.override = {}
                text_ = f"{name}({', '.join(parts)})"
                from_options = fe.read_options
                fed: List[Tuple[Any, Optional[str]]] = [(i, None) for i in _fed_inputs(fe, node, scope)]
                if "DataLoader" in text or "loader" in text or "LightningModule" in text:
                    fed += _data_inputs(fe, node, scope, os.path.abspath(path), root, here)
                if not fed and isinstance(scope, ast.FunctionDef):  # `net = get_network(args)` elsewhere
                    if factory_files is None:
                        factory_files = [os.path.abspath(p) for p in files]
                    fed += _data_inputs(fe, node, scope, os.path.abspath(path), root, here, factory_files)
                for inputs, origin in fed or [(None, None)]:
                    if (name, text_, inputs) in seen or len(out.get(name, ())) >= MAX_CONSTRUCTIONS:
                        continue
                    seen.add((name, text_, inputs))
                    out.setdefault(name, []).append(Construction(
                        name, text_, f"{where_base}:{node.lineno}", inputs, from_options, input_from=origin))
    _own_file(model_path, root, here, names, stem, model_dirs, out)
    return out


def _call_text(fe: _FileEval, node: ast.Call, name: str, scope) -> Optional[str]:
    """``name(...)`` with the call's arguments as static values, or None."""
    try:
        parts = [_render(fe.value(a, scope)) for a in node.args if not isinstance(a, ast.Starred)]
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise _Unknown
        parts += [f"{k.arg}={_render(fe.value(k.value, scope))}" for k in node.keywords]
    except _Unknown:
        return None
    return f"{name}({', '.join(parts)})"


def _own_file(model_path: str, root: str, here: str, names: Set[str], stem: str, model_dirs: Set[str],
              out: Dict[str, List[Construction]]) -> None:
    """A model trained in its own file (``model = Net().to(device)`` ... ``for data, target in
    train_loader: model(data)``): the constructions there the file's data pipeline feeds."""
    got = _read(model_path)
    if got is None or "DataLoader" not in got[0]:
        return
    tree = _tree(*got)
    if tree is None:
        return
    fe = _FileEval(tree, names, stem, model_dirs)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
            continue
        scope = fe._scope(node)
        text_ = _call_text(fe, node, node.func.id, scope)
        if text_ is None:
            continue
        for inputs, origin in _data_inputs(fe, node, scope, model_path, root, here):
            if len(out.get(node.func.id, ())) < MAX_CONSTRUCTIONS:
                where = f"{os.path.basename(model_path)}:{node.lineno}"
                out.setdefault(node.func.id, []).append(
                    Construction(node.func.id, text_, where, inputs, input_from=origin))


def _data_inputs(fe: _FileEval, node: ast.Call, scope, path: str, root: str, here: str,
                 factory_files: Optional[List[str]] = None):
    """The inputs the project's data pipeline feeds the model ``node`` builds (datapipe.py): in
    this file, or (``factory_files``) where the function building it is called."""
    data_inputs, factory_inputs = HOOKS.get("data_inputs"), HOOKS.get("factory_inputs")
    if data_inputs is None or factory_inputs is None:
        return []
    try:
        if factory_files is not None:
            return factory_inputs(fe, path, root, here, node, scope, factory_files)
        return data_inputs(fe, path, root, here, node, scope)
    except (_Unknown, RecursionError):
        return []


def _called_names(call: ast.Call, fe: _FileEval) -> List[str]:
    f = call.func
    if isinstance(f, ast.Name):
        return [f.id]
    if isinstance(f, ast.Attribute):
        return [f.attr]
    if _dict_call(f):
        return fe.index_names(f.slice, fe._scope(call))  # type: ignore[union-attr]
    return []


def _selected(f, fe: _FileEval, name: str) -> Dict[str, Any]:
    """``models.__dict__[args.arch]`` selecting ``name``: ``{'arch': name}`` for the conditions."""
    if _dict_call(f) and isinstance(f.slice, ast.Attribute) and isinstance(f.slice.value, ast.Name) and \
            f.slice.value.id in fe.namespaces:
        return {f.slice.attr: name}
    return {}


def _dict_call(f) -> bool:
    """``models.__dict__[name]`` / ``vars(models)[name]``."""
    if not isinstance(f, ast.Subscript):
        return False
    v = f.value
    if isinstance(v, ast.Attribute) and v.attr == "__dict__":
        base = v.value
        while isinstance(base, ast.Attribute):
            base = base.value
        return not (isinstance(base, ast.Name) and base.id in _EXTERNAL)
    return \
        (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "vars")


def _module_attr(f, stem: str) -> bool:
    """``wideresnet.WideResNet(...)`` / ``models.wideresnet.WideResNet(...)``."""
    return isinstance(f, ast.Attribute) and isinstance(f.value, (ast.Name, ast.Attribute)) and \
        (getattr(f.value, "id", None) == stem or getattr(f.value, "attr", None) == stem)


_TENSOR_FACTORIES = {"randn", "rand", "zeros", "ones", "empty"}
_CHAIN = {"to", "cuda", "cpu", "eval", "train", "float", "double", "half"}


def _fed_inputs(fe: _FileEval, call: ast.Call, scope) -> List[Tuple[Tuple[int, ...], ...]]:
    """``model = Net(...)`` ... ``model(torch.randn(2, 3, 32, 32))`` in the same scope: the input
    shapes (only concrete ones; ``model.to(device)`` chains are looked through)."""
    node: ast.AST = call
    parent = fe.parents.get(id(node))
    while isinstance(parent, ast.Attribute) and parent.attr in _CHAIN:
        outer = fe.parents.get(id(parent))
        if not isinstance(outer, ast.Call):
            return []
        node, parent = outer, fe.parents.get(id(outer))
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return []
    var = parent.targets[0].id
    if len(fe.assigns.get(id(scope), {}).get(var, ())) != 1:
        return []
    out = []
    for n in ast.walk(scope):
        if not isinstance(n, ast.Call) or n.keywords or not n.args:
            continue
        f = n.func
        if isinstance(f, ast.Attribute) and f.attr == "forward":
            f = f.value
        if not (isinstance(f, ast.Name) and f.id == var):
            continue
        try:
            shapes = tuple(_tensor_shape(fe, a, scope) for a in n.args)
        except _Unknown:
            continue
        if shapes not in out:
            out.append(shapes)
    return out


def _tensor_shape(fe: _FileEval, node, scope, depth: int = 0) -> Tuple[int, ...]:
    if depth > 4:
        raise _Unknown
    if isinstance(node, ast.Name):
        vals = fe._binding(node.id, scope)
        if vals is None or len(vals) != 1 or vals[0] is None:
            raise _Unknown
        return _tensor_shape(fe, vals[0], fe._owner(node.id, scope), depth + 1)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CHAIN and \
            not node.args:
        return _tensor_shape(fe, node.func.value, scope, depth + 1)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and
            node.func.attr in _TENSOR_FACTORIES and isinstance(node.func.value, ast.Name) and
            node.func.value.id == "torch") or any(k.arg in ("size", "out") for k in node.keywords):
        raise _Unknown
    dims = [fe.value(a, scope) for a in node.args]
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise _Unknown
    return tuple(dims)
