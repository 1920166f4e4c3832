"""Inputs a PyTorch Lightning training feeds a model a LightningModule holds, for lint/datapipe.py.

    class Classifier(pl.LightningModule):
        def __init__(self): self.model = Net()
        def training_step(self, batch, batch_idx): x, y = batch; return loss(self.model(x), y)
    trainer.fit(Classifier(), datamodule=CIFAR10Data())    # or fit(m, dm), fit(m, train_dataloaders=loader)

The batch ``training_step`` / ``validation_step`` receive is the first batch of the loader the
DataModule's ``train_dataloader()`` / ``val_dataloader()`` returns (or the loader given to ``fit``,
or the module's own ``train_dataloader()`` when ``fit`` is given the module alone); it is followed
through ``x, y = batch`` and the module's own methods (``self(x)`` -> ``forward``) to the calls
of the attribute holding the model. The ``fit`` calls are those of the module's file and of the
project files next to it or at the root that import the module's class (the DataModule: of the
``fit``'s file or imported from a sibling). Anything else (a ``fit`` whose data is not decided, a batch hook that
may change the batch, the attribute bound twice) gives no input.
"""
from __future__ import annotations

import ast
import os
from typing import Dict, Iterator, List, Optional, Tuple

from .staticeval import _Unknown
from .pyflow import Ctx, _File, _arg, _conditions, _load, _qual, _reach, _read_text, _returned, _runs

_HOOKS = {"on_before_batch_transfer", "transfer_batch_to_device", "on_after_batch_transfer"}
_STEPS = {"train": "training_step", "val": "validation_step"}
Source = Tuple[str, ast.expr, Ctx]  # (step method, the loader's expression, where to evaluate it)


def _methods(cls: ast.ClassDef) -> Dict[str, ast.FunctionDef]:
    return {s.name: s for s in cls.body if isinstance(s, ast.FunctionDef)}


def _is_lightning(cls: ast.ClassDef, ctx: Ctx, kind: str) -> bool:
    for b in cls.bases:
        try:
            q = _qual(b, ctx)
        except _Unknown:
            continue
        if q.split(".")[0] in ("pytorch_lightning", "lightning") and q.split(".")[-1] == kind:
            return True
    return False


def _own_class(file: _File, call: ast.expr) -> Optional[ast.ClassDef]:
    """The ``__init__`` of a LightningModule of the file that ``self.ATTR = call`` is in."""
    fe = file.fe
    fn = fe._scope(call)
    cls = fe.parents.get(id(fn))
    if not (isinstance(fn, ast.FunctionDef) and fn.name == "__init__" and isinstance(cls, ast.ClassDef)
            and cls in fe.tree.body and _is_lightning(cls, Ctx(file), "LightningModule")):
        return None
    return cls


def lightning_inputs(file: _File, call: ast.expr, ev) -> List[tuple]:
    """('tensor', shape, origin) values fed to the model ``call`` builds in a LightningModule."""
    fe = file.fe
    parent = fe.parents.get(id(call))
    if isinstance(parent, ast.Dict):
        sel = _selected_from(fe, parent, call)
        if sel is None:
            return []
        call, parent = sel, fe.parents.get(id(sel))
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1):
        return []
    t = parent.targets[0]
    if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"):
        return []
    cls = _own_class(file, call)
    if cls is None or _HOOKS & set(_methods(cls)):
        return []
    attr = t.attr
    for n in ast.walk(cls):  # self.ATTR bound once, there
        if isinstance(n, ast.Attribute) and n.attr == attr and isinstance(n.ctx, (ast.Store, ast.Del)) \
                and n is not t:
            return []
    ctx = Ctx(file)
    try:
        if not _runs(_conditions(fe, parent, fe._scope(call)), ctx):
            return []
        sources = _sources(file, cls)
    except (_Unknown, RecursionError):
        return []
    out: List[tuple] = []
    methods = _methods(cls)
    for step, loader, lctx in sources:
        fn = methods.get(step)
        if fn is None or len(fn.args.args) < 2:
            continue
        first = ast.Call(func=ast.Name("next", ast.Load()), keywords=[],
                         args=[ast.Call(func=ast.Name("iter", ast.Load()), args=[loader], keywords=[])])
        sctx = ctx.inner(fn, {fn.args.args[1].arg: (first, lctx)})
        for site, c in _calls(cls, fn, sctx, attr, 0):
            if len(site.args) != 1 or site.keywords or isinstance(site.args[0], ast.Starred):
                continue
            try:
                v = ev(site.args[0], c)
            except (_Unknown, RecursionError):
                continue
            if v[0] == "tensor" and v not in out:
                out.append(v)
    return out


