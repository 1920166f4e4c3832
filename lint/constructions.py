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

The static evaluation (reading the files, ``_FileEval``) is staticeval.py's. Every file read is
told to core/project.py's READ_HOOK, so cached results follow those files. Only the standard library's ``ast`` is used here (cheap; no libcst, no torch).
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, replace
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from . import cmdlines
from .argspaces import Resolver
from .pyflow import imports_of
from . import staticeval
from . import yacsflow  # noqa: F401 - registers its hook (yacs trees a script builds)
from .staticeval import (_EXTERNAL, _SKIP_DIRS, HOOKS, MARKDOWN_PYTHON, MAX_FILES, _FileEval, _notify, _parsed,
                         _read, _render, _tree, _Unknown, option_worlds)

MAX_CONSTRUCTIONS = 8  # per class or factory
MAX_SCRIPTS = 50  # .py files of a folder read to decide whether it imports the model folder


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
    # the option values of the command line that builds it this way, when not the defaults:
    # "net='small'" (a branch on that option guards the construction; staticeval.option_worlds)
    options: str = ""
    # built with the options of a command line the project documents (README, a shell script)
    documented: bool = False
    # built by the project's run with its defaults (not under another option value, or under a
    # branch those defaults decide against: `elif self.dataset == 'Both': G = Generator(64, 15)`)
    default_run: bool = True


_MARKERS = (".git", ".hg", "setup.py", "setup.cfg", "pyproject.toml")


def _model_namespace(model_path: str) -> Optional[Tuple[Set[str], Dict[str, Optional[str]]]]:
    """The model file's module-level names and its imports (local name -> dotted name), for
    model arguments written as code it evaluates (_model_code)."""
    parsed = _parsed(model_path)
    if parsed is None:
        return None
    tree = parsed[1]
    names: Set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names, imports_of(tree)


def _within_project(root: str, model_path: str) -> str:
    """``root`` (the top of the model file's package), or the nearest folder above the model file
    holding a project's marker when that lies below ``root``: a repository whose top folder has an
    ``__init__.py`` is still one project, never a scan of the folder of repositories around it."""
    root = os.path.abspath(root)
    d = os.path.dirname(os.path.abspath(model_path))
    while d.startswith(root + os.sep):
        if any(os.path.exists(os.path.join(d, m)) for m in _MARKERS):
            return d
        d = os.path.dirname(d)
    return root


def _scan_root(root: str, model_path: str = "") -> str:
    """Where the project that builds the models of ``root`` begins: ``root``, or, for a folder
    without ``__init__.py`` that scripts beside it import as a package (``cifar10_models/`` and
    ``from cifar10_models.vgg import vgg11_bn`` in ``module.py``, a namespace package), the folder
    holding those scripts; up to two levels, never past a project's marker (.git, pyproject.toml...).
    Two levels up, the scripts may import the folder by its dotted path (``source/models/`` and
    ``import source.models.dcgan as models`` in ``dcgan.py``)."""
    start = d = _within_project(root, model_path) if model_path else os.path.abspath(root)
    best = d
    for _ in range(2):
        if any(os.path.exists(os.path.join(d, m)) for m in _MARKERS):
            break
        parent, name = os.path.dirname(d), os.path.basename(d)
        if parent == d or not name.isidentifier():
            break
        try:
            scripts = sorted(f for f in os.listdir(parent) if f.endswith(".py"))[:MAX_SCRIPTS]
        except OSError:
            break
        dotted = os.path.relpath(start, parent).replace(os.sep, ".")
        names = [re.escape(name)] if best == d else []
        if all(part.isidentifier() for part in dotted.split(".")):
            names.append(re.escape(dotted))
        if not names:
            break
        pat = re.compile(rf"^\s*(from|import)\s+({'|'.join(names)})\b", re.M)
        for f in scripts:
            got = _read(os.path.join(parent, f))
            if got is not None and pat.search(got[0]):
                best = parent
                break
        if best != parent and best == d == start and model_path and _path_added(parent, d, model_path):
            best = parent
        d = parent
    return best


def _path_added(parent: str, lib: str, model_path: str) -> bool:
    """A folder of scripts beside ``lib`` (HRNet's ``tools/``) that puts ``lib`` on ``sys.path``
    (``tools/_init_paths.py``: ``add_path(osp.join(this_dir, '..', 'lib'))``) and imports the model
    file's top package from there (``import models``): the project is ``parent``."""
    rel = os.path.relpath(os.path.abspath(model_path), lib).split(os.sep)
    if len(rel) < 2 or not rel[0].isidentifier():
        return False
    pat = re.compile(rf"^\s*(from|import)\s+{re.escape(rel[0])}\b", re.M)
    base = os.path.basename(lib)
    try:
        subs = sorted(x for x in os.listdir(parent) if os.path.isdir(os.path.join(parent, x)) and
                      x not in _SKIP_DIRS and not x.startswith(".") and x != base)
    except OSError:
        return False
    for sub in subs[:MAX_SCRIPTS]:
        folder = os.path.join(parent, sub)
        try:
            scripts = sorted(f for f in os.listdir(folder) if f.endswith(".py"))[:MAX_SCRIPTS]
        except OSError:
            continue
        texts = [t[0] for t in (_read(os.path.join(folder, f)) for f in scripts) if t is not None]
        adds = any("sys.path" in t and re.search(rf"['\"/]{re.escape(base)}['\"/]", t) for t in texts)
        if adds and any(pat.search(t) for t in texts):
            return True
    return False


def _candidate_files(root: str, model_path: str) -> List[str]:
    out: List[str] = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x not in _SKIP_DIRS and not x.startswith("."))
        for f in sorted(files):
            if f.endswith(".py") or _is_readme(f):  # a README's Python examples build models too
                p = os.path.join(d, f) + (MARKDOWN_PYTHON if _is_readme(f) else "")
                if os.path.abspath(p) != model_path:
                    out.append(p)
                    if len(out) >= MAX_FILES:
                        return out
    return out


def _is_readme(name: str) -> bool:
    """A project's README in Markdown (README.md, readme.markdown): its fenced Python examples
    (``model = EfficientNet.from_name('efficientnet-b0')``) are read as a script (staticeval._read)."""
    stem, ext = os.path.splitext(name)
    return stem.lower() == "readme" and ext.lower() in (".md", ".markdown")


