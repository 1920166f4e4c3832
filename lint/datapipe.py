"""Input shapes a project's data pipeline feeds a model built in the same file.

A model is usually trained by a script that never writes ``torch.randn(...)``: it feeds images
from a torchvision dataset through a DataLoader (``for x, y in loader: out = model(x.to(device))``).
This module follows that flow statically, in one file of the project: the dataset's sample size
(the table below), the transforms given to it (``Compose([RandomCrop(32, padding=4), ToTensor()])``),
the DataLoader's batch size, the loop or ``next(iter(loader))`` that yields the batch, the few
tensor methods on the way (``.to(device)``, ``Variable(x)``, ``x.view(-1, 28 * 28)``), and the
functions the model and the loader are passed to (``train(train_loader, model)``).

Everything not decided by the source (two datasets chosen by a flag the argparse default does not
decide, a ``Lambda`` or a project's own transform, an unknown operation on ``x``, a name bound in
an undecidable branch) gives no input at all: a wrong input would make false findings.
The data flow itself is pyflow.py's; the datasets' sizes and the transforms are tvdata.py's.
Only the standard library's ``ast`` is used here (no libcst, no torch).
"""
from __future__ import annotations

import ast
import os
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from .staticeval import HOOKS, _FileEval, _is_param, _parsed, _Unknown
from .pyflow import (_COMPARE, _KEEPS_SHAPE, Ctx, _arg, _File, _bind, _binds, _conditions, _decide, _direct_binds,
                     _function, _is_none, _load, _mutated, _own_nodes, _qual, _reach, _read_text, _returned, _runs,
                     _self_attr_value,
                     _self_attr_values, _self_class, _self_stores, _static, _stmt)
from .tvdata import DATASETS, _TRANSFORM_POS, Img, _dataset_name, _transform

_SAME_SHAPE = _KEEPS_SHAPE  # tensor methods that give the same shape (pyflow's list)
MAX_DEPTH = 3  # functions followed from the construction's scope (train(loader, model) -> step(...))


# -- values -----------------------------------------------------------------------------------
# ('tensor', shape, origin) | ('batch', image shape, origin): what a DataLoader yields, [x, y] |
# ('loader', image shape, origin) | ('dataset', Img, description) | ('iter', value) |
# ('enum', value) | ('tuple', [values]) | ('other',): a value that is none of those (a label, an index)


def _ev(node: ast.expr, ctx: Ctx, depth: int = 0) -> tuple:
    if depth > 40:
        raise _Unknown
    if isinstance(node, ast.Name):
        return _ev_name(node, ctx, depth)
    if isinstance(node, ast.Subscript):
        v = _ev(node.value, ctx, depth + 1)
        i = _static(node.slice, ctx)
        if not isinstance(i, int) or isinstance(i, bool):
            raise _Unknown
        return _index(v, [(i, None)])
    if isinstance(node, (ast.Tuple, ast.List)):
        return ("tuple", [_ev_or_other(e, ctx, depth + 1) for e in node.elts])
    if isinstance(node, ast.Call):
        return _ev_call(node, ctx, depth)
    if isinstance(node, ast.IfExp):  # ds = ds[0] if len(ds) == 1 else ds
        return _ev(node.body if _test(node.test, ctx, depth + 1) else node.orelse, ctx, depth + 1)
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):  # self.train_loader
        value = _self_attr_value(ctx.fe, node)
        if value is None:
            raise _Unknown
        return _ev(value, Ctx(ctx.file), depth + 1)
    raise _Unknown


def _yielded(fn: ast.FunctionDef) -> Optional[ast.expr]:
    """The expression a generator function yields, when it has one ``yield`` statement (no
    ``yield from``, no ``return value``, no nested function or class): every item is its value."""
    own = list(_own_nodes(fn.body))
    ys = [n for n in own if isinstance(n, (ast.Yield, ast.YieldFrom))]
    if len(ys) != 1 or not isinstance(ys[0], ast.Yield) or ys[0].value is None:
        return None
    st = _stmt_of(fn, ys[0])
    if not isinstance(st, ast.Expr) or st.value is not ys[0]:
        return None  # `x = yield v`, `yield a if ... else b` inside an expression
    if any(isinstance(n, (ast.AsyncFunctionDef, ast.ClassDef)) or isinstance(n, ast.Return) and n.value is not None
           for n in own):
        return None
    return ys[0].value


def _stmt_of(fn: ast.FunctionDef, node: ast.AST) -> Optional[ast.AST]:
    for n in ast.walk(fn):
        if isinstance(n, ast.Expr) and n.value is node:
            return n
    return None


def _returned_decided(fn: ast.FunctionDef, ctx: Ctx) -> ast.expr:
    """The value a loader-building function returns: its only return, last; or the return its
    arguments decide, along the path of the ``if`` statements holding returns (``if
    args.trainloader: return torch.load(...), ...`` first, decided false, then the last return; an
    ``if is_instance: return a, b, n else: return a, b`` chain). A return inside a loop, ``with`` or
    ``try``, or a branch the analysis cannot decide, leaves it unknown."""
    try:
        return _returned(fn)
    except _Unknown:
        pass
    own = list(_own_nodes(fn.body))
    if any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.AsyncFunctionDef, ast.ClassDef)) for n in own):
        raise _Unknown

    def returns(st: ast.AST) -> bool:
        return any(isinstance(n, ast.Return) for n in _own_nodes([st]))

    def walk(body: List[ast.stmt], depth: int) -> Optional[ast.expr]:
        if depth > 8:
            raise _Unknown
        for st in body:
            if isinstance(st, ast.Return):
                if st.value is None:
                    raise _Unknown
                return st.value
            if not returns(st):
                continue
            if not isinstance(st, ast.If):
                raise _Unknown
            got = walk(st.body if bool(_decide(st.test, ctx)) else st.orelse, depth + 1)
            if got is not None:
                return got
        return None

    got = walk(fn.body, 0)
    if got is None:
        raise _Unknown
    return got


def _test(node: ast.expr, ctx: Ctx, depth: int) -> bool:
    """A condition the source decides, also the length of a list of loaders (``len(ds) == 1``)."""
    try:
        return bool(_decide(node, ctx))
    except _Unknown:
        pass
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE and \
            isinstance(node.left, ast.Call) and isinstance(node.left.func, ast.Name) and \
            node.left.func.id == "len" and "len" not in ctx.fe.defined and len(node.left.args) == 1 and \
            isinstance(node.comparators[0], ast.Constant) and type(node.comparators[0].value) is int:
        v = _ev(node.left.args[0], ctx, depth + 1)
        if v[0] == "tuple":
            return bool(_COMPARE[type(node.ops[0])](len(v[1]), node.comparators[0].value))
    raise _Unknown


def _appended(ctx: Ctx, name: str, value: ast.expr, use: ast.AST) -> List[ast.expr]:
    """What ``name.append(x)`` adds to the list ``value`` bound to ``name`` before ``use`` reads it
    (``ds = []; if train: ds.append(train_loader)``): each append in decided branches of the same
    scope, outside loops; any other use of the list in between leaves it unknown."""
    fe = ctx.fe
    scope = fe._scope(use)
    start, end = value.lineno, getattr(_stmt(fe, use), "lineno", 0)
    out = []
    for n in ast.walk(scope):
        if not (isinstance(n, ast.Name) and n.id == name and fe._scope(n) is scope and start < n.lineno < end):
            continue
        attr = fe.parents.get(id(n))
        call = fe.parents.get(id(attr))
        if not (isinstance(attr, ast.Attribute) and attr.attr == "append" and isinstance(call, ast.Call) and
                call.func is attr and len(call.args) == 1 and not call.keywords and
                not isinstance(call.args[0], ast.Starred)):
            raise _Unknown
        if _runs(_conditions(fe, call, scope), ctx):
            out.append(call)
    return [c.args[0] for c in sorted(out, key=lambda c: (c.lineno, c.col_offset))]


def _ev_or_other(node, ctx, depth):
    try:
        return _ev(node, ctx, depth)
    except _Unknown:
        return ("other",)


