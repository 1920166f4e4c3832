"""argparse namespaces that cross files, for lint/constructions.py.

Projects often parse their options in one module and build the model in another:

    # opts.py                          # main.py                       # model.py
    def parse_opts():                  opt = parse_opts()              def generate_model(opt):
        parser = ArgumentParser()      model = generate_model(opt)         model = resnet18(
        parser.add_argument(...)                                                sample_size=opt.sample_size)
        return parser.parse_args()

This module finds (1) the defaults behind ``opt = parse_opts()``: a function of the project (of
the same file, or imported from a module of the project) that returns ``parser.parse_args()``;
(2) the defaults behind a function's parameter (``opt`` of ``generate_model``): every call of that
function in the project passes a namespace, and they all agree. An attribute the calling file
assigns (``opt.arch = ...``) is unknown there. Only ``ast`` is used; every file read is told to
core/project.py's READ_HOOK through constructions.py's reader.
"""
from __future__ import annotations

import ast
import re
import os
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

Defaults = Dict[str, Any]


# ``from torchvision.transforms import *``: the names those modules export (their ``__all__``, as
# torchvision 0.2x writes it) that the data pipeline reads; other star imports bind nothing known
_TRANSFORMS = ("CenterCrop ColorJitter Compose ConvertImageDtype ElasticTransform FiveCrop GaussianBlur Grayscale "
               "InterpolationMode Lambda LinearTransformation Normalize PILToTensor Pad RandomAdjustSharpness "
               "RandomAffine RandomApply RandomAutocontrast RandomChoice RandomCrop RandomEqualize RandomErasing "
               "RandomGrayscale RandomHorizontalFlip RandomInvert RandomOrder RandomPerspective RandomPosterize "
               "RandomResizedCrop RandomRotation RandomSolarize RandomVerticalFlip Resize TenCrop ToPILImage "
               "ToTensor AutoAugment RandAugment TrivialAugmentWide AugMix").split()
STAR_EXPORTS = {
    "torchvision.transforms": set(_TRANSFORMS),
    "torchvision.datasets": {"MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "CIFAR10", "CIFAR100", "SVHN",
                             "STL10", "ImageFolder", "ImageNet", "LSUN", "CelebA", "DatasetFolder"},
    "torch.utils.data": {"DataLoader", "Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"},
    "tqdm": {"tqdm", "trange"}, "tqdm.auto": {"tqdm", "trange"}, "tqdm.notebook": {"tqdm", "trange"},
}