def find_constructions(model_path: str, root: Optional[str], names: Iterable[str],
                       module_stems: Iterable[str] = ()) -> Dict[str, List[Construction]]:
    """Calls of ``names`` (classes and factories of the model file) in other files under ``root``,
    rewritten with their static values."""
    names = set(names)
    if not names or not model_path:
        return {}
    model_path = os.path.abspath(model_path)
    root = _scan_root(root or os.path.dirname(model_path), model_path)
    stem = os.path.splitext(os.path.basename(model_path))[0]
    if stem == "__init__":
        stem = os.path.basename(os.path.dirname(model_path))
    here = os.path.dirname(model_path)
    model_dirs = set()
    d = here
    while d.startswith(root) and d != root:
        model_dirs.add(os.path.basename(d))
        d = os.path.dirname(d)
    files = _candidate_files(root, model_path)
    selectable = _selectable(model_path, names)
    got = _read(model_path)
    staticeval.NAMESPACE_ATTRS = set(re.findall(r"\.([A-Za-z_]\w*)", got[0])) if got else set()
    aliases = _package_aliases(here, stem, names)
    try:
        found = _find(model_path, root, names | set(aliases), stem, here, model_dirs, files, selectable)
    finally:
        staticeval.NAMESPACE_ATTRS = None
        staticeval.YACS_ACTIVE = False
    out: Dict[str, List[Construction]] = {}
    for name, cs in found.items():
        real = aliases.get(name)
        if real is None or name in names:
            out.setdefault(name, []).extend(cs)
            continue
        # `getattr(models, 'condensenet')(args)` where models/__init__.py has
        # `from .condensenet import CondenseNet as condensenet`: a construction of CondenseNet
        for c in cs:
            if c.text.startswith(name + "("):
                out.setdefault(real, []).append(replace(c, name=real, text=real + c.text[len(name):]))
    return out


def _package_aliases(here: str, stem: str, names: Set[str]) -> Dict[str, str]:
    """``alias -> class`` for the package ``__init__.py`` beside the model file re-exporting its
    classes under other names (``from .condensenet import CondenseNet as condensenet``)."""
    init = os.path.join(here, "__init__.py")
    parsed = _parsed(init) if os.path.isfile(init) else None
    if parsed is None:
        return {}
    out: Dict[str, str] = {}
    for node in parsed[1].body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == stem:
            for a in node.names:
                if a.asname and a.name in names and a.asname != a.name:
                    out[a.asname] = a.name
    return out


def _find(model_path: str, root: str, names: Set[str], stem: str, here: str, model_dirs: Set[str],
          files: List[str], selectable: Dict[str, ast.FunctionDef]) -> Dict[str, List[Construction]]:
    out: Dict[str, List[Construction]] = {}
    seen: Set[Tuple[str, str]] = set()
    resolver = Resolver(root, files, _parsed, lambda t, p: _FileEval(t, set(), "", resolver=resolver, path=p))
    factory_files: Optional[List[str]] = None
    documented = cmdlines.documented(root, [os.path.abspath(p) for p in files])
    model_ctx = _model_namespace(model_path)
    staticeval.YACS_ACTIVE = any(t is not None and ("yacs" in t[0] or "merge_from_file" in t[0])
                                 for t in (_read(p) for p in files if p.endswith(".py")))
    for path in files:
        _notify(os.path.abspath(path), True, True)
        got = _read(path)
        if got is None:
            continue
        text, trees = got
        lines = documented.get(os.path.abspath(path), [])
        if not any(n in text for n in names) and not (selectable and "__dict__[" in text) and \
                not (lines and any(n in a for n in names for argv, _ in lines for a in argv)):
            continue
        parsed = _parsed(path)
        if parsed is None:
            continue
        tree = parsed[1]
        fe = _FileEval(tree, names, stem, model_dirs, resolver=resolver, path=path)
        fe.selectable = set(selectable)
        fe.model_ctx = model_ctx
        # a package __init__ next to (or above) the model file re-exports its names
        init_ok = os.path.basename(path) == "__init__.py" and model_path.startswith(os.path.dirname(path) + os.sep)
        where_base = os.path.relpath(path, here).replace(MARKDOWN_PYTHON, "")
        commands = _command_worlds(tree, lines, fe.imported_arguments)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            for name in _called_names(node, fe) + _named_by_commands(node, commands):
                if name not in names:
                    continue
                head = name.split(".")[0]  # EfficientNet of EfficientNet.from_name
                if head in fe.defined:
                    continue  # the file's own class of that name
                if head != name and not isinstance(node.func, ast.Attribute):
                    continue  # Class.method only as written, not through a table of names
                if not (head in fe.imported_model_names or _module_attr(node.func, stem) or
                        _module_alias(fe, node.func, stem) or _dict_call(node.func) or init_ok or
                        _class_table_selects(fe, node.func, name, stem) or
                        _eval_in_package(fe, node.func, name, model_dirs)):
                    continue
                if isinstance(node.func, ast.Call) and not _exports(fe, node.func, path, model_path, stem) and \
                        not (_eval_key(node.func) is not None and name in fe.imported_model_names) and \
                        not _eval_in_package(fe, node.func, name, model_dirs):
                    continue  # getattr(x, name)(...): only of the model file's own package or module
                if _dict_call(node.func) and name in selectable and not _written(fe, node.func, name) and \
                        not (_exports(fe, node.func, path, model_path, stem) and _binds(selectable[name], node)):
                    continue  # another package's `models.__dict__` (models.cifar vs models/imagenet/), or a
                    # call the factory's signature refuses
                scope = fe._scope(node)
                callers = _callers(fe, scope, path, resolver)
                for caller in callers:
                    cmds = commands
                    clines = documented.get(os.path.abspath(caller[0]), []) if caller is not None else []
                    if clines and caller is not None:
                        # a factory the script calls (create_model(config) in train.py): the command
                        # lines the project documents for that script configure it too
                        cfe = resolver._eval(caller[0], caller[1])
                        cmds = commands + [c for c in _command_worlds(caller[1], clines, cfe.imported_arguments)
                                           if c not in commands]
                    factory_files = _in_caller(fe, scope, caller, len(callers) > 1, factory_files, where_base, node,
                                               out, seen, name, text, path, root, here, files, cmds)
    _own_file(model_path, root, here, names, stem, model_dirs, out)
    return out


MAX_CALLERS = 4  # calls of a factory function followed one by one (_callers)


def _callers(fe: _FileEval, scope, path: str, resolver: Resolver) -> List[Optional[Tuple[str, ast.Module, ast.Call]]]:
    """The calls of the module-level function holding a construction (``def create_model(name,
    num_classes, in_channels)``) that pass it a parameter the construction reads, each followed on
    its own: train_cifar10.py's ``in_channels=3`` and train_speech_commands.py's ``1`` are two
    configurations. [None]: the construction alone (no such function, or no call found)."""
    if not (isinstance(scope, ast.FunctionDef) and scope in fe.tree.body and
            (scope.args.args or scope.args.posonlyargs)):
        return [None]
    memo = fe.__dict__.setdefault("_callers", {})  # one search per function, not per construction in it
    if id(scope) not in memo:
        own = {id(n) for n in ast.walk(scope)}
        memo[id(scope)] = [c for c in resolver._calls_of(scope, path) if id(c[2]) not in own][:MAX_CALLERS]
    return list(memo[id(scope)]) or [None]  # type: ignore[arg-type]