def _ev_name(node: ast.Name, ctx: Ctx, depth: int) -> tuple:
    b = _reach(ctx, node.id, node)
    if b[0] == "param":
        got = ctx.env.get(id(b[1]), {}).get(node.id)
        if got is None:
            raise _Unknown
        return _ev(got[0], got[1], depth + 1)
    if b[0] == "for":
        v = _elem(_ev(b[1].iter, ctx, depth + 1))
        return _index(v, b[2])
    value, path = b[1], b[2]
    while path and isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == path[0][1]:
        value, path = value.elts[path[0][0]], path[1:]  # x, y = x.to(d), y.to(d)
    if isinstance(value, ast.List) and not path and b[0] == "assign":
        elts = list(value.elts) + _appended(ctx, node.id, value, node)
        return ("tuple", [_ev_or_other(e, ctx, depth + 1) for e in elts])
    v = _ev(value, ctx, depth + 1)
    if v[0] in ("dataset", "loader") and _mutated(ctx, node.id, node):
        raise _Unknown  # dataset.transform = ..., loader.dataset.transform = ...
    return _index(v, path)


def _elem(v: tuple) -> tuple:
    """What iterating over a value yields."""
    if v[0] == "loader":
        return ("batch",) + v[1:]  # (shape, origin[, arity]): [images, labels, ...]
    if v[0] == "enum":
        return ("tuple", [("other",), _elem(v[1])])
    if v[0] == "gen":  # a generator of the project: what its one yield gives
        return v[1]
    if v[0] == "iter":  # for x, y in iter(loader)
        return _elem(v[1])
    raise _Unknown


def _index(v: tuple, path) -> tuple:
    for i, arity in path:
        if v[0] == "batch":  # [images, labels] (or more items: a dataset returning (img, mask, path))
            n = v[3] if len(v) > 3 else 2
            if arity not in (None, n) or not -n <= i < n:
                raise _Unknown
            v = ("tensor", v[1], v[2]) if i in (0, -n) else ("other",)
        elif v[0] == "tuple":
            if arity not in (None, len(v[1])) or not -len(v[1]) <= i < len(v[1]):
                raise _Unknown
            v = v[1][i]
        else:
            raise _Unknown
    return v


def _ev_call(node: ast.Call, ctx: Ctx, depth: int) -> tuple:
    f = node.func
    if isinstance(f, ast.Attribute):
        if f.attr in _SAME_SHAPE:
            v = _ev(f.value, ctx, depth + 1)
            if v[0] != "tensor":
                raise _Unknown
            return v
        if f.attr in ("view", "reshape"):
            v = _ev(f.value, ctx, depth + 1)
            if v[0] != "tensor" or node.keywords:
                raise _Unknown
            return ("tensor", _reshape(v[1], node.args, ctx), v[2])
        if f.attr == "next" and not node.args:  # Python 2's iterator.next()
            v = _ev(f.value, ctx, depth + 1)
            if v[0] != "iter":
                raise _Unknown
            return _elem(v[1])
    if isinstance(f, ast.Attribute) and f.attr == "type" and len(node.args) == 1 and not node.keywords and \
            _float_type(node.args[0], ctx):
        v = _ev(f.value, ctx, depth + 1)  # real_imgs = Variable(imgs.type(Tensor)): a float cast
        if v[0] != "tensor":
            raise _Unknown
        return v
    if len(node.args) == 1 and not node.keywords and _float_type(f, ctx):
        # z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], opt.latent_dim)))): numpy noise
        return _numpy_noise(node.args[0], ctx)
    if isinstance(f, ast.Name) and f.id in ("iter", "next", "enumerate") and f.id not in ctx.fe.defined \
            and f.id not in ctx.imports and node.args and not node.keywords:
        v = _ev(node.args[0], ctx, depth + 1)
        if f.id == "iter" and len(node.args) == 1 and v[0] == "loader":
            return ("iter", v)
        if f.id == "next" and len(node.args) == 1 and v[0] in ("iter", "gen"):
            return _elem(v[1]) if v[0] == "iter" else _elem(v)
        if f.id == "iter" and len(node.args) == 1 and v[0] == "gen":
            return v
        if f.id == "enumerate" and len(node.args) <= 2 and v[0] in ("loader", "enum"):
            return ("enum", v)
        raise _Unknown
    if isinstance(f, ast.Name) and f.id[:1].isupper() and f.id not in ("Variable",):
        try:
            return _custom_dataset(node, ctx, depth)
        except (_Unknown, RecursionError):
            pass
    got = _function(f, ctx)
    if got is not None:  # a loader built by a function of the project
        fn, file = got
        params = _bind(fn, node, ctx, Ctx(file, ctx.env))
        if params is None or depth > 30:
            raise _Unknown
        y = _yielded(fn)
        if y is not None:  # def infiniteloop(loader): while True: for x, _ in iter(loader): yield x
            return ("gen", _ev(y, ctx.inner(fn, params, file), depth + 1))
        inner = ctx.inner(fn, params, file)
        return _ev(_returned_decided(fn, inner), inner, depth + 1)
    q = _qual(f, ctx)
    if q in _NOISE and node.args and not any(k.arg not in ("device", "dtype", "requires_grad")
                                             for k in node.keywords):
        # z = torch.randn(num_img, z_dimension): a GAN's noise, sized by the batch and the options
        args = list(node.args[0].elts) if len(node.args) == 1 and isinstance(node.args[0], (ast.Tuple, ast.List)) \
            else node.args
        if any(isinstance(a, ast.Starred) for a in args):
            raise _Unknown
        shape = tuple(_dim(a, ctx) for a in args)
        if any(d < 0 for d in shape) or any(k.arg == "dtype" for k in node.keywords):
            raise _Unknown
        return ("tensor", shape, f"{ctx.where}:{node.lineno} ({q})")
    if q in ("torch.autograd.Variable", "torch.autograd.variable.Variable") and node.args:
        v = _ev(node.args[0], ctx, depth + 1)
        if v[0] != "tensor":
            raise _Unknown
        return v
    if q.split(".")[0] == "tqdm" and node.args:  # tqdm(loader, ...) yields what loader yields
        v = _ev(node.args[0], ctx, depth + 1)
        if v[0] not in ("loader", "enum"):
            raise _Unknown
        return v
    if q in ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader"):
        return _loader(node, ctx, depth)
    if q in ("torch.utils.data.Subset", "torch.utils.data.dataset.Subset") and len(node.args) == 2:
        return _ev(node.args[0], ctx, depth + 1)
    if q in ("torch.utils.data.random_split", "torch.utils.data.dataset.random_split") and \
            len(node.args) == 2 and isinstance(node.args[1], (ast.List, ast.Tuple)):
        v = _ev(node.args[0], ctx, depth + 1)  # train_set, val_set = random_split(dataset, [n, m])
        if v[0] != "dataset":
            raise _Unknown
        return ("tuple", [v] * len(node.args[1].elts))
    name = _dataset_name(q)
    if name is not None:
        return _dataset(name, node, ctx)
    raise _Unknown


# -- a Dataset class of the project ------------------------------------------------------------

_PIL_MODES = {"RGB": 3, "L": 1, "RGBA": 4, "1": 1, "I": 1, "F": 1, "P": 1, "LA": 2, "CMYK": 4, "YCbCr": 3,
              "LAB": 3, "HSV": 3, "RGBX": 4}


def _is_dataset(cls: ast.ClassDef, ctx: Ctx) -> bool:
    for b in cls.bases:
        try:
            if _qual(b, ctx) in ("torch.utils.data.Dataset", "torch.utils.data.dataset.Dataset"):
                return True
        except _Unknown:
            continue
    return False


