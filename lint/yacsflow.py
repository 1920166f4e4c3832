"""yacs configurations a training script builds (issue 9): the value a construction's ``cfg`` has.

Research projects (HRNet, hysts' classification zoo, maskrcnn-benchmark and its kin) keep their
model's sizes in a yacs tree: a module fills the defaults at its top level (``_C = CN()``,
``_C.MODEL.NUM_JOINTS = 17``), the training script merges the YAML file its command line names
(``cfg.merge_from_file(args.cfg)``, usually inside ``update_config(cfg, args)``) and the options
after it (``cfg.merge_from_list(args.opts)``), then builds the model with the tree
(``eval('models.' + cfg.MODEL.NAME + '.get_pose_net')(cfg, is_train=True)``).

:func:`config_value` gives that tree for a name at a construction, as staticeval's ``_FileEval``
evaluates it under one command line (staticeval.WORLD: the defaults, or a line the README
documents): the defaults replayed, then the script's statements before the construction that
change it, in order, into the project's functions it is passed to. A merge or a call it cannot
follow, or a branch it cannot decide that changes the tree, leaves the whole tree unknown; an
entry set to a value it cannot compute is unknown alone (a hole the engine reads as unknown).

Only the standard library's ``ast`` is used here (and PyYAML through argspaces.Resolver.yaml_file).
"""
from __future__ import annotations

import ast
import copy
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import staticeval
from .staticeval import _Config, _Unknown

MAX_HOPS = 4  # re-exports followed from an import to the module that fills the tree
MAX_FLOW = 8  # nesting of functions followed with the tree (load_config -> get_default_config -> clone)
# methods of a tree that do not change what the model reads
_READ_ONLY = {"defrost", "freeze", "dump", "is_frozen", "get", "items", "keys", "values", "is_new_allowed",
              "set_new_allowed", "register_deprecated_key", "register_renamed_key"}
_YACS = ("yacs.config",)