def _in_caller(fe: _FileEval, scope, caller, named: bool, factory_files, where_base: str, node: ast.Call,
               out: Dict[str, List[Construction]], seen: Set[Tuple[str, str, str]], name: str, text: str,
               path: str, root: str, here: str, files: List[str], commands) -> Optional[List[str]]:
    """The constructions of ``node`` under each option world, for one call of its function
    (``caller``: (file, tree, call), or None; ``named``: the call is one of several, named in
    the construction's place). Returns the factory files for the next construction."""
    where = f"{where_base}:{node.lineno}"
    outer_files = factory_files
    if caller is not None:
        cpath, ctree, ccall = caller
        staticeval.CALLERS[id(scope)] = (fe.resolver._eval(cpath, ctree), ccall)  # type: ignore[union-attr]
        factory_files = [os.path.abspath(cpath)]  # what that script feeds the model it gets
        if named:
            where = f"{where} called from {os.path.relpath(cpath, here)}:{ccall.lineno}"
    try:
        base = [{}] + option_worlds(fe, node)
        worlds = [(w, "") for w in base] + commands
        reads: Set[str] = set()  # the options the construction's arguments read
        wi, extended = 0, False  # the next world to try
        while True:
            if wi == len(worlds):
                passed = _passed_options(fe, node) & reads
                if extended or not passed:
                    break
                # an option the call hands the model itself (PyramidNet's train.py:
                # ResNet(args.dataset, ...), the model branching on `dataset.startswith('cifar')`):
                # the values the script compares it with are configurations too, each with the
                # data the script's own branches give it (the default 'imagenet' builds another
                # network than `--dataset cifar10`, the value `if args.dataset == 'cifar10':` names)
                extended = True
                worlds += [(w, "") for w in _compared_worlds(fe, passed, base)]
                continue
            world, documented_line = worlds[wi]
            wi += 1
            staticeval.WORLD = world
            if documented_line:
                staticeval.TYPED_WORLD = set(world)
            try:
                reached = _reached(fe, node, scope)
                if documented_line and not reached:
                    continue  # a branch this command line decides against
                if not _eval_selects(fe, node.func, scope, name):
                    continue  # eval('models.' + cfg.MODEL.NAME + ...) names another module here
                built = _built(fe, node, name, scope, text, path, root, here, files, factory_files)
            finally:
                staticeval.WORLD = {}
                staticeval.TYPED_WORLD = set()
            reads |= fe.call_reads
            if built is None:
                continue
            text_, from_options, fed, factory_files, used = built
            if world and not fed and not documented_line:
                continue  # a command line's construction counts when that run feeds it data
            for inputs, origin in fed or [(None, None)]:
                c = Construction(
                    name, text_, where, inputs, from_options, input_from=origin,
                    options=_world_text(fe, used) + (f" ({documented_line})" if documented_line else ""),
                    documented=bool(documented_line),
                    default_run=not world and reached and not _world_text(fe, used))
                if (name, text_, inputs) in seen:
                    # the option value tried alone, then a documented line giving the same:
                    # the line's construction is kept (its message names the line)
                    if documented_line:
                        olds = out.get(name, [])
                        for i, o in enumerate(olds):
                            if (o.text, o.inputs) == (text_, inputs) and not o.documented and \
                                    not o.default_run and o.where == c.where:
                                olds[i] = c
                    continue
                if len(out.get(name, ())) >= MAX_CONSTRUCTIONS:
                    continue
                seen.add((name, text_, inputs))
                out.setdefault(name, []).append(c)
    finally:
        staticeval.CALLERS.pop(id(scope), None)
    return outer_files if caller is not None else factory_files


def _passed_options(fe: _FileEval, node: ast.Call) -> Set[str]:
    """The argparse options a call passes as arguments themselves (``ResNet(args.dataset, ...)``)."""
    out: Set[str] = set()
    for a in list(node.args) + [k.value for k in node.keywords if k.arg is not None]:
        if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.attr in fe.defaults:
            out.add(a.attr)
    return out


MAX_COMPARED_OPTIONS = 2  # options whose compared values are tried (_compared_worlds)
MAX_COMPARED_WORLDS = 6