def _custom_dataset(node: ast.Call, ctx: Ctx, depth: int) -> tuple:
    """``DogCat(root, mode='train')``, a ``torch.utils.data.Dataset`` subclass of the project whose
    ``__getitem__`` ends in ``return image, label, ...`` with the image read by PIL
    (``Image.open(path).convert('RGB')``) or OpenCV (``cv2.imread(path)``, ``cv2.resize(img, (w, h))``)
    and passed through the transform the class keeps (``self.transform(img)``, under ``if
    self.transform is not None:`` decided by the constructor's arguments): ('dataset', Img,
    description, number of items)."""
    from .lightning import _class_of

    got = _class_of(node.func, ctx)
    if got is None:
        raise _Unknown
    cls, file = got
    if not _is_dataset(cls, Ctx(file)):
        raise _Unknown
    methods = {m.name: m for m in cls.body if isinstance(m, ast.FunctionDef)}
    init, getitem = methods.get("__init__"), methods.get("__getitem__")
    if init is None or getitem is None or not init.args.args:
        raise _Unknown
    shifted = ast.FunctionDef(name=init.name, args=ast.arguments(
        posonlyargs=[], args=init.args.args[1:], vararg=init.args.vararg, kwonlyargs=init.args.kwonlyargs,
        kw_defaults=init.args.kw_defaults, kwarg=init.args.kwarg, defaults=init.args.defaults), body=[],
        decorator_list=[])  # __init__ without self, to bind the call's arguments
    params = _bind(shifted, node, ctx, Ctx(file, ctx.env))
    if params is None or depth > 30:
        raise _Unknown
    ictx = Ctx(file, ctx.env).inner(init, params)
    ret = _returned(getitem)
    if not isinstance(ret, (ast.Tuple, ast.List)) or len(ret.elts) < 2 or \
            any(isinstance(e, ast.Starred) for e in ret.elts):
        raise _Unknown
    steps: List[str] = []
    img = _image(ret.elts[0], ictx, steps, depth + 1)
    return ("dataset", img, ", ".join([cls.name] + steps), len(ret.elts))


def _unpacked(node: ast.expr, ctx: Ctx, depth: int = 0) -> Any:
    """A static value, also a tuple of names bound by unpacking a literal (``w, h = (576, 576)``)."""
    try:
        return _static(node, ctx)
    except _Unknown:
        if depth > 8:
            raise
    if isinstance(node, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in node.elts):
        return tuple(_unpacked(e, ctx, depth + 1) for e in node.elts)
    if isinstance(node, ast.Name):
        b = _reach(ctx, node.id, node)
        if b[0] == "assign":
            value, path = b[1], b[2]
            while path and isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == path[0][1]:
                value, path = value.elts[path[0][0]], path[1:]
            if not path:
                return _unpacked(value, ctx, depth + 1)
    raise _Unknown


def _pair(node: ast.expr, ctx: Ctx) -> Any:
    """A static (w, h), also of the dataset's own attributes (``(self.in_size, self.in_size)``, the
    constructor's argument or default as ``ctx`` holds it)."""
    try:
        return _unpacked(node, ctx)
    except _Unknown:
        if not isinstance(node, (ast.Tuple, ast.List)) or len(node.elts) != 2:
            raise
    out = []
    for e in node.elts:
        vals = _self_attr_values(ctx, e) if isinstance(e, ast.Attribute) else []
        got = {_int(v, ctx) for v in vals} if vals else {_int(e, ctx)}
        if len(got) != 1:
            raise _Unknown
        out.append(got.pop())
    return tuple(out)


def _opening_compose(t: ast.expr, ctx: Ctx, steps: List[str], depth: int) -> Optional[Tuple[Img, ast.expr]]:
    """``tf = transforms.Compose([lambda x: Image.open(x).convert('RGB'), Resize(...), ...])`` applied
    to a path (dragen1860's Pokemon dataset): the image the lambda opens, and a Compose of the rest."""
    for _ in range(8):
        if not isinstance(t, ast.Name):
            break
        b = _reach(ctx, t.id, t)
        if b[0] != "assign" or b[2] or _mutated(ctx, t.id, t):
            return None
        t = b[1]
    if not (isinstance(t, ast.Call) and len(t.args) == 1 and not t.keywords and
            isinstance(t.args[0], (ast.List, ast.Tuple)) and t.args[0].elts):
        return None
    try:
        if _qual(t.func, ctx) not in ("torchvision.transforms.Compose", "torchvision.transforms.transforms.Compose"):
            return None
    except _Unknown:
        return None
    lam = t.args[0].elts[0]
    if not (isinstance(lam, ast.Lambda) and len(lam.args.args) == 1 and not lam.args.defaults):
        return None
    param = lam.args.args[0].arg
    body = lam.body  # Image.open(x).convert('RGB'): opened from the lambda's own parameter only
    if any(isinstance(n, ast.Name) and n.id != param and n.id not in ctx.imports and n.id not in ctx.fe.defined
           for n in ast.walk(body)):
        return None
    opened = body
    while isinstance(opened, ast.Call) and isinstance(opened.func, ast.Attribute) and opened.func.attr == "convert":
        opened = opened.func.value
    if not (isinstance(opened, ast.Call) and opened.args and isinstance(opened.args[0], ast.Name) and
            opened.args[0].id == param and _qual_or_none(opened.func, ctx) == "PIL.Image.open"):
        return None
    try:
        img = _image(body, ctx, steps, depth + 1)
    except _Unknown:
        return None
    rest = ast.Call(func=t.func, args=[ast.List(elts=list(t.args[0].elts[1:]), ctx=ast.Load())], keywords=[])
    ast.copy_location(rest, t)
    ast.copy_location(rest.args[0], t)
    ctx.fe.parents[id(rest)] = ctx.fe.parents.get(id(t), ctx.fe.tree)
    ctx.fe.parents[id(rest.args[0])] = rest
    ctx.fe.__dict__.setdefault("_made", []).append(rest)  # kept alive with the tree
    return img, rest


def _axes(args: List[ast.expr], ctx: Ctx) -> Optional[Tuple[int, ...]]:
    """The permutation a numpy transpose is given: ``(2, 0, 1)`` or ``2, 0, 1``."""
    try:
        vals = _static(args[0], ctx) if len(args) == 1 else tuple(_static(a, ctx) for a in args)
    except _Unknown:
        return None
    return tuple(vals) if isinstance(vals, (tuple, list)) else None


def _guarded_mode(ctx: Ctx, name: str, bound: ast.expr, use: ast.AST) -> Optional[str]:
    """The PIL mode a statement between ``name = Image.open(...)`` and its use guarantees:
    ``if img.mode != 'RGB': raise ValueError(...)`` or ``assert img.mode == 'RGB'``, in the same
    block of the same function (what else the image might be, Python stops at)."""
    fn = ctx.fe._scope(use)
    body = getattr(fn, "body", None)
    start = getattr(bound, "lineno", None)
    if not isinstance(body, list) or start is None:
        return None
    for st in body:
        if not (start < st.lineno < getattr(use, "lineno", 0)):
            continue
        test, negated = None, False
        if isinstance(st, ast.If) and not st.orelse and st.body and isinstance(st.body[-1], ast.Raise):
            test, negated = st.test, True
        elif isinstance(st, ast.Assert):
            test = st.test
        if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and
                isinstance(test.left, ast.Attribute) and test.left.attr == "mode" and
                isinstance(test.left.value, ast.Name) and test.left.value.id == name and
                isinstance(test.comparators[0], ast.Constant) and isinstance(test.comparators[0].value, str)):
            continue
        if isinstance(test.ops[0], ast.NotEq if negated else ast.Eq):
            return test.comparators[0].value
    return None