def imports_of(tree: ast.Module) -> Dict[str, Optional[str]]:
    """local name -> dotted name it is imported as (None: imported as two different things);
    ``from torchvision.transforms import *`` binds the names of STAR_EXPORTS."""
    out: Dict[str, Optional[str]] = {}

    def put(local, full):
        out[local] = full if out.get(local, full) == full else None

    for st in tree.body:
        if isinstance(st, ast.ImportFrom) and st.module in STAR_EXPORTS and not st.level and \
                any(a.name == "*" for a in st.names):
            for name in sorted(STAR_EXPORTS[st.module]):
                put(name, f"{st.module}.{name}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    put(a.asname, a.name)
                else:
                    put(a.name.split(".")[0], a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    put(a.asname or a.name, f"{node.module}.{a.name}")
    return out



class Resolver:
    """Cross-file lookups for one find_constructions call: ``read(path)`` gives a parsed tree
    (or None), ``files`` are the project's files, ``make_eval(tree, path)`` a constructions
    ``_FileEval`` for another file (with this resolver)."""

    def __init__(self, root: str, files: List[str], read: Callable[[str], Optional[Tuple[str, ast.Module]]],
                 make_eval: Callable[[ast.Module, str], Any]) -> None:
        self.root = root
        self.files = files
        self.read = read
        self.make_eval = make_eval
        self._parsers: Dict[Tuple[str, str], Optional[Defaults]] = {}
        self._params: Dict[Tuple[str, str, int], Optional[Defaults]] = {}
        self.busy: Set[Any] = set()

    # -- (0) `params = utils.Params(json_path)`: an object loading a JSON file into its attributes
    def json_loader(self, func: ast.expr, tree: ast.Module, path: str) -> bool:
        """Whether ``func`` is a class of the project whose ``__init__(self, path)`` loads a JSON
        file into its attributes: ``with open(path) as f: params = json.load(f);
        self.__dict__.update(params)`` (the CS230 template's ``utils.Params``)."""
        where: Optional[Tuple[str, str]] = None
        if isinstance(func, ast.Name):
            if any(isinstance(n, ast.ClassDef) and n.name == func.id for n in tree.body):
                where = (path, func.id)
            else:
                where = _function_home(func.id, tree, path, self.root, classes=True, read=self.read)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            mod = imports_module(tree, func.value.id)
            if mod is not None:
                for base in (self.root, os.path.dirname(path)):
                    cand = os.path.join(base, *mod.split(".")) + ".py"
                    if os.path.isfile(cand):
                        where = (cand, func.attr)
                        break
        if where is None:
            return False
        got = self.read(where[0]) if where[0] != path else (None, tree)
        if got is None:
            return False
        cls = next((n for n in got[1].body if isinstance(n, ast.ClassDef) and n.name == where[1]), None)
        init = next((n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"), None) \
            if cls is not None else None
        if init is None or len(init.args.args) != 2 or init.args.vararg or init.args.kwarg:
            return False
        loads = updates = False
        for n in ast.walk(init):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute):
                f = n.func
                if f.attr == "load" and isinstance(f.value, ast.Name) and f.value.id == "json":
                    loads = True
                if f.attr == "update" and isinstance(f.value, ast.Attribute) and f.value.attr == "__dict__" and \
                        isinstance(f.value.value, ast.Name) and f.value.value.id == "self":
                    updates = True
        return loads and updates

    def json_file(self, rel: str, path: str) -> Optional[Defaults]:
        """The JSON object in the file ``rel`` names (relative to the project root, then to the
        script's folder): its values that are numbers, strings, booleans or lists of them."""
        import json

        from .core.project import READ_HOOK

        def _notify(p: str, found: bool, read: bool) -> None:  # told to the result cache
            note = READ_HOOK.get()
            if note is not None:
                note(p, found, read)

        for base in (self.root, os.path.dirname(path)):
            cand = os.path.normpath(os.path.join(base, rel))
            if not os.path.isfile(cand):
                _notify(cand, False, False)
                continue
            _notify(cand, True, True)
            try:
                if os.path.getsize(cand) > 1_000_000:
                    return None
                with open(cand, encoding="utf-8") as f:
                    d = json.load(f)
            except (OSError, ValueError, RecursionError):
                return None
            if not isinstance(d, dict):
                return None
            ok = (int, float, str, bool)
            return {k: v for k, v in d.items() if isinstance(k, str) and
                    (isinstance(v, ok) or isinstance(v, list) and all(isinstance(x, ok) for x in v))}
        return None

    def yaml_file(self, rel: str, path: str) -> Any:
        """The YAML document in the file ``rel`` names (absolute, or relative to the project root,
        then to the script's folder), read with YAML's safe loader (no tags run code); None when
        there is none, it is large or malformed, or PyYAML is not installed."""
        from .core.project import READ_HOOK

        note = READ_HOOK.get()
        for base in (self.root, os.path.dirname(path)):
            cand = os.path.normpath(os.path.join(base, rel))
            if not os.path.isfile(cand):
                if note is not None:
                    note(cand, False, False)
                continue
            if note is not None:
                note(cand, True, True)
            try:
                import yaml
            except ImportError:
                return None
            try:
                if os.path.getsize(cand) > 1_000_000:
                    return None
                with open(cand, encoding="utf-8") as f:
                    return yaml.safe_load(f)
            except (OSError, ValueError, RecursionError, yaml.YAMLError):
                return None
        return None

    # -- (1) `opt = parse_opts()`
    def call_defaults(self, fname: str, tree: ast.Module, path: str) -> Optional[Defaults]:
        """The defaults of the namespace ``fname()`` returns, called in the file ``path``."""
        where = _function_home(fname, tree, path, self.root, read=self.read)
        if where is None:
            return None
        key = (where[0], fname)
        if key not in self._parsers:
            self._parsers[key] = None
            got = self.read(where[0])
            if got is not None:
                self._parsers[key] = self._parser_defaults(got[1], where[0], where[1])
        return self._parsers[key]

    def _parser_defaults(self, tree: ast.Module, path: str, fname: str) -> Optional[Defaults]:
        fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == fname), None)
        if fn is None or fn.args.args or not _returns_parsed(fn):
            return None
        fe = self.make_eval(tree, path)
        return fe.defaults

    # -- (1b) `from config import opt`, with `opt = DefaultConfig()` there
    def imported_object(self, module: str, name: str, path: str) -> Optional[Defaults]:
        parts = module.split(".")
        for base in (self.root, os.path.dirname(path)):
            cand = os.path.join(base, *parts) + ".py"
            if os.path.isfile(cand):
                got = self.read(cand)
                if got is None:
                    return None
                d = object_defaults(got[1], name)
                if d is not None and (name, "*") not in assigned_attrs(got[1]):
                    return {k: v for k, v in d.items() if (name, k) not in assigned_attrs(got[1])}
                return None
        return None

    def imported_parser(self, module: str, name: str, path: str) -> Optional[List[ast.Call]]:
        """``from core.option import parser`` where core/option.py has ``parser =
        argparse.ArgumentParser(...)`` at module level: that module's ``parser.add_argument(...)``
        calls (the script adds its own and parses), else None."""
        parts = module.split(".")
        for base in (self.root, os.path.dirname(path)):
            cand = os.path.join(base, *parts) + ".py"
            if not os.path.isfile(cand):
                continue
            got = self.read(cand)
            if got is None:
                return None
            tree = got[1]
            made = [st for st in tree.body if isinstance(st, ast.Assign) and len(st.targets) == 1 and
                    isinstance(st.targets[0], ast.Name) and st.targets[0].id == name and
                    isinstance(st.value, ast.Call) and _callee(st.value) == "ArgumentParser"]
            if len(made) != 1:
                return None
            return [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and
                    n.func.attr == "add_argument" and isinstance(n.func.value, ast.Name) and n.func.value.id == name]
        return None

    # -- (1c) `load(args.model)` for `def load(model_name): net = models[model_name]()`
    def _calls_of(self, fn: ast.FunctionDef, path: str):
        """(file, tree, call) for each call of ``fn`` (a module-level function of ``path``) in the
        files of the project that import it, or in ``path`` itself; calls spreading ``*args`` or
        ``**kwargs`` are left out."""
        home = os.path.abspath(path)
        files = list(self.files)
        if home not in {os.path.abspath(f) for f in files}:
            files.append(path)
        for p in files:
            got = self.read(p)
            if got is None or fn.name + "(" not in got[0]:
                continue
            tree = got[1]
            same = os.path.abspath(p) == home
            for call in ast.walk(tree):
                if not isinstance(call, ast.Call) or _callee(call) != fn.name:
                    continue
                f = call.func
                if isinstance(f, ast.Name):
                    where = _function_home(fn.name, tree, p, self.root, read=self.read)
                    if not (same and where is not None and where[0] == p or
                            where is not None and os.path.abspath(where[0]) == home and where[1] == fn.name):
                        continue
                elif not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and
                          self._module_file(imports_module(tree, f.value.id), p) == home):
                    continue
                if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                    continue
                yield p, tree, call

    def param_values(self, fn: ast.FunctionDef, pname: str, path: str) -> Optional[List[Tuple[Optional[str], Any, Any]]]:
        """What the calls of ``fn`` pass as its parameter ``pname``: a string literal as (None,
        value, None); an option ``args.model`` of the caller's argparse namespace as ('model', its
        default, its literal choices or None). Other arguments are left out."""
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if pname not in params or fn.args.vararg:
            return None
        out: List[Tuple[Optional[str], Any, Any]] = []
        for p, tree, call in self._calls_of(fn, path):
            arg = argument_of(fn, call, pname)
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.append((None, arg.value, None))
            elif isinstance(arg, ast.Attribute) and isinstance(arg.value, ast.Name):
                fe = self._eval(p, tree)
                ns = fe.namespace_defaults(arg.value.id, fe._scope(call))
                if ns is not None and arg.attr in ns:
                    out.append((arg.attr, ns[arg.attr], fe.choices.get(arg.attr)))
        return out or None

    def param_value(self, fn: ast.FunctionDef, pname: str, path: str) -> Any:
        """The one value every call of ``fn`` in the project passes as ``pname`` (``create_model(...,
        in_channels=1)``), each evaluated in its own file under the current option world; a number,
        string, boolean, None or a tuple/list of them. LookupError when there is no call, a call
        whose value is unknown, or calls that disagree."""
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if pname not in params or fn.args.vararg or fn.args.kwarg:
            raise LookupError(pname)
        key = ("value", os.path.abspath(path), fn.name, pname)
        if key in self.busy:
            raise LookupError(pname)
        self.busy.add(key)
        try:
            seen: List[Any] = []
            for p, tree, call in self._calls_of(fn, path):
                arg = argument_of(fn, call, pname)
                if arg is None:
                    raise LookupError(pname)  # its default: left to the function's own reading
                fe = self._eval(p, tree)
                known, v = fe.try_value(arg, fe._scope(call))
                if not known or not _plain(v):
                    raise LookupError(pname)
                seen.append(v)
                if len(seen) > 8:
                    raise LookupError(pname)
            if not seen or any(type(v) is not type(seen[0]) or v != seen[0] for v in seen):
                raise LookupError(pname)
            return seen[0]
        finally:
            self.busy.discard(key)

    def _eval(self, path: str, tree: ast.Module) -> Any:
        memo = self.__dict__.setdefault("_evals", {})
        key = os.path.abspath(path)
        if key not in memo:
            memo[key] = self.make_eval(tree, path)
        return memo[key]

    def _module_file(self, module: Optional[str], path: str) -> Optional[str]:
        """The file of the project module ``module`` imported in ``path``: beside the script
        first (its folder is on sys.path), then under the root."""
        if not module:
            return None
        for base in (os.path.dirname(path), self.root):
            stem = os.path.join(base, *module.split("."))
            for cand in (stem + ".py", os.path.join(stem, "__init__.py")):
                if os.path.isfile(cand):
                    return os.path.abspath(cand)
        return None

    # -- (2) a function's namespace parameter
    def param_defaults(self, fn: ast.FunctionDef, pname: str, path: str,
                       owner: Optional[str] = None) -> Optional[Defaults]:
        """``owner``: the class whose ``__init__`` ``fn`` is; its callers are the class's
        constructions (``WDSR_A(args)`` in train.py for ``ShiftMean(args.rgb_mean)`` in __init__)."""
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if pname not in params:
            return None
        if fn.name == "__init__":
            if owner is None or params.index(pname) == 0:
                return None
            key = (path, owner, params.index(pname) - 1)
        else:
            key = (path, fn.name, params.index(pname))
        if key in self._params:
            return self._params[key]
        self._params[key] = None
        if key in self.busy:
            return None
        self.busy.add(key)
        try:
            found = self._callers_agree(key[1], key[2], pname, path)
        finally:
            self.busy.discard(key)
        self._params[key] = found
        return found

    def _callers_agree(self, fname: str, index: int, pname: str, home: str = "") -> Optional[Defaults]:
        """The namespace every call of ``fname`` passes as that parameter: calls in the file that
        defines it (``home``: ``main(opt)`` under ``if __name__ == '__main__':``) and in the files
        that import it (not another file's own function of that name)."""
        seen: List[Defaults] = []
        files = list(self.files)
        if home and os.path.abspath(home) not in {os.path.abspath(f) for f in files}:
            files.append(home)
        for p in files:
            got = self.read(p)
            if got is None or fname + "(" not in got[0]:
                continue
            tree = got[1]
            if os.path.abspath(p) != os.path.abspath(home) and \
                    any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == fname for n in tree.body):
                continue  # another file's own function of that name
            fe = None
            for call in ast.walk(tree):
                if not (isinstance(call, ast.Call) and _callee(call) == fname):
                    continue
                arg = call.args[index] if index < len(call.args) else \
                    next((k.value for k in call.keywords if k.arg == pname), None)
                if not isinstance(arg, ast.Name):
                    return None
                fe = fe or self.make_eval(tree, p)
                d = fe.namespace_defaults(arg.id, fe._scope(call))
                if d is None:
                    return None
                seen.append(d)
        if not seen:
            return None
        # the options every caller's namespace gives the same value (train.py and eval.py add
        # different options of their own to one imported parser); the others are unknown
        return {k: v for k, v in seen[0].items() if all(k in d and d[k] == v for d in seen[1:])}