def _compared_worlds(fe: _FileEval, reads: Set[str], base: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each world of ``base`` with one option the construction's arguments read set to a value the
    file compares it with (``args.dataset == 'cifar10'``, ``args.depth in (110, 164)``), other
    than its default and the world's. Whether the option can take the value is the evaluation's to
    decide (_world_value: its choices, its default's type); a world counts only where the
    construction is fed an input (_in_caller)."""
    values: Dict[str, List[Any]] = {}
    for n in ast.walk(fe.tree):
        if not (isinstance(n, ast.Compare) and len(n.ops) == 1):
            continue
        left, right, op = n.left, n.comparators[0], n.ops[0]
        if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(left, ast.Constant):
            left, right = right, left
        if not (isinstance(left, ast.Attribute) and isinstance(left.value, ast.Name) and left.attr in reads):
            continue
        if isinstance(op, (ast.Eq, ast.NotEq)):
            vals = [right]
        elif isinstance(op, (ast.In, ast.NotIn)) and isinstance(right, (ast.Tuple, ast.List, ast.Set)):
            vals = list(right.elts)
        else:
            continue
        for v in vals:
            if isinstance(v, ast.Constant) and isinstance(v.value, (str, int)) and not isinstance(v.value, bool):
                got = values.setdefault(left.attr, [])
                if v.value not in got and v.value != fe.defaults.get(left.attr, _Unknown):
                    got.append(v.value)
    out: List[Dict[str, Any]] = []
    for attr in sorted(values)[:MAX_COMPARED_OPTIONS]:
        for w in base:
            for v in values[attr]:
                if attr in w:
                    continue  # the branch around the call decides it
                nw = dict(w, **{attr: v})
                if nw not in out:
                    out.append(nw)
    return out[:MAX_COMPARED_WORLDS]


def _command_worlds(tree: ast.Module, lines: List[Tuple[List[str], str]],
                    imported: List[ast.Call]) -> List[Tuple[Dict[str, Any], str]]:
    """(option values, 'README.md:12') of each command line the project documents for this script
    (README, shell scripts: lint/cmdlines.py), parsed as its argparse would; lines it would refuse
    are left out."""
    out: List[Tuple[Dict[str, Any], str]] = []
    for argv, where in lines:
        w = cmdlines.world(tree, argv, imported)
        if w and all(w != o for o, _ in out):
            out.append((w, where))
    return out


def _named_by_commands(call: ast.Call, commands: List[Tuple[Dict[str, Any], str]]) -> List[str]:
    """The names documented command lines give the option a ``models.__dict__[args.model]`` /
    ``getattr(models, args.model)`` call is indexed by (``--model condensenet_converted``)."""
    parts = _dict_parts(call.func)
    key = parts[1] if parts else _eval_key(call.func)
    if not (isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name)):
        return []
    return list(dict.fromkeys(v for w, _ in commands for v in [w.get(key.attr)] if isinstance(v, str)))


def _reached(fe: _FileEval, node: ast.AST, scope) -> bool:
    """Whether the branches around ``node`` (in its function or module) let the current WORLD's
    run reach it."""
    try:
        return fe.reachable(node, scope)
    except _Unknown:
        return True


def _built(fe: _FileEval, node: ast.Call, name: str, scope, text: str, path: str, root: str, here: str,
           files: List[str], factory_files: Optional[List[str]]):
    """``node``'s construction with static values (under the current WORLD), and what the project
    feeds it: (text, from_options, [(inputs, origin)], factory_files, the option values used), or None."""
    fe.override = _selected(node.func, fe, name)
    outer = staticeval.WORLD
    if staticeval.TYPED_WORLD and any(k in outer and outer[k] != v for k, v in fe.override.items()):
        fe.override = {}
        return None  # a documented line naming another model (`--arch vgg_16_bn`)
    fe.read_options = bool(fe.override)
    staticeval.WORLD = {**outer, **fe.override}  # the data flow below sees the same --arch
    try:
        return _built_in_world(fe, node, name, scope, text, path, root, here, files, factory_files)
    finally:
        staticeval.WORLD = outer
        fe.override = {}


def _built_in_world(fe: _FileEval, node: ast.Call, name: str, scope, text: str, path: str, root: str, here: str,
                    files: List[str], factory_files: Optional[List[str]]):
    try:
        if (_dict_call(node.func) or _eval_key(node.func) is not None) and not fe.reachable(node, scope):
            # the name is the one argparse selects, under a branch the same values
            # decide against (`if args.arch.startswith('resnext')` with arch 'resnet');
            # a call naming its class is kept whatever flag guards it
            return None
    except _Unknown:
        return None
    staticeval.OPTION_READS.clear()
    text_ = _call_text(fe, node, name, scope)
    fe.call_reads = set(staticeval.OPTION_READS)
    if text_ is None:
        return None
    from_options = fe.read_options
    if factory_files is None and isinstance(scope, ast.FunctionDef):
        factory_files = [os.path.abspath(p) for p in files]
    staticeval.OPTION_READS.clear()
    fed = _fed(fe, node, scope, text, path, root, here, factory_files)
    if not fed and _only_holes(text_):
        return None  # nothing known and nothing fed: the class's own symbolic construction says as much
    chosen = {k: v for k, v in staticeval.WORLD.items() if fe.defaults.get(k, _Unknown) != v}
    if fed and chosen and not staticeval.TYPED_WORLD:  # a documented line's other options are its defaults
        # a command line choosing this model (`--arch vgg_w`): the other options the inputs read
        # keep their defaults; one that chooses between alternatives (`--dataset` with choices)
        # must give this model the same input whichever it takes, else which pairs with which is
        # the authors' to say
        others = {k: c for k, c in staticeval.OPTION_READS.items() if k not in staticeval.WORLD and c and len(c) > 1}
        outer = staticeval.WORLD
        try:
            for k, choices in list(others.items())[:3]:
                for c in choices:
                    staticeval.WORLD = {**outer, k: c}
                    if [i for i, _ in _fed(fe, node, scope, text, path, root, here, factory_files)] != \
                            [i for i, _ in fed]:
                        return None
        finally:
            staticeval.WORLD = outer
    return text_, from_options or bool(staticeval.WORLD), fed, factory_files, dict(staticeval.WORLD)


def _fed(fe: _FileEval, node: ast.Call, scope, text: str, path: str, root: str, here: str,
         factory_files: Optional[List[str]]) -> List[Tuple[Any, Optional[str]]]:
    """The inputs the project feeds the model ``node`` builds (under the current WORLD)."""
    fed: List[Tuple[Any, Optional[str]]] = [(i, None) for i in _fed_inputs(fe, node, scope)]
    if "DataLoader" in text or "loader" in text or "LightningModule" in text:
        fed += _data_inputs(fe, node, scope, os.path.abspath(path), root, here)
    if not fed and isinstance(scope, ast.FunctionDef):  # `net = get_network(args)` elsewhere
        fed += _data_inputs(fe, node, scope, os.path.abspath(path), root, here, factory_files)
    return fed


def _world_text(fe: _FileEval, world: Dict[str, Any]) -> str:
    """"net='small'": the option values that differ from the defaults."""
    return ", ".join(f"{k}={v!r}" for k, v in world.items()
                     if fe.defaults.get(k, _Unknown) != v and not isinstance(v, staticeval.CommandUnknown))


def _written(fe: _FileEval, f: ast.Subscript, name: str) -> bool:
    """``name`` is the option's default or one of its literal choices: the script names it."""
    sl = (_dict_parts(f) or (None, None))[1]
    if not (isinstance(sl, ast.Attribute) and isinstance(sl.value, ast.Name)):
        return True
    return fe.defaults.get(sl.attr) == name or name in fe.choices.get(sl.attr, ())


def _exports(fe: _FileEval, f: ast.Subscript, path: str, model_path: str, stem: str) -> bool:
    """``models.__dict__`` (``import models.cifar as models``) is the package the model file sits
    in, and its ``__init__`` imports the model's module: ``models.__dict__[name]`` is the file's."""
    base = (_dict_parts(f) or (None, None))[0]
    if not isinstance(base, ast.Name):
        return False
    if _imported_module(fe, f) is not None:
        return True  # importlib.import_module(...): which module, each run's _eval_selects decides
    dotted = imports_of(fe.tree).get(base.id)
    if not dotted:
        return False
    pkg = os.path.join(os.path.dirname(os.path.abspath(path)), *dotted.split("."))
    if os.path.abspath(pkg) + ".py" == model_path:
        return True  # `import vgg` ... `vgg.__dict__[args.arch]`: the model file's own names
    if os.path.dirname(model_path) != os.path.abspath(pkg):
        return False
    init = _read(os.path.join(pkg, "__init__.py"))
    return init is not None and re.search(rf"^\s*from\s+(\.|{re.escape(dotted)}\.){re.escape(stem)}\s+import\b",
                                          init[0], re.M) is not None


def _selectable(model_path: str, names: Set[str]) -> Dict[str, ast.FunctionDef]:
    """The model file's factory functions a ``from .vgg import *`` in its package exports (its
    ``__all__``, else its public ones): what ``--arch NAME`` may name besides what the script
    writes. Classes are left out: they are the blocks (``--arch Bottleneck`` is no command line
    anyone runs) or need arguments only a factory gives."""
    got = _parsed(model_path)
    if got is None:
        return {}
    listed: Optional[Any] = None
    for s in got[1].body:
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in s.targets):
            try:
                listed = ast.literal_eval(s.value)
            except (ValueError, TypeError, SyntaxError, RecursionError):
                return {}
    out: Dict[str, ast.FunctionDef] = {}
    for s in got[1].body:
        if s.name in names if isinstance(s, (ast.FunctionDef, ast.ClassDef)) else False:
            if not (s.name in listed if listed is not None else not s.name.startswith("_")):
                continue
            if isinstance(s, ast.FunctionDef):
                out[s.name] = s
            elif isinstance(s, ast.ClassDef) and s.name.islower():
                # a lower-case class is named like the factories (`vgg`, `resnet` in
                # network-slimming): the zoo's convention (`name.islower()` in model_names) for
                # what --arch selects; its __init__ is the signature (none: no arguments)
                init = [b for b in s.body if isinstance(b, ast.FunctionDef) and b.name == "__init__"]
                out[s.name] = init[0] if init else ast.FunctionDef(
                    name="__init__", args=ast.arguments(posonlyargs=[], args=[ast.arg("self")], vararg=None,
                                                        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
                    body=[], decorator_list=[])
    return out


def _binds(fn: ast.FunctionDef, call: ast.Call) -> bool:
    """``call``'s arguments fill ``fn``'s parameters (else the command line raises TypeError);
    a class's ``__init__`` without its ``self``."""
    a = fn.args
    params = [p.arg for p in a.posonlyargs + a.args]
    if fn.name == "__init__" and params:
        params = params[1:]
    if len(call.args) > len(params) and a.vararg is None:
        return False
    given = set(params[:len(call.args)]) | {k.arg for k in call.keywords if k.arg}
    known = set(params) | {p.arg for p in a.kwonlyargs}
    if a.kwarg is None and not {k.arg for k in call.keywords if k.arg} <= known:
        return False
    required = params[:max(len(params) - len(a.defaults), 0)] + \
        [p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None]
    return all(r in given for r in required)


_DICT_CHANGES = {"update", "pop", "setdefault", "clear", "popitem", "__setitem__"}
HOLE = "..."  # an argument the project computes from what only runs know (data, files, regexes)


def _call_text(fe: _FileEval, node: ast.Call, name: str, scope) -> Optional[str]:
    """``name(...)`` with the call's arguments as static values, or None. An argument the
    project computes from its data (``vocab_size=len(vocab)``, a rate list parsed by regexes) is
    a hole, written ``...``: the model is built with that argument unknown (a symbolic size when
    the parameter is one), so what holds for every value is still checked. ``**params`` of a
    dict the file writes is spread into keywords, its unknown values holes too."""
    parts: List[str] = []

    def render(expr) -> str:
        try:
            return _render(fe.value(expr, scope))
        except _Unknown:
            code = _model_code(fe, expr, scope)
            return code if code is not None else HOLE

    for a in node.args:
        if isinstance(a, ast.Starred):
            return None
        parts.append(render(a))
    for k in node.keywords:
        if k.arg is not None:
            parts.append(f"{k.arg}={render(k.value)}")
            continue
        spread = _spread(fe, k.value, scope)
        if spread is None:
            return None
        for key, expr in spread:
            parts.append(f"{key}={render(expr)}")
    return f"{name}({', '.join(parts)})"


_MODEL_BUILTINS = {"list", "tuple"}  # calls a model argument may go through: list(vgg.children())[:31]


def _model_code(fe: _FileEval, expr: ast.expr, scope, depth: int = 0) -> Optional[str]:
    """A model passed to a construction (``net.Net(vgg, decoder)`` after ``decoder = net.decoder``
    and ``vgg = nn.Sequential(*list(net.vgg.children())[:31])``), as code the model file can
    evaluate in its own namespace: names of the model file, torch calls under the alias the model
    file imports torch by, the script's variables replaced by what they hold, static values. None
    when any part means something else there (an object of the script, an alias the model file
    lacks): the argument stays a hole. The code must name the model file or torch.nn."""
    ctx = fe.model_ctx
    if ctx is None:
        return None
    found = _code(fe, expr, scope, ctx, depth)
    return found[0] if found is not None and found[1] else None


def _code(fe: _FileEval, expr: ast.expr, scope, ctx, depth: int) -> Optional[Tuple[str, bool]]:
    """(code, whether it builds or names a model) for _model_code, or None."""
    if depth > 10:
        return None
    model_globals, model_imports = ctx
    if isinstance(expr, ast.Name):
        if expr.id in fe.imported_model_names and expr.id not in fe.defined and not fe._bound(expr.id, scope):
            return expr.id, True
        if expr.id in fe.model_aliases and not fe._bound(expr.id, scope):
            return fe.model_aliases[expr.id], True
        try:
            values = fe._binding(expr.id, scope)
        except _Unknown:
            return None
        if not values:
            return None
        if len(values) > 1:
            try:
                got = fe._reaching(expr)
            except _Unknown:
                return None
            return _code(fe, got, fe._scope(got), ctx, depth + 1)
        if values[0] is None:
            return None
        return _code(fe, values[0], fe._owner(expr.id, scope), ctx, depth + 1)
    if isinstance(expr, ast.Attribute):
        if isinstance(expr.value, ast.Name) and not fe._bound(expr.value.id, scope):
            full = imports_of(fe.tree).get(expr.value.id)
            if full and (full.split(".")[-1] == fe.model_stem or expr.value.id == fe.model_stem):
                # `net.decoder`: a module-level name of the model file
                return (expr.attr, True) if expr.attr in model_globals else None
            if full and full.split(".")[0] == "torch" and model_imports.get(expr.value.id) == full:
                return f"{expr.value.id}.{expr.attr}", expr.attr[:1].isupper()  # nn.Sequential
        base = _code(fe, expr.value, scope, ctx, depth + 1)
        if base is None or not base[1]:
            return None
        return f"{base[0]}.{expr.attr}", True  # an attribute of a model: vgg.features
    if isinstance(expr, ast.Call):
        if isinstance(expr.func, ast.Name) and expr.func.id in _MODEL_BUILTINS and not fe._bound(expr.func.id, scope):
            func: Optional[Tuple[str, bool]] = (expr.func.id, False)
        else:
            func = _code(fe, expr.func, scope, ctx, depth + 1)
        if func is None:
            return None
        parts, model = [], func[1]
        for a in expr.args:
            star = isinstance(a, ast.Starred)
            got = _argument_code(fe, a.value if star else a, scope, ctx, depth)  # type: ignore[attr-defined]
            if got is None:
                return None
            parts.append(("*" if star else "") + got[0])
            model = model or got[1]
        for k in expr.keywords:
            got = _argument_code(fe, k.value, scope, ctx, depth)
            if got is None:
                return None
            parts.append((f"{k.arg}=" if k.arg else "**") + got[0])
            model = model or got[1]
        return f"{func[0]}({', '.join(parts)})", model
    if isinstance(expr, ast.Subscript):
        base = _code(fe, expr.value, scope, ctx, depth + 1)
        if base is None:
            return None
        sl = expr.slice
        try:
            if isinstance(sl, ast.Slice):
                bounds = [fe.value(b, scope) if b is not None else None for b in (sl.lower, sl.upper, sl.step)]
                if not all(b is None or isinstance(b, int) and not isinstance(b, bool) for b in bounds):
                    return None
                text = ":".join("" if b is None else str(b) for b in bounds[:2]) + \
                    (f":{bounds[2]}" if bounds[2] is not None else "")
            else:
                key = fe.value(sl, scope)
                if not isinstance(key, (int, str)) or isinstance(key, bool):
                    return None
                text = repr(key)
        except _Unknown:
            return None
        return f"{base[0]}[{text}]", base[1]
    return None


def _argument_code(fe: _FileEval, expr: ast.expr, scope, ctx, depth: int) -> Optional[Tuple[str, bool]]:
    try:
        return _render(fe.value(expr, scope)), False
    except _Unknown:
        return _code(fe, expr, scope, ctx, depth + 1)


def _only_holes(text: str) -> bool:
    """``TinyVAE(...)``, ``Net(params=...)``: a construction whose every argument is a hole."""
    try:
        call = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    if not isinstance(call, ast.Call):
        return False
    values = list(call.args) + [k.value for k in call.keywords]
    return bool(values) and all(isinstance(v, ast.Constant) and v.value is Ellipsis for v in values)


def _spread(fe: _FileEval, expr: ast.expr, scope) -> Optional[List[Tuple[str, ast.expr]]]:
    """``**params`` where ``params`` is one dict literal of the function or module (string keys),
    never changed but by ``params['k'] = v`` statements: (key, value expression) pairs, or None."""
    if isinstance(expr, ast.Dict):
        d = expr
    elif isinstance(expr, ast.Name):
        try:
            bound = fe._binding(expr.id, scope)
        except _Unknown:
            return None
        if not bound or len(bound) != 1 or not isinstance(bound[0], ast.Dict) or fe.is_patched(expr.id, scope):
            return None  # params['k'] = v stores patch it
        if any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _DICT_CHANGES
               and isinstance(n.func.value, ast.Name) and n.func.value.id == expr.id for n in ast.walk(fe.tree)):
            return None
        d = bound[0]
    else:
        return None
    if any(k is None or not isinstance(k, ast.Constant) or not isinstance(k.value, str) for k in d.keys):
        return None
    return [(k.value, v) for k, v in zip(d.keys, d.values)]  # type: ignore[union-attr]


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
        if f.id in fe.model_aliases and not fe._bound(f.id, fe._scope(call)):
            return [fe.model_aliases[f.id]]  # create_model(...), imported `as create_model`
        return [f.id]
    if isinstance(f, ast.Attribute):
        owner = f.value.attr if isinstance(f.value, ast.Attribute) else f.value.id if isinstance(f.value, ast.Name) else None
        if owner is not None and owner[:1].isupper():
            return [f"{owner}.{f.attr}", f.attr]  # EfficientNet.from_name(...): a classmethod building one
        return [f.attr]
    parts = _dict_parts(f)
    if parts is not None:
        return fe.index_names(parts[1], fe._scope(call))
    key = _eval_key(f)
    if key is not None:
        got = [n for n in fe.index_names(key, fe._scope(call)) if n.isidentifier()]
        suffix = _dotted_suffix(key)
        return got + [suffix] if suffix is not None and suffix not in got else got
    return list(dict.fromkeys(n for n, _k, _v in _class_table(fe, f)))


def _dotted_suffix(key: ast.expr) -> Optional[str]:
    """``eval('models.' + cfg.MODEL.NAME + '.get_pose_net')``: the name the string ends in, written
    in the code (which module it is taken from depends on the configuration: _eval_selects)."""
    while isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add):
        key = key.right
    if isinstance(key, ast.Constant) and isinstance(key.value, str) and "." in key.value:
        tail = key.value.rsplit(".", 1)[1]
        return tail if tail.isidentifier() else None
    return None