class YacsConfig(_Config):
    """A yacs tree: items are attributes too (rendered ``yacs.config.CfgNode({...})``)."""

    @classmethod
    def of(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return cls({k: cls.of(v) for k, v in data.items() if isinstance(k, str)})
        if isinstance(data, (list, tuple)):
            return type(data)(cls.of(v) for v in data)
        if data is None or isinstance(data, (int, float, str, bool)) or data is _Unknown:
            return data
        return _Unknown


def _chain(node: ast.expr) -> Optional[Tuple[str, List[str]]]:
    """``cfg.MODEL.EXTRA`` -> ('cfg', ['MODEL', 'EXTRA'])."""
    path: List[str] = []
    while isinstance(node, ast.Attribute):
        path.insert(0, node.attr)
        node = node.value
    return (node.id, path) if isinstance(node, ast.Name) else None


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _is_main_guard(st: ast.stmt) -> bool:
    t = st.test if isinstance(st, ast.If) else None
    return isinstance(t, ast.Compare) and isinstance(t.left, ast.Name) and t.left.id == "__name__"


def _yacs_class(fe, func: ast.expr, depth: int = 0) -> bool:
    """``CN`` / ``CfgNode`` imported from yacs.config, or a project class deriving from it
    (hysts' ``ConfigNode(yacs.config.CfgNode)``)."""
    if isinstance(func, ast.Attribute):
        full = _dotted(func)
        if full is not None:
            head, _, rest = full.partition(".")
            base = fe.imports.get(head) or head
            return f"{base}.{rest}".startswith("yacs.config.")
        return False
    if not isinstance(func, ast.Name):
        return False
    full = fe.imports.get(func.id)
    if full is not None and full.startswith(_YACS):
        return True
    if depth > 2 or fe.resolver is None:
        return False
    found = _definition(fe, func.id)
    if found is None:
        return False
    ofe, node = found
    return isinstance(node, ast.ClassDef) and any(_yacs_class(ofe, b, depth + 1) for b in node.bases)


def _dotted(node: ast.expr) -> Optional[str]:
    c = _chain(node)
    return ".".join([c[0]] + c[1]) if c is not None else None


def _module_path(fe, module: str, level: int) -> Optional[str]:
    """The file of ``module`` as imported in ``fe``'s file (relative imports from its folder;
    absolute ones beside the script, under the root, or, for a package folder added to sys.path
    (HRNet's ``tools/_init_paths.py`` adds ``lib``), the one folder of that name under the root)."""
    if fe.resolver is None or not fe.path:
        return None
    if level:
        base = os.path.dirname(os.path.abspath(fe.path))
        for _ in range(level - 1):
            base = os.path.dirname(base)
        stem = os.path.join(base, *module.split(".")) if module else base
        for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
            if os.path.isfile(cand):
                return cand
        return None
    got = fe.resolver._module_file(module, fe.path)
    if got is not None:
        return got
    first = module.split(".")[0]
    hits = []
    root = fe.resolver.root
    for sub in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        d = os.path.join(root, sub)
        if sub.startswith(".") or not os.path.isdir(d):
            continue
        if os.path.isdir(os.path.join(d, first)) or os.path.isfile(os.path.join(d, first + ".py")):
            hits.append(d)
    if len(hits) != 1:
        return None
    stem = os.path.join(hits[0], *module.split("."))
    for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
        if os.path.isfile(cand):
            return cand
    return None


def _other(fe, path: str):
    got = staticeval._parsed(path)
    if got is None or fe.resolver is None:
        return None
    return fe.resolver._eval(path, got[1])


def _definition(fe, name: str, hops: int = 0):
    """(the _FileEval of the defining file, its module-level node) for ``name`` as ``fe``'s file
    sees it: its own top-level def/class/assignment, or through ``from X import name [as n]``."""
    for st in fe.tree.body:
        if isinstance(st, (ast.FunctionDef, ast.ClassDef)) and st.name == name:
            return fe, st
    for st in fe.tree.body:
        if isinstance(st, ast.ImportFrom):
            for a in st.names:
                if (a.asname or a.name) == name and a.name != "*":
                    if hops >= MAX_HOPS:
                        return None
                    path = _module_path(fe, st.module or "", st.level)
                    ofe = _other(fe, path) if path else None
                    if ofe is None:
                        return None
                    return _definition(ofe, a.name, hops + 1)
    binds = [st for st in fe.tree.body if isinstance(st, ast.Assign) and len(st.targets) == 1 and
             isinstance(st.targets[0], ast.Name) and st.targets[0].id == name]
    if len(binds) == 1:
        return fe, binds[0]
    return None


def _set(cfg: Any, path: List[str], value: Any) -> bool:
    d = cfg
    for k in path[:-1]:
        d = d.get(k) if isinstance(d, dict) else None
        if not isinstance(d, dict):
            return False
    if not isinstance(d, dict):
        return False
    d[path[-1]] = value
    return True


def _merge(into: dict, data: dict) -> None:
    """yacs' merge: nested mappings merged key by key, anything else replaced."""
    for k, v in data.items():
        if not isinstance(k, str):
            continue
        if isinstance(v, dict) and isinstance(into.get(k), dict):
            _merge(into[k], v)
        else:
            into[k] = YacsConfig.of(_literal(v))  # yacs decodes a string that is a Python literal


def _literal(text: Any) -> Any:
    """merge_from_list's value: a string is read as a Python literal when it is one (yacs'
    ``literal_eval``), else kept."""
    if not isinstance(text, str):
        return text
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def module_tree(fe, name: str) -> Any:
    """The tree ``name = CN()`` filled at the top level of ``fe``'s file, or _Unknown."""
    memo = fe.__dict__.setdefault("_yacs_trees", {})
    if name in memo:
        return copy.deepcopy(memo[name])
    memo[name] = _Unknown
    cfg: Any = _Unknown
    for st in fe.tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)) or \
                _is_main_guard(st) or not _mentions(st, name):
            continue
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            target = _chain(st.targets[0])
            if target is not None and target[0] == name:
                made = isinstance(st.value, ast.Call) and _yacs_class(fe, st.value.func) and not st.value.args
                if not target[1]:
                    if not made or cfg is not _Unknown:
                        return _Unknown
                    cfg = YacsConfig()
                    continue
                if cfg is _Unknown:
                    return _Unknown
                if made:
                    v: Any = YacsConfig()
                else:
                    v = _value(fe, st.value, fe.tree, {name: cfg})
                if not _set(cfg, target[1], v):
                    return _Unknown
                continue
        return _Unknown  # any other statement naming the tree: not followed
    memo[name] = cfg
    return copy.deepcopy(cfg)


# id(function followed with a tree) -> (the caller's _FileEval, its scope, parameter -> argument)
_ACTIVE: Dict[int, Tuple[Any, ast.AST, Dict[str, ast.expr]]] = {}


class _Substitute(ast.NodeTransformer):
    def __init__(self, params: Dict[str, ast.expr]):
        self.params = params

    def visit_Name(self, node: ast.Name) -> Any:
        return copy.deepcopy(self.params[node.id]) if node.id in self.params else node


