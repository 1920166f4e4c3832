"""Planning: which constructions of which model classes a file is analysed under, and with which
inputs (flags, the file's own calls, symbolic). ``engine.py`` runs the plan."""
from __future__ import annotations

import os
from itertools import repeat
from typing import Any, Dict, List, Optional, Set, Tuple

import libcst as cst

from .core import dims as D
from .core.cstwalk import code_children
from .core.interpreter import AnalysisAbort, Frame, Interpreter, _is_stub
from .core.limits import NO_DEADLINE
from .core.project import ModuleRef
from .core.source import ClassInfo, SourceModule, dotted
from .core.values import UNKNOWN, ClassValue, FunctionValue, Partial, Qual, Tensor

from .options import InputSpec
from .results import Run

# what a construction text written outside the file may name without the file importing it:
# an options object, Net(argparse.Namespace(depth=20)) (from --construct or the project's scripts)
_STDLIB_NAMES: Dict[str, Any] = {"argparse": Qual("argparse"), "types": Qual("types"), "yacs": Qual("yacs")}


# parameter names that hold a size or a count (a symbolic dim stands for them); anything else
# unknown. Annotated `int` parameters are sizes too.
_INT_WORDS = ("channel", "dim", "size", "plane", "feature", "depth", "width", "class", "hidden", "latent",
              "filters", "factor", "heads", "embed", "units", "num_", "n_", "groups", "expansion")
# whole words of a name: `in_ch`, `out_ch`; the sequence models' `seq_len`, `c_in` (Informer), `enc_in`;
# the GAN tutorials' `nz`, `input_nc`, `ngf` (a word, never part of one: `anchors` is no `nc`)
_INT_TOKENS = {"ch", "chs", "chan", "chans", "nf", "len", "vocab", "ntoken", "ninp", "nhid", "nlayers",
               "nhead", "emsize", "ntokens", "nout", "ninput", "nz", "nc", "ngf", "ndf", "isize", "ngpu"}
_INT_NAMES = {"c_in", "c_out", "enc_in", "dec_in", "in_dim", "out_dim"}
_INT_PREFIXES = ("d_",)  # the transformers' d_model, d_ff, d_k, d_inner
_RESERVED = {"N", "C", "H", "W", "D", "L", "T"}  # the symbolic input's own dims


def _int_like(param: cst.Param) -> bool:
    ann = param.annotation
    if ann is not None:
        return isinstance(ann.annotation, cst.Name) and ann.annotation.value == "int"
    return _int_name(param.name.value)


def _int_name(name: str) -> bool:
    name = name.lower()
    if name in ("layers", "blocks", "block", "cfg", "config", "hidden_dims", "dims", "sizes", "channels_list"):
        return False
    return (any(w in name for w in _INT_WORDS) or bool(_INT_TOKENS.intersection(name.split("_"))) or
            name.startswith(_INT_PREFIXES) or name in _INT_NAMES) and not name.endswith("s_list")


# ------------------------------------------------------------------------------------------------
# Finding constructions and inputs in the file
# ------------------------------------------------------------------------------------------------

_CHAIN_METHODS = {"to", "cuda", "cpu", "eval", "train", "float", "double", "half", "requires_grad_"}


class _Scanner:
    """Collects calls outside class bodies, with the function that encloses each (source order;
    read with core/cstwalk.py, not libcst's visitor, which rebuilds every node it passes)."""

    def __init__(self):
        self.calls: List[Tuple[cst.Call, Optional[cst.FunctionDef]]] = []
        self.assigns: List[Tuple[str, cst.BaseExpression, Optional[cst.FunctionDef]]] = []
        # (id(function) or None, name): `name.fc = nn.Linear(...)`, `name.classifier[6] = ...`,
        # `setattr(name, ...)`, `name.add_module(...)`: a model changed after it was built
        self.patched: Set[Tuple[Optional[int], str]] = set()
        self.functions: Dict[int, cst.FunctionDef] = {}  # id -> every function met (for patched)
        # where each call and each assigned value is: (its rank in source order, id of the block
        # of statements it is in), and each block's enclosing block: which of several bindings of
        # a name reaches a call (_reaching_ctor)
        self.pos: Dict[int, Tuple[int, int]] = {}
        self.block_parent: Dict[int, Optional[int]] = {}

    def scan(self, tree: cst.CSTNode) -> "_Scanner":
        # nothing inside a class body is collected: not walking it halves the planner's cost
        # libcst's node classes are ABCs (a slow isinstance); these four have no subclasses
        class_def, function_def, call, assign = cst.ClassDef, cst.FunctionDef, cst.Call, cst.Assign
        block_kinds = (cst.IndentedBlock, cst.Module, cst.SimpleStatementSuite)
        self.block_parent[id(tree)] = None
        stack: List[Any] = [(tree, None, id(tree))]
        rank = 0
        while stack:
            node, fn, block = stack.pop()
            rank += 1
            kind = type(node)
            if kind is class_def:
                continue
            if kind in block_kinds and node is not tree:
                self.block_parent[id(node)] = block
                block = id(node)
            if kind is function_def:
                fn = node
                self.functions[id(node)] = node
            elif kind is call:
                self.calls.append((node, fn))
                self.pos[id(node)] = (rank, block)
                root = _patching_call(node)
                if root is not None:
                    self.patched.add((id(fn) if fn is not None else None, root))
            elif kind is assign:
                if len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
                    self.assigns.append((node.targets[0].target.value, node.value, fn))
                    self.pos[id(node.value)] = (rank, block)
                for t in node.targets:
                    root = _patched_root(t.target) if not _rewrapped(t.target, node.value) else None
                    if root is not None:
                        self.patched.add((id(fn) if fn is not None else None, root))
            elif isinstance(node, (cst.AugAssign, cst.AnnAssign)):
                root = _patched_root(node.target)
                if root is not None:
                    self.patched.add((id(fn) if fn is not None else None, root))
            kids = code_children(node)
            if kids:
                kids.reverse()
                stack.extend(zip(kids, repeat(fn), repeat(block)))
        return self

    def encloses(self, outer: int, inner: int) -> bool:
        """Whether the block ``outer`` is ``inner`` or one of the blocks around it."""
        b: Optional[int] = inner
        while b is not None:
            if b == outer:
                return True
            b = self.block_parent.get(b)
        return False


def _patched_root(target) -> Optional[str]:
    """``model.fc`` / ``model.classifier[6]`` as an assignment target: ``model``."""
    if not isinstance(target, (cst.Attribute, cst.Subscript)):
        return None
    while isinstance(target, (cst.Attribute, cst.Subscript)):
        target = target.value
    return target.value if isinstance(target, cst.Name) else None


def _unwrapped(value):
    """``m.to(device)`` / ``m.cuda()`` / ``nn.DataParallel(m)`` -> ``m``: the same layers again."""
    while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and \
            value.func.attr.value in _SAME_MODULE:
        value = value.func.value
    if isinstance(value, cst.Call) and value.args and isinstance(value.func, (cst.Attribute, cst.Name)) and \
            (value.func.attr.value if isinstance(value.func, cst.Attribute) else value.func.value) in _WRAPPERS:
        value = value.args[0].value
    return value