def _eval_in_package(fe: _FileEval, f: ast.expr, name: str, model_dirs: Set[str]) -> bool:
    """``eval('models.' + cfg.MODEL.NAME + '.get_pose_net')`` in a file that imports ``models``,
    the package holding the model file: a construction of the module the string names."""
    key = _eval_key(f)
    if key is None or _dotted_suffix(key) != name:
        return False
    while isinstance(key, ast.BinOp) and isinstance(key.op, ast.Add):
        key = key.left
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return False
    package = key.value.split(".")[0]
    return package in model_dirs and package in fe.imports


def _imported_module(fe: _FileEval, f: ast.expr) -> Optional[ast.expr]:
    """``getattr(module, 'Network')`` where ``module = importlib.import_module(E)`` is bound once in
    the same function: E (hysts' ``f'...models.{config.model.type}.{config.model.name}'``), else None."""
    base = (_dict_parts(f) or (None, None))[0]
    if not isinstance(base, ast.Name):
        return None
    values = fe._binding(base.id, fe._scope(f))
    if not values or len(values) != 1:
        return None
    v = values[0]
    if isinstance(v, ast.Call) and len(v.args) == 1 and not v.keywords and \
            (isinstance(v.func, ast.Attribute) and v.func.attr == "import_module" and
             isinstance(v.func.value, ast.Name) and fe.imports.get(v.func.value.id) == "importlib" or
             isinstance(v.func, ast.Name) and fe.imports.get(v.func.id) == "importlib.import_module"):
        return v.args[0]
    return None