def _value(fe, node: ast.expr, scope: ast.AST, bound: Dict[str, Any]) -> Any:
    """``node``'s value, with the trees being built bound to their names; _Unknown if unknown. In a
    function followed with the tree (``update_config(cfg, args)``), an expression reading its other
    parameters (``args.cfg``) is the caller's, its arguments put in their place."""
    active = _ACTIVE.get(id(scope))
    if active is not None:
        cfe, cscope, params = active
        if any(isinstance(n, ast.Name) and n.id in params and n.id not in bound for n in ast.walk(node)):
            outer = {}
            for name, v in bound.items():
                arg = params.get(name)
                if not isinstance(arg, ast.Name):
                    return _Unknown
                outer[arg.id] = v
            moved = ast.fix_missing_locations(_Substitute(params).visit(copy.deepcopy(node)))
            return _value(cfe, moved, cscope, outer)
    saved = fe.__dict__.get("_yacs_bound")
    fe._yacs_bound = {**(saved or {}), **{(id(scope), k): v for k, v in bound.items()},
                      **{(id(fe.tree), k): v for k, v in bound.items()}}
    try:
        v = fe.value(node, scope)
        return YacsConfig.of(copy.deepcopy(v)) if isinstance(v, (dict, list, tuple)) else v
    except (_Unknown, RecursionError):
        return _Unknown
    finally:
        fe._yacs_bound = saved


def config_value(fe, node: ast.expr, scope: ast.AST, depth: int = 0) -> Any:
    """The yacs tree ``node`` (a name, or a call returning one) holds where it is read, or raises
    _Unknown."""
    if depth > MAX_FLOW:
        raise _Unknown
    bound = fe.__dict__.get("_yacs_bound") or {}
    if isinstance(node, ast.Name):
        for key in ((id(scope), node.id), (id(fe.tree), node.id)):
            if key in bound:
                v = bound[key]
                if v is _Unknown:
                    raise _Unknown
                return v
        name = node.id
        if scope is not fe.tree and name in fe.assigns.get(id(scope), {}):
            start: Any = _UNBOUND  # a local: its bindings are among the statements run
        else:
            if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    any(a.arg == name for a in scope.args.args + scope.args.kwonlyargs):
                raise _Unknown
            start = _module_origin(fe, name)
            if scope is not fe.tree and not fe.assigns.get(id(fe.tree), {}).get(name):  # (fills: module_tree's)
                for st in fe.tree.body:  # a change at module level, before the function runs
                    if not isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                                           ast.ImportFrom)) and not _is_main_guard(st) and \
                            not _binds(st, name) and _changes(st, name):
                        raise _Unknown
            else:
                return start  # read at module level: the filled tree (changes after it are not followed)
        body = getattr(scope, "body", None)
        cfg = _run(fe, body, scope, name, start, node, depth) if isinstance(body, list) else None
        if cfg is None or cfg is _UNBOUND:
            raise _Unknown
        return cfg
    if isinstance(node, ast.Call):
        return _returned(fe, node, scope, depth)
    raise _Unknown


class _Unbound:
    pass


_UNBOUND: Any = _Unbound()


def _binds(st: ast.stmt, name: str) -> bool:
    return isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets)


def _module_origin(fe, name: str) -> Any:
    """The tree a module-level ``name`` holds: filled in this file (``_C = CN()``) or imported
    (``from config import cfg``, re-exported ``from .default import _C as cfg``)."""
    values = fe.assigns.get(id(fe.tree), {}).get(name)
    if values:
        if len(values) != 1 or not (isinstance(values[0], ast.Call) and _yacs_class(fe, values[0].func)):
            raise _Unknown
        t = module_tree(fe, name)
    else:
        found = _definition(fe, name)
        if found is None or not isinstance(found[1], ast.Assign):
            raise _Unknown
        t = module_tree(found[0], found[1].targets[0].id)  # type: ignore[attr-defined]
    if t is _Unknown:
        raise _Unknown
    return t


def _returned(fe, call: ast.Call, scope: ast.AST, depth: int) -> Any:
    """``get_default_config()`` (``return _C.clone()``), ``load_config()`` (builds one and returns
    it), ``cfg.clone()``: the tree the call returns."""
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr == "clone" and not call.args:
        return copy.deepcopy(config_value(fe, f.value, scope, depth + 1))
    if not isinstance(f, ast.Name):
        raise _Unknown
    found = _definition(fe, f.id)
    if found is None or not isinstance(found[1], ast.FunctionDef):
        raise _Unknown
    ofe, fn = found
    rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    if len(rets) != 1 or rets[0].value is None or call.args or call.keywords or \
            fn.args.args or fn.args.kwonlyargs or fn.args.vararg or fn.args.kwarg:
        raise _Unknown  # only functions of no arguments that return one tree
    return config_value(ofe, rets[0].value, fn, depth + 1)