def _rewrapped(target, value) -> bool:
    """``model.features = nn.DataParallel(model.features)``: no change of shape."""
    return _unwrapped(value).deep_equals(target)


_WRAPPERS = {"DataParallel", "DistributedDataParallel"}
_SAME_MODULE = {"to", "cuda", "cpu", "half", "float", "double", "train", "eval"}


def _patching_call(call: cst.Call) -> Optional[str]:
    """``setattr(model, ...)`` / ``model.add_module(...)`` / ``model.register_module(...)``: ``model``."""
    f = call.func
    if isinstance(f, cst.Name) and f.value == "setattr" and call.args and isinstance(call.args[0].value, cst.Name):
        return call.args[0].value.value
    if isinstance(f, cst.Attribute) and f.attr.value in ("add_module", "register_module") and \
            isinstance(f.value, cst.Name):
        return f.value.value
    return None


def _patched_names(scanner: "_Scanner", src) -> Set[Tuple[Optional[int], str]]:
    """(scope, name) of models changed after they were built: directly in that scope, or by a
    function of the file they are passed to there (``def adapt(m): m.fc = ...`` ... ``adapt(model)``)."""
    out = set(scanner.patched)
    by_fn: Dict[int, Set[str]] = {}
    for fid, name in scanner.patched:
        if fid is not None:
            by_fn.setdefault(fid, set()).add(name)
    if not by_fn:
        return out
    for call, fn in scanner.calls:
        if not isinstance(call.func, cst.Name):
            continue
        fdef = src.functions.get(call.func.value)
        if fdef is None or id(fdef) not in by_fn:
            continue
        params = [p.name.value for p in fdef.params.params]
        for i, a in enumerate(call.args):
            if not isinstance(a.value, cst.Name) or a.star:
                continue
            p = a.keyword.value if a.keyword is not None else (params[i] if i < len(params) else None)
            if p in by_fn[id(fdef)]:
                out.add((id(fn) if fn is not None else None, a.value.value))
    return out