def _eval_selects(fe: _FileEval, f: ast.expr, scope, name: str) -> bool:
    """Under the current command line, the ``eval`` naming the model (if it is one) names the
    model file's ``name``: ``'models.' + cfg.MODEL.NAME + '.get_pose_net'`` gives
    ``models.pose_hrnet.get_pose_net`` for pose_hrnet.py's get_pose_net, not pose_resnet.py's."""
    module = _imported_module(fe, f)
    if module is not None:  # importlib.import_module(E): E must name the model file's module
        try:
            m = fe.value(module, scope)
        except _Unknown:
            return False
        return isinstance(m, str) and m.rsplit(".", 1)[-1] == fe.model_stem
    key = _eval_key(f)
    if key is None:
        return True
    try:
        v = fe.value(key, scope)
    except _Unknown:
        return _dotted_suffix(key) is None  # `eval(args.arch)`: its names are index_names'
    if not isinstance(v, str):
        return False
    parts = v.split(".")
    return parts[-1] == name.split(".")[-1] and (len(parts) == 1 or parts[-2] == fe.model_stem)


def _selected(f, fe: _FileEval, name: str) -> Dict[str, Any]:
    """``models.__dict__[args.arch]`` selecting ``name``: ``{'arch': name}`` for the conditions;
    ``NETS[FLAGS.arch]`` of a table ``NETS = {'cnn32': models.Discriminator32}``: ``{'arch': 'cnn32'}``."""
    key = (_dict_parts(f) or (None, _eval_key(f)))[1]
    if isinstance(key, ast.Attribute) and isinstance(key.value, ast.Name) and key.value.id in fe.namespaces:
        return {key.attr: name}
    for n, k, _v in _class_table(fe, f):
        if n == name and isinstance(f, ast.Subscript) and isinstance(f.slice, ast.Attribute):
            return {f.slice.attr: k}  # the first key naming the class (one world per class)
        if n == name and isinstance(f, ast.Subscript) and isinstance(f.slice, ast.Name):
            # `models[model_name]()` in `def load(model_name)`, called `load(args.model)`
            return fe.__dict__.get("_param_worlds", {}).get((id(f), k), {})
    return {}