def _image(node: ast.expr, ctx: Ctx, steps: List[str], depth: int = 0) -> Img:
    """The image an expression of a ``__getitem__`` holds: ('pil' | 'nd' | 'tensor', C, H, W), 'nd'
    an OpenCV / numpy H x W x C array (C 1 for a two-dimensional one)."""
    if depth > 30:
        raise _Unknown
    if isinstance(node, ast.Name):
        b = _reach(ctx, node.id, node)
        if b[0] == "assign" and not b[2]:
            img = _image(b[1], ctx, steps, depth + 1)
            if img[0] == "pil" and img[1] is None:
                mode = _guarded_mode(ctx, node.id, b[1], node)
                if mode in _PIL_MODES:
                    img = ("pil", _PIL_MODES[mode], img[2], img[3])
            return img
        raise _Unknown
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult, ast.Add, ast.Sub)):
        num = [isinstance(x, ast.Constant) and isinstance(x.value, (int, float)) and not isinstance(x.value, bool)
               for x in (node.left, node.right)]
        if num[0] != num[1]:  # pic / 255 on an array
            img = _image(node.right if num[0] else node.left, ctx, steps, depth + 1)
            if img[0] == "nd":
                return img
        raise _Unknown
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args) or \
            any(k.arg is None for k in node.keywords):
        raise _Unknown
    f = node.func
    if isinstance(f, ast.Attribute) and f.attr in ("convert", "astype", "copy"):
        try:
            _qual(f, ctx)  # Image.open / np.copy...: a function of a module, below
        except _Unknown:
            img = _image(f.value, ctx, steps, depth + 1)
            if f.attr == "convert" and img[0] == "pil" and len(node.args) == 1 and not node.keywords:
                mode = _static(node.args[0], ctx)
                if mode not in _PIL_MODES:
                    raise _Unknown
                return ("pil", _PIL_MODES[mode], img[2], img[3])
            if f.attr in ("astype", "copy") and img[0] == "nd":
                return img
            raise _Unknown
    if isinstance(f, ast.Attribute) and f.attr in ("resize", "transpose", "float") and _qual_or_none(f, ctx) is None:
        img = _image(f.value, ctx, steps, depth + 1)
        if f.attr == "resize" and img[0] == "pil" and node.args:  # img.resize((w, h), Image.BILINEAR)
            size = _pair(node.args[0], ctx)
            if not (isinstance(size, (tuple, list)) and len(size) == 2 and
                    all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
                raise _Unknown
            steps.append(f"resize({tuple(size)})")
            return ("pil", img[1], size[1], size[0])  # PIL sizes are (width, height)
        if f.attr == "transpose" and img[0] == "nd" and _axes(node.args, ctx) == (2, 0, 1):
            return ("ndchw",) + img[1:]  # H x W x C -> C x H x W
        if f.attr == "float" and not node.args and img[0] in ("tensor", "fromnp", "u8"):
            return ("tensor",) + img[1:]
        raise _Unknown
    q = None
    try:
        q = _qual(f, ctx)
    except _Unknown:
        pass
    if q == "PIL.Image.open":
        return ("pil", None, None, None)  # its mode (channels) is the file's
    if q == "cv2.imread":
        flag = _arg(node, 1, "flags")
        if flag is None:
            return ("nd", 3, None, None)  # IMREAD_COLOR: three channels, BGR
        try:
            fq = _qual(flag, ctx)
        except _Unknown:
            fq = _static(flag, ctx)
        c = {"cv2.IMREAD_COLOR": 3, 1: 3, "cv2.IMREAD_GRAYSCALE": 1, 0: 1}.get(fq)
        if c is None:
            raise _Unknown
        return ("nd", c, None, None)
    if q == "cv2.resize" and len(node.args) >= 2:
        img = _image(node.args[0], ctx, steps, depth + 1)
        size = _unpacked(node.args[1], ctx)
        if img[0] != "nd" or not (isinstance(size, (tuple, list)) and len(size) == 2 and
                                  all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in size)):
            raise _Unknown
        steps.append(f"cv2.resize({tuple(size)})")
        return ("nd", img[1], size[1], size[0])  # dsize is (width, height)
    if q == "cv2.cvtColor" and len(node.args) == 2:
        img = _image(node.args[0], ctx, steps, depth + 1)
        code = _qual(node.args[1], ctx)
        c = 3 if code.endswith(("2RGB", "2BGR")) else 1 if code.endswith("2GRAY") else None
        if img[0] != "nd" or c is None:
            raise _Unknown
        return ("nd", c, img[2], img[3])
    if q == "numpy.transpose" and len(node.args) == 2:
        img = _image(node.args[0], ctx, steps, depth + 1)
        if img[0] == "nd" and _axes(node.args[1:], ctx) == (2, 0, 1):
            return ("ndchw",) + img[1:]
        raise _Unknown
    if q == "torch.from_numpy" and len(node.args) == 1 and not node.keywords:
        img = _image(node.args[0], ctx, steps, depth + 1)
        if img[0] != "ndchw":
            raise _Unknown
        return ("fromnp",) + img[1:]  # the array's dtype: a model input once `.float()` makes it one
    if q in ("numpy.array", "numpy.asarray") and len(node.args) == 1 and not node.keywords:
        img = _image(node.args[0], ctx, steps, depth + 1)
        if img[0] != "pil":
            raise _Unknown
        return ("nd",) + img[1:]  # H x W x C (H x W for one channel)
    if q is not None or len(node.args) != 1 or node.keywords:
        raise _Unknown
    # a transform the class keeps, applied: self.transform(img)
    cands: List[ast.expr] = list(_self_attr_values(ctx, f)) if isinstance(f, ast.Attribute) else [f]
    try:
        img = _image(node.args[0], ctx, steps, depth + 1)
    except _Unknown:
        # a path, opened by the pipeline's first step: Compose([lambda x: Image.open(x).convert('RGB'), ...])
        opened = _opening_compose(cands[0], ctx, steps, depth) if len(cands) == 1 else None
        if opened is None:
            raise
        img, rest = opened
        cands = [rest]
    outs: Dict[Img, List[List[str]]] = {}
    for t in cands:  # a transform per branch of the constructor (train / val): the same image from each
        try:
            if _is_none(t, ctx):
                continue  # `self.transform = transform` (None) replaced below: calling None fails
        except (_Unknown, RecursionError):
            pass
        st: List[str] = []
        outs.setdefault(_transform(t, ctx, img, st), []).append(st)
    if len(outs) != 1:
        raise _Unknown
    ((out, done),) = outs.items()
    steps.extend(done[0] if all(d == done[0] for d in done) else [f"any of its {len(done)} transforms"])
    return out


_NOISE = {"torch.randn", "torch.rand", "torch.zeros", "torch.ones", "torch.empty"}
_FLOAT_TYPES = {"torch.FloatTensor", "torch.cuda.FloatTensor"}
# numpy's array makers: where their shape argument is (position, keyword); None: the sizes are the
# positional arguments themselves (np.random.randn(2, 3))
_NUMPY_SHAPES = {"numpy.random.normal": (2, "size"), "numpy.random.uniform": (2, "size"),
                 "numpy.random.random": (0, "size"), "numpy.random.random_sample": (0, "size"),
                 "numpy.random.randn": None, "numpy.random.rand": None,
                 "numpy.zeros": (0, "shape"), "numpy.ones": (0, "shape")}


def _float_type(node: ast.expr, ctx: Ctx, depth: int = 0) -> bool:
    """``torch.FloatTensor`` / ``torch.cuda.FloatTensor``, or a name bound to one of them or to
    ``A if cond else B`` of them (PyTorch-GAN's ``Tensor = torch.cuda.FloatTensor if cuda else
    torch.FloatTensor``): a cast to float32 that keeps the shape."""
    if depth > 4:
        return False
    if isinstance(node, ast.IfExp):
        return _float_type(node.body, ctx, depth + 1) and _float_type(node.orelse, ctx, depth + 1)
    try:
        return _qual(node, ctx) in _FLOAT_TYPES
    except _Unknown:
        pass
    if not isinstance(node, ast.Name):
        return False
    try:
        b = _reach(ctx, node.id, node)
    except _Unknown:
        return False
    return b[0] in ("assign", "global") and not b[2] and _float_type(b[1], ctx, depth + 1)


def _numpy_noise(node: ast.expr, ctx: Ctx) -> tuple:
    """``np.random.normal(0, 1, (b, latent_dim))`` and numpy's other array makers with a shape of
    static sizes or sizes of known tensors: ("tensor", shape, origin)."""
    if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args) or \
            any(k.arg is None for k in node.keywords):
        raise _Unknown
    q = _qual(node.func, ctx)
    if q not in _NUMPY_SHAPES or any(k.arg == "dtype" for k in node.keywords):
        raise _Unknown
    where = _NUMPY_SHAPES[q]
    if where is None:
        dims = list(node.args)
    else:
        arg = _arg(node, where[0], where[1])
        if arg is None:
            raise _Unknown  # a scalar, not an array
        dims = list(arg.elts) if isinstance(arg, (ast.Tuple, ast.List)) else [arg]
    shape = tuple(_dim(d, ctx) for d in dims)
    if not shape or any(d < 0 for d in shape):
        raise _Unknown
    return ("tensor", shape, f"{ctx.where}:{node.lineno} ({q.replace('numpy', 'np')})")