def _unchain(expr):
    """`Net(...).to(device).eval()` -> `Net(...)`."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and \
            expr.func.attr.value in _CHAIN_METHODS and isinstance(expr.func.value, cst.Call):
        expr = expr.func.value
    return expr


class Planner:
    def __init__(self, src: SourceModule, options: Dict[str, List[InputSpec]], strict: bool, project=None,
                 constructions: Optional[Dict[str, List[Tuple[str, str, Any, bool, Optional[str], bool]]]] = None):
        self.src = src
        self.options = options
        # name -> [(call text, where, inputs or None, from options, their origin or None, own input)]:
        # --construct, and calls found in the project's other files (with the inputs that file feeds
        # the model; own input: a documented configuration the declared input shape is not for)
        self.constructions = constructions or {}
        self.strict = strict
        self.interp = Interpreter(src, strict, project)
        # the planner only resolves names, bases and default arguments, before the runs and again
        # for the coverage after them, when the file's time budget may be spent: that
        # bookkeeping must finish (the step budget still bounds it), the runs carry the budget
        self.interp.deadline = NO_DEADLINE
        self._returned: Dict[int, List[cst.Call]] = {}  # id(function node) -> _returned_calls (the tree keeps it alive)
        self.extra_built: set = set()
        self._namespaces: Optional[Dict[str, Any]] = None  # _module_namespaces
        self._containers: Dict[int, bool] = {}  # id(function node) -> _container_factory
        self._patched: Set[Tuple[Optional[int], str]] = set()
        self._patch_fns: Dict[int, cst.FunctionDef] = {}
        self._bound_memo: Dict[int, set] = {}  # id(function) -> the names it binds (the tree keeps it alive)

    def model_classes(self) -> List[ClassInfo]:
        out = []
        for info in self.src.classes.values():
            try:
                base = self.interp.framework_base(info)
            except AnalysisAbort:  # a base whose value spends the step budget: not followed
                continue
            if base is not None:
                out.append(info)
        return out

    def _factory_class(self, fn: cst.FunctionDef, seen=(), src: Optional[SourceModule] = None) -> Optional[ClassInfo]:
        """The model class a module-level function returns a new instance of, if any
        (`return Net(...)`, or `model = Net(...); ...; return model`)."""
        target = self._registered_target(fn, src)
        if target is not None:  # a stub a module-level loop replaces with partial(_resnet, ...)
            return self._factory_class(target, seen + (fn.name.value,), src) \
                if target.name.value not in seen and len(seen) < 5 else None
        calls = self._returned.get(id(fn))
        if calls is None:
            calls = self._returned[id(fn)] = _returned_calls(fn)
        for v in calls:
            cls = self._called_class(v, seen + (fn.name.value,), src)
            if cls is None:
                cls = self._passed_through(v, fn, seen + (fn.name.value,), src)
            if cls is not None:
                return cls
        return None

    def _passed_through(self, call: cst.Call, fn: cst.FunctionDef, seen, src: Optional[SourceModule]) -> Optional[ClassInfo]:
        """``return init_net(net, gpu_ids)`` where the project's ``init_net`` hands back the model it
        is given (``net.to(device); init_weights(net); return net``): the class of the argument, a
        call or a name ``fn`` assigns one to (``net = UnetGenerator(...)`` in one of its branches)."""
        src = src or self.src
        name = dotted(call.func)
        if name is None or name in seen or len(seen) >= 5:
            return None
        target: Any = src.functions.get(name)
        if target is None:
            v = self._imported(name, src)
            if not (isinstance(v, FunctionValue) and isinstance(v.node, cst.FunctionDef)):
                return None
            target = v.node
        param = _returned_param(target)
        if param is None:
            return None
        params = list(target.params.posonly_params) + list(target.params.params)
        names = [q.name.value for q in params]
        arg = next((a.value for a in call.args if a.keyword is not None and a.keyword.value == param), None)
        if arg is None and param in names:
            i = names.index(param)
            pos = [a for a in call.args if a.keyword is None]
            if i < len(pos) and not pos[i].star:
                arg = pos[i].value
        arg = _unchain(arg) if arg is not None else None
        if isinstance(arg, cst.Call):
            return self._called_class(arg, seen, src)
        if isinstance(arg, cst.Name):
            for v in _assigned_calls(fn, arg.value):
                cls = self._called_class(v, seen, src)
                if cls is not None:
                    return cls
        return None

    def _called_class(self, call: cst.Call, seen=(), src: Optional[SourceModule] = None) -> Optional[ClassInfo]:
        src = src or self.src
        name = dotted(call.func)
        if name is None:
            return None
        if name in src.classes:
            info = src.classes[name]
            return info if self.interp.framework_base(info) is not None else None
        if name in src.functions:
            if name not in seen and len(seen) < 5:
                return self._factory_class(src.functions[name], seen, src)
            return None
        head, _, method = name.rpartition(".")
        if head and method:  # `EfficientNet.from_name('efficientnet-b0')`: a classmethod building one
            owner = src.classes.get(head)
            if owner is None:
                got = self._imported(head, src)
                owner = got.info if isinstance(got, ClassValue) else None
            if owner is not None and self._builder_method(owner, method) and \
                    self.interp.framework_base(owner) is not None:
                return owner
        # a class or factory another module of the project defines (`from resnet import resnet20`)
        v = self._imported(name, src)
        if isinstance(v, ClassValue):
            return v.info if self.interp.framework_base(v.info) is not None else None
        if isinstance(v, FunctionValue) and isinstance(v.node, cst.FunctionDef) and v.scope is not src and \
                v.scope.functions.get(v.node.name.value) is v.node and v.node.name.value not in seen and len(seen) < 5:
            return self._factory_class(v.node, seen, v.scope)
        f = v.func if isinstance(v, Partial) else None  # a factory a module's loop registered
        if isinstance(f, FunctionValue) and isinstance(f.node, cst.FunctionDef) and \
                f.scope.functions.get(f.node.name.value) is f.node and f.node.name.value not in seen and len(seen) < 5:
            return self._factory_class(f.node, seen, f.scope)
        return None

    def _imported(self, name: str, src: SourceModule) -> Any:
        """What a dotted name imported from the project refers to, else None (never reads a
        module for a name that is not imported)."""
        parts = name.split(".")
        head = parts[0]
        if head in src.classes or head in src.functions or head in src.assigns:
            return None
        if head not in src.imports and head not in src.rel_imports and not src.star_imports:
            return None
        v = self.interp.lookup_global(head, src)
        for attr in parts[1:]:
            if not isinstance(v, ModuleRef):
                return None
            m = v.src
            if not (attr in m.classes or attr in m.functions or attr in m.imports or attr in m.rel_imports):
                return None
            v = self.interp.lookup_global(attr, m)
        return v

    def plan(self) -> List[Run]:
        classes = self.model_classes()
        scanner = self._scanner = _Scanner().scan(self.src.tree)
        runs: List[Run] = []
        seen: Dict[Tuple[str, str, str], Run] = {}
        # variable -> construction call, for `model = Net(); model(x)` and `summary(model, ...)`
        # Both follow Python's scopes: a name a function binds is that function's own (two test
        # functions that each write `model = ...; model(x)` are two variables), any other name is the
        # module's.
        scoped_ctor: Dict[Tuple[Optional[int], str], cst.Call] = {}
        scoped_values: Dict[Tuple[Optional[int], str], List[cst.BaseExpression]] = {}
        for name, value, fn in scanner.assigns:
            key = (id(fn) if fn is not None else None, name)
            scoped_values.setdefault(key, []).append(value)
            v = _unchain(value)
            if isinstance(v, cst.Call) and (self._called_class(v) is not None or
                                            fn is None and self._is_container_model(v)):
                scoped_ctor[key] = v
        # module-level `model = nn.Sequential(...)`: a model of its own (nested containers aside)
        container_models = {id(c): (c, name) for (f, name), c in scoped_ctor.items()
                            if f is None and self._called_class(c) is None}
        own: Dict[Optional[int], Tuple[Dict[str, cst.Call], Dict[str, List[cst.BaseExpression]]]] = {}
        for (f, n), c in scoped_ctor.items():
            own.setdefault(f, ({}, {}))[0][n] = c
        for (f, n), vs in scoped_values.items():
            own.setdefault(f, ({}, {}))[1][n] = vs
        module = own.get(None, ({}, {}))
        views: Dict[Optional[int], _ScopeView] = {}
        self._patched = _patched_names(scanner, self.src)
        self._patch_fns = scanner.functions
        linked: Dict[int, List[Tuple[List[InputSpec], str]]] = {}
        container_calls: Dict[Tuple[int, str], cst.Call] = {}
        for call, fn in scanner.calls:
            fid = id(fn) if fn is not None else None
            view = views.get(fid)
            if view is None:
                view = views[fid] = _ScopeView(fn, module, own.get(fid, ({}, {})) if fn is not None else ({}, {}))
            got = self._input_of(call, view)
            if got is not None:
                ctor, specs, origin = got
                linked.setdefault(id(ctor), []).append((specs, origin, call))
                if id(ctor) in container_models and origin == "call":
                    container_calls.setdefault((id(ctor), repr(specs)), call)
        # module-level models the file's data pipeline feeds (`for images, _ in loader: D(images...)`)
        order = {id(c): i for i, (c, _f) in enumerate(scanner.calls)}
        fed_from: Dict[Tuple[int, str], str] = {}
        for call, ctor, specs, where in self._container_pipeline(scanner, container_models):
            if any(site is call for _s, _o, site in linked.get(id(ctor), [])):
                continue
            linked.setdefault(id(ctor), []).append((specs, "call", call))
            key = (id(ctor), repr(specs))
            if key not in container_calls or order[id(call)] < order[id(container_calls[key])]:
                container_calls[key] = call  # the first call in the file: where torch fails first
            fed_from.setdefault(key, where)

        def add(info, ctor, text, inputs, origin, local, site=None):
            key = (info.name if info is not None else "", text, repr(inputs))
            if key in seen:
                return
            r = Run(info, ctor, text, inputs, origin, local)
            r.site = site
            seen[key] = r
            runs.append(r)

        ctor_calls = []
        for call, fn in scanner.calls:
            info = self._called_class(call)
            if info is None:
                continue
            local = self._function_locals(fn)
            if local is None or (fn is not None and _uses_locals(call, fn)):
                # built from a function's own variables: the function's own run covers it
                continue
            ctor_calls.append((info, call, local))
        unfed = {info.name for info, call, _ in ctor_calls if not linked.get(id(call))}
        # a class the file itself feeds exactly the declared input (`model = ConvTasNet(3, 4, ...)`;
        # `model(torch.randint(3, (2, 12)))` with --input-shape ConvTasNet=2,12): the declaration
        # describes that construction, not the project's others (train.py's ConvTasNet(256, 20, ...))
        described = {info.name for info, call, _ in ctor_calls if self.options.get(info.name) and
                     any(repr(specs) == repr(self.options[info.name]) for specs, _o, _s in linked.get(id(call), []))}
        # ... and more generally a class the file builds at module level (its own __main__ test):
        # the declared shape is for the file's constructions, not the other files' configurations
        module_level = {id(c) for c, fn in scanner.calls if fn is None}
        described |= {info.name for info, call, _ in ctor_calls if id(call) in module_level}
        for info, call, local in ctor_calls:
            text = self.src.code_for(call)
            opt = self.options.get(info.name)
            if opt and (not linked.get(id(call)) or info.name not in unfed):
                n = len(runs)
                add(info, call, text, opt, "option", local)
                if len(runs) > n:
                    # the input the file itself feeds it: a declared shape that breaks what runs
                    # cleanly there is another configuration's (engine._declared_misfits)
                    runs[-1].own_inputs = next((specs for specs, _o, _s in linked.get(id(call), [])), None)
                continue
            # a construction the file feeds itself (`MobileNetV3(in_channels=2)(torch.randn(1, 2, ...))`)
            # keeps that input when the file also builds the class unfed: the declared shape is for those
            for specs, origin, site in linked.get(id(call), []):
                add(info, call, text, specs, origin, local, site)
        for info, call, local in ctor_calls:
            # a construction fed a concrete input in the file needs no symbolic run of its own
            if not self.options.get(info.name) and not linked.get(id(call)):
                add(info, call, self.src.code_for(call), None, "symbolic", local)
        for name, items in self.constructions.items():
            for text, where, fed, from_options, fed_from, own_input in items:
                try:
                    node = cst.parse_expression(text)
                except cst.ParserSyntaxError:
                    continue
                info = self._called_class(node) if isinstance(node, cst.Call) else None
                if info is not None or isinstance(node, cst.Call) and self._is_container_model(node):
                    # a class of the file, or a function of it returning a container (ConvMixer)
                    self._project_construction(info, node, text, (where, fed, from_options, fed_from, own_input),
                                               described, add, runs)
        for call, var in container_models.values():
            text = _code_without_comments(call)
            for specs, origin, _site in linked.get(id(call), []) or [(None, "symbolic", None)]:
                n = len(runs)
                add(None, call, text, specs, origin, {})
                if len(runs) > n and (id(call), repr(specs)) in container_calls:
                    runs[-1].call_node = container_calls[(id(call), repr(specs))]
                    runs[-1].input_from = fed_from.get((id(call), repr(specs)))
        written = {info.name for info, _, _ in ctor_calls} | self.extra_built
        for name, fn in self.src.functions.items():
            if self._is_factory(fn):
                node = cst.parse_expression(f"{name}()")
                # --input-shape CLASS applies to every construction of CLASS, factories included,
                # unless the file or the project builds the class: the declared shape is then for
                # those, not for a factory's other configuration nobody calls (mobilevit_xs() at
                # 256x256 beside the train script's mobilevit_xxs(size, ncls))
                info = self._called_class(node)
                opt = self.options.get(info.name) if info is not None and info.name not in written else None
                opt = self.options.get(name) or opt  # the factory named itself (`--input-shape resnet20=...`)
                n = len(runs)
                add(None, node, f"{name}()", opt, "option" if opt else "symbolic", {})
                if len(runs) > n:
                    runs[-1].invented = True
        built = {info.name for info, _, _ in ctor_calls}
        concrete_texts = {(r.cls.name, " ".join(r.ctor_text.split())) for r in runs if r.cls and r.concrete}
        for info in classes:
            if not self._default_constructible(info):
                continue
            text = f"{info.name}()"
            if (info.name, text) in concrete_texts:
                continue  # the file already feeds exactly this construction a concrete input
            # a declared input shape is meant for the constructions the file writes; the class's
            # defaults get it only when the file builds the class nowhere
            opt = self.options.get(info.name) if info.name not in built else None
            n = len(runs)
            add(info, None, text, opt, "option" if opt else "symbolic", {})
            if len(runs) > n:
                runs[-1].invented = True
        # Concrete inputs first: when runs disagree on a message, the precise one wins.
        runs.sort(key=lambda r: 0 if r.concrete else 1)
        return runs

    def _project_construction(self, info: Optional[ClassInfo], node: cst.BaseExpression, text: str,
                              found: Tuple[str, Any, bool, Any, bool], described, add, runs: List[Run]) -> None:
        """A construction another file writes (``found``: where, the inputs it feeds, built from
        options, where those inputs come from, a documented line's own input): a run of its own,
        of the class ``info``, or (None) of a function of the file returning a container model
        (train.py's `ConvMixer(256, 16, kernel_size=8)`)."""
        where, fed, from_options, fed_from, own_input = found
        name = info.name if info is not None else (dotted(node.func) or "") if isinstance(node, cst.Call) else ""
        holes: Dict[str, Any] = {}
        if isinstance(node, cst.Call) and any(_has_hole(a.value) for a in node.args):
            node, holes = self._filled(node)
        # own_input: a documented command line's configuration: the class's declared input
        # shape is not taken to be its input (the line may be for another dataset)
        callee = dotted(node.func) if isinstance(node, cst.Call) else None
        if info is not None and callee in self.src.functions and self.options.get(callee):
            name = callee  # `--input-shape create_vgg_ssd=...`: the factory named for the class it builds
        opt = self.options.get(name) if not own_input and name not in described else None
        before = len(runs)
        names = {**_STDLIB_NAMES, **holes}
        if opt:
            add(info, node, text, opt, "option", names)
        elif fed:
            add(info, node, text, fed, "call", names)
        else:
            add(info, node, text, None, "symbolic", names)
        if len(runs) > before:
            runs[-1].holes = bool(holes)
            runs[-1].built_at = where
            runs[-1].from_options = from_options
            runs[-1].input_from = fed_from if fed and not opt else None
        self.extra_built.add(name)

    def _filled(self, node: cst.Call) -> Tuple[cst.Call, Dict[str, Any]]:
        """A construction with holes (``vgg_16_bn(compress_rate=...)``: an argument the project
        computes from its data, lint/constructions.py): each ``...`` becomes a name bound to a
        symbolic size when its parameter holds one, else to an unknown value."""
        params = self._callee_params(node)
        holes: Dict[str, Any] = {}
        args = []
        for i, a in enumerate(node.args):
            if isinstance(a.value, cst.Ellipsis):
                param = None
                if a.keyword is not None:
                    pname: Optional[str] = a.keyword.value
                    param = next((q for q in params if q.name.value == pname), None)
                else:
                    param = params[i] if i < len(params) else None
                    pname = param.name.value if param is not None else None
                local = f"__hole{len(holes)}__"
                sized = pname is not None and (_int_like(param) if param is not None else _int_name(pname))
                holes[local] = D.sym(pname if pname not in _RESERVED else pname + "_") if sized else UNKNOWN
                a = a.with_changes(value=cst.Name(local))
            elif isinstance(a.value, (cst.Dict, cst.List, cst.Tuple)):
                a = a.with_changes(value=_inner_holes(a.value, holes))
            elif isinstance(a.value, cst.Call) and len(a.value.args) == 1 and \
                    isinstance(a.value.args[0].value, cst.Dict) and cst.Module([]).code_for_node(a.value.func) == \
                    "yacs.config.CfgNode":  # a yacs tree (lint/yacsflow.py) with entries the script computes
                inner = a.value.args[0].with_changes(value=_inner_holes(a.value.args[0].value, holes))
                a = a.with_changes(value=a.value.with_changes(args=[inner]))
            args.append(a)
        return node.with_changes(args=args), holes

    def _callee_params(self, node: cst.Call) -> List[cst.Param]:
        """The parameters a call's arguments bind to, in order (a class's ``__init__`` without
        self, or a factory function's)."""
        name = dotted(node.func)
        fn = self.src.functions.get(name) if name else None
        if fn is None:
            info = self._called_class(node)
            owner = next((c for c in self.interp.mro(info) if "__init__" in c.methods), None) if info else None
            if owner is None:
                return []
            p = owner.methods["__init__"].params
            return (list(p.posonly_params) + list(p.params))[1:] + list(p.kwonly_params)
        p = fn.params
        return list(p.posonly_params) + list(p.params) + list(p.kwonly_params)

    def _builder_method(self, info: ClassInfo, method: str) -> bool:
        """Whether ``info.method`` is a classmethod of the class (or a base) that returns an
        instance it builds: ``return cls(...)``, or ``model = cls(...); ...; return model``, or
        another such method's result (``cls.from_name(...)`` in ``from_pretrained``)."""
        for c in self.interp.mro(info):
            fn = c.methods.get(method)
            if fn is None:
                continue
            if "classmethod" not in [dotted(d.decorator) for d in fn.decorators]:
                return False
            first = (list(fn.params.posonly_params) + list(fn.params.params))[:1]
            if not first:
                return False
            me = first[0].name.value
            for call in _returned_calls(fn):
                callee = dotted(call.func) or ""
                if callee == me or callee.startswith(me + ".") and callee != f"{me}.{method}":
                    return True
            return False
        return False

    def builder_methods(self) -> List[str]:
        """``Class.method`` for each classmethod of the file's model classes that builds one."""
        out = []
        for info in self.model_classes():
            for c in self.interp.mro(info):
                for m in c.methods:
                    if not m.startswith("__") and self._builder_method(info, m) and f"{info.name}.{m}" not in out:
                        out.append(f"{info.name}.{m}")
        return out

    def construction_targets(self) -> List[str]:
        """The names other files may build this file's models by: its model classes, the
        module-level functions that return one and its classmethods that build one
        (``EfficientNet.from_name``)."""
        out = [info.name for info in self.model_classes()] + self.builder_methods()
        for name, fn in self.src.functions.items():
            if not name.startswith("__") and (self._factory_class(fn) is not None or self._container_factory(fn)):
                out.append(name)
        return out

    def _is_container_model(self, call: cst.Call) -> bool:
        """`nn.Sequential(...)`: a torch container with a forward of its own; or a call of a
        function of the file returning one (`ConvMixer(256, 8)`, `def ConvMixer(dim, depth): return
        nn.Sequential(...)`)."""
        name = dotted(call.func)
        if name is not None and name in self.src.functions:
            return self._container_factory(self.src.functions[name])
        if name is None or name.split(".")[0] in self.src.classes:
            return False
        v = self.interp.eval(call.func, Frame())
        return isinstance(v, Qual) and v.name in ("torch.nn.Sequential", "torch.nn.modules.container.Sequential")

    def _container_factory(self, fn: cst.FunctionDef, seen: Tuple[str, ...] = ()) -> bool:
        """A module-level function of the file whose every return is a torch container it builds
        (`return nn.Sequential(...)`, `net = nn.Sequential(*layers); return net`), or a call of
        another such function: its calls are models, as a module-level `nn.Sequential` is."""
        key = id(fn)
        if key in self._containers:
            return self._containers[key]
        self._containers[key] = False  # recursion: not a container until proven
        calls = _returned_calls(fn)
        ok = bool(calls) and len(calls) == len(list(_walk_returns(fn))) and len(seen) < 5
        for v in calls if ok else []:
            name = dotted(v.func)
            if name is not None and name in self.src.functions:
                ok = name not in seen and self._container_factory(self.src.functions[name], seen + (fn.name.value,))
            else:
                ok = self._is_container_model(v)
            if not ok:
                break
        self._containers[key] = ok
        return ok

    def _is_factory(self, fn: cst.FunctionDef) -> bool:
        """A module-level function callable without arguments whose every return is a call of a
        model class or of another function of the project (`def resnet50(**kwargs): return
        _resnet(...)`): it is analysed as a construction of its own."""
        target = self._registered_target(fn)
        if target is not None:
            v = self.interp.lookup_global(fn.name.value)
            p = target.params
            given = set(v.kwargs) if isinstance(v, Partial) else set()
            params = list(p.posonly_params) + list(p.params)
            n_pos = len(v.args) if isinstance(v, Partial) else 0
            return all(q.default is not None or i < n_pos or q.name.value in given
                       for i, q in enumerate(params)) and \
                all(q.default is not None or q.name.value in given for q in p.kwonly_params)
        p = fn.params
        if any(q.default is None for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)):
            return False
        if self._container_factory(fn):
            return True
        calls = _returned_calls(fn)
        if not calls or len(calls) != len(list(_walk_returns(fn))):
            return False
        for v in calls:
            name = dotted(v.func)
            if name is None or name == fn.name.value:
                return False
            if self._called_class(v) is None and not self._project_callable(name):
                return False
        return True

    def _registered_target(self, fn: cst.FunctionDef, src: Optional[SourceModule] = None) -> Optional[cst.FunctionDef]:
        """The module-level function a stub's name is bound to by a loop of the module
        (``setattr(thismodule, name, partial(_resnet, ...))``: core.interpreter._registered), if any."""
        src = src or self.src
        if src.functions.get(fn.name.value) is not fn or not _is_stub(fn):
            return None
        try:
            v = self.interp.lookup_global(fn.name.value, src)
        except AnalysisAbort:
            return None
        f = v.func if isinstance(v, Partial) else None
        if isinstance(f, FunctionValue) and isinstance(f.node, cst.FunctionDef) and f.node is not fn and \
                src.functions.get(f.node.name.value) is f.node:
            return f.node
        return None

    def _project_callable(self, name: str) -> bool:
        try:
            v = self.interp.lookup_global(name.split(".")[0])
        except AnalysisAbort:  # a global whose value spends a budget
            return False
        return isinstance(v, (FunctionValue, ClassValue))

    def _function_locals(self, fn: Optional[cst.FunctionDef]) -> Optional[Dict[str, Any]]:
        if fn is None:
            return self._module_namespaces()
        if self.src.functions.get(fn.name.value) is not fn:
            return None  # nested or method-level function: not a place users build models
        loc = {}
        p = fn.params
        for param in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
            if param.default is None:
                loc[param.name.value] = UNKNOWN
            else:
                loc[param.name.value] = self.interp.eval_or_unknown(param.default, Frame())
        if isinstance(p.star_arg, cst.Param):
            loc[p.star_arg.name.value] = ()
        if p.star_kwarg is not None:
            loc[p.star_kwarg.name.value] = {}
        return loc

    def _module_namespaces(self) -> Dict[str, Any]:
        """The argparse namespaces the module's own code parses (``args = parser.parse_args()`` in
        its ``__main__`` block), as their defaults read statically (lint/staticeval.py): what a
        module-level ``SCINet(output_len=args.horizon, ...)`` is built with."""
        if self._namespaces is None:
            self._namespaces = {}
            if "parse_args" in self.src.code:
                import ast

                from .core.values import ObjectValue
                from .staticeval import _FileEval, _parsed

                # the file's tree as the project scan parsed it (once per process), when it is this text
                got = _parsed(self.src.path) if self.src.path and os.path.isfile(self.src.path) else None
                tree = got[1] if got is not None and got[0] == self.src.code else None
                if tree is None:
                    try:
                        tree = ast.parse(self.src.code)
                    except (SyntaxError, ValueError, RecursionError):
                        return {}
                fe = _FileEval(tree, set(), "")
                for name in sorted(fe.namespaces):
                    got = fe.namespace_defaults(name, tree)
                    if got is not None:
                        self._namespaces[name] = ObjectValue(None, dict(got))
        return dict(self._namespaces)

    def _default_constructible(self, info: ClassInfo) -> bool:
        from .frameworks.torch.layers import LAYERS, REQUIRED

        mro = self.interp.mro(info)
        base = (self.interp.framework_base(info) or "").rsplit(".", 1)[-1]
        spec = LAYERS.get(base)
        layer_needs = spec is not None and (spec.varargs or any(d is REQUIRED for _, d in spec.signature))
        if not any("__init__" in c.methods for c in mro):
            if spec is not None:
                return not layer_needs
        for c in mro:
            init = c.methods.get("__init__")
            if init is not None:
                if layer_needs and isinstance(init.params.star_arg, cst.Param):
                    return False  # BinarizeConv2d(*kargs, **kwargs) passing on to Conv2d: sizes needed
                params = list(init.params.posonly_params) + list(init.params.params)
                return all(p.default is not None for p in params[1:]) and all(
                    p.default is not None for p in init.params.kwonly_params)
        return True

    def _is_patched(self, name: str, fn: Optional[cst.FunctionDef]) -> bool:
        """Whether the model ``name`` (as ``fn``, or the module, sees it) is changed after it is
        built: in its own scope, or (a module variable) by a function that does not bind the name."""
        if not self._patched:
            return False
        if fn is not None and name in self._bound(fn):
            return (id(fn), name) in self._patched
        if (None, name) in self._patched:
            return True
        return any(fid is not None and n == name and name not in self._bound(self._patch_fns[fid])
                   for fid, n in self._patched if fid in self._patch_fns)

    def _bound(self, fn: cst.FunctionDef) -> set:
        got = self._bound_memo.get(id(fn))
        if got is None:
            got = self._bound_memo[id(fn)] = _bound_names(fn)
        return got

    def _container_pipeline(self, scanner: "_Scanner", container_models) -> List[Tuple[cst.Call, cst.Call, List[InputSpec], str]]:
        """(call, construction, input, origin) for the module-level calls of module-level models
        whose argument is a batch of the file's data pipeline (lint/datapipe.py, on the same file)."""
        names = {var: c for c, var in container_models.values()}
        path = self.src.path
        if not names or "DataLoader" not in self.src.code or not path or not os.path.isfile(path):
            return []
        sites: Dict[str, List[cst.Call]] = {}
        for call, fn in scanner.calls:
            if fn is None and isinstance(call.func, cst.Name) and call.func.value in names:
                sites.setdefault(call.func.value, []).append(call)
        from .datapipe import container_inputs

        got = container_inputs(path, self.src.code, set(sites))
        out = []
        for name, calls in sites.items():
            items = got.get(name, [])
            if len(items) != len(calls) or self._is_patched(name, None):
                continue  # the two readings of the file disagree: nothing is assumed
            for call, item in zip(calls, items):
                if item is not None:
                    out.append((call, names[name], [InputSpec(item[0])], item[1]))
        return out

    def _once_bound(self, expr, view: "_ScopeView", depth: int, env: Dict[str, Any]) -> Dict[str, Any]:
        """Locals for evaluating ``expr``: each name it reads that the scope binds exactly once
        -> its value; a model re-bound only by ``.to(device)`` / DataParallel counts as bound once
        (its construction)."""
        if depth > 3:
            return env
        for name in _names_in(expr):
            if name in env or self._is_patched(name, view.fn):
                continue
            vals = view.values(name)
            ctor = view.ctor(name)
            if ctor is not None and len(vals) > 1 and not view.is_param(name) and \
                    all(v is ctor or _unchain(v) is ctor or _rewraps(v, name) for v in vals):
                vals = [ctor]  # `G = nn.Sequential(...)` ... `G = G.to(device)`: the same model
            elif len(vals) != 1 or ctor is not None or view.is_param(name):
                continue
            env[name] = UNKNOWN  # a name that reads itself stays unknown
            self._once_bound(vals[0], view, depth + 1, env)
            v = self.interp.eval_or_unknown(vals[0], Frame(dict(env)))
            if v is UNKNOWN:
                del env[name]
            else:
                env[name] = v
        return env

    def _reaching_ctor(self, call: cst.Call, view: "_ScopeView", name: str) -> Optional[cst.Call]:
        """The construction the variable ``name`` holds where ``call`` uses it. A name bound once
        (and rewrapped: `model = model.to(device)`) holds its construction; one bound to several
        values (`trans = STN3d(); trans(x)` ... `trans = STNkd(k=64); trans(y)`) holds the binding
        just before the call in the same or an enclosing block of the same scope, else nothing
        is assumed."""
        ctor = view.ctor(name)
        if ctor is None:
            return None
        values = [v for v in view.values(name) if not _rewraps(v, name)]
        if len(values) <= 1:
            return ctor
        scan = self._scanner
        here = scan.pos.get(id(call))
        if here is None or (view.fn is not None and name not in view.own[1]):
            return None  # a module variable bound several times, used in a function: when?
        before = [(scan.pos[id(v)], v) for v in values if id(v) in scan.pos and scan.pos[id(v)][0] < here[0]]
        if not before:
            return None
        (_rank, block), v = max(before, key=lambda t: t[0][0])
        if not scan.encloses(block, here[1]):
            return None  # bound under a branch or loop the call is not in
        u = _unchain(v)
        return u if isinstance(u, cst.Call) and (self._called_class(u) is not None or
                                                 view.fn is None and self._is_container_model(u)) else None

    def _input_of(self, call: cst.Call, view: "_ScopeView") -> Optional[Tuple[cst.Call, List[InputSpec], str]]:
        func = call.func
        # model(x) / model.forward(x) with x a tensor factory call
        target = func
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            target = func.value
        ctor = None
        if isinstance(target, cst.Name):
            if self._is_patched(target.value, view.fn):
                return None  # `model.fc = nn.Linear(...)` after the build: not the model built
            ctor = self._reaching_ctor(call, view, target.value)
        elif isinstance(target, cst.Call):
            inner = _unchain(target)
            if self._called_class(inner) is not None:
                ctor = inner
        if ctor is not None and call.args and all(not a.star for a in call.args):
            specs = []
            for a in call.args:
                expr = a.value
                if isinstance(expr, cst.Name) and len(view.values(expr.value)) == 1:
                    expr = view.values(expr.value)[0]  # x = torch.rand(...); model(x), in a loop too
                # names bound once in the scope, in a loop too (`z = torch.randn(b, 64)`;
                # `fake = G(z)`; `D(fake)`): their values, for the expression's own names
                v = self.interp.eval_or_unknown(expr, Frame(self._once_bound(expr, view, 0, {})))
                if not isinstance(v, Tensor) or v.shape is None or not all(isinstance(d, int) for d in v.shape) or \
                        v.dtype == "float64":  # numpy's float64 data: torch refuses it before any shape
                    return None
                # model(x, cond=c): a named input; torch.randint(...): indices
                specs.append(InputSpec(v.shape, a.keyword.value if a.keyword is not None else None,
                                       "long" if v.dtype == "long" else None))
            return ctor, specs, "call"
        # torchsummary.summary(model, (1, 28, 28)) / torchinfo.summary(model, input_size=(1, 1, 28, 28))
        qual = self.interp.eval_or_unknown(func, Frame())
        if isinstance(qual, Qual) and qual.name in SUMMARY_FUNCTIONS:
            if not call.args:
                return None
            m = _unchain(call.args[0].value)
            if isinstance(m, cst.Name):
                if self._is_patched(m.value, view.fn):
                    return None
                ctor = self._reaching_ctor(call, view, m.value)
            elif isinstance(m, cst.Call) and self._called_class(m) is not None:
                ctor = m
            if ctor is None:
                return None
            size_node = None
            for a in call.args[1:2]:
                if a.keyword is None:
                    size_node = a.value
            for a in call.args:
                if a.keyword is not None and a.keyword.value == "input_size":
                    size_node = a.value
            if size_node is None:
                return None
            size = self.interp.eval_or_unknown(size_node, Frame())
            specs = _size_specs(size)
            if specs is None:
                return None
            if qual.name.startswith("torchsummary"):
                specs = [("N",) + s for s in specs]
            return ctor, specs, "summary"
        return None


def _rewraps(value, name: str) -> bool:
    """``G.to(device)`` / ``nn.DataParallel(G)`` for the name ``G``: the same model."""
    inner = _unwrapped(value)
    return isinstance(inner, cst.Name) and inner.value == name


def _names_in(expr) -> List[str]:
    """The names an expression reads (not attribute names, keywords or lambda parameters)."""
    out: List[str] = []
    stack = [expr]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name):
            out.append(n.value)
        elif isinstance(n, cst.Attribute):
            stack.append(n.value)
        elif isinstance(n, cst.Arg):
            stack.append(n.value)
        elif not isinstance(n, (cst.Lambda, cst.BaseComp)):
            stack.extend(code_children(n))
    return out