def _changes(st: ast.stmt, name: str) -> bool:
    """Whether ``st`` may change the tree ``name`` (anything naming it but a plain read)."""
    for n in ast.walk(st):
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)):
            return True
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, (ast.Store, ast.Del)):
            c = _root(n)
            if c == name:
                return True
        if isinstance(n, ast.Call) and (any(_root(a) == name for a in n.args) or
                                        any(_root(k.value) == name for k in n.keywords)):
            return True
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _root(n.func.value) == name and \
                n.func.attr not in _READ_ONLY:
            return True
    return False


def _root(node: ast.AST) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _contains(st: ast.AST, node: ast.AST) -> bool:
    return any(n is node for n in ast.walk(st))


def _run(fe, body: List[ast.stmt], scope: ast.AST, name: str, cfg: Any, use: Optional[ast.AST],
         depth: int) -> Any:
    """The statements of ``body`` up to the one holding ``use`` (all of them when None) applied to
    ``cfg``; None when one changes it in a way not followed."""
    for st in body:
        if use is not None and _contains(st, use):
            if isinstance(st, ast.If) and not _contains(st.test, use):
                branch = st.body if any(_contains(s, use) for s in st.body) else st.orelse
                return _run(fe, branch, scope, name, cfg, use, depth)
            if isinstance(st, (ast.With, ast.For, ast.While, ast.Try)) and hasattr(st, "body") and \
                    any(_contains(s, use) for s in st.body):
                return _run(fe, st.body, scope, name, cfg, use, depth)
            return cfg
        if not _changes(st, name) and not (isinstance(st, ast.Assign) and _mentions(st, name)):
            continue
        if cfg is _UNBOUND and not _binds(st, name):
            return None
        cfg = _step(fe, st, scope, name, cfg, depth)
        if cfg is None:
            return None
    return cfg


def _step(fe, st: ast.stmt, scope: ast.AST, name: str, cfg: Any, depth: int) -> Any:
    bound = {name: cfg}
    if isinstance(st, ast.If):
        test = _value(fe, st.test, scope, bound)
        if test is _Unknown:
            return _maybe(fe, st.body + st.orelse, scope, name, cfg, depth)
        return _run(fe, st.body if test else st.orelse, scope, name, cfg, None, depth)
    if isinstance(st, ast.Expr) and isinstance(st.value, ast.Call) and isinstance(st.value.func, ast.Attribute) and \
            _root(st.value.func.value) == name:
        return _call(fe, st.value, scope, name, cfg, depth)  # cfg.merge_from_file(...), cfg.freeze()
    if isinstance(st, ast.Assign) and len(st.targets) == 1:
        c = _chain(st.targets[0])
        if c is not None and c[0] == name and c[1]:
            return cfg if _set(cfg, c[1], _value(fe, st.value, scope, bound)) else None
        if c is not None and c[0] == name and not c[1]:
            if isinstance(st.value, ast.Call) and _mentions(st.value, name):
                # config = update_config(config): the function changes it and returns it
                return _call(fe, st.value, scope, name, cfg, depth, returns=True)
            try:  # config = get_default_config(): bound (again)
                return config_value(fe, st.value, scope, depth + 1)
            except _Unknown:
                return None
        if not _changes(st, name):
            return cfg
    return _passed_on(fe, st, scope, name, cfg, depth)


def _maybe(fe, stmts: List[ast.stmt], scope: ast.AST, name: str, cfg: Any, depth: int) -> Any:
    """Statements under a test that cannot be decided (``if get_rank() == 0:``): what they may
    set is unknown; what they hand to functions that do not change it is kept."""
    for s in stmts:
        if not _changes(s, name):
            continue
        if isinstance(s, ast.Assign) and len(s.targets) == 1:
            c = _chain(s.targets[0])
            if c is not None and c[0] == name and c[1]:
                if not _set(cfg, c[1], _Unknown):
                    return None
                continue
        if isinstance(s, ast.If):
            if _maybe(fe, s.body + s.orelse, scope, name, cfg, depth) is None:
                return None
            continue
        trial = _passed_on(fe, s, scope, name, copy.deepcopy(cfg), depth)
        if trial is None or trial != cfg:
            return None  # it changes the tree, or may: not followed under an undecided test
    return cfg