def _selected_from(fe, d: ast.Dict, value: ast.expr) -> Optional[ast.Subscript]:
    """``ALL = {"resnet18": resnet18(), ...}`` at module level (every entry built on import) and
    ``self.model = ALL[self.hparams.classifier]`` in a LightningModule: that subscript, for the
    entry ``value``: the command line picks which entry is trained, so each is trained on the
    module's data with some key. None unless ``ALL`` is bound once and read only there."""
    if not any(v is value for v in d.values) or any(k is None for k in d.keys):
        return None
    owner = fe.parents.get(id(d))
    if not (isinstance(owner, ast.Assign) and owner in fe.tree.body and len(owner.targets) == 1 and
            isinstance(owner.targets[0], ast.Name)):
        return None
    name = owner.targets[0].id
    uses = [n for n in ast.walk(fe.tree) if isinstance(n, ast.Name) and n.id == name and n is not owner.targets[0]]
    if len(uses) != 1 or len(fe.assigns.get(id(fe.tree), {}).get(name, ())) != 1:
        return None
    sub = fe.parents.get(id(uses[0]))
    if not (isinstance(sub, ast.Subscript) and sub.value is uses[0] and isinstance(sub.ctx, ast.Load)):
        return None
    return sub


def _calls(cls: ast.ClassDef, fn: ast.FunctionDef, ctx: Ctx, attr: str, depth: int) -> Iterator[Tuple[ast.Call, Ctx]]:
    """``self.ATTR(...)`` in ``fn`` and in the module's methods it calls (``self(x)``: forward)."""
    methods = _methods(cls)
    for n in ast.walk(fn):
        if not isinstance(n, ast.Call) or ctx.fe._scope(n) is not fn:
            continue
        f = n.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "self":
            if f.attr == attr:
                yield n, ctx
                continue
            name = f.attr
        elif isinstance(f, ast.Name) and f.id == "self":
            name = "forward"
        else:
            continue
        callee = methods.get(name)
        if callee is None or depth >= 2 or n.keywords or any(isinstance(a, ast.Starred) for a in n.args):
            continue
        a = callee.args
        params = [p.arg for p in a.posonlyargs + a.args][1:]
        if a.vararg or a.kwonlyargs or a.defaults or len(params) != len(n.args):
            continue
        yield from _calls(cls, callee, ctx.inner(callee, {p: (v, ctx) for p, v in zip(params, n.args)}), attr,
                          depth + 1)


def _files(file: _File, cls: ast.ClassDef) -> List[_File]:
    """The module's file, and the project files next to it or at the root that import ``cls``
    by name and call a ``fit``."""
    out, seen = [file], {os.path.abspath(file.path)}
    for d in dict.fromkeys([os.path.dirname(file.path), file.root]):
        try:
            names = sorted(os.listdir(d))
        except OSError:
            continue
        for name in names:
            p = os.path.abspath(os.path.join(d, name))
            text = _read_text(p) if name.endswith(".py") and p not in seen else None
            seen.add(p)
            if text and cls.name in text and ".fit(" in text:
                f = _load(p, file.root, file.base)
                if f is not None:
                    out.append(f)
    return out


def _class_of(func: ast.expr, ctx: Ctx) -> Optional[Tuple[ast.ClassDef, _File]]:
    """The class of the project a call ``Name(...)`` builds: of this file or imported from a sibling."""
    if not isinstance(func, ast.Name):
        return None
    file, name = ctx.file, func.id
    if name not in file.fe.defined:
        full = file.imports.get(name)
        if full is None:
            return _star_imported(file, name)
        if "." not in full:
            return None
        mod, name = full.rsplit(".", 1)
        file = file.module(mod)  # type: ignore[assignment]
        if file is None:
            return None
    defs = [s for s in file.fe.tree.body if isinstance(s, (ast.ClassDef, ast.FunctionDef)) and s.name == name]
    return (defs[0], file) if len(defs) == 1 and isinstance(defs[0], ast.ClassDef) else None