class _ScopeView:
    """The planner's variables as seen from inside a module-level function (None: the module):
    the function's own, else the module's unless the function binds the name (Python's scopes).
    What the function binds is worked out only when a module variable is looked up from it."""

    __slots__ = ("fn", "module", "own", "_bound")

    def __init__(self, fn: Optional[cst.FunctionDef], module: Tuple[Dict, Dict], own: Tuple[Dict, Dict]):
        self.fn, self.module, self.own, self._bound = fn, module, own, None

    def _get(self, i: int, name: str) -> Any:
        if name in self.own[i]:
            return self.own[i][name]
        if name not in self.module[i]:
            return None
        if self.fn is not None:
            if self._bound is None:
                self._bound = _bound_names(self.fn)
            if name in self._bound:
                return None
        return self.module[i][name]

    def is_param(self, name: str) -> bool:
        """A parameter of the function (its value at entry is the caller's)."""
        if self.fn is None:
            return False
        p = self.fn.params
        return any(x.name.value == name for x in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)) or \
            any(isinstance(x, cst.Param) and x.name.value == name for x in (p.star_arg, p.star_kwarg))

    def ctor(self, name: str) -> Optional[cst.Call]:
        """The construction call the variable holds, if any."""
        return self._get(0, name)

    def values(self, name: str) -> List[cst.BaseExpression]:
        """The values assigned to the variable (in order)."""
        return self._get(1, name) or []