def config_class_defaults(cls: ast.ClassDef) -> Optional[Defaults]:
    """The options a plain configuration class holds (``class Config: nz = 100; ngf = 64``, the
    object ``opt = Config()`` a script builds its models from): its literal class attributes. None
    when it has an ``__init__``, bases, or a class-level statement other than a literal assignment,
    a docstring or a method."""
    if cls.bases or cls.keywords or cls.decorator_list:
        if not (len(cls.bases) == 1 and isinstance(cls.bases[0], ast.Name) and cls.bases[0].id == "object"):
            return None
    out: Defaults = {}
    for st in cls.body:
        if isinstance(st, ast.FunctionDef):
            if st.name == "__init__":
                return None
            continue
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            continue
        if isinstance(st, (ast.Assign, ast.AnnAssign)):
            targets = st.targets if isinstance(st, ast.Assign) else [st.target]
            if len(targets) != 1 or not isinstance(targets[0], ast.Name) or st.value is None:
                return None
            try:
                out[targets[0].id] = ast.literal_eval(st.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass  # not a literal (a path joined at import, a device): unknown to the model
            continue
        return None
    return out or None


def object_defaults(tree: ast.Module, name: str) -> Optional[Defaults]:
    """``name = Config()`` at module level, Config a plain configuration class of the same module,
    ``name`` bound once: Config's class attributes."""
    binds = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in n.targets)]
    if len(binds) != 1 or len(binds[0].targets) != 1:
        return None
    v = binds[0].value
    if not (isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and not v.args and not v.keywords):
        return None
    cls = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == v.func.id), None)
    return config_class_defaults(cls) if cls is not None else None