def _star_imported(file: _File, name: str) -> Optional[Tuple[ast.ClassDef, _File]]:
    """``from dataset import *`` (a module of the project) defining the class ``name``: found in
    exactly one such module, and not bound by the file itself in any other way."""
    if any(isinstance(n, ast.Name) and n.id == name and not isinstance(n.ctx, ast.Load) for n in ast.walk(file.fe.tree)):
        return None
    found = []
    for n in file.fe.tree.body:
        if isinstance(n, ast.ImportFrom) and n.module and not n.level and any(a.name == "*" for a in n.names):
            other = file.module(n.module)
            if other is None:
                continue
            defs = [s for s in other.fe.tree.body if isinstance(s, (ast.ClassDef, ast.FunctionDef)) and s.name == name]
            if defs:
                found.append((defs, other))
    if len(found) != 1 or len(found[0][0]) != 1 or not isinstance(found[0][0][0], ast.ClassDef):
        return None
    return found[0][0][0], found[0][1]


def _sources(file: _File, cls: ast.ClassDef) -> List[Source]:
    """The loaders each step of ``cls`` is given by the project's ``fit`` calls (_Unknown: one that
    trains a ``cls`` with data not decided)."""
    out: List[Source] = []
    for f in _files(file, cls):
        out += _file_sources(f, cls, Ctx(file))
    return out


def _file_sources(f: _File, cls: ast.ClassDef, home: Ctx) -> List[Source]:
    ctx = Ctx(f)
    out: List[Source] = []
    for n in ast.walk(f.fe.tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "fit"):
            continue
        m = _arg(n, 0, "model")
        if not _built(m, cls, ctx):
            if isinstance(m, ast.Name):
                b = _reach(ctx, m.id, m)
                if b[0] != "assign" or not isinstance(b[1], ast.Call):
                    raise _Unknown  # a module of unknown class trained
            continue
        if any(k.arg is None or k.arg not in ("model", "datamodule", "train_dataloaders", "val_dataloaders",
                                               "ckpt_path") for k in n.keywords) or len(n.args) > 3:
            raise _Unknown
        out += _fit_sources(n, cls, ctx, home)
    return out


def _built(node: Optional[ast.expr], cls: ast.ClassDef, ctx: Ctx) -> bool:
    """``node`` is a name bound to ``cls(...)`` (or that call itself)."""
    if isinstance(node, ast.Name):
        b = _reach(ctx, node.id, node)
        if b[0] != "assign" or b[2]:
            raise _Unknown
        node = b[1]
    got = _class_of(node.func, ctx) if isinstance(node, ast.Call) else None
    return got is not None and got[0] is cls


def _fit_sources(n: ast.Call, cls: ast.ClassDef, ctx: Ctx, home: Ctx) -> List[Source]:
    dm = _arg(n, 1, "datamodule")
    train, val = _arg(n, 1, "train_dataloaders"), _arg(n, 2, "val_dataloaders")
    if dm is not None and (isinstance(dm, ast.Name) or isinstance(dm, ast.Call)):
        klass = _datamodule(dm, ctx)
        if klass is not None:
            if len(n.args) > 2 or any(k.arg in ("train_dataloaders", "val_dataloaders") for k in n.keywords):
                raise _Unknown
            return _loaders(*klass)
        if any(k.arg == "datamodule" for k in n.keywords):
            raise _Unknown
    if train is None and val is None:
        return _loaders(cls, home)  # fit(model): the module's own loaders
    # the loaders given (a module's own loader for the other step is left: fewer inputs, none wrong)
    return [(step, expr, ctx) for step, expr in (("training_step", train), ("validation_step", val)) if expr is not None]


def _datamodule(node: ast.expr, ctx: Ctx) -> Optional[Tuple[ast.ClassDef, Ctx]]:
    """The LightningDataModule class of the file ``node`` builds (None: not a datamodule call)."""
    if isinstance(node, ast.Name):
        b = _reach(ctx, node.id, node)
        if b[0] != "assign" or b[2]:
            raise _Unknown
        node = b[1]
    if not isinstance(node, ast.Call):
        raise _Unknown
    got = _class_of(node.func, ctx)
    if got is None:
        return None  # not a class of the project: a loader, evaluated as such
    klass, c = got[0], Ctx(got[1])
    if not _is_lightning(klass, c, "LightningDataModule") or _HOOKS & set(_methods(klass)):
        raise _Unknown
    return klass, c


def _loaders(cls: ast.ClassDef, ctx: Ctx) -> List[Source]:
    methods = _methods(cls)
    out: List[Source] = []
    for kind, step in _STEPS.items():
        fn = methods.get(f"{kind}_dataloader")
        if fn is not None:
            out.append((step, _returned(fn), ctx))
    return out