def _passed_on(fe, st: ast.stmt, scope: ast.AST, name: str, cfg: Any, depth: int) -> Any:
    """A statement that only hands the tree to functions (``logger, out = create_logger(cfg, ...)``,
    ``logger.info(cfg)``): the project's functions are followed with it; another module's (a
    logger, print) only read it. Anything else that may change it: None."""
    for n in ast.walk(st):
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)):
            return None
        if isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.ctx, (ast.Store, ast.Del)) and \
                _root(n) == name:
            return None
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and _root(n.func.value) == name and \
                n.func.attr not in _READ_ONLY:
            return None
    for n in ast.walk(st):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "delattr", "vars") \
                and n.args and _root(n.args[0]) == name:
            return None  # setattr(cfg, k, v): a change by name
    for n in ast.walk(st):
        if not (isinstance(n, ast.Call) and (any(_root(a) == name for a in n.args) or
                                             any(_root(k.value) == name for k in n.keywords))):
            continue
        if isinstance(n.func, ast.Name) and _definition(fe, n.func.id) is not None:
            cfg = _call(fe, n, scope, name, cfg, depth)
            if cfg is None:
                return None
        elif isinstance(n.func, ast.Name) and n.func.id in fe.defined:
            return None  # the file's own class or function not followed
    return cfg


def _call(fe, call: ast.Call, scope: ast.AST, name: str, cfg: Any, depth: int, returns: bool = False) -> Any:
    f = call.func
    if isinstance(f, ast.Attribute) and _root(f.value) == name and not returns:
        if f.value.__class__ is not ast.Name:
            return None
        if f.attr in _READ_ONLY:
            return cfg
        if f.attr in ("merge_from_file", "merge_from_list") and len(call.args) == 1 and not call.keywords:
            v = _value(fe, call.args[0], scope, {name: cfg})
            if f.attr == "merge_from_file":
                if not isinstance(v, str) or fe.resolver is None:
                    return None
                data = fe.resolver.yaml_file(v, fe.path)
                if not isinstance(data, dict) or "_BASE_" in data:
                    return None  # (fvcore/detectron2's _BASE_ inheritance is not yacs' merge)
                _merge(cfg, data)
                return cfg
            if v is None or v == "" or v == []:  # no options after the file (a REMAINDER left empty)
                return cfg
            if not isinstance(v, (list, tuple)) or len(v) % 2:
                return None
            for key, val in zip(v[::2], v[1::2]):
                if not isinstance(key, str) or not _set(cfg, key.split("."), YacsConfig.of(_literal(val))):
                    return None
            return cfg
        return None
    # a project function given the tree: update_config(cfg, args), followed with the parameter bound
    if not isinstance(f, ast.Name) or depth >= MAX_FLOW:
        return None
    found = _definition(fe, f.id)
    if found is None or not isinstance(found[1], (ast.FunctionDef, ast.ClassDef)):
        return None
    ofe, fn = found
    skip = 0
    if isinstance(fn, ast.ClassDef):  # RandomCrop(config): its __init__ given the tree
        init = next((n for n in fn.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None)
        if init is None:
            return None if returns else cfg
        if returns:
            return None
        fn, skip = init, 1
    params = [a.arg for a in fn.args.args][skip:]
    slot = next((i for i, a in enumerate(call.args) if isinstance(a, ast.Name) and a.id == name), None)
    if slot is None or slot >= len(params) or any(isinstance(a, ast.Starred) for a in call.args) or \
            any(_root(k.value) == name for k in call.keywords):
        return None
    pname = params[slot]
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    passed = {params[i]: a for i, a in enumerate(call.args) if i < len(params)}
    passed.update({k.arg: k.value for k in call.keywords if k.arg in params})
    if id(fn) in _ACTIVE:
        return None  # recursion
    _ACTIVE[id(fn)] = (fe, scope, passed)  # what the call passes its other parameters (args.cfg)
    saved = staticeval.CALLERS.get(id(fn))
    staticeval.CALLERS[id(fn)] = (fe, call)
    try:
        got = _run(ofe, fn.body, fn, pname, cfg, None, depth + 1)
        if got is None:
            return None
        if returns:
            rets = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
            if len(rets) != 1 or not (isinstance(rets[0].value, ast.Name) and rets[0].value.id == pname):
                return None
        return got
    finally:
        _ACTIVE.pop(id(fn), None)
        if saved is None:
            staticeval.CALLERS.pop(id(fn), None)
        else:
            staticeval.CALLERS[id(fn)] = saved


staticeval.HOOKS["yacs"] = sys.modules[__name__]