def _class_table(fe: _FileEval, f) -> List[Tuple[str, str, ast.expr]]:
    """``NETS[args.arch]`` where ``NETS = {'cnn32': models.Discriminator32, ...}`` is a module-level
    dict literal of the file, bound once and never changed, with string keys, indexed by an option
    (``args.arch``, absl's ``FLAGS.arch``): (class name, key, value) for each key the option accepts
    (its default, its literal choices; any when it has none, as absl's ``enum_values=NETS.keys()``)."""
    if not (isinstance(f, ast.Subscript) and isinstance(f.value, ast.Name) and (
            isinstance(f.slice, ast.Attribute) and isinstance(f.slice.value, ast.Name) and
            f.slice.value.id in fe.namespaces or _key_param(fe, f) is not None)):
        return []
    table = f.value.id
    bound = fe.assigns.get(id(fe.tree), {}).get(table, [])
    home = None
    if not bound and fe.resolver is not None:
        home = _imported_table(fe, table)  # `from models import model_dict`
        bound = [home[0]] if home is not None else []
    if len(bound) != 1 or not isinstance(bound[0], ast.Dict) or any(
            isinstance(fe._scope(n), ast.FunctionDef) for n in _name_stores(fe.tree, table)):
        return []
    d = bound[0]
    if fe.is_patched(table, fe.tree) or any(k is None or not isinstance(k, ast.Constant) or not isinstance(k.value, str)
                                            for k in d.keys):
        return []
    if home is not None:
        fe.__dict__.setdefault("_table_homes", {}).update({id(v): home[1] for v in d.values})
    if isinstance(f.slice, ast.Attribute):
        attr = f.slice.attr
        ns = fe.namespace_defaults(f.slice.value.id, fe._scope(f)) or {}  # type: ignore[attr-defined]
        passed = [(attr, ns.get(attr), fe.choices.get(attr))]
    else:
        passed = _key_param(fe, f) or []
    worlds = fe.__dict__.setdefault("_param_worlds", {})
    out = []
    for k, v in zip(d.keys, d.values):
        key = k.value  # type: ignore[union-attr]
        accepting = [(attr, value) for attr, value, choices in passed if value == key or
                     attr is not None and (choices is None or key in choices)]
        if not accepting:
            continue
        if isinstance(f.slice, ast.Name):
            attr = accepting[0][0]
            worlds[(id(f), key)] = {attr: key} if attr is not None else {}
        if isinstance(v, ast.Name):
            out.append((v.id, key, v))
        elif isinstance(v, ast.Attribute):
            out.append((v.attr, key, v))
    return out


def _key_param(fe: _FileEval, f: ast.Subscript) -> Optional[List[Tuple[Optional[str], Any, Any]]]:
    """``models[model_name]`` in ``def load(model_name)``, a module-level function no statement of
    which rebinds the parameter: what the project's calls of ``load`` pass as it, each as
    (option, value, choices): ``load('vgg9')`` gives (None, 'vgg9', None); ``load(args.model)``
    gives ('model', its default, its literal choices or None when any value is accepted)."""
    key = f.slice
    if not isinstance(key, ast.Name) or fe.resolver is None:
        return None
    scope = fe._scope(f)
    if not (isinstance(scope, ast.FunctionDef) and scope in fe.tree.body and
            key.id in [a.arg for a in scope.args.posonlyargs + scope.args.args] and
            key.id not in fe.assigns.get(id(scope), {})):
        return None
    memo = fe.__dict__.setdefault("_key_params", {})
    if id(f) not in memo:
        memo[id(f)] = fe.resolver.param_values(scope, key.id, fe.path) if fe.path else None
    return memo[id(f)]


def _imported_table(fe: _FileEval, table: str) -> Optional[Tuple[ast.Dict, ast.Module]]:
    """``from models import model_dict``: the module-level dict literal ``model_dict = {...}`` of
    that module of the project (a package's ``__init__.py`` or a module), bound once there and
    never stored into, with the module's tree; else None."""
    memo = fe.__dict__.setdefault("_imported_tables", {})
    if table not in memo:
        memo[table] = _find_imported_table(fe, table)
    return memo[table]


def _find_imported_table(fe: _FileEval, table: str) -> Optional[Tuple[ast.Dict, ast.Module]]:
    for node in fe.tree.body:
        if not (isinstance(node, ast.ImportFrom) and node.module and not node.level):
            continue
        for a in node.names:
            if (a.asname or a.name) != table:
                continue
            parts = node.module.split(".")
            for base in (fe.resolver.root, os.path.dirname(fe.path)):  # type: ignore[union-attr]
                for cand in (os.path.join(base, *parts) + ".py", os.path.join(base, *parts, "__init__.py")):
                    if not os.path.isfile(cand):
                        continue
                    got = _parsed(cand)
                    if got is None:
                        return None
                    tree = got[1]
                    stores = _name_stores(tree, a.name)
                    values = [n.value for n in tree.body if isinstance(n, ast.Assign) and len(n.targets) == 1
                              and isinstance(n.targets[0], ast.Name) and n.targets[0].id == a.name]
                    changed = any(isinstance(n, ast.Subscript) and isinstance(n.value, ast.Name) and
                                  n.value.id == a.name and isinstance(n.ctx, ast.Store) for n in ast.walk(tree))
                    if len(stores) == 1 and len(values) == 1 and isinstance(values[0], ast.Dict) and not changed:
                        return values[0], tree
                    return None
    return None


def _imported_from_model(tree: ast.Module, name: str, stem: str) -> bool:
    """``tree`` imports ``name`` from the model's module (``from .resnet import resnet8``)."""
    return any(isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[-1] == stem and
               any(a.name == name and (a.asname or a.name) == name for a in n.names) for n in tree.body)


def _name_stores(tree: ast.AST, name: str) -> List[ast.Name]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store)]