def _int(node: ast.expr, ctx: Ctx) -> int:
    try:
        v = _static(node, ctx)
    except _Unknown:
        v = _decide(node, ctx)  # args.batch_size in get_loader(args), args the script's namespace
    if not isinstance(v, int) or isinstance(v, bool):
        raise _Unknown
    return v


def _dim(node: ast.expr, ctx: Ctx, depth: int = 0) -> int:
    """A reshape size: a static int, or ``x.size(i)`` / ``x.shape[i]`` / ``x.size()[i]`` of a known
    tensor, also through a name bound to one."""
    try:
        return _int(node, ctx)
    except _Unknown:
        pass
    if isinstance(node, ast.Name):  # num_img = img.size(0) ... img.view(num_img, -1)
        b = _reach(ctx, node.id, node)
        if b[0] != "assign" or b[2] or depth > 8:
            raise _Unknown
        return _dim(b[1], ctx, depth + 1)
    t, i = None, None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "size" and \
            len(node.args) == 1 and not node.keywords:
        t, i = node.func.value, _int(node.args[0], ctx)
    elif isinstance(node, ast.Subscript):
        base = node.value
        if isinstance(base, ast.Attribute) and base.attr == "shape":
            t, i = base.value, _int(node.slice, ctx)
        elif isinstance(base, ast.Call) and isinstance(base.func, ast.Attribute) and base.func.attr == "size" \
                and not base.args and not base.keywords:
            t, i = base.func.value, _int(node.slice, ctx)
    if t is None or i is None:
        raise _Unknown
    v = _ev(t, ctx)
    if v[0] != "tensor" or not -len(v[1]) <= i < len(v[1]):
        raise _Unknown
    return v[1][i]


def _reshape(shape: Tuple[int, ...], args: List[ast.expr], ctx: Ctx) -> Tuple[int, ...]:
    if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
        args = list(args[0].elts)
    if not args or any(isinstance(a, ast.Starred) for a in args):
        raise _Unknown
    dims = [_dim(a, ctx) for a in args]
    total = 1
    for d in shape:
        total *= d
    known = 1
    for d in dims:
        if d != -1:
            if d < 0:
                raise _Unknown
            known *= d
    if dims.count(-1) > 1 or (dims.count(-1) == 1 and (known == 0 or total % known)) or \
            (-1 not in dims and known != total):
        raise _Unknown  # torch would refuse the reshape: the pipeline, not the model, is wrong
    return tuple(total // known if d == -1 else d for d in dims)


def _loader(node: ast.Call, ctx: Ctx, depth: int) -> tuple:
    """``DataLoader(dataset, batch_size=B, ...)``: batches of B images (B=1 by default; 2 when the
    source does not decide it)."""
    collate = next((k.value for k in node.keywords if k.arg == "collate_fn"), None)
    if any(k.arg == "batch_sampler" for k in node.keywords) or \
            any(isinstance(a, ast.Starred) for a in node.args) or len(node.args) > 3 or \
            collate is not None and not _stacking_collate(collate, ctx):
        raise _Unknown
    extra: Dict[str, Tuple[ast.expr, Ctx]] = {}
    for k in node.keywords:
        if k.arg is None:
            extra.update(_kwargs(k.value, ctx))
    ds = _arg(node, 0, "dataset")
    if ds is None:
        raise _Unknown
    v = _ev(ds, ctx, depth + 1)
    if v[0] != "dataset":
        raise _Unknown
    kind, c, h, w = v[1]
    if kind != "tensor" or c is None or h is None or w is None:
        raise _Unknown
    b, bctx = _arg(node, 1, "batch_size"), ctx
    if b is None and "batch_size" in extra:
        b, bctx = extra["batch_size"]
    batch = 1
    if b is not None:
        if isinstance(b, ast.Constant) and b.value is None:
            raise _Unknown  # batch_size=None: samples one by one, no batch dimension
        try:
            batch = _int(b, bctx)
        except _Unknown:
            try:
                none = _static(b, bctx) is None
            except _Unknown:
                none = False
            if none:
                raise
            batch = 2  # not static: a batch of 2 (the size of the batch dimension is not checked)
        if batch < 1:
            raise _Unknown
    origin = f"{ctx.where}:{node.lineno} ({v[2]})"
    return ("loader", (batch, c, h, w), origin) + ((v[3],) if len(v) > 3 and v[3] != 2 else ())


def _stacking_collate(node: ast.expr, ctx: Ctx) -> bool:
    """A ``collate_fn`` that batches the images as the default one does::

        @staticmethod
        def collate_fn(batch):
            images, labels = tuple(zip(*batch))
            images = torch.stack(images, dim=0)
            labels = torch.as_tensor(labels)
            return images, labels

    (a method of the dataset's class, ``train_dataset.collate_fn``, or a function of the project):
    its one parameter unzipped, the first part stacked on a new first dim and returned first,
    nothing else touching it."""
    from .lightning import _class_of

    fn: Optional[ast.FunctionDef] = None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        b = _reach(ctx, node.value.id, node)
        if b[0] == "assign" and not b[2] and isinstance(b[1], ast.Call):
            got = _class_of(b[1].func, ctx)
            if got is not None:
                found = [m for m in got[0].body if isinstance(m, ast.FunctionDef) and m.name == node.attr]
                fn = found[0] if len(found) == 1 else None
                if fn is not None and not any(isinstance(d, ast.Name) and d.id == "staticmethod"
                                              for d in fn.decorator_list):
                    fn = None  # a bound method's first parameter is the dataset
    elif isinstance(node, ast.Name):
        got_fn = _function(node, ctx)
        fn = got_fn[0] if got_fn is not None else None
    if fn is None or len(fn.args.args) != 1 or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs:
        return False
    batch = fn.args.args[0].arg
    first: Optional[str] = None
    stacked = False
    for st in fn.body:
        if isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant):
            continue  # a docstring
        if isinstance(st, ast.Assign) and len(st.targets) == 1:
            t, v = st.targets[0], st.value
            if first is None and isinstance(t, ast.Tuple) and t.elts and isinstance(t.elts[0], ast.Name):
                while isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id in ("tuple", "list") \
                        and len(v.args) == 1:
                    v = v.args[0]
                if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "zip" and \
                        len(v.args) == 1 and isinstance(v.args[0], ast.Starred) and \
                        isinstance(v.args[0].value, ast.Name) and v.args[0].value.id == batch:
                    first = t.elts[0].id
                    continue
                return False
            if first is not None and isinstance(t, ast.Name) and t.id == first and not stacked:
                if isinstance(v, ast.Call) and _qual_or_none(v.func, ctx) == "torch.stack" and v.args and \
                        isinstance(v.args[0], ast.Name) and v.args[0].id == first and len(v.args) <= 2 and \
                        all(k.arg == "dim" for k in v.keywords):
                    dim = v.args[1] if len(v.args) == 2 else next((k.value for k in v.keywords), None)
                    if dim is None or isinstance(dim, ast.Constant) and dim.value == 0:
                        stacked = True
                        continue
                return False
            if first is not None and not any(isinstance(n, ast.Name) and n.id == first for n in ast.walk(st)):
                continue  # labels = torch.as_tensor(labels)
            return False
        if isinstance(st, ast.Return) and stacked and isinstance(st.value, ast.Tuple) and st.value.elts and \
                isinstance(st.value.elts[0], ast.Name) and st.value.elts[0].id == first and \
                not any(isinstance(n, ast.Name) and n.id == first for e in st.value.elts[1:] for n in ast.walk(e)):
            return True
        return False
    return False


def _qual_or_none(f: ast.expr, ctx: Ctx) -> Optional[str]:
    try:
        return _qual(f, ctx)
    except _Unknown:
        return None


_HARMLESS = {"num_workers", "pin_memory", "shuffle", "drop_last", "persistent_workers", "prefetch_factor",
             "timeout", "worker_init_fn", "generator", "pin_memory_device", "in_order"}


