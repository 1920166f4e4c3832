"""Static evaluation of a project's Python files, for the constructions found across a project
(constructions.py), the data flow to a model call (pyflow.py, datapipe.py, lightning.py): each
project file read once per process (and told to core/project.py's READ_HOOK, so cached results
follow it), and :class:`_FileEval`, which gives an expression's value from literals, arithmetic,
names assigned once, argparse defaults and decided branches, or raises :class:`_Unknown`.

Only the standard library's ``ast`` is used here (cheap; no libcst, no torch).
"""
from __future__ import annotations

import ast
import copy
import os
import re
from typing import AbstractSet, Any, Callable, Dict, List, Optional, Set, Tuple

from .argspaces import Resolver, argument_of, assigned_attrs, config_class_defaults, imports_module, imports_of

MAX_FILES = 400  # files listed under the project root
MAX_BYTES = 1_000_000  # larger files are not read
# folders never searched for a project's files
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", "site-packages", "build", "dist",
              ".venv", "venv", "env", ".tox", ".mypy_cache", ".pytest_cache", ".eggs"}
_EXTERNAL = {"torch", "torchvision", "timm", "transformers", "diffusers", "tensorflow", "keras", "numpy"}

# What the modules built on this one lend back to it and to constructions.py (pyflow.py: which
# assignment reaches a use; datapipe.py: the inputs a project's data pipeline feeds a model). They
# register here when imported (engine.py imports datapipe beside constructions), so the import graph
# stays acyclic.
HOOKS: Dict[str, Any] = {}


class _Unknown(Exception):
    pass


class CommandUnknown:
    """An option value a documented command line gives that is not static (a placeholder, a
    project's own ``type=`` function; lint/cmdlines.py): reading it is UNKNOWN."""

    def __repr__(self) -> str:
        return "<unknown>"


# Option values fixed for the construction being evaluated, in every file's argparse namespaces: one
# command line the script accepts (``-net small``), taken to build the model a branch on that option
# guards (``if args.net == 'small': net = small()``). Empty: the options' defaults. See option_worlds.
WORLD: Dict[str, Any] = {}
# the options of WORLD a documented command line gives (lint/cmdlines.py), converted as argparse does
TYPED_WORLD: Set[str] = set()
# the attribute names the model file reads (``args.depth``): what a namespace passed whole keeps
NAMESPACE_ATTRS: Optional[Set[str]] = None
MAX_WORLDS = 8
# the project being searched uses yacs (a file names it, or calls merge_from_file): only then are
# names followed as yacs trees (lint/yacsflow.py); set by constructions._find
YACS_ACTIVE = False
# the options read since it was last cleared -> their literal choices (None: not a literal list)
OPTION_READS: Dict[str, Optional[List[Any]]] = {}
# id(module-level function) -> (the calling file's _FileEval, the call): the one call of a factory
# function a construction inside it is evaluated for (``def create_model(name, num_classes,
# in_channels)`` called by train_cifar10.py with in_channels=3 and train_speech_commands.py with 1:
# two constructions, each fed what its own script feeds). See lint/constructions.py _find.
CALLERS: Dict[int, Tuple[Any, ast.Call]] = {}


_SAFE_BINOPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
                ast.FloorDiv: lambda a, b: a // b, ast.Div: lambda a, b: a / b, ast.Mod: lambda a, b: a % b}


_COMPARE = {ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
            ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
            ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
            ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b}


class _Name(str):
    """A name of the model module (a block class, a function) passed as an argument."""


def _notify(path: str, found: bool, read: bool) -> None:
    from .core.project import READ_HOOK

    note = READ_HOOK.get()
    if note is not None:
        note(path[:-len(MARKDOWN_PYTHON)] if path.endswith(MARKDOWN_PYTHON) else path, found, read)


# per process: path -> ((mtime_ns, size), text, [tree]) — checking a whole project reads each of
# its files once, not once per model file
_MEMO: Dict[str, Tuple[Tuple[int, int], str, list]] = {}


MARKDOWN_PYTHON = "#python"  # suffix of a README's path naming its Python examples (markdown_python)


def _read(path: str) -> Optional[Tuple[str, list]]:
    real = path[:-len(MARKDOWN_PYTHON)] if path.endswith(MARKDOWN_PYTHON) else path
    try:
        st = os.stat(real)
        if st.st_size > MAX_BYTES:
            return None
        key = (st.st_mtime_ns, st.st_size)
        memo = _MEMO.get(path)
        if memo is not None and memo[0] == key:
            return memo[1], memo[2]
        with open(real, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeError):
        return None
    if real is not path:
        text = markdown_python(text)
    if len(_MEMO) > 4 * MAX_FILES:
        _MEMO.clear()
    trees: list = []
    _MEMO[path] = (key, text, trees)
    return text, trees


_FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")


def markdown_python(text: str) -> str:
    """The fenced Python blocks of a Markdown file (```python, ```py, ```python3) as one script,
    each at its own lines (every other line blank, so a line number is the README's); a block that
    is not valid Python alone (``>>>`` prompts, ``...`` elisions) is left out."""
    lines = text.split("\n")
    out = [""] * len(lines)
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence[:3]):
            j += 1
        if lang in ("python", "py", "python3"):
            block = lines[i + 1:j]
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            block = [b[indent:] for b in block]
            try:
                ast.parse("\n".join(block))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                block = []
            for k, b in enumerate(block):
                out[i + 1 + k] = b
        i = j + 1
    return "\n".join(out)


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
        tree = None
        # Python 3.6's grammar second: older PyTorch scripts write `x.cuda(async=True)`, and
        # `async` became a keyword in 3.7; the script still says how the model is built and fed
        for version in (None, (3, 6)):
            try:
                tree = ast.parse(text, feature_version=version)
                break
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
        trees.append(tree)
    return trees[0]