# torchsummary's and torchinfo's ``summary``: torchsummary takes one sample's size (it runs a batch
# of 2), torchinfo the whole input's (also read from a project's scripts: constructions._summary_input)
SUMMARY_FUNCTIONS = frozenset({"torchsummary.summary", "torchsummary.torchsummary.summary",
                               "torchinfo.summary", "torchinfo.torchinfo.summary"})


def _size_specs(size) -> Optional[List[InputSpec]]:
    if isinstance(size, (tuple, list)) and size and all(isinstance(d, int) and not isinstance(d, bool) for d in size):
        return [tuple(size)]
    if isinstance(size, (tuple, list)) and size and all(isinstance(s, (tuple, list)) for s in size):
        out = []
        for s in size:
            if not s or not all(isinstance(d, int) and not isinstance(d, bool) for d in s):
                return None
            out.append(tuple(s))
        return out
    return None


def _code_without_comments(expr: cst.BaseExpression) -> str:
    """An expression's code on one line, comments dropped (a construction quoted in messages)."""
    class _Strip(cst.CSTTransformer):
        def leave_Comment(self, original, updated):
            return cst.RemoveFromParent()

    code = cst.Module(body=[]).code_for_node(expr.visit(_Strip()))
    return " ".join(code.split())


def _bound_names(fn: cst.FunctionDef) -> set:
    """The names a function binds (its locals, by Python's rule), nested functions and classes
    aside; `global`/`nonlocal` names are not its own."""
    p = fn.params
    names = {q.name.value for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)}
    for star in (p.star_arg, p.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    declared = set()

    def _targets(t):
        if isinstance(t, cst.Name):
            names.add(t.value)
        elif isinstance(t, (cst.Tuple, cst.List)):
            for e in t.elements:
                _targets(e.value)
        elif isinstance(t, cst.StarredElement):
            _targets(t.value)

    stack: List[cst.CSTNode] = [fn.body]
    while stack:
        node = stack.pop()
        kind = _BINDING.get(type(node))  # by exact type: libcst's isinstance is slow (ABCs)
        if kind == "def":
            names.add(node.name.value)
            continue
        if kind == "lambda":
            continue
        if kind == "target":
            _targets(node.target)
        elif kind == "with":
            if node.asname is not None:
                _targets(node.asname.name)
        elif kind == "import":
            _alias_name(node, names)
        elif kind == "declare":
            declared.update(n.name.value for n in node.names)
        stack.extend(code_children(node))
    return names - declared


# the node classes _bound_names acts on (none has a subclass)
_BINDING = {cst.FunctionDef: "def", cst.ClassDef: "def", cst.Lambda: "lambda", cst.AssignTarget: "target",
            cst.AnnAssign: "target", cst.AugAssign: "target", cst.For: "target", cst.NamedExpr: "target",
            cst.WithItem: "with", cst.ImportAlias: "import", cst.Global: "declare", cst.Nonlocal: "declare"}


def _alias_name(node: cst.ImportAlias, names: set) -> None:
    name = node.asname.name if node.asname is not None else node.name
    if isinstance(name, cst.Name):
        names.add(name.value)
    elif isinstance(name, cst.Attribute):
        root = name
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(root, cst.Name):
            names.add(root.value)


def _uses_locals(call: cst.Call, fn: cst.FunctionDef) -> bool:
    """Does the call refer to a parameter or a local variable of the function it sits in?"""
    p = fn.params
    names = {q.name.value for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params)}
    if isinstance(p.star_arg, cst.Param):
        names.add(p.star_arg.name.value)
    if p.star_kwarg is not None:
        names.add(p.star_kwarg.name.value)
    stack = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.AssignTarget) and isinstance(n.target, cst.Name):
            names.add(n.target.value)
        if isinstance(n, (cst.AnnAssign, cst.AugAssign)) and isinstance(n.target, cst.Name):
            names.add(n.target.value)
        stack.extend(code_children(n))
    stack = list(call.args)
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Name) and n.value in names:
            return True
        if isinstance(n, cst.Attribute):
            stack.append(n.value)
            continue
        stack.extend(code_children(n))
    return False