def _kwargs(node: ast.expr, ctx: Ctx, depth: int = 0) -> Dict[str, Tuple[ast.expr, Ctx]]:
    """``**kwargs`` of a DataLoader: its keys (their values) when known and harmless to the batch's
    shape (``{'batch_size': args.batch_size}``, ``kwargs.update({'num_workers': 1, ...})``)."""
    if depth > 6:
        raise _Unknown
    if isinstance(node, ast.Dict):
        if not all(isinstance(k, ast.Constant) and (k.value in _HARMLESS or k.value == "batch_size")
                   for k in node.keys):
            raise _Unknown
        return {k.value: (v, ctx) for k, v in zip(node.keys, node.values)}  # type: ignore[union-attr]
    if isinstance(node, ast.IfExp):
        a, b = _kwargs(node.body, ctx, depth + 1), _kwargs(node.orelse, ctx, depth + 1)
        if "batch_size" in a or "batch_size" in b:
            raise _Unknown
        return {**a, **b}
    if not isinstance(node, ast.Name):
        raise _Unknown
    b = _reach(ctx, node.id, node)
    if b[0] == "param":  # a function's **kwargs (or a dict parameter): what the call gave it
        got = ctx.env.get(id(b[1]), {}).get(node.id)
        if got is None:
            raise _Unknown
        out = _kwargs(got[0], got[1], depth + 1)
    elif b[0] == "assign" and not b[2]:
        out = _kwargs(b[1], ctx, depth + 1)
    else:
        raise _Unknown
    fe = ctx.fe
    scope = fe._scope(node)
    for n in ast.walk(scope):  # changes, wherever they run, may only touch harmless keys
        if not (isinstance(n, (ast.Attribute, ast.Subscript)) and isinstance(n.value, ast.Name) and
                n.value.id == node.id and fe._scope(n) is scope):
            continue
        call = fe.parents.get(id(n))
        if not (isinstance(n, ast.Attribute) and isinstance(call, ast.Call) and call.func is n and
                not call.keywords and not any(isinstance(a, ast.Starred) for a in call.args)):
            raise _Unknown
        if n.attr == "update" and len(call.args) == 1:
            if "batch_size" in _kwargs(call.args[0], ctx, depth + 1):
                raise _Unknown
        elif not (n.attr in ("setdefault", "pop", "get") and 1 <= len(call.args) <= 2 and
                  isinstance(call.args[0], ast.Constant) and call.args[0].value != "batch_size" and
                  (n.attr != "setdefault" or call.args[0].value in _HARMLESS)):
            raise _Unknown  # (kwargs.setdefault('num_workers', 1), kwargs.pop('input_size', None))
    return out


def _dataset(name: str, node: ast.Call, ctx: Ctx) -> tuple:
    if any(k.arg is None or k.arg == "loader" for k in node.keywords) or \
            any(isinstance(a, ast.Starred) for a in node.args):
        raise _Unknown
    img: Img = ("pil",) + DATASETS[name]
    t = _arg(node, _TRANSFORM_POS.get(name), "transform")
    steps: List[str] = []
    if t is not None and not (isinstance(t, ast.Constant) and t.value is None):
        img = _transform(t, ctx, img, steps)
    return ("dataset", img, ", ".join([name] + steps))


# -- from the construction to the model's calls ----------------------------------------------


def data_inputs(fe: _FileEval, path: str, root: str, base: str, call: ast.Call,
                scope: ast.AST) -> List[Tuple[Tuple[Tuple[int, ...], ...], str]]:
    """The inputs the data pipeline of the file ``path`` feeds the model ``call`` builds, each
    with its origin ('train.py:88 (CIFAR10, RandomCrop(32, padding=4))', relative to ``base``)."""
    file = _File(fe, path, root, base)
    var = _model_var(file, call, scope)
    out: List[Tuple[Tuple[Tuple[int, ...], ...], str]] = []
    if var is None:  # self.model = Net() in a LightningModule trained by the file, or in a trainer class
        from .lightning import lightning_inputs

        return [((v[1],), v[2]) for v in lightning_inputs(file, call, _ev)] or _trainer_inputs(file, call)
    for site, ctx in _model_calls(Ctx(file), scope, var, 0, scope is fe.tree):
        _add_fed(site, ctx, out)
    return out


def _add_fed(site: ast.Call, ctx: Ctx, out: List[Tuple[Tuple[Tuple[int, ...], ...], str]]) -> None:
    """``model(x)`` with one positional argument the data flow decides: its (shape, origin), once."""
    if len(site.args) != 1 or site.keywords or isinstance(site.args[0], ast.Starred):
        return
    try:
        v = _ev(site.args[0], ctx)
    except (_Unknown, RecursionError):
        return
    if v[0] == "tensor" and ((v[1],), v[2]) not in out:
        out.append(((v[1],), v[2]))


# -- a trainer class (``self.model = Net()`` in ``load_model``, ``self.model(data)`` in ``train``) --