class _FileEval:
    """Static values of one file: argparse defaults, names assigned once."""

    def __init__(self, tree: ast.Module, model_names: Set[str], model_stem: str, model_dirs: AbstractSet[str] = frozenset(),
                 resolver: Optional[Resolver] = None, path: str = ""):
        self.tree = tree
        self.resolver, self.path = resolver, path
        self.foreign: Dict[str, Dict[str, Any]] = {}  # `opt = parse_opts()`: the namespace's defaults
        self.attr_assigned = assigned_attrs(tree)  # `opt.arch = ...`: not the default any more
        self.mutated_containers = _mutated_containers(tree)  # `cfg['size'] = 64`, `cfg.update(...)`
        self.changed_dicts = _mutated_containers(tree, passed=False)  # the same, not counting calls given it
        self.model_dirs = model_dirs
        self.model_names = model_names
        self.model_stem = model_stem
        self.defaults: Dict[str, Any] = {}
        self.choices: Dict[str, List[Any]] = {}
        # options whose choices are not a literal list: what decides whether a name is one of them
        # (``choices=model_names``, ``sorted(n for n in models.__dict__ if n.islower() ...)``), or None
        self.choice_filters: Dict[str, Optional[Callable[[str], bool]]] = {}
        # the model file's names ``models.__dict__[args.arch]`` may select besides the default and
        # literal choices (constructions.py: public, in its __all__, a models package above it)
        self.selectable: Set[str] = set()
        self.model_ctx: Any = None  # constructions._model_namespace of the model file
        self.namespaces: Set[str] = set()  # names bound to parser.parse_args()
        self._replays: Dict[Tuple[str, str], Dict[str, Any]] = {}  # see replayed()
        self._replay_state: Optional[Dict[str, Any]] = None
        self._replay_lines: Dict[Tuple[str, str], int] = {}  # (name, attr) -> line of its last assignment
        self.assigns: Dict[int, Dict[str, List[ast.expr]]] = {}  # id(scope) -> name -> values
        self.parents: Dict[int, ast.AST] = {}
        self.defined: Set[str] = set()
        self.imported_model_names: Set[str] = set()
        self.imported_model_tables: Set[str] = set()  # other names of the model module imported here
        self.model_aliases: Dict[str, str] = {}  # local name -> the model file's name it imports
        # argparse values fixed for the call being evaluated: the name ``models.__dict__[args.arch]``
        # selects is the value of ``args.arch`` in the branch conditions around it
        self.override: Dict[str, Any] = {}
        self.read_options = False  # an argparse default was read since the last reset
        self.call_reads: Set[str] = set()  # the options a construction's arguments read (constructions)
        self._flow = 0  # nesting of _reaching
        self._deciding: Set[int] = set()  # the ifs whose tests are being evaluated (reachable)
        self._patched: Optional[Set[Tuple[int, str]]] = None
        self._patched_key = ""
        self._patch_fns: Dict[int, ast.AST] = {}  # id -> the functions that patch a name (patched())
        self._collect()

    def _collect(self):
        declared_global: Set[Tuple[int, str]] = set()  # (id(function), name): `global args` in it
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[id(child)] = node
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                declared_global |= {(id(self._scope(node)), n) for n in node.names}
        self._config_classes: Dict[str, Dict[str, Any]] = {}
        # names bound to an object loading a JSON file into its attributes (CS230's
        # `params = utils.Params(json_path)`): name -> the path expression
        self.json_configs: Dict[str, ast.expr] = {}
        self.imported_objects: Dict[str, Dict[str, Any]] = {}
        # add_argument calls of a parser imported from another module of the project
        self.imported_arguments: List[ast.Call] = []
        from .argspaces import _returns_parsed

        # this file's functions that return parser.parse_args(): `args = get_args()` is a namespace
        parse_fns = {n.name for n in self.tree.body if isinstance(n, ast.FunctionDef) and _returns_parsed(n)}
        for node in self.tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                self.defined.add(node.name)
            if isinstance(node, ast.ClassDef) and node.name not in self.model_names:
                d = config_class_defaults(node)
                if d is not None:
                    self._config_classes[node.name] = d
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                last = mod.split(".")[-1] if mod else ""
                if mod.split(".")[0] in _EXTERNAL:
                    continue
                if mod and not node.level and self.resolver is not None and node in self.tree.body:
                    for alias in node.names:  # `from config import opt`: a configuration object
                        if alias.name != "*" and alias.name not in self.model_names:
                            d = self.resolver.imported_object(mod, alias.name, self.path)
                            if d is not None:
                                self.imported_objects[alias.asname or alias.name] = d
                            calls = self.resolver.imported_parser(mod, alias.name, self.path)
                            if calls:  # `from core.option import parser`: its options, then this file's
                                self.imported_arguments += calls
                                for call in calls:
                                    self._argument(call)
                ours = last == self.model_stem or (last in self.model_dirs) or (node.level and not mod)
                if not ours:
                    continue
                for alias in node.names:
                    if alias.name not in self.model_names and alias.name != "*" and \
                            (alias.asname is None or alias.asname == alias.name):
                        self.imported_model_tables.add(alias.name)  # `from models.modeling import CONFIGS`
                    if alias.name == "*":
                        self.imported_model_names |= self.model_names
                    elif alias.name in self.model_names and (alias.asname is None or alias.asname == alias.name):
                        self.imported_model_names.add(alias.name)
                    elif alias.name in self.model_names and alias.asname and alias.asname not in self.model_names:
                        # `from model import efficientnet_b0 as create_model`
                        self.model_aliases[alias.asname] = alias.name
                        self.imported_model_names.add(alias.name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr == "add_argument":
                self._argument(node)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                    node.func.attr.startswith("DEFINE_") and _is_absl_flags(node.func.value, self.tree):
                self._absl_flag(node)
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
                elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in parse_fns and \
                        not v.args and not v.keywords:
                    self.namespaces.add(name)  # args = get_args(), returning parser.parse_args()
                elif isinstance(v, ast.Attribute) and v.attr == "FLAGS" and _is_absl_flags(v.value, self.tree):
                    self.namespaces.add(name)  # FLAGS = flags.FLAGS: absl's options, parsed by app.run
                elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and not v.args and not v.keywords \
                        and v.func.id in self._config_classes:
                    self.foreign[name] = self._config_classes[v.func.id]  # opt = Config()
                elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and not v.args and not v.keywords \
                        and self.resolver is not None:
                    d = self.resolver.call_defaults(v.func.id, self.tree, self.path)
                    if d is not None:
                        self.foreign[name] = d
                elif isinstance(v, ast.Call) and len(v.args) == 1 and not v.keywords and self.resolver is not None \
                        and not isinstance(v.args[0], ast.Starred) and \
                        self.resolver.json_loader(v.func, self.tree, self.path):
                    self.json_configs[name] = v.args[0]  # params = utils.Params(json_path)
                scope = self._scope(node)
                if (id(scope), name) in declared_global:
                    scope = self.tree  # `global args; args = parser.parse_args()` in main()
                self.assigns.setdefault(id(scope), {}).setdefault(name, []).append(v)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
                scope = self._scope(node)
                self.assigns.setdefault(id(scope), {}).setdefault(node.target.id, []).append(None)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:  # `with open(path) as f`: f holds the opened file (a config's)
                    if isinstance(item.optional_vars, ast.Name):
                        self.assigns.setdefault(id(self._scope(node)), {}).setdefault(
                            item.optional_vars.id, []).append(item.context_expr)
            elif isinstance(node, (ast.For, ast.comprehension)):
                for t in ast.walk(node.target):
                    if isinstance(t, ast.Name):
                        self.assigns.setdefault(id(self._scope(node)), {}).setdefault(t.id, []).append(None)

    def patched(self) -> Set[Tuple[int, str]]:
        """(id(scope), name) of models changed after they are built (``model.fc = nn.Linear(...)``,
        ``model.classifier[6] = ...``, ``setattr(model, ...)``, ``model.add_module(...)``, or
        passing it to a function of the file that does so): the model called later is not the
        one the construction builds. See is_patched."""
        key = repr((sorted(WORLD.items(), key=lambda kv: kv[0]), sorted(TYPED_WORLD)))
        if self._patched is not None and self._patched_key == key:
            return self._patched
        memo = self.__dict__.setdefault("_patched_memo", {})  # per world: a project's README lines
        if key in memo:                                       # revisit the same few worlds
            self._patched_key, self._patched = key, memo[key]
            return memo[key]
        self._patched_key = key
        out: Set[Tuple[int, str]] = set()
        by_fn: Dict[int, Set[str]] = {}
        for node in ast.walk(self.tree):
            roots: List[Optional[str]] = []
            if isinstance(node, ast.Assign):
                roots = [_target_root(t) for t in node.targets if not _rewrapped(t, node.value)]
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                roots = [_target_root(node.target)]
            elif isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id == "setattr" and node.args and isinstance(node.args[0], ast.Name):
                    roots = [node.args[0].id]
                elif isinstance(f, ast.Attribute) and f.attr in ("add_module", "register_module") and \
                        isinstance(f.value, ast.Name):
                    roots = [f.value.id]
            for r in roots:
                if r is not None:
                    scope = self._scope(node)
                    try:
                        if not self.reachable(node, scope):
                            continue  # `if args.model.startswith('alexnet'): model.features = ...`, not this run
                    except (_Unknown, RecursionError):
                        pass
                    out.add((id(scope), r))
                    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        self._patch_fns[id(scope)] = scope
                        by_fn.setdefault(id(scope), set()).add(r)
        fns = {s.name: s for s in self.tree.body if isinstance(s, ast.FunctionDef) and id(s) in by_fn}
        for node in ast.walk(self.tree) if fns else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in fns:
                fn = fns[node.func.id]
                params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
                pairs = list(zip(params, node.args)) + [(k.arg, k.value) for k in node.keywords if k.arg]
                scope = self._scope(node)
                names = {a.id for p, a in pairs if isinstance(a, ast.Name) and p in by_fn[id(fn)]}
                out |= {(id(scope), n) for n in names}
                if names and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._patch_fns[id(scope)] = scope
        self._patched = out
        memo[key] = out
        return out

    def is_patched(self, name: str, scope: ast.AST) -> bool:
        """Whether the model ``name`` as ``scope`` sees it is changed after it is built: in that
        scope, or (a module variable) by a function where the name is not its own local."""
        got = self.patched()
        if not got:
            return False
        local = isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
            (name in self.assigns.get(id(scope), {}) or _is_param(scope, name))
        if local:
            return (id(scope), name) in got
        if (id(self.tree), name) in got:
            return True
        return any(sid in self._patch_fns and n == name and
                   not (n in self.assigns.get(sid, {}) or _is_param(self._patch_fns[sid], n)) for sid, n in got)

    def _scope(self, node) -> ast.AST:
        p = self.parents.get(id(node))
        while p is not None and not isinstance(p, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Module)):
            p = self.parents.get(id(p))
        return p if p is not None else self.tree

    def _argument(self, call: ast.Call):
        dest: Any = None
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
        action_node = kw.get("action")
        action = action_node.value if isinstance(action_node, ast.Constant) else None
        try:
            if "default" in kw:
                try:
                    value = self._literal(kw["default"])
                except _Unknown:
                    value = self._module_literal(kw["default"])  # models.available_models[0]
            elif action == "store_true":
                value = False
            elif action == "store_false":
                value = True
            elif action is None and "nargs" not in kw and flags and flags[0].startswith("-") and \
                    not (isinstance(kw.get("required"), ast.Constant) and
                         kw["required"].value is True):  # type: ignore[attr-defined]
                value = None
            elif action is None and "nargs" not in kw:
                raise _Unknown  # a positional or required option: no run without it
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
                self.choices[dest] = [self._literal(e) for e in kw["choices"].elts]  # type: ignore[attr-defined]
            except _Unknown:
                self.choice_filters[dest] = None
        elif "choices" in kw:  # (not literal: read in its own file only)
            try:  # `choices=models.available_models`, a list literal of a project module
                got = self._module_literal(kw["choices"])
                if not isinstance(got, (list, tuple)):
                    raise _Unknown
                self.choices[dest] = list(got)
                return
            except _Unknown:
                pass
            self.choice_filters[dest] = None if any(call is c for c in self.imported_arguments) else \
                _choice_filter(kw["choices"], self.tree)

    def _module_literal(self, node: ast.expr) -> Any:
        """``models.available_models`` (or ``...[0]``): a name a project module the file imports
        (``import models``) binds once, at module level, to a literal that nothing in that module
        changes (no ``.append``, no item or slice assignment)."""
        index = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                type(node.slice.value) is int:
            index, node = node.slice.value, node.value
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and self.resolver is not None
                and self.path):
            raise _Unknown
        where = self.resolver._module_file(imports_module(self.tree, node.value.id), self.path)
        got = self.resolver.read(where) if where is not None else None
        if got is None:
            raise _Unknown
        tree, name = got[1], node.attr
        binds = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load)]
        assigns = [st for st in tree.body if isinstance(st, ast.Assign) and len(st.targets) == 1 and
                   isinstance(st.targets[0], ast.Name) and st.targets[0].id == name]
        if len(binds) != 1 or len(assigns) != 1:
            raise _Unknown
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == name and \
                    n.attr in ("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse", "update"):
                raise _Unknown
            if isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and n.value.id == name and \
                    not isinstance(n.ctx, ast.Load):
                raise _Unknown
        value = self._literal(assigns[0].value)
        if index is None:
            return value
        if not isinstance(value, (list, tuple)) or not -len(value) <= index < len(value):
            raise _Unknown
        return value[index]

    def _absl_flag(self, call: ast.Call) -> None:
        """``flags.DEFINE_integer('batch_size', 64, 'help')``, ``DEFINE_enum('arch', 'cnn32',
        ['cnn32', 'res32'], 'help')``: absl's options, read as ``FLAGS.batch_size``."""
        kind = call.func.attr[len("DEFINE_"):]  # type: ignore[attr-defined]
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        pos = ["name", "default", "enum_values" if kind in ("enum", "multi_enum") else "help"]
        args = dict(zip(pos, call.args))
        args.update({k: v for k, v in kw.items() if k in pos})
        name = args.get("name")
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return
        dest = name.value
        if dest in self.defaults:
            self.defaults[dest] = _Unknown
            return
        try:
            if "default" not in args or kind not in _ABSL_KINDS:
                raise _Unknown
            value = self._literal(args["default"])
            if not isinstance(value, _ABSL_KINDS[kind]) or isinstance(value, bool) and kind in ("integer", "float"):
                raise _Unknown  # None (a required flag) or a string absl would parse
            self.defaults[dest] = float(value) if kind == "float" else value
        except _Unknown:
            self.defaults[dest] = _Unknown
        if kind == "enum":
            values = args.get("enum_values")
            if isinstance(values, (ast.List, ast.Tuple)):
                try:
                    self.choices[dest] = [self._literal(e) for e in values.elts]
                except _Unknown:
                    self.choice_filters[dest] = None
            else:
                self.choice_filters[dest] = None

    def _literal(self, node):
        try:
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, RecursionError):
            raise _Unknown

    # -- values
    def try_value(self, node: ast.expr, scope: ast.AST) -> Tuple[bool, Any]:
        """(True, value) when ``node`` has a static value, else (False, None)."""
        try:
            return True, self.value(node, scope)
        except (_Unknown, RecursionError):
            return False, None

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
        if isinstance(node, ast.Dict):  # latent_spec = {'cont': 10, 'disc': [10]}; VAE(latent_spec=latent_spec)
            keys = [self.value(k, scope, depth + 1) if k is not None else _Unknown for k in node.keys]
            if any(k is _Unknown or not isinstance(k, (str, int)) or isinstance(k, bool) for k in keys):
                raise _Unknown
            return {k: self.value(v, scope, depth + 1) for k, v in zip(keys, node.values)}
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
            if isinstance(node.op, ast.Add) and isinstance(a, str) and isinstance(b, str) and \
                    not isinstance(a, _Name) and not isinstance(b, _Name):
                return a + b  # a path: os.path.splitext(path)[0] + '.yaml'
            raise _Unknown
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            a = self.value(node.left, scope, depth + 1)
            b = self.value(node.comparators[0], scope, depth + 1)
            if isinstance(node.ops[0], (ast.In, ast.NotIn)) and not isinstance(b, (tuple, list, str)):
                raise _Unknown
            if isinstance(node.ops[0], (ast.Is, ast.IsNot)) and not (a is None or b is None):
                raise _Unknown  # identity is read only against None (`args.condense_factor is None`)
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
        if isinstance(node, ast.JoinedStr):  # f'.{config.model.type}.{config.model.name}' of known strings
            parts = []
            for v in node.values:
                if isinstance(v, ast.Constant) and isinstance(v.value, str):
                    parts.append(v.value)
                    continue
                if not isinstance(v, ast.FormattedValue) or v.conversion != -1 or v.format_spec is not None:
                    raise _Unknown
                x = self.value(v.value, scope, depth + 1)
                if not isinstance(x, (str, int)) or isinstance(x, (bool, _Name)):
                    raise _Unknown
                parts.append(str(x))
            return "".join(parts)
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
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple") \
                and len(node.args) == 1 and not node.keywords and node.func.id not in self.defined:
            seq = self.value(node.args[0], scope, depth + 1)
            if not isinstance(seq, (list, tuple)):
                raise _Unknown
            return list(seq) if node.func.id == "list" else tuple(seq)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "map" \
                and len(node.args) == 2 and not node.keywords and "map" not in self.defined and \
                isinstance(node.args[0], ast.Name) and node.args[0].id in ("int", "float", "str") \
                and node.args[0].id not in self.defined:
            seq = self.value(node.args[1], scope, depth + 1)  # map(int, '14-14-14'.split('-'))
            if not isinstance(seq, (list, tuple)):
                raise _Unknown
            conv = {"int": int, "float": float, "str": str}[node.args[0].id]
            if not all(isinstance(x, (int, float, str)) and not isinstance(x, bool) for x in seq):
                raise _Unknown
            try:
                return [conv(x) for x in seq]
            except (TypeError, ValueError):
                raise _Unknown
        if isinstance(node, ast.Call) and _config_loader(node.func, self.imports) and node.args and \
                not any(isinstance(a, ast.Starred) for a in node.args):
            return self._config_file(node, scope, depth)  # yaml.safe_load(f)
        if isinstance(node, ast.Call) and _os_path_func(node.func, self.imports) in _PATH_FUNCS and \
                len(node.args) == 1 and not node.keywords:
            v = self.value(node.args[0], scope, depth + 1)  # os.path.splitext(os.path.abspath(__file__))
            if not isinstance(v, str):
                raise _Unknown
            return _PATH_FUNCS[_os_path_func(node.func, self.imports)](v)  # type: ignore[index]
        if isinstance(node, ast.Name) and node.id == "__file__" and self.path and \
                not self._bound(node.id, scope):
            return os.path.abspath(self.path)
        if isinstance(node, ast.Call) and _is_os_path_join(node.func, self.tree) and node.args and \
                not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):
            parts = [self.value(a, scope, depth + 1) for a in node.args]  # os.path.join(args.model_dir, 'params.json')
            if not all(isinstance(x, str) for x in parts):
                raise _Unknown
            return os.path.join(*parts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STR_METHODS \
                and not node.keywords:
            return _str_method(node.func.attr, self.value(node.func.value, scope, depth + 1),
                               [self.value(a, scope, depth + 1) for a in node.args])
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and \
                node.value.id in self.imported_model_tables and node.value.id not in self.defined and \
                not self._bound(node.value.id, scope):
            # a table of the model module indexed by an option (ViT's `CONFIGS[args.model_type]`):
            # the entry, named as the model module writes it, which the engine reads there
            key = self.value(node.slice, scope, depth + 1)
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise _Unknown
            return _Name(f"{node.value.id}[{key!r}]")
        if isinstance(node, ast.Subscript):  # {'cifar10': 10, 'cifar100': 100}[args.dataset]
            try:
                item, where = self._item(node, scope, depth + 1)
            except _Unknown:
                return self._loaded_item(node, scope, depth)
            return self.value(item, where, depth + 1)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self" and \
                isinstance(scope, ast.FunctionDef):
            stored = self._self_store(node, scope)  # a trainer's self.c_dim = config.c_dim
            if stored is None:
                raise _Unknown
            return self.value(stored[0], stored[1], depth + 1)
        ns = self.namespace_defaults(node.value.id, scope) \
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else None
        if ns is not None:
            self.read_options = True
            attr = node.attr  # type: ignore[attr-defined]
            OPTION_READS.setdefault(attr, self.choices.get(attr))
            state = self._replay_state
            if state is not None and node.value.id in self.namespaces:  # type: ignore[attr-defined,unused-ignore]
                # replaying the script's own settings: what the options hold at this statement
                v = state[attr] if attr in state else self._option_now(attr)
                if v is _Unknown:
                    raise _Unknown
                return v
            owner = node.value.id  # type: ignore[attr-defined]
            if scope is self.tree and owner in self.namespaces and attr in self.replayed(owner) and \
                    node.lineno <= self._replay_lines.get((owner, attr), 0):
                raise _Unknown  # read at module level before the script sets it
            v = self.override.get(attr, ns.get(attr, _Unknown))
            if attr in WORLD and attr not in self.override and attr in ns and \
                    not (owner in self.namespaces and attr in self.replayed(owner)):
                v = _world_value(attr, ns[attr], self.choices.get(attr))
            if v is _Unknown:
                raise _Unknown
            return v
        if isinstance(node, ast.Name):
            ns = self.namespace_defaults(node.id, scope)
            if ns is not None:  # the whole namespace passed on: Net(args), generate_model(opt)
                self.read_options = True
                replayed = self.replayed(node.id) if node.id in self.namespaces else {}
                if scope is self.tree:  # at module level: only what the script set above this line
                    replayed = {a: v for a, v in replayed.items()
                                if node.lineno > self._replay_lines.get((node.id, a), 0)}
                return _Namespace(self._whole(ns, replayed))
            if node.id in self.imported_model_names and node.id not in self.defined and \
                    not self._bound(node.id, scope):
                return _Name(node.id)
            flowing = self.__dict__.get("_yacs_bound")
            if flowing and ((id(scope), node.id) in flowing or (id(self.tree), node.id) in flowing):
                got = flowing.get((id(scope), node.id), flowing.get((id(self.tree), node.id)))
                if got is _Unknown:  # a tree being built (lint/yacsflow.py): its value at this statement
                    raise _Unknown
                return got
            values = self._binding(node.id, scope, depth)
            if (values and len(values) == 1 and isinstance(values[0], ast.Call) or
                    not values and node.id in self._from_imported) and YACS_ACTIVE and HOOKS.get("yacs") is not None:
                tree = self._yacs_tree(node, scope, depth)  # a yacs configuration the script builds
                if tree is not _Unknown:
                    return tree
            if values is None and self.resolver is not None and self.path and \
                    isinstance(scope, ast.FunctionDef) and scope in self.tree.body and \
                    _is_param(scope, node.id) and node.id not in self.assigns.get(id(scope), {}):
                # `def create_model(name, num_classes, in_channels)`: what the call being followed
                # passes (CALLERS), else what every call of the project passes
                return self._param_value(scope, node.id, depth)
            if values is not None and len(values) > 1:  # the one that reaches node, if decidable
                got = self._reaching(node)
                return self.value(got, self._scope(got), depth + 1)
            if values is None or len(values) != 1 or values[0] is None:
                raise _Unknown
            if isinstance(values[0], (ast.Dict, ast.List)) and node.id in self.changed_dicts:
                # cfg['depth'] = 20 or widths.append(64) somewhere: the literal is not what the call gets
                raise _Unknown
            return self.value(values[0], self._owner(node.id, scope), depth + 1)
        if isinstance(node, ast.Attribute) and YACS_ACTIVE and HOOKS.get("yacs") is not None:
            base = self.value(node.value, scope, depth + 1)  # cfg.MODEL.NAME of a yacs tree
            if isinstance(base, HOOKS["yacs"].YacsConfig):
                v = base.get(node.attr, _Unknown)
                if v is _Unknown:
                    raise _Unknown
                return v
        raise _Unknown

    @property
    def _from_imported(self) -> Set[str]:
        got = self.__dict__.get("_from_imported_names")
        if got is None:
            got = self._from_imported_names = {a.asname or a.name for st in self.tree.body
                                               if isinstance(st, ast.ImportFrom) for a in st.names}
        return got

    def _yacs_tree(self, node: ast.Name, scope: ast.AST, depth: int) -> Any:
        """The yacs tree ``node`` holds (lint/yacsflow.py) under the current WORLD, else _Unknown;
        memoised per use and command line."""
        memo = self.__dict__.setdefault("_yacs_memo", {})
        busy = self.__dict__.setdefault("_yacs_busy", set())
        flowing = bool(self.__dict__.get("_yacs_bound"))  # inside a flow: values of that moment, not kept
        key = (id(node), repr(sorted(WORLD.items())), repr(sorted(self.override.items())))
        if key in busy:
            return _Unknown
        if flowing or key not in memo:
            busy.add(key)
            got: Any = _Unknown
            try:
                got = HOOKS["yacs"].config_value(self, node, scope)
            except (_Unknown, RecursionError):
                pass
            finally:
                busy.discard(key)
            if flowing:
                return got
            memo[key] = got
        got = memo[key]
        return got if got is _Unknown else copy.deepcopy(got)

    @property
    def imports(self) -> Dict[str, Optional[str]]:
        got = self.__dict__.get("_imports")
        if got is None:
            got = self.__dict__["_imports"] = imports_of(self.tree)
        return got

    def _loaded_item(self, node: ast.Subscript, scope: ast.AST, depth: int) -> Any:
        """An item of a value read from a file (a YAML config's ``parser['model']['filts']``) or
        computed (``os.path.splitext(path)[0]``): literals are _item's."""
        base = self.value(node.value, scope, depth + 1)
        if not isinstance(base, (_Config, tuple)):
            raise _Unknown
        key = self.value(node.slice, scope, depth + 1)
        try:
            v = base[key]
        except (KeyError, IndexError, TypeError):
            raise _Unknown
        if v is _Unknown:
            raise _Unknown
        return v

    def _config_file(self, call: ast.Call, scope: ast.AST, depth: int) -> Any:
        """``yaml.safe_load(f)`` / ``yaml.load(f, Loader=...)`` with ``f`` an ``open(path)`` (or
        ``with open(path) as f``): the file's mapping (read with YAML's
        safe loader, relative to the project root or the script's folder), as a :class:`_Config`
        whose entries the file sets with a static key path (``cfg['model']['nb_classes'] = n``)
        are unknown; any other change to the name it is bound to makes it unknown."""
        arg = call.args[0]
        if isinstance(arg, ast.Name):
            bound = self._binding(arg.id, scope, depth)
            if not bound or len(bound) != 1 or bound[0] is None:
                raise _Unknown
            arg = bound[0]
        if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "open" and
                "open" not in self.defined and arg.args):
            raise _Unknown
        arg = arg.args[0]
        rel = self.value(arg, scope, depth + 1)
        if not isinstance(rel, str) or self.resolver is None:
            raise _Unknown
        data = self.resolver.yaml_file(rel, self.path)
        if not isinstance(data, dict):
            raise _Unknown
        target = self.parents.get(id(call))
        name = target.targets[0].id if isinstance(target, ast.Assign) and len(target.targets) == 1 and \
            isinstance(target.targets[0], ast.Name) else None
        if name is not None and name in self.mutated_containers:
            paths = _store_paths(self.tree, name)
            if paths is None:
                raise _Unknown
            data = _Config.of(data)
            for path in paths:
                data.forget(path)
            return data
        return _Config.of(data)

    def _param_value(self, fn: ast.FunctionDef, name: str, depth: int) -> Any:
        caller = CALLERS.get(id(fn))
        if caller is not None:
            fe, call = caller
            arg = argument_of(fn, call, name)
            if arg is None:  # not passed: the parameter's default, read in the function's file
                default = _default_of(fn, name)
                if default is None:
                    raise _Unknown
                return self.value(default, self.tree, depth + 1)
            if fe is self and depth > 8:
                raise _Unknown
            return fe.value(arg, fe._scope(call), depth + 1)
        try:
            return self.resolver.param_value(fn, name, self.path)  # type: ignore[union-attr]
        except LookupError:
            raise _Unknown

    def _item(self, node: ast.Subscript, scope: ast.AST, depth: int) -> Tuple[ast.expr, ast.AST]:
        """The element a subscript with a static key selects from a literal dict, list or tuple
        (written there, or bound once to a name nothing else changes: ``CONFIGS[args.dataset]['size']``),
        and the scope to evaluate it in; only the selected element need be static."""
        if depth > 12:
            raise _Unknown
        key = self.value(node.slice, scope, depth + 1)
        base, where = node.value, scope
        if isinstance(base, ast.Subscript):
            base, where = self._item(base, scope, depth + 1)
        if isinstance(base, ast.Name):
            if base.id in self.mutated_containers:
                raise _Unknown
            values = self._binding(base.id, where, depth)
            if values is None or len(values) != 1 or values[0] is None:
                raise _Unknown
            where = self._owner(base.id, where)
            base = values[0]
        if isinstance(base, ast.Dict):
            if None in base.keys or isinstance(key, bool):  # a **spread: its keys are not written here
                raise _Unknown
            keys = [self._key(k, where, depth) for k in base.keys]  # type: ignore[arg-type]
            hits = [v for k, v in zip(keys, base.values) if k == key]
            if any(k is _Unknown for k in keys) or len(hits) != 1:
                raise _Unknown  # a key not known may be the one; or several
            return hits[0], where
        if isinstance(base, (ast.List, ast.Tuple)) and isinstance(key, int) and not isinstance(key, bool) and \
                not any(isinstance(e, ast.Starred) for e in base.elts) and -len(base.elts) <= key < len(base.elts):
            return base.elts[key], where
        raise _Unknown

    def _key(self, k: ast.expr, scope: ast.AST, depth: int) -> Any:
        try:
            v = self.value(k, scope, depth + 1)
        except _Unknown:
            return _Unknown
        return v if isinstance(v, (str, int)) and not isinstance(v, bool) else _Unknown

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
                if id(p) in self._deciding:
                    # ``if args.ckpt is not None: args = ckpt['args']``: the test reads the name
                    # this binding sets; a binding inside the if cannot reach its own test, unless
                    # a loop brings it round again
                    if not self._in_loop(p, scope):
                        return False
                    test = None
                else:
                    self._deciding.add(id(p))
                    try:
                        test = bool(self.value(p.test, scope, depth + 1))
                    except _Unknown:
                        test = None
                    finally:
                        self._deciding.discard(id(p))
                if test is not None and test != any(c is child for c in p.body):
                    return False
            child, p = p, self.parents.get(id(p))
        return True

    def _in_loop(self, node: ast.AST, scope: ast.AST) -> bool:
        p = self.parents.get(id(node))
        while p is not None and p is not scope:
            if isinstance(p, (ast.For, ast.AsyncFor, ast.While)):
                return True
            p = self.parents.get(id(p))
        return False

    def _owner(self, name, scope):
        return scope if name in self.assigns.get(id(scope), {}) else self.tree

    def namespace_defaults(self, name: str, scope) -> Optional[Dict[str, Any]]:
        """The argparse defaults ``name`` holds in ``scope``: ``parser.parse_args()`` of this
        file, ``parse_opts()`` of another (lint/argspaces.py), or a function parameter every
        caller passes such a namespace; without the attributes this file assigns."""
        if name in self.namespaces and self._single(name, scope):
            d = self.defaults
            replayed = self.replayed(name) if (name, "*") not in self.attr_assigned else {}
            if replayed:
                return {**{k: v for k, v in d.items() if (name, k) not in self.attr_assigned}, **replayed}
        elif name in self.foreign and self._single(name, scope):
            d = self.foreign[name]
        elif name in self.json_configs and self._single(name, scope):
            got = self._json_config(self.json_configs[name], scope)
            if got is None:
                return None
            d = got
        elif name in self.imported_objects and self._binding(name, scope) is None and \
                not (isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_param(scope, name)):
            d = self.imported_objects[name]
        elif self.resolver is not None and isinstance(scope, ast.FunctionDef) and _is_param(scope, name) and \
                name not in self.assigns.get(id(scope), {}):
            owner = self.parents.get(id(scope))
            found = self.resolver.param_defaults(scope, name, self.path,
                                                 owner.name if isinstance(owner, ast.ClassDef) else None)
            if found is None:
                return None
            d = found
        else:
            return None
        if (name, "*") in self.attr_assigned:
            return None
        return {k: v for k, v in d.items() if (name, k) not in self.attr_assigned}

    def _json_config(self, path_expr: ast.expr, scope) -> Optional[Dict[str, Any]]:
        """The attributes a JSON-loading object gets: the file the path expression names (under
        the current options: ``os.path.join(args.model_dir, 'params.json')``), read relative to the
        project root or the script's folder; its scalar and list values."""
        try:
            rel = self.value(path_expr, scope)
        except _Unknown:
            return None
        if not isinstance(rel, str) or self.resolver is None:
            return None
        return self.resolver.json_file(rel, self.path)

    def _self_store(self, node: ast.Attribute, scope: ast.FunctionDef) -> Optional[Tuple[ast.expr, ast.FunctionDef]]:
        """``self.c_dim`` read in a method of a module-level class (a trainer building its models in
        ``build_model``): the value of the class's one ``self.c_dim = value``, made in ``__init__``
        and before any call there of the reading method, with the ``__init__`` to evaluate it in."""
        cls = self.parents.get(id(scope))
        if not (isinstance(cls, ast.ClassDef) and cls in self.tree.body):
            return None
        stores = []
        for n in ast.walk(cls):
            targets = list(n.targets) if isinstance(n, ast.Assign) else \
                [n.target] if isinstance(n, (ast.AugAssign, ast.AnnAssign)) else []
            stores += [(n, t) for tt in targets for t in ast.walk(tt) if isinstance(t, ast.Attribute) and
                       isinstance(t.value, ast.Name) and t.value.id == "self" and t.attr == node.attr]
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("setattr", "vars") and \
                    n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == "self":
                return None
        if len(stores) != 1:
            return None
        assign, target = stores[0]
        init = self._scope(assign)
        if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and assign.targets[0] is target and
                isinstance(init, ast.FunctionDef) and init.name == "__init__" and self.parents.get(id(init)) is cls):
            return None
        if scope is init:
            return (assign.value, init) if assign.lineno < node.lineno else None
        for n in ast.walk(init):  # self.build_model() in __init__ before self.c_dim is set
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == scope.name and \
                    isinstance(n.func.value, ast.Name) and n.func.value.id == "self" and n.lineno <= assign.lineno:
                return None
        return assign.value, init

    def _option_now(self, attr: str) -> Any:
        """The value option ``attr`` has before the script sets it: this run's, else the default."""
        v = self.defaults.get(attr, _Unknown)
        if attr in WORLD:
            try:
                v = _world_value(attr, v, self.choices.get(attr))
            except _Unknown:
                return _Unknown
        return v

    def replayed(self, name: str) -> Dict[str, Any]:
        """The options the script itself sets at module level on its namespace ``name``, after
        parsing, in order (``args.stages = list(map(int, args.stages.split('-')))``, ``if args.data
        == 'cifar10': args.num_classes = 10``), under the current WORLD: attr -> value, for the
        attributes every assignment of which is such a statement and has a static value (an ``if``
        the values do not decide makes what it assigns unknown). Functions see these values (they
        run after the module's top level); the module's own reads see them after the last one."""
        key = (name, repr(sorted(WORLD.items(), key=lambda kv: kv[0])))
        memo = self._replays.get(key)
        if memo is not None:
            return memo
        self._replays[key] = {}  # re-entry while replaying: the defaults
        state: Dict[str, Any] = {}
        counted: Dict[str, int] = {}
        parsed = False

        def run(stmts: List[ast.stmt]) -> None:
            nonlocal parsed
            for st in stmts:
                if not parsed:
                    if isinstance(st, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in st.targets):
                        parsed = True
                    continue
                if isinstance(st, ast.Assign) and len(st.targets) == 1 and _attr_of(st.targets[0], name):
                    attr = st.targets[0].attr  # type: ignore[attr-defined]
                    counted[attr] = counted.get(attr, 0) + 1
                    self._replay_lines[(name, attr)] = st.lineno
                    self._replay_state = state
                    try:
                        state[attr] = self.value(st.value, self.tree, 1)
                    except (_Unknown, RecursionError):
                        state[attr] = _Unknown
                    finally:
                        self._replay_state = None
                elif isinstance(st, ast.If):
                    self._replay_state = state
                    try:
                        test: Optional[bool] = bool(self.value(st.test, self.tree, 1))
                    except (_Unknown, RecursionError):
                        test = None
                    finally:
                        self._replay_state = None
                    if test is None:
                        for sub in (st.body, st.orelse):
                            for a in _assigned_on(sub, name):
                                counted[a] = counted.get(a, 0) + 1
                                state[a] = _Unknown
                    else:
                        for a in _assigned_on(st.body, name) + _assigned_on(st.orelse, name):
                            self._replay_lines[(name, a)] = max(self._replay_lines.get((name, a), 0), st.lineno)
                        for a in _assigned_on(st.body if not test else st.orelse, name):
                            counted[a] = counted.get(a, 0) + 1  # the branch not taken assigns nothing:
                            if a not in state:  # the option keeps what it held
                                state[a] = self._option_now(a)
                        run(st.body if test else st.orelse)

        run(self.tree.body)
        everywhere = _assignment_counts(self.tree, name)
        out = {a: v for a, v in state.items() if v is not _Unknown and counted.get(a) == everywhere.get(a)}
        self._replays[key] = out
        return out

    def _whole(self, ns: Dict[str, Any], replayed: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """The options of a namespace passed whole: the defaults (or this run's values) of those
        the model file reads (NAMESPACE_ATTRS), none this file assigns on any name (a helper's
        ``a.num_classes = 10`` on its parameter), none whose value is None (to be given)."""
        replayed = replayed or {}
        mutated = {a for n, a in self.attr_assigned if n not in ("self", "cls")} - set(replayed)
        if any(a == "*" for a in mutated):
            return {}
        out = {}
        for attr, default in ns.items():
            if attr in mutated or (NAMESPACE_ATTRS is not None and attr not in NAMESPACE_ATTRS):
                continue
            v = self.override.get(attr, default)
            if attr in WORLD and attr not in self.override and attr not in replayed:
                try:
                    v = _world_value(attr, default, self.choices.get(attr))
                except _Unknown:
                    continue
            if v is _Unknown or v is None:
                continue
            OPTION_READS.setdefault(attr, self.choices.get(attr))
            out[attr] = v
        return out

    def _single(self, name, scope) -> bool:
        vals = self._binding(name, scope)
        return vals is not None and len(vals) == 1

    def index_names(self, node: ast.expr, scope) -> List[str]:
        """The names ``models.__dict__[args.arch]`` may select: the argparse default and choices."""
        ns = self.namespace_defaults(node.value.id, scope) \
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) else None
        if ns is not None:
            out = []
            attr = node.attr  # type: ignore[attr-defined]  # an Attribute: ns is None otherwise
            d = ns.get(attr)
            if isinstance(d, str):
                out.append(d)
            out += [c for c in self.choices.get(attr, []) if isinstance(c, str) and c not in out]
            if attr not in self.choices:  # any name argparse lets through: --arch vgg19_bn
                filt = self.choice_filters.get(attr, lambda n: True)
                out += [n for n in sorted(self.selectable) if n not in out and filt is not None and filt(n)]
            return out
        try:
            v = self.value(node, scope)
        except _Unknown:
            return []
        return [v] if isinstance(v, str) else []