def _returned_calls(fn) -> List[cst.Call]:
    """The calls a function returns: `return f(...)`, or `x = f(...)` ... `return x`."""
    assigned: Dict[str, cst.Call] = {}
    stack = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name):
            v = _unchain(n.value)
            if isinstance(v, cst.Call):
                assigned.setdefault(n.targets[0].target.value, v)
        if isinstance(n, _NO_STATEMENTS_INSIDE):
            continue  # no statement below: not walked
        stack.extend(code_children(n))
    out = []
    for r in _walk_returns(fn):
        v = _unchain(r.value) if r.value is not None else None
        if isinstance(v, cst.Name) and v.value in assigned:
            v = assigned[v.value]
        if isinstance(v, cst.Call):
            out.append(v)
    return out


def _assigned_calls(fn, name: str) -> List[cst.Call]:
    """The calls ``fn`` assigns to the local ``name`` (``net = ResnetGenerator(...)`` in each branch)."""
    out: List[cst.Call] = []
    stack = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(n, cst.Assign) and len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name) and \
                n.targets[0].target.value == name:
            v = _unchain(n.value)
            if isinstance(v, cst.Call):
                out.append(v)
        if isinstance(n, _NO_STATEMENTS_INSIDE):
            continue
        stack.extend(reversed(code_children(n)))
    return out