def _trainer_inputs(file: _File, call: ast.Call) -> List[Tuple[Tuple[Tuple[int, ...], ...], str]]:
    """The model ``call`` builds kept in ``self.ATTR`` of a trainer class (``self.model =
    WideResNet(28, 10).to(self.device)`` in ``Solver.load_model``): the inputs its methods feed
    it (``for data, target in self.train_loader: output = self.model(data)``), the loader being
    what the class stores once in ``self.train_loader``. The attribute must be stored there only
    (or wrapped again: ``self.model = nn.DataParallel(self.model)``), in a branch the source decides."""
    fe = file.fe
    node, parent = _outermost(file, call)
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1):
        return []
    t = parent.targets[0]
    if not (isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"):
        return []
    cls = _self_class(fe, t)
    if cls is None or _self_class(fe, parent) is not cls:
        return []
    for s in _self_stores(cls, t.attr, fe.parents):
        if s is t:
            continue
        a = fe.parents.get(id(s)) if s is not None else None
        if not (isinstance(a, ast.Assign) and len(a.targets) == 1 and a.targets[0] is s and
                _rewraps(file, a.value, t.attr, self_attr=True)):
            return []
    try:
        if not _runs(_conditions(fe, parent, fe._scope(parent)), Ctx(file)):
            return []
    except (_Unknown, RecursionError):
        return []
    out: List[Tuple[Tuple[Tuple[int, ...], ...], str]] = []
    for fn in cls.body:
        if not isinstance(fn, ast.FunctionDef):
            continue
        for n in ast.walk(fn):
            if not isinstance(n, ast.Call) or fe._scope(n) is not fn:
                continue
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr == "forward":
                f = f.value
            if isinstance(f, ast.Attribute) and f.attr == t.attr and isinstance(f.value, ast.Name) and \
                    f.value.id == "self":
                _add_fed(n, Ctx(file), out)
    return out


def _outermost(file: _File, call: ast.AST) -> Tuple[ast.AST, Optional[ast.AST]]:
    """``call`` through ``.to(device)`` / ``.cuda()`` chains and a DataParallel: the outermost
    expression that is still the model, and its parent."""
    fe = file.fe
    node: ast.AST = call
    while True:
        parent = fe.parents.get(id(node))
        if isinstance(parent, ast.Attribute) and parent.attr in _SAME_SHAPE | {"eval", "train"}:
            outer = fe.parents.get(id(parent))
            if not isinstance(outer, ast.Call) or outer.func is not parent:
                return node, None
            node = outer
        elif _wrapper(parent, file) and parent.args and parent.args[0] is node:  # type: ignore[union-attr]
            node = parent  # type: ignore[assignment]
        else:
            return node, parent


def _wrapper(node: Optional[ast.AST], file: _File) -> bool:
    """``nn.DataParallel(...)`` / ``DistributedDataParallel(...)``."""
    if not isinstance(node, ast.Call):
        return False
    try:
        q = _qual(node.func, Ctx(file))
    except _Unknown:
        return False
    return q.startswith("torch.") and q.split(".")[-1] in ("DataParallel", "DistributedDataParallel")


def _parallel_wrapped(file: _File, var: str) -> bool:
    """The file wraps ``var`` in a DataParallel (``var = nn.DataParallel(var).cuda()``): its
    ``.module`` is the model again (a model class's own ``module`` attribute would not be)."""
    for n in ast.walk(file.fe.tree):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and \
                n.targets[0].id == var:
            v = n.value
            while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr in _SAME_SHAPE:
                v = v.func.value
            if isinstance(v, ast.Call) and _wrapper(v, file) and v.args and isinstance(v.args[0], ast.Name) and \
                    v.args[0].id == var:
                return True
    return False


def _model_var(file: _File, call: ast.Call, scope: ast.AST) -> Optional[str]:
    """The name ``call``'s model is kept in (through ``.to(device)`` chains and a DataParallel),
    when every other binding of that name in the scope only wraps it again."""
    fe = file.fe
    node, parent = _outermost(file, call)
    var = None
    if isinstance(parent, ast.Tuple):  # `netg, netd = NetG(opt), NetD(opt)`: the name in its place
        assign = fe.parents.get(id(parent))
        if isinstance(assign, ast.Assign) and assign.value is parent and len(assign.targets) == 1 and \
                isinstance(assign.targets[0], ast.Tuple) and len(assign.targets[0].elts) == len(parent.elts) and \
                not any(isinstance(e, ast.Starred) for e in parent.elts):
            target = assign.targets[0].elts[next(i for i, e in enumerate(parent.elts) if e is node)]
            if isinstance(target, ast.Name):
                var, parent = target.id, assign
    elif isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        var = parent.targets[0].id
    if var is None or parent is None:
        return None
    if fe.is_patched(var, scope):
        return None  # `model.fc = nn.Linear(...)` after the build: not the model built
    ctx = Ctx(file)
    try:
        if not _runs(_conditions(fe, parent, scope), ctx):
            return None  # not built when the script runs with its defaults
        for n in ast.walk(scope):
            if n is parent or fe._scope(n) is not scope or not _direct_binds(n, var):
                continue
            if isinstance(n, ast.Assign) and _rewraps(file, n.value, var):
                continue
            if _before(fe, n, parent, scope):
                continue  # `import model` / `model = None` above the build: the build rebinds it
            if _runs(_conditions(fe, n, scope), ctx):
                return None  # rebound to something else
    except (_Unknown, RecursionError):
        return None
    return var


def _before(fe: _FileEval, n: ast.AST, built: ast.AST, scope: ast.AST) -> bool:
    """Whether the binding ``n`` runs only before the statement ``built`` does: it comes first in
    the source and no loop of the scope holds it (a loop could run it again after the build)."""
    if getattr(n, "end_lineno", None) is None or n.end_lineno >= built.lineno:  # type: ignore[attr-defined]
        return False
    p = fe.parents.get(id(n))
    while p is not None and p is not scope:
        if isinstance(p, (ast.For, ast.AsyncFor, ast.While)):
            return False
        p = fe.parents.get(id(p))
    return p is scope


def _rewraps(file: _File, value: Optional[ast.expr], var: str, self_attr: bool = False) -> bool:
    """``var.to(device)``, ``nn.DataParallel(var)`` (``self.var...`` with ``self_attr``): the same model again."""
    inner = value
    while True:
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and \
                inner.func.attr in _SAME_SHAPE | {"eval", "train"}:
            inner = inner.func.value
        elif isinstance(inner, ast.Attribute) and inner.attr == "module" and _parallel_wrapped(file, var):
            inner = inner.value  # model.cpu().module: the model the file's DataParallel holds
        else:
            break
    if _wrapper(inner, file) and inner.args:  # type: ignore[union-attr]
        inner = inner.args[0]  # type: ignore[union-attr]
    if self_attr:
        return isinstance(inner, ast.Attribute) and inner.attr == var and isinstance(inner.value, ast.Name) and \
            inner.value.id == "self"
    if isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name):
        return _held_by(file, inner, var)
    return isinstance(inner, ast.Name) and inner.id == var


def _holder(file: _File, call: ast.Call, var: str,
            ctx: Optional[Ctx] = None) -> Optional[Tuple[ast.ClassDef, _File, str, ast.FunctionDef, Dict]]:
    """``Trainer(model, ...)`` / ``Mask(net)``: a class of the project whose ``__init__`` keeps the
    model named ``var`` in ``self.ATTR`` (that attribute's only store in the class): (the class, its
    file, ATTR, its ``__init__``, whose parameters bound to the call's arguments (evaluated in
    ``ctx``)), else None."""
    ctx = ctx or Ctx(file)
    got = _function(call.func, ctx, ast.ClassDef)
    if got is None:
        return None
    cls: ast.ClassDef = got[0]
    home = got[1]
    init = _method(cls, "__init__")
    params = _bind_method(init, call, ctx, Ctx(home)) if init is not None else None
    if init is None or params is None:
        return None
    passed = [p for p, (a, _) in params.items() if isinstance(a, ast.Name) and a.id == var]
    if len(passed) != 1:
        return None
    kept = [t.attr for st in init.body if isinstance(st, ast.Assign) and isinstance(st.value, ast.Name) and
            st.value.id == passed[0] for t in st.targets
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"]
    if len(kept) != 1 or _rebound(home, init, passed[0]):
        return None
    stores = _self_stores(cls, kept[0], home.fe.parents)
    if len(stores) != 1 or stores[0] is None or _self_class(home.fe, stores[0]) is not cls:
        return None
    return cls, home, kept[0], init, params


def _held_by(file: _File, node: ast.Attribute, var: str) -> bool:
    """``net = m.model`` after ``m = Mask(net)`` (soft-filter-pruning): the holder's attribute is
    the model it was given, when the holder name is bound once in the scope, to that construction."""
    fe = file.fe
    scope = fe._scope(node)
    h = node.value.id  # type: ignore[attr-defined]
    binds = [b for b in ast.walk(scope) if fe._scope(b) is scope and _direct_binds(b, h)]
    if len(binds) != 1 or not (isinstance(binds[0], ast.Assign) and isinstance(binds[0].value, ast.Call)):
        return False
    held = _holder(file, binds[0].value, var)
    return held is not None and held[2] == node.attr


def _own_calls(fe: _FileEval, scope: ast.AST) -> Iterator[Tuple[ast.Call, ast.expr]]:
    """The calls ``scope`` itself makes (not its nested functions'), each with what it calls, a
    ``.forward`` looked through (``model.forward(x)`` calls the model)."""
    for n in ast.walk(scope):
        if isinstance(n, ast.Call) and fe._scope(n) is scope:
            f = n.func
            if isinstance(f, ast.Attribute) and f.attr == "forward":
                f = f.value
            yield n, f


def _model_calls(ctx: Ctx, scope: ast.AST, var: str, depth: int, glob: bool) -> Iterator[Tuple[ast.Call, Ctx]]:
    """The calls of the model named ``var`` in ``scope`` and in the functions of the file it is
    passed to (or, a module global, that are called from there), with their parameters' values."""
    fe = ctx.fe
    for n, f in _own_calls(fe, scope):
        if isinstance(f, ast.Name) and f.id == var:
            yield n, ctx
            continue
        if depth >= MAX_DEPTH or not (isinstance(n.func, ast.Name) or isinstance(n.func, ast.Attribute) and
                                      isinstance(n.func.value, ast.Name)):
            continue
        # of this file, or imported from a module of the project (`engine.train(model=model, ...)`)
        got = _function(n.func, ctx)
        if got is None:
            yield from _held_model_calls(ctx, scope, n, var, depth)
            continue
        fn, home = got
        params = _bind(fn, n, ctx, Ctx(home))
        if params is None:
            continue
        inner = ctx.inner(fn, params, home)
        passed = [p for p, (a, _) in params.items() if isinstance(a, ast.Name) and a.id == var]
        if len(passed) == 1 and not _rebound(home, fn, passed[0]):
            # `train_one_epoch(model=model, data_loader=train_loader, ...)` in utils.py
            yield from _model_calls(inner, fn, passed[0], depth + 1, False)
        elif not passed and glob and home is ctx.file and not _is_param(fn, var) and \
                not any(_binds(s, var) for s in fn.body):
            yield from _model_calls(inner, fn, var, depth + 1, True)


def _method(cls: ast.ClassDef, name: str) -> Optional[ast.FunctionDef]:
    got = [s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == name]
    return got[0] if len(got) == 1 and not got[0].decorator_list else None


def _bind_method(fn: ast.FunctionDef, call: ast.Call, caller: Ctx, callee: Ctx) -> Optional[Dict[str, Tuple[ast.expr, Ctx]]]:
    """A method's parameters but ``self`` -> (argument, where to evaluate it)."""
    a = fn.args
    if not (a.posonlyargs + a.args) or (a.posonlyargs + a.args)[0].arg != "self":
        return None
    me = ast.Call(func=call.func, args=[ast.Constant(None)] + list(call.args), keywords=list(call.keywords))
    params = _bind(fn, me, caller, callee)
    if params is not None:
        params.pop("self", None)
    return params


def _held_model_calls(ctx: Ctx, scope: ast.AST, n: ast.Call, var: str, depth: int) -> Iterator[Tuple[ast.Call, Ctx]]:
    """``trainer = Trainer(model, optimizer, ...)`` (a class of the project whose ``__init__`` keeps
    the model in ``self.ATTR``, its only store), then ``trainer.train(data_loader, epochs)``: the
    calls ``self.ATTR(x)`` of the methods called on the instance, and of the methods they call on
    ``self`` (joint-vae's ``train -> _train_epoch -> _train_iteration``), with their parameters'
    values: the instance's construction arguments for what ``__init__`` stores."""
    if depth >= MAX_DEPTH:
        return
    parent = ctx.fe.parents.get(id(n))
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return
    held = _holder(ctx.file, n, var, ctx)
    if held is None:
        return
    cls, home, attr, init, params = held
    inst = parent.targets[0].id
    fe = ctx.fe
    if sum(1 for b in ast.walk(scope) if fe._scope(b) is scope and _direct_binds(b, inst)) != 1:
        return
    init_ctx = ctx.inner(init, params, home)
    for m in ast.walk(scope):
        if not (isinstance(m, ast.Call) and isinstance(m.func, ast.Attribute) and isinstance(m.func.value, ast.Name)
                and m.func.value.id == inst and fe._scope(m) is scope):
            continue
        meth = _method(cls, m.func.attr)
        mparams = _bind_method(meth, m, ctx, init_ctx) if meth is not None else None
        if meth is not None and mparams is not None:
            yield from _self_model_calls(init_ctx.inner(meth, mparams, home), cls, meth, attr, depth + 1)


def _self_model_calls(ctx: Ctx, cls: ast.ClassDef, fn: ast.FunctionDef, attr: str,
                      depth: int) -> Iterator[Tuple[ast.Call, Ctx]]:
    """In a method of ``cls``: the calls of ``self.ATTR`` (the model), and those of the methods it
    calls on ``self``."""
    fe = ctx.fe
    for n, f in _own_calls(fe, fn):
        if isinstance(f, ast.Attribute) and f.attr == attr and isinstance(f.value, ast.Name) and f.value.id == "self":
            yield n, ctx
            continue
        if depth < MAX_DEPTH + 2 and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) and \
                n.func.value.id == "self" and n.func.attr != attr:
            meth = _method(cls, n.func.attr)
            params = _bind_method(meth, n, ctx, ctx) if meth is not None and meth is not fn else None
            if meth is not None and params is not None:
                yield from _self_model_calls(ctx.inner(meth, params), cls, meth, attr, depth + 1)