_WRAPPERS = {"DataParallel", "DistributedDataParallel"}
_SAME_MODULE = {"to", "cuda", "cpu", "half", "float", "double", "train", "eval"}


def _rewrapped(target: ast.expr, value: ast.expr) -> bool:
    """``model.features = nn.DataParallel(model.features)`` / ``= model.features.cuda()``: the
    same layers again, not a change of shape."""
    while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _SAME_MODULE:
        value = value.func.value
    if isinstance(value, ast.Call) and value.args and \
            (getattr(value.func, "attr", None) or getattr(value.func, "id", None)) in _WRAPPERS:
        value = value.args[0]
    return ast.dump(value) == ast.dump(target).replace("ctx=Store()", "ctx=Load()")


def _target_root(t: ast.expr) -> Optional[str]:
    """``model.fc`` / ``model.classifier[6]`` as an assignment target: ``model``."""
    if not isinstance(t, (ast.Attribute, ast.Subscript)):
        return None
    while isinstance(t, (ast.Attribute, ast.Subscript)):
        t = t.value
    return t.id if isinstance(t, ast.Name) else None


# absl flag kinds modelled, with the Python type of their default
_ABSL_KINDS: Dict[str, Any] = {"string": str, "integer": int, "float": (int, float), "boolean": bool, "bool": bool,
                               "enum": str}