def _overrides_from_kwargs(call: ast.Call, parents: Dict[int, ast.AST]) -> bool:
    """``for k, v in kwargs.items(): setattr(opt, k, v)`` in ``def train(**kwargs)``: a command
    line (python-fire) overriding the defaults, as argparse's do; not an unknown change."""
    if len(call.args) != 3 or not all(isinstance(a, ast.Name) for a in call.args[1:]):
        return False
    loop = parents.get(id(call))
    while loop is not None and not isinstance(loop, (ast.For, ast.FunctionDef)):
        loop = parents.get(id(loop))
    if not isinstance(loop, ast.For) or not isinstance(loop.target, ast.Tuple) or \
            [e.id for e in loop.target.elts if isinstance(e, ast.Name)] != [a.id for a in call.args[1:]]:  # type: ignore[attr-defined]
        return False
    it = loop.iter
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Attribute) and it.func.attr == "items" and
            isinstance(it.func.value, ast.Name)):
        return False
    fn = parents.get(id(loop))
    while fn is not None and not isinstance(fn, ast.FunctionDef):
        fn = parents.get(id(fn))
    return isinstance(fn, ast.FunctionDef) and fn.args.kwarg is not None and fn.args.kwarg.arg == it.func.value.id


def assigned_attrs(tree: ast.Module) -> Set[Tuple[str, str]]:
    """``(name, attr)`` for every ``name.attr = ...`` / ``name.attr += ...`` / ``setattr(name, ..)``
    of the file (``(name, '*')`` for setattr and vars(name)): those attributes are not the defaults.
    A python-fire style override of every option from the function's ``**kwargs`` is not counted."""
    out: Set[Tuple[str, str]] = set()
    parents: Dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    for node in ast.walk(tree):
        targets: List[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    out.add((sub.value.id, sub.attr))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in ("setattr", "vars", "delattr") and node.args and isinstance(node.args[0], ast.Name):
            if node.func.id == "setattr" and _overrides_from_kwargs(node, parents):
                continue
            if node.func.id == "vars" and _read_only(node, parents):
                continue
            out.add((node.args[0].id, "*"))
    return out


# calls that only read a dict they are given (`print(vars(args))`, `logger.info(vars(args))`,
# `utils.print_params(vars(args), log)`): by the last word of the callee's name
_READERS = re.compile(r"(^|_)(print|pprint|log|logs|info|debug|warn|warning|dump|dumps|save|write|show|"
                      r"format|str|repr|sorted|dict|len|list|tabulate|display)($|_)", re.I)


def _read_only(call: ast.Call, parents: Dict[int, ast.AST]) -> bool:
    """``vars(args)`` only read: iterated, its items/keys/values taken, formatted, or handed to a
    printing/logging/saving call."""
    p = parents.get(id(call))
    if isinstance(p, ast.Attribute) and p.attr in ("items", "keys", "values", "get", "copy"):
        return True
    if isinstance(p, (ast.For, ast.comprehension)) and p.iter is call:
        return True
    if isinstance(p, ast.FormattedValue):
        return True
    if isinstance(p, ast.Call) and call in p.args:
        f = p.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        return bool(_READERS.search(name))
    return False


def argument_of(fn: ast.FunctionDef, call: ast.Call, name: str) -> Optional[ast.expr]:
    """The expression ``call`` passes as ``fn``'s parameter ``name`` (positionally or by keyword),
    or None when it passes none."""
    params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
    if name in params and params.index(name) < len(call.args):
        return call.args[params.index(name)]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _plain(v: Any) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    return isinstance(v, (tuple, list)) and len(v) <= 64 and all(_plain(x) for x in v)


def _callee(call: ast.Call) -> Optional[str]:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _returns_parsed(fn: ast.FunctionDef) -> bool:
    """``return parser.parse_args()``, or ``args = parser.parse_args(); return args``."""
    parsed: Set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and \
                _is_parse_args(node.value):
            parsed.add(node.targets[0].id)
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    return bool(returns) and all(
        n.value is not None and (_is_parse_args(n.value) or isinstance(n.value, ast.Name) and n.value.id in parsed)
        for n in returns)


def _is_parse_args(v) -> bool:
    return isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "parse_args"


def imports_module(tree: ast.Module, name: str) -> Optional[str]:
    """The project module ``name`` stands for in ``tree`` (``import utils``, ``import a.b as name``)."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            for a in node.names:
                if (a.asname or a.name) == name and (a.asname or "." not in a.name):
                    return a.name
    return None


def _function_home(fname: str, tree: ast.Module, path: str, root: str, classes: bool = False,
                   read: Optional[Callable[[str], Optional[Tuple[str, ast.Module]]]] = None) -> Optional[Tuple[str, str]]:
    """(file, name there) of the function ``fname`` called in ``path``: its own, or imported
    (``from opts import parse_opts``) from a module under the root or beside the file."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef if not classes else (ast.FunctionDef, ast.ClassDef)) and \
                node.name == fname:
            return path, fname
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if (a.asname or a.name) == fname:
                    parts = node.module.split(".")
                    for base in (root, os.path.dirname(path)):
                        cand = os.path.join(base, *parts) + ".py"
                        if os.path.isfile(cand):
                            return cand, a.name
                        init = os.path.join(base, *parts, "__init__.py")
                        if read is not None and os.path.isfile(init):
                            # a package re-exporting it (`from .models import create_model`)
                            return _reexported(init, a.name, classes, read)
    return None


def _reexported(init: str, name: str, classes: bool, read: Callable[[str], Optional[Tuple[str, ast.Module]]],
                hops: int = 0) -> Optional[Tuple[str, str]]:
    """(file, name there) of ``name`` as the package ``init`` gives it: defined there, or imported
    there from one of its own modules (``from .models import create_model``), a few hops at most."""
    got = read(init)
    if got is None or hops > 3:
        return None
    kinds = ast.FunctionDef if not classes else (ast.FunctionDef, ast.ClassDef)
    for node in got[1].body:
        if isinstance(node, kinds) and node.name == name:
            return init, name
    for node in got[1].body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for a in node.names:
                if (a.asname or a.name) == name:
                    stem = os.path.join(os.path.dirname(init), *node.module.split("."))
                    if os.path.isfile(stem + ".py"):
                        return stem + ".py", a.name
                    if os.path.isfile(os.path.join(stem, "__init__.py")):
                        return _reexported(os.path.join(stem, "__init__.py"), a.name, classes, read, hops + 1)
    return None