def _rebound(file: _File, fn: ast.FunctionDef, name: str) -> bool:
    """Whether ``fn`` binds ``name`` to anything but the same model again (``model = model.train()``,
    ``model = nn.DataParallel(model)``)."""
    for n in ast.walk(fn):
        if not _direct_binds(n, name) or n is fn:
            continue
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and \
                _rewraps(file, n.value, name):
            continue
        return True
    return any(isinstance(a, ast.arg) and a.arg == name for a in ast.walk(fn) if a not in fn.args.args) or \
        any(isinstance(n, (ast.FunctionDef, ast.Lambda)) and n is not fn and _binds(n, name) for n in ast.walk(fn))


def container_inputs(path: str, code: str, names: Set[str]) -> Dict[str, List[Optional[Tuple[Tuple[int, ...], str]]]]:
    """Module-level models (``D = nn.Sequential(...)``) fed by the file's data pipeline: for each
    name, its module-level calls ``D(x)`` in source order (outside class bodies), each with
    (shape, origin) when ``x`` is a batch of a loader the file builds, else None. The file is the
    one on disk (``code`` must be its text: an unsaved buffer is not read from disk)."""
    got = _parsed(path)
    if got is None or got[0] != code:
        return {}
    tree = got[1]
    fe = _FileEval(tree, set(), "")
    base = os.path.dirname(os.path.abspath(path))
    file = _File(fe, os.path.abspath(path), base, base)
    calls = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names and \
                fe._scope(n) is tree and not _in_class(fe, n):
            calls.append(n)
    out: Dict[str, List[Optional[Tuple[Tuple[int, ...], str]]]] = {}
    for n in sorted(calls, key=lambda c: (c.lineno, c.col_offset)):
        item = None
        if len(n.args) == 1 and not n.keywords and not isinstance(n.args[0], ast.Starred) and \
                not fe.is_patched(n.func.id, tree):  # type: ignore[attr-defined]
            try:
                v = _ev(n.args[0], Ctx(file))
                if v[0] == "tensor":
                    item = (v[1], v[2])
            except (_Unknown, RecursionError):
                pass
        out.setdefault(n.func.id, []).append(item)  # type: ignore[attr-defined]
    return out


def _in_class(fe: _FileEval, node: ast.AST) -> bool:
    p = fe.parents.get(id(node))
    while p is not None:
        if isinstance(p, ast.ClassDef):
            return True
        p = fe.parents.get(id(p))
    return False


# -- through a factory of the project (``net = get_network(args)``) ---------------------------


def factory_inputs(fe: _FileEval, path: str, root: str, base: str, call: ast.Call, fn: ast.AST,
                   files: List[str]) -> List[Tuple[Tuple[Tuple[int, ...], ...], str]]:
    """``call`` builds the model a module-level function ``fn`` returns (``get_network(args)``
    choosing by ``args.net``): the data inputs fed to what ``fn(...)`` returns in the project's
    files, at the calls whose arguments (argparse defaults) take ``call``'s branch."""
    if not isinstance(fn, ast.FunctionDef) or fn not in fe.tree.body:
        return []
    home = _File(fe, path, root, base)
    try:
        ret = _returned(fn)
        conds = _conditions(fe, call, fn)
        var = None
        outer, parent = _outermost(home, call)  # model = AttU_Net(3, 1).to(device)
        if ret is not call and ret is not outer:
            if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and
                    isinstance(parent.targets[0], ast.Name) and isinstance(ret, ast.Name) and
                    parent.targets[0].id == ret.id):
                return []
            var = ret.id
            others = [(_conditions(fe, n, fn), n) for n in ast.walk(fn)
                      if n is not parent and n is not fn and _direct_binds(n, var) and
                      not (isinstance(n, ast.Assign) and _rewraps(home, n.value, var))]
    except _Unknown:
        return []
    out: List[Tuple[Tuple[Tuple[int, ...], ...], str]] = []
    for p in files:
        if fn.name not in (_read_text(p) or ""):
            continue
        f = _load(p, root, base)
        if f is None:
            continue
        for site in ast.walk(f.fe.tree):
            if not isinstance(site, ast.Call):
                continue
            got = _function(site.func, Ctx(f))
            if got is None or got[1].path != path or got[0].name != fn.name:
                continue
            params = _bind(fn, site, Ctx(f), Ctx(home))
            if params is None:
                continue
            ctx = Ctx(home).inner(fn, params)
            try:
                if not _runs(conds, ctx) or (var and any(_runs(c, ctx) for c, _ in others)):
                    continue
            except (_Unknown, RecursionError):
                continue
            for item in data_inputs(f.fe, p, root, base, site, f.fe._scope(site)):
                if item not in out:
                    out.append(item)
    return out


HOOKS["data_inputs"], HOOKS["factory_inputs"] = data_inputs, factory_inputs
HOOKS["container_inputs"] = container_inputs