def _is_absl_flags(node: ast.expr, tree: ast.Module) -> bool:
    """``flags`` of ``from absl import flags`` (or ``absl.flags``)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "flags" and isinstance(node.value, ast.Name) and node.value.id == "absl"
    if not isinstance(node, ast.Name):
        return False
    for n in tree.body:
        if isinstance(n, ast.ImportFrom) and n.module == "absl" and not n.level and \
                any(a.name == "flags" and (a.asname or a.name) == node.id for a in n.names):
            return True
    return False


def _choice_filter(node: ast.expr, tree: ast.Module, depth: int = 0) -> Optional[Callable[[str], bool]]:
    """``choices=model_names`` with ``model_names = sorted(name for name in models.__dict__ if
    name.islower() and not name.startswith("__") and callable(models.__dict__[name]))``: the
    comprehension's test as a predicate on a name (string methods, comparisons with literals,
    ``callable(...)`` true: the names offered are functions and classes). None when not decided."""
    if depth > 3:
        return None
    if isinstance(node, ast.Name):
        vals = [s.value for s in tree.body if isinstance(s, ast.Assign) and len(s.targets) == 1 and
                isinstance(s.targets[0], ast.Name) and s.targets[0].id == node.id]
        return _choice_filter(vals[0], tree, depth + 1) if len(vals) == 1 else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("sorted", "list", "set", "tuple") \
            and len(node.args) == 1 and not node.keywords:
        return _choice_filter(node.args[0], tree, depth + 1)
    if not (isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)) and len(node.generators) == 1):
        return None
    gen = node.generators[0]
    if not (isinstance(gen.target, ast.Name) and isinstance(node.elt, ast.Name) and node.elt.id == gen.target.id
            and isinstance(gen.iter, ast.Attribute) and gen.iter.attr == "__dict__" and not gen.is_async):
        return None
    var, tests = gen.target.id, list(gen.ifs)

    def pred(name: str) -> bool:
        try:
            return all(bool(_name_test(t, var, name)) for t in tests)
        except _Unknown:
            return False
    return pred


def _name_test(node: ast.expr, var: str, name: str) -> Any:
    if isinstance(node, ast.BoolOp):
        vals = [_name_test(v, var, name) for v in node.values]
        return all(vals) if isinstance(node.op, ast.And) else any(vals)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return not _name_test(node.operand, var, name)
    if isinstance(node, ast.Name) and node.id == var:
        return name
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "callable":
        return True
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.keywords and \
            node.func.attr in ("islower", "isupper", "isidentifier", "startswith", "endswith"):
        obj = _name_test(node.func.value, var, name)
        args = [_name_test(a, var, name) for a in node.args]
        if not isinstance(obj, str) or not all(isinstance(a, str) for a in args):
            raise _Unknown
        return getattr(obj, node.func.attr)(*args)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
        a, b = _name_test(node.left, var, name), _name_test(node.comparators[0], var, name)
        return (a == b) == isinstance(node.ops[0], ast.Eq)
    raise _Unknown


def _world_value(attr: str, default: Any, choices: Optional[List[Any]]) -> Any:
    """The value WORLD gives option ``attr``, when the command line can give it: one of the
    option's choices, of the default's type (a string for an option with no default)."""
    v = WORLD[attr]
    if isinstance(v, CommandUnknown):
        raise _Unknown  # a documented command line gives it, not statically (a placeholder)
    if attr in TYPED_WORLD:
        return v  # parsed as the script's argparse would: its own type, choices checked there
    if choices is not None and v not in choices:
        raise _Unknown
    if default is not None and default is not _Unknown and type(v) is not type(default):
        raise _Unknown
    if default is None and not isinstance(v, str):
        raise _Unknown
    return v


def _attr_of(t: ast.expr, name: str) -> bool:
    return isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == name


def _assigned_on(stmts: List[ast.stmt], name: str) -> List[str]:
    """The attributes of ``name`` the statements assign (any assignment form, at any depth)."""
    out: List[str] = []
    for st in stmts:
        for node in ast.walk(st):
            targets = list(node.targets) if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            out += [t.attr for tt in targets for t in ast.walk(tt)
                    if isinstance(t, ast.Attribute) and _attr_of(t, name)]
    return out


def _assignment_counts(tree: ast.Module, name: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for a in _assigned_on(tree.body, name):
        counts[a] = counts.get(a, 0) + 1
    return counts


def option_worlds(fe: "_FileEval", node: ast.AST) -> List[Dict[str, Any]]:
    """The option values that take the branches around ``node`` (``if args.net == 'small':`` /
    ``elif args.model in ('a', 'b'):``), each a WORLD to evaluate the construction in: every branch
    a command line selects, not only the defaults'. Only equality with literals is read; whether
    the names are argparse namespaces, and the values ones the options accept, is the evaluation's
    to decide (see _world_value)."""
    worlds: List[Dict[str, Any]] = [{}]
    child, p = node, fe.parents.get(id(node))
    while p is not None:
        if isinstance(p, ast.If) and any(c is child for c in p.body):
            alts = _equalities(p.test, lambda n: caller_alias(fe, n, p))
            if alts:
                worlds = _combine(worlds, alts)
        child, p = p, fe.parents.get(id(p))
    return [w for w in worlds if w]


def _combine(worlds: List[Dict[str, Any]], alts: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each world extended by each alternative that agrees with it (both conditions hold)."""
    return [dict(w, **a) for w in worlds for a in alts if all(w.get(k, v) == v for k, v in a.items())][:MAX_WORLDS]