def _returned_param(fn) -> Optional[str]:
    """The parameter every ``return`` of ``fn`` hands back (``return net``), when its only rebinding
    wraps it (``net = torch.nn.DataParallel(net, gpu_ids)``); else None."""
    params = {q.name.value for q in list(fn.params.posonly_params) + list(fn.params.params)}
    returns = list(_walk_returns(fn))
    if not returns:
        return None
    names = {r.value.value if isinstance(r.value, cst.Name) else None for r in returns}
    if len(names) != 1:
        return None
    (name,) = names
    if name not in params:
        return None
    for v in _assigned_calls(fn, name):
        first = v.args[0].value if v.args else None
        if not (isinstance(first, cst.Name) and first.value == name):
            return None
    stack = [fn.body]
    while stack:  # any other binding of the name (a loop target, `net += x`, `net = other`): not plain
        n = stack.pop()
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and n is not fn:
            continue
        if isinstance(n, (cst.For, cst.AugAssign, cst.AnnAssign)) and _binds(n.target, name):
            return None
        if isinstance(n, cst.Assign) and any(_binds(t.target, name) for t in n.targets) and \
                not (len(n.targets) == 1 and isinstance(n.targets[0].target, cst.Name) and
                     isinstance(_unchain(n.value), cst.Call)):
            return None
        if isinstance(n, _NO_STATEMENTS_INSIDE):
            continue
        stack.extend(code_children(n))
    return name