def _class_table_selects(fe: _FileEval, f, name: str, stem: str) -> bool:
    """The table entry naming ``name`` refers to the model file's class (imported from it, or an
    attribute of its module)."""
    for n, _k, v in _class_table(fe, f):
        home = fe.__dict__.get("_table_homes", {}).get(id(v))
        if home is not None:  # a table of another module: its own imports say where the name is from
            if n == name and isinstance(v, ast.Name) and _imported_from_model(home, n, stem):
                return True
            continue
        if n == name and (isinstance(v, ast.Name) and n in fe.imported_model_names or
                          isinstance(v, ast.Attribute) and (_module_attr(v, stem) or _module_alias(fe, v, stem))):
            return True
    return False


def _module_alias(fe: _FileEval, f, stem: str) -> bool:
    """``models.Discriminator32(...)`` after ``import source.models.dcgan as models``: an attribute
    of the model file's module imported under another name."""
    if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)):
        return False
    full = imports_of(fe.tree).get(f.value.id)
    return bool(full) and full.split(".")[-1] == stem and full != f.value.id  # type: ignore[union-attr]


def _dict_parts(f) -> Optional[Tuple[ast.expr, ast.expr]]:
    """(the module, the name it is indexed by) of ``models.__dict__[name]``, ``vars(models)[name]``
    and ``getattr(models, name)``: a factory picked from a module by a name, else None."""
    if isinstance(f, ast.Subscript):
        v = f.value
        if isinstance(v, ast.Attribute) and v.attr == "__dict__":
            base = v.value
        elif isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "vars" and len(v.args) == 1:
            base = v.args[0]
        else:
            return None
        key = f.slice
    elif isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and f.func.id == "getattr" and \
            len(f.args) == 2 and not f.keywords:
        base, key = f.args
        if not isinstance(base, (ast.Name, ast.Attribute)):
            return None
    else:
        return None
    root = base
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id in _EXTERNAL:
        return None
    return base, key


def _eval_key(f) -> Optional[ast.expr]:
    """``eval(args.arch)(...)``: the expression naming the class or factory (``eval`` of a name the
    file imports: ``from models import *``), else None."""
    if isinstance(f, ast.Call) and isinstance(f.func, ast.Name) and f.func.id == "eval" and \
            len(f.args) == 1 and not f.keywords and not isinstance(f.args[0], ast.Starred):
        return f.args[0]
    return None


def _dict_call(f) -> bool:
    """``models.__dict__[name]`` / ``vars(models)[name]`` / ``getattr(models, name)``."""
    return _dict_parts(f) is not None


def _module_attr(f, stem: str) -> bool:
    """``wideresnet.WideResNet(...)`` / ``models.wideresnet.WideResNet(...)``."""
    return isinstance(f, ast.Attribute) and isinstance(f.value, (ast.Name, ast.Attribute)) and \
        (getattr(f.value, "id", None) == stem or getattr(f.value, "attr", None) == stem)


_TENSOR_FACTORIES = {"randn", "rand", "zeros", "ones", "empty"}
_LEGACY = {"Tensor", "FloatTensor"}  # torch.Tensor(2, 3, 32, 32): sizes only when all are ints
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
    if fe.is_patched(var, scope):
        return []  # `model.fc = nn.Linear(...)` after the build: not the model built
    bound = fe.assigns.get(id(scope), {}).get(var, [])
    if len(bound) != 1 and not (None not in bound and fe._taken(bound, scope, 0) == [parent.value]):
        return []  # bound again (unless on branches the options decide against: `if args.arch ==`)
    out = []
    summaries = _summary_functions(fe)
    for n in ast.walk(scope):
        if summaries and isinstance(n, ast.Call) and n.args and isinstance(n.args[0], ast.Name) and \
                n.args[0].id == var:
            got = _summary_input(fe, n, scope, summaries)
            if got is not None and got not in out:
                out.append(got)
            continue
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


def _summary_functions(fe: _FileEval) -> Dict[str, str]:
    """The names the file calls torchsummary's or torchinfo's ``summary`` by (``summary``,
    ``torchinfo.summary``) -> its qualified name (planner.SUMMARY_FUNCTIONS)."""
    from .planner import SUMMARY_FUNCTIONS

    got = getattr(fe, "_summary_names", None)
    if got is None:
        got = {}
        for node in fe.tree.body:
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                for alias in node.names:
                    if f"{node.module}.{alias.name}" in SUMMARY_FUNCTIONS:
                        got[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if f"{alias.name}.summary" in SUMMARY_FUNCTIONS:
                        got[f"{alias.asname or alias.name}.summary"] = f"{alias.name}.summary"
        fe._summary_names = got  # type: ignore[attr-defined]
    return got


def _summary_input(fe: _FileEval, call: ast.Call, scope, summaries: Dict[str, str]) -> Optional[Tuple[Tuple[int, ...], ...]]:
    """``summary(model, (1, 28, 28))`` (torchsummary: one sample, run at batch 2) or
    ``summary(model, input_size=(1, C, 64, 64))`` (torchinfo: the whole tensor): the input shapes
    the summary runs the model on, when all are concrete."""
    from .planner import _size_specs

    f = call.func
    name = f.id if isinstance(f, ast.Name) else (
        f"{f.value.id}.{f.attr}" if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else None)
    qual = summaries.get(name or "")
    if qual is None or name in fe.defined:
        return None
    size = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.arg == "input_size"), None)
    if size is None or any(k.arg in ("input_data", "batch_dim") for k in call.keywords):
        return None
    try:
        shapes = _size_specs(fe.value(size, scope))
    except _Unknown:
        return None
    if shapes is None or not all(d >= 1 for s in shapes for d in s):
        return None
    if qual.startswith("torchsummary"):
        shapes = [(2,) + tuple(s) for s in shapes]  # torchsummary runs its forward on a batch of 2
    return tuple(tuple(s) for s in shapes)


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
    if isinstance(node, ast.Call) and len(node.args) == 1 and \
            (isinstance(node.func, ast.Name) and node.func.id == "Variable" and node.func.id not in fe.defined or
             isinstance(node.func, ast.Attribute) and node.func.attr == "Variable" and
             isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "autograd"):
        return _tensor_shape(fe, node.args[0], scope, depth + 1)  # Variable(x): the same tensor
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and
            node.func.attr in _TENSOR_FACTORIES | _LEGACY and isinstance(node.func.value, ast.Name) and
            node.func.value.id == "torch") or any(k.arg in ("size", "out") for k in node.keywords):
        raise _Unknown
    dims = [fe.value(a, scope) for a in node.args]
    if node.func.attr in _LEGACY and (node.keywords or not all(isinstance(d, int) for d in dims)):
        raise _Unknown  # a list or an array is the data, not the sizes
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    if not dims or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in dims):
        raise _Unknown
    return tuple(dims)