def _equalities(test: ast.expr, alias=None) -> List[Dict[str, Any]]:
    """``a.x == 'v'`` -> [{'x': 'v'}]; ``a.x in ('v', 'w')`` / ``or`` -> one per value; ``and`` merges.
    ``alias(name)``: the option a bare name stands for (a parameter given ``args.x``), or None."""
    if isinstance(test, ast.BoolOp):
        parts = [_equalities(v, alias) for v in test.values]
        if isinstance(test.op, ast.Or):
            return [a for part in parts for a in part] if all(parts) else []
        out: List[Dict[str, Any]] = [{}]
        for part in parts:
            if part:
                out = _combine(out, part)
        return [w for w in out if w]
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return []
    left, right = test.left, test.comparators[0]
    if isinstance(test.ops[0], ast.Eq) and isinstance(left, ast.Constant):
        left, right = right, left
    attr = left.attr if isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) else \
        alias(left.id) if isinstance(left, ast.Name) and alias is not None else None
    if attr is None:
        return []
    if isinstance(test.ops[0], ast.Eq):
        vals = [right]
    elif isinstance(test.ops[0], ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
        vals = list(right.elts)
    else:
        return []
    if not all(isinstance(v, ast.Constant) and isinstance(v.value, (str, int)) and not isinstance(v.value, bool)
               for v in vals):
        return []
    return [{attr: v.value} for v in vals][:MAX_WORLDS]  # type: ignore[attr-defined]


def _is_os_path_join(f: ast.expr, tree: ast.Module) -> bool:
    """``os.path.join`` (``import os``), or ``join``/``osp.join`` imported from ``os.path``."""
    if isinstance(f, ast.Attribute) and f.attr == "join":
        v = f.value
        if isinstance(v, ast.Attribute) and v.attr == "path" and isinstance(v.value, ast.Name) and v.value.id == "os":
            return True
        if isinstance(v, ast.Name):
            return any(isinstance(n, ast.Import) and any(a.name == "os.path" and a.asname == v.id for a in n.names)
                       for n in tree.body)
    if isinstance(f, ast.Name):
        return any(isinstance(n, ast.ImportFrom) and n.module == "os.path" and
                   any(a.name == "join" and (a.asname or a.name) == f.id for a in n.names) for n in tree.body)
    return False


def _os_path_func(f: ast.expr, imports: Dict[str, Optional[str]]) -> Optional[str]:
    """The name of the ``os.path`` function ``f`` is (``os.path.abspath``, ``osp.splitext`` with
    ``import os.path as osp``, ``dirname`` from ``os.path``), or None."""
    if isinstance(f, ast.Attribute):
        v = f.value
        if isinstance(v, ast.Attribute) and v.attr == "path" and isinstance(v.value, ast.Name) and \
                imports.get(v.value.id) == "os":
            return f.attr
        if isinstance(v, ast.Name) and imports.get(v.id) == "os.path":
            return f.attr
        return None
    if isinstance(f, ast.Name):
        full = imports.get(f.id) or ""
        return full[len("os.path."):] if full.startswith("os.path.") else None
    return None


_PATH_FUNCS: Dict[str, Callable[[str], Any]] = {
    "abspath": os.path.abspath, "realpath": os.path.realpath, "dirname": os.path.dirname,
    "basename": os.path.basename, "splitext": os.path.splitext, "normpath": os.path.normpath,
    "expanduser": lambda p: p,  # a home folder is not the project's: the path stays as written
}

_YAML_LOADS = {"safe_load", "load", "full_load", "unsafe_load"}


def _config_loader(f: ast.expr, imports: Dict[str, Optional[str]]) -> Optional[str]:
    """'file' when ``f`` reads a YAML document from an opened file (``yaml.safe_load``,
    ``yaml.load``, ``from yaml import safe_load``), else None. (``OmegaConf.load`` is not read: its
    configs are read by attribute, which a mapping passed on as a dict would not answer.)"""
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        full = imports.get(f.value.id)
        return "file" if full == "yaml" and f.attr in _YAML_LOADS else None
    if isinstance(f, ast.Name):
        full = imports.get(f.id) or ""
        return "file" if full.startswith("yaml.") and full[5:] in _YAML_LOADS else None
    return None


def _store_paths(tree: ast.Module, name: str) -> Optional[List[Tuple[Any, ...]]]:
    """The static key paths the file stores into ``name`` (``name['model']['nb_classes'] = n``),
    or None when it changes it any other way (a computed key, ``del``, ``update``, a call)."""
    out: List[Tuple[Any, ...]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            path: List[Any] = []
            base: ast.expr = node
            while isinstance(base, ast.Subscript):
                k = base.slice
                if not (isinstance(k, ast.Constant) and isinstance(k.value, (str, int)) and
                        not isinstance(k.value, bool)) or isinstance(node.ctx, ast.Del):
                    path = []
                    break
                path.insert(0, k.value)
                base = base.value
            if isinstance(base, ast.Name) and base.id == name:
                if not path:
                    return None
                out.append(tuple(path))
        elif isinstance(node, ast.Attribute) and node.attr in _MUTATORS:
            base = node.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name) and base.id == name:
                return None
        elif isinstance(node, ast.Call):
            if any(isinstance(a, ast.Name) and a.id == name for a in list(node.args) + [k.value for k in node.keywords]):
                return None
    return out


class _Config(dict):
    """A mapping read from a configuration file: plain data (numbers, strings, booleans, None,
    lists and mappings of them); an entry the script overwrites is ``_Unknown``."""

    @classmethod
    def of(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return cls({k: cls.of(v) for k, v in data.items() if isinstance(k, (str, int)) and not isinstance(k, bool)})
        if isinstance(data, list):
            return [cls.of(v) for v in data]
        if data is None or isinstance(data, (int, float, str, bool)):
            return data
        return _Unknown

    def forget(self, path: Tuple[Any, ...]) -> None:
        d: Any = self
        for k in path[:-1]:
            d = d.get(k) if isinstance(d, dict) else None
            if d is None or d is _Unknown:
                return
        if isinstance(d, dict):
            d[path[-1]] = _Unknown


_STR_METHODS = {"startswith", "endswith", "lower", "upper", "strip", "split"}


def _str_method(name: str, obj, args) -> Any:
    """``args.arch.startswith('resnext')``, ``block_name.lower()`` on known strings."""
    if not isinstance(obj, str) or isinstance(obj, _Name):
        raise _Unknown
    if name in ("startswith", "endswith"):
        if len(args) != 1 or not (isinstance(args[0], str) or
                                  isinstance(args[0], tuple) and all(isinstance(a, str) for a in args[0])):
            raise _Unknown
        return getattr(obj, name)(args[0])
    if name == "split":  # '14-14-14'.split('-'): the stage depths a command line gives as one string
        if len(args) > 1 or args and not (isinstance(args[0], str) and args[0]):
            raise _Unknown
        return obj.split(*args)
    if args:
        raise _Unknown
    return getattr(obj, name)()


_MUTATORS = {"update", "pop", "popitem", "setdefault", "clear", "append", "extend", "insert", "remove",
             "reverse", "sort", "__setitem__", "__delitem__"}


def _mutated_containers(tree: ast.Module, passed: bool = True) -> Set[str]:
    """Names whose dict or list the file changes anywhere (``d[k] = v``, ``del d[k]``, ``d.update(...)``,
    ``d[k][j] = v``), or hands whole to a call: their literal is not what a subscript reads."""
    out: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif isinstance(node, ast.Attribute) and node.attr in _MUTATORS:
            base = node.value
            while isinstance(base, ast.Subscript):
                base = base.value
            if isinstance(base, ast.Name):
                out.add(base.id)
        elif isinstance(node, ast.Call) and passed:
            for a in list(node.args) + [k.value for k in node.keywords]:
                if isinstance(a, ast.Name):
                    out.add(a.id)  # passed to a function that may change it
    return out


def _default_of(fn: ast.FunctionDef, name: str) -> Optional[ast.expr]:
    a = fn.args
    params = a.posonlyargs + a.args
    for p, d in zip(params[len(params) - len(a.defaults):], a.defaults):
        if p.arg == name:
            return d
    for p, kd in zip(a.kwonlyargs, a.kw_defaults):
        if p.arg == name:
            return kd
    return None


def caller_alias(fe: "_FileEval", name: str, node: ast.AST) -> Optional[str]:
    """The option a parameter stands for in the call being followed: ``model_name`` of
    ``create_model(model_name=args.model, ...)`` -> 'model'."""
    p = fe.parents.get(id(node))
    while p is not None and not isinstance(p, ast.FunctionDef):
        p = fe.parents.get(id(p))
    if p is None or id(p) not in CALLERS or not _is_param(p, name):
        return None
    arg = argument_of(p, CALLERS[id(p)][1], name)
    if isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
        return arg.attr
    return None


def _is_param(fn, name) -> bool:
    a = fn.args
    return any(p.arg == name for p in a.posonlyargs + a.args + a.kwonlyargs) or \
        (a.vararg is not None and a.vararg.arg == name) or (a.kwarg is not None and a.kwarg.arg == name)


_OPTIONS_CACHE: Dict[Tuple[int, str], Optional[Dict[str, Any]]] = {}


def file_options(code: str, name: str) -> Optional[Dict[str, Any]]:
    """The argparse namespace a module-level ``name = parser.parse_args()`` of ``code`` holds when
    the script runs with its defaults, for the engine (a GAN script's ``nz = int(opt.nz)``): the
    options with a default other than None that the file never assigns (on any name) nor changes
    through ``setattr``/``vars``; None when ``name`` is no such namespace."""
    key = (hash(code), name)
    if key not in _OPTIONS_CACHE:
        if len(_OPTIONS_CACHE) > 64:
            _OPTIONS_CACHE.clear()
        try:
            fe = _FileEval(ast.parse(code), set(), "")
            ns = fe.namespace_defaults(name, fe.tree) if name in fe.namespaces else None
            mutated = {a for n, a in fe.attr_assigned if n not in ("self", "cls")}
            got = None if ns is None or "*" in mutated else \
                {k: v for k, v in ns.items() if k not in mutated and v is not None and v is not _Unknown}
        except (SyntaxError, ValueError, RecursionError, _Unknown):
            got = None
        _OPTIONS_CACHE[key] = got
    return _OPTIONS_CACHE[key]


class _Namespace:
    """An argparse namespace passed whole to a construction: the options it holds (rendered as
    ``argparse.Namespace(depth=110, ...)``, which the engine reads attribute by attribute)."""

    def __init__(self, values: Dict[str, Any]):
        self.values = values


def _plain(v: Any) -> Any:
    """A yacs tree as the plain mappings it renders inside ``yacs.config.CfgNode(...)``."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_plain(x) for x in v)
    return v


def _render(v) -> str:
    if isinstance(v, _Name):
        return str(v)
    if isinstance(v, _Namespace):
        parts = []
        for k in sorted(v.values):
            try:
                parts.append(f"{k}={_render(v.values[k])}")
            except _Unknown:
                continue  # an option the text cannot hold: unknown to the model
        return f"argparse.Namespace({', '.join(parts)})"
    if isinstance(v, tuple):
        inner = ", ".join(_render(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(_render(x) for x in v) + "]"
    if isinstance(v, dict) and type(v).__name__ == "YacsConfig":  # lint/yacsflow.py: items are attributes too
        return f"yacs.config.CfgNode({_render(_plain(v))})"
    if isinstance(v, dict):  # an entry the analysis cannot know (a config's computed one) is a hole
        return "{" + ", ".join(f"{k!r}: {'...' if x is _Unknown else _render(x)}" for k, x in v.items()) + "}"
    if v is _Unknown:
        raise _Unknown
    if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
        raise _Unknown
    return repr(v)