def _binds(target, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_binds(e.value, name) for e in target.elements)
    return isinstance(target, cst.StarredElement) and _binds(target.value, name)


def _walk_returns(fn):
    stack = [fn.body]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Return):
            yield n
        if isinstance(n, (cst.FunctionDef, cst.ClassDef, cst.Lambda)) and n is not fn:
            continue
        if isinstance(n, _NO_STATEMENTS_INSIDE):
            continue
        stack.extend(code_children(n))


# nodes that hold no statement (no `return`, no assignment) below them
_NO_STATEMENTS_INSIDE = (cst.BaseExpression, cst.BaseSmallStatement, cst.BaseParenthesizableWhitespace,
                         cst.EmptyLine, cst.TrailingWhitespace)


def _inner_holes(expr: cst.BaseExpression, holes: Dict[str, Any]) -> cst.BaseExpression:
    """A configuration mapping or list passed whole (``RawNet({'filts': [...], 'nb_classes': ...})``,
    a YAML config with an entry the script computes): each ``...`` inside is a name bound to an
    unknown value, or to a symbolic size when its key names one (``nb_classes``)."""
    if isinstance(expr, cst.Dict):
        elements = []
        for el in expr.elements:
            if isinstance(el, cst.DictElement):
                key = el.key.evaluated_value if isinstance(el.key, cst.SimpleString) else None
                if isinstance(el.value, cst.Ellipsis):
                    local = f"__hole{len(holes)}__"
                    sized = isinstance(key, str) and key.isidentifier() and _int_name(key)
                    holes[local] = D.sym(key if key not in _RESERVED else key + "_") if sized else UNKNOWN
                    el = el.with_changes(value=cst.Name(local))
                else:
                    el = el.with_changes(value=_inner_holes(el.value, holes))
            elements.append(el)
        return expr.with_changes(elements=elements)
    if isinstance(expr, (cst.List, cst.Tuple)):
        elements = []
        for el in expr.elements:
            if isinstance(el, cst.Element):
                if isinstance(el.value, cst.Ellipsis):
                    local = f"__hole{len(holes)}__"
                    holes[local] = UNKNOWN
                    el = el.with_changes(value=cst.Name(local))
                else:
                    el = el.with_changes(value=_inner_holes(el.value, holes))
            elements.append(el)
        return expr.with_changes(elements=elements)
    return expr


def _has_hole(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Ellipsis):
        return True
    if isinstance(expr, cst.Dict):
        return any(isinstance(el, cst.DictElement) and _has_hole(el.value) for el in expr.elements)
    if isinstance(expr, (cst.List, cst.Tuple)):
        return any(isinstance(el, cst.Element) and _has_hole(el.value) for el in expr.elements)
    return False

