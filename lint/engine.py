"""The analysis of one file: find the model classes and how they are built and fed, run the
interpreter for each (construction, input) pair, and turn the facts into findings.

Input shapes come, in order, from the caller (``--input-shape`` / config), from calls found in
the file (torchsummary / torchinfo ``summary``, ``model(torch.randn(...))``), else from the first
layer that the input meets (symbolic ``(N, C, H, W)``).
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from .core import dims as D
from .core import limits
from .core.cstwalk import code_children
from .core.facts import Fact
from .core.interpreter import AnalysisAbort, ConstructionAbort, ConstructionRaises, Frame, Interpreter, ProbeMismatch
from .core.project import Project
from .core.source import ClassInfo, SourceModule, dotted
from .core.values import UNKNOWN, FunctionValue, ModuleValue, ObjectValue, Tensor

from .frameworks import registered
from .guard import paused_gc
from .frameworks.torch.einops_ops import invert as invert_einops
from .frameworks.torch.inputs import batch_dim, symbolic_input
from .options import InputSpec, ShapelintInputError, spec_dtype, spec_name
from .rules_registry import forward_end_hooks
from .planner import (_RESERVED, _STDLIB_NAMES, Planner, _int_like, _int_name, _bound_names, _returned_calls, _unchain,  # noqa: F401 - re-exported
                      _walk_returns)
from .results import Finding, Run, short_construction  # noqa: F401 - re-exported: shapelint.engine.Finding/Run
from .core import interpreter as _interpreter


def _file_options(code: str, name: str) -> Optional[Dict[str, Any]]:
    """`opt = parser.parse_args()` read at its defaults (lint/staticeval.py, imported only when a
    file has one: not on the lint path's start-up)."""
    from .staticeval import file_options

    return file_options(code, name)


_interpreter.OPTIONS_HOOK = _file_options


def strict_mode() -> bool:
    from .options import env_flag  # SHAPELINT_STRICT read as a boolean: 0/false/no/off/"" are false

    return env_flag("SHAPELINT_STRICT")


@dataclass
class Analysis:
    source: SourceModule
    runs: List[Run]
    findings: List[Finding]
    # one entry per model class of the file: {"class", "line", "analysed", "reason", "hint"}
    coverage: List[Dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------

def _guessed_defaults(interp: Interpreter, run: Run) -> bool:
    """A construction nobody wrote: the class built with the defaults of an ``__init__`` that takes
    parameters (timm's ``EfficientVit(widths=())``, placeholders its factories always replace).
    Python raising there is no bug anyone meets: unknown, never SHP009."""
    if run.ctor is not None or run.ctor_kwargs is not None or run.cls is None or run.built_at:
        return False
    for c in interp.mro(run.cls):
        init = c.methods.get("__init__")
        if init is not None:
            p = init.params
            return bool((list(p.posonly_params) + list(p.params))[1:] + list(p.kwonly_params)) or \
                isinstance(p.star_arg, cst.Param) or p.star_kwarg is not None
    return False


def _declared_input(root: ModuleValue, inputs: List[Tensor]) -> Optional[Tuple[InputSpec, str]]:
    """The input a model declares it takes, and where from: ``model.input_size = [3, 299, 299]``
    (pretrained models' settings, set by their factory or ``__init__``), or the image size it is
    built with (a ViT's ``image_size=224``, timm's ``img_size=(256, 128)``), when its one input is
    an image batch whose channels agree (and, for the image size, whose sizes are still symbols).
    The batch stays symbolic."""
    if len(inputs) != 1:
        return None
    t = inputs[0]
    if t.shape is None or len(t.shape) != 4:
        return None
    size = root.attrs.get("input_size")
    if isinstance(size, (list, tuple)) and len(size) == 3 and \
            all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size):
        if t.shape[1] != size[0]:
            return None
        return InputSpec(("N",) + tuple(size)), f"the model's input_size {list(size)}"
    image = root.attrs.get("__image_size__")
    hw = (image, image) if isinstance(image, int) else tuple(image) if isinstance(image, (list, tuple)) else ()
    c = t.shape[1]
    if len(hw) != 2 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in hw) or \
            not (isinstance(c, int) and not isinstance(c, bool)) or \
            not all(D.is_dim(d) and not isinstance(d, int) for d in t.shape[2:]):
        return None
    return InputSpec(("N", c) + hw), f"the image size it is built with ({'x'.join(map(str, hw))})"


def _spec_tensor(spec: InputSpec, dtype="float", first: Optional[ModuleValue] = None) -> Tensor:
    shape = tuple(D.sym(d) if isinstance(d, str) else d for d in spec)
    return Tensor(shape, dtype, batch_dim(first, len(shape)))


def _uncalled_function(src: SourceModule, node: Any) -> Optional[str]:
    """The name of the module-level function holding ``node`` when the module names it nowhere
    else (no call, no reference: a ``def test():`` left uncalled), else None."""
    if node is None:
        return None

    def holds(n: cst.CSTNode) -> bool:
        return n is node or any(holds(c) for c in n.children)

    def names(n: cst.CSTNode, name: str) -> int:
        own = isinstance(n, cst.Name) and n.value == name or \
            isinstance(n, cst.SimpleString) and n.value.strip("'\"") == name  # getattr(mod, 'test'), __all__
        return int(own) + sum(names(c, name) for c in n.children)

    for name, fn in src.functions.items():
        if holds(fn):
            return name if names(src.tree, name) == 1 else None  # its def's own name only
    return None


def execute(src: SourceModule, run: Run, strict: bool, project=None, training: bool = False) -> None:
    """Build the model of ``run`` and run its forward (in eval mode, or in train mode when asked,
    as torchsummary runs it); fills the run's results."""
    interp = Interpreter(src, strict, project)
    if run.ctor is not None:
        # a model another module defines: what fails there is reported at this file's call
        interp.call_sites.append((run.ctor, src))
    interp.constructing = True
    interp.decisions = run.decisions
    try:
        root = _construct(interp, run)
    except ConstructionRaises as e:  # the code's own assert/raise rejects this configuration
        run.root, run.facts = None, []
        where = f" ({run.built_at})" if run.built_at else ""
        run.not_built = f"its construction {short_construction(' '.join(run.ctor_text.split()))}{where} raises: {e.reason}"
        return
    except ConstructionAbort:  # Python raises while building it (SHP009): there is no model
        run.root = None
        run.facts = [f for f in interp.facts if f.kind == "violation"]
        uncalled = _uncalled_function(src, run.ctor) if run.facts and \
            all(f.node is run.ctor for f in run.facts) else None
        if uncalled is not None:
            # `def test(): net = DPN92()` never called (`# test()`): the call written there would
            # raise, but nothing runs it; the model is not at fault
            what = run.facts[0].payload.what() if hasattr(run.facts[0].payload, "what") else "an error"
            run.facts = []
            run.not_built = f"its construction {short_construction(' '.join(run.ctor_text.split()))} in {uncalled}(), " \
                            f"a function nothing calls, raises: {what}"
            return
        if run.facts and (run.from_options or run.holes or _guessed_defaults(interp, run)):
            # one configuration of the script's options, not necessarily the one it is run with,
            # or placeholder defaults nobody builds the class with: listed as not analysed, never reported
            what = run.facts[0].payload.what() if hasattr(run.facts[0].payload, "what") else "an error"
            run.facts = []
            run.not_built = (f"its construction {short_construction(' '.join(run.ctor_text.split()))} ({run.built_at}) raises: {what}"
                             if run.from_options else f"its parameters' defaults cannot build it: {what}")
        return
    finally:
        interp.constructing = False
        run.branch_points, run.equalities = interp.branch_points, interp.equalities
        run.skipped = list(interp.skipped)  # what the construction did not follow: layers may be missing
    if training and isinstance(root, ModuleValue):
        _set_training(root)
    if not isinstance(root, ModuleValue):
        run.root = None
        run.facts = [f for f in interp.facts if f.kind == "violation"]
        return
    if root.cls is not None:
        run.cls = root.cls
    assign_names(root)
    n_inputs = _forward_arity(interp, root)
    if run.inputs is None and n_inputs == 0:
        run.root, run.facts = root, interp.facts
        return
    given, n_facts, n_sites = run.inputs, len(interp.facts), len(interp.call_sites)
    try:
        _forward(src, interp, run, root, n_inputs)
    except ProbeMismatch:
        # the input built from the side the probe took at a rank test is not one the model takes
        # that way: the forward runs again as if the probe had met no layer there
        del interp.facts[n_facts:], interp.call_sites[n_sites:]
        interp.probe_choices, interp.probe_rank_tests = {}, False
        interp.probes, interp.probe_paths, interp.probe_weak, interp.probe_ranks = {}, {}, set(), {}
        interp.violated = interp.guessed_input = False
        run.inputs, run.input_from, run.rank_free = given, None, {}
        _forward(src, interp, run, root, n_inputs)
    _containers_on_unknown_input(interp, run, root)


MAX_LOCAL_RUNS = 8  # containers per run checked on the input their first layer implies


def _containers_on_unknown_input(interp: Interpreter, run: Run, root: ModuleValue) -> None:
    """The ``nn.Sequential`` blocks, and the project's blocks of one input, that the forward called
    with a tensor nothing was known about (an input the probe could not build, a value the analysis
    lost on the way): each is run once more on the input its own first layer implies
    (``Sequential(ConvNorm(336, 512), BatchNorm1d(513))``: ``(N, 336, L)``), and what fails for
    every such input (a channel count the next layer does not take, a residual add of a padded
    branch) is reported, at the forward's call of a Sequential, in its own forward for a block; the
    first block that fails, as torch stops there. Only calls made before anything failed, on no
    undecided branch; only failures (the sizes they narrow or assume are this run's own)."""
    if any(f.kind == "violation" for f in interp.facts):
        return  # after a failure torch never gets to the rest
    todo: List[Tuple[ModuleValue, Any]] = []
    seen = set()
    for c in run.calls:
        m, x = c.module, (c.inputs[0] if len(c.inputs) == 1 else None)
        if m is root or id(m) in seen or c.speculative or m.uncertain:
            continue
        if m.kind != "sequential" and not (m.kind == "user" and m.cls is not None and _forward_arity(interp, m) == 1
                                           and not m.attrs.get("__init_failed__")):
            continue
        if isinstance(x, Tensor) and x.shape is None and not x.tail and x.probe is None:
            seen.add(id(m))
            todo.append((m, c.node))
    if not todo:
        return
    saved = (interp.calls, interp.order, interp.violated)
    try:
        for m, node in todo[:MAX_LOCAL_RUNS]:
            interp.probes, interp.probe_paths, interp.probe_choices = {}, {}, {}
            interp.probe_weak, interp.probe_ranks = set(), {}
            first = _probe(interp, m, 1).get(0)
            interp.probes, interp.probe_paths, interp.probe_choices = {}, {}, {}
            interp.probe_weak, interp.probe_ranks = set(), {}
            t = symbolic_input(first[0], 0) if first is not None and not first[1] else None
            if t is None:
                continue
            n = len(interp.facts)
            interp.calls, interp.order, interp.violated = [], 0, False
            try:
                interp.call_module(m, [t], {}, node)
            except AnalysisAbort:
                del interp.facts[n:]
                continue
            new = [f for f in interp.facts[n:] if f.kind == "violation"]
            del interp.facts[n:]
            if new:
                interp.facts.extend(new)
                break  # torch stops at the first block that fails
    finally:
        interp.calls, interp.order, interp.violated = saved


def _forward(src: SourceModule, interp: Interpreter, run: Run, root: ModuleValue, n_inputs: int) -> None:
    """The forward phase of ``execute``: the inputs (given, or built from the layers the probe
    finds first) through the model built."""
    positional = [s for s in run.inputs or () if spec_name(s) is None]
    probed = _probe(interp, root, max(n_inputs, len(positional)))
    probe_layers = {i: m for i, (m, _p) in probed.items()}
    run.first_layers = frozenset(id(m) for m in probe_layers.values())
    kwargs: Dict[str, Any] = {}
    if run.inputs is not None:
        inputs = []
        for i, s in enumerate(positional):
            first = probe_layers.get(i)
            # an Embedding input is a LongTensor
            dtype = spec_dtype(s) or ("long" if first is not None and first.type_name == "Embedding" else "float")
            inputs.append(_spec_tensor(s, dtype, first))
        named = []
        for s in run.inputs:
            name = spec_name(s)
            if name is None:
                continue
            t = _spec_tensor(s, spec_dtype(s) or "float", None)
            named.append(t)
            param, _, key = name.partition(".")
            if key:
                d = kwargs.setdefault(param, {})
                if isinstance(d, dict):
                    d[key] = t
            else:
                kwargs[param] = t
    else:
        inputs = []
        names = _forward_params(interp, root)
        for i in range(n_inputs):
            path = probed[i][1] if i in probed else ()
            cat = next((step for step in path if step[0] == "cat"), None)
            t = symbolic_input(probe_layers.get(i), 0 if cat else i)
            if t is not None and t.shape is not None and interp.probe_ranks.get(i, len(t.shape)) != len(t.shape):
                t = None  # the forward unpacks another number of sizes from it: Python raises for this rank
            if t is None and path and path[-1][0] == "einops":
                # a layer that fixes only the last dim (a ViT's Linear after its patch rearrange)
                t = _einops_rank_free(probe_layers.get(i), path[-1])
                path = path[:-1]
            if path:
                t = _unwound(t, tuple(step for step in path if step[0] != "cat"))
            if cat is not None:
                t = _cat_part(t, cat, i)
            if t is None and i < len(names):
                t = _latent_input(probe_layers.get(i), names[i])
                if t is not None and t.shape is not None and interp.probe_ranks.get(i, 2) != 2:
                    t = None  # the forward unpacks more sizes from it (`bs, n, v, p = z.shape`): no latent vector
                elif t is not None:
                    interp.guessed_input = True
            if t is None and not path and i in interp.probe_ranks:
                t = _ranked_input(probe_layers.get(i), interp.probe_ranks[i], i)
            if t is None and not path:
                hint = _rank_free_witness(probe_layers.get(i))
                if hint is not None:
                    run.rank_free[i] = hint
            if t is not None and run.fixed and t.shape is not None:
                t = t.with_shape(tuple(D.substitute(d, run.fixed) for d in t.shape), t.batch_dim)
            inputs.append(t if t is not None else Tensor(None))
        got = _declared_input(root, inputs)
        if got is not None:
            declared, run.input_from = got
            run.inputs, named = [declared], []
            inputs = [_spec_tensor(declared, "float", probe_layers.get(0))]
        # an input no layer told the shape of stays of unknown rank: forward still runs, and
        # whatever fixes a shape on the way (x.view(-1, 784)) is checked from there on
    run.input_tensors = inputs + (named if run.inputs is not None else [])
    if run.site is not None:
        interp.call_sites.append((run.site, src))
    try:
        run.output = interp.call_module(root, list(inputs), kwargs, run.call_node)
    finally:
        run.root = root
        run.calls = interp.calls
        run.facts = interp.facts
    if run.call_node is None and run.cls is None and root.kind == "sequential":
        # a bare container model the file never calls: a layer that cannot take what the previous
        # one gives is reported where it is defined
        for f in run.facts:
            if f.kind == "violation" and f.node is None and f.module is not None and f.module.node is not None:
                f.node = f.module.node
    for hook in forward_end_hooks():  # rules that decide at the end of forward (SHP005's folds)
        hook(run.facts, run.output)


def _probe(interp: Interpreter, root: ModuleValue, n: int) -> Dict[int, Tuple[ModuleValue, Tuple[Any, ...]]]:
    """Which layer first meets each forward input (its shape is then that layer's input).

    A quiet forward pass over the tree already built: it records nothing, and the calls it made
    are forgotten before the real pass."""
    for flip in (False, True):
        interp.quiet = True
        probes = [Tensor(None, "float", None, i) for i in range(n)]
        interp.probe_target = n
        interp.probe_flip = flip
        try:
            interp.call_module(root, probes, {}, None)
        except AnalysisAbort:  # ProbeDone: every input has met its first layer
            pass
        finally:
            interp.probe_target = 0
            interp.quiet = False
            interp.calls = []
            interp.order = 0
        if flip or not interp.probe_choices or len(interp.probes) >= n:
            break
        # the side taken at a rank test (`if x.dim() == 4: ... else: raise`) led to no layer: the other
        interp.probes, interp.probe_paths, interp.probe_choices = {}, {}, {}
        interp.probe_weak, interp.probe_ranks = set(), {}
    paths = dict(interp.probe_paths)
    return {i: (m, paths.get(i, ())) for i, m in interp.probes.items()}


def _cat_part(t: Optional[Tensor], cat: Tuple[Any, ...], i: int) -> Optional[Tensor]:
    """Model input ``i``, one of those ``torch.cat(..., dim)`` joins before the first layer, whose
    input is ``t``: the same sizes (the same symbols) but along ``dim``, where each part has a size of
    its own (pix2pix's ``torch.cat((img_A, img_B), 1)`` into ``Conv2d(6, ...)``: Ci channels each)."""
    _, dim, ids = cat
    if t is None or t.shape is None or i not in ids:
        return None
    k = dim if dim >= 0 else dim + len(t.shape)
    if not 0 <= k < len(t.shape) or k == t.batch_dim:
        return None
    shape = list(t.shape)
    shape[k] = D.sym(f"C{ids.index(i) + 1}", lo=1)
    return Tensor(tuple(shape), t.dtype, t.batch_dim)


def _unwound(t: Optional[Tensor], path: Tuple[Any, ...]) -> Optional[Tensor]:
    """The model input that becomes ``t`` (what its first layer expects) through ``path``:
    each ``unsqueeze(d)`` on the way is undone by dropping dim d (never the batch); a constant
    it was combined with must broadcast into it without changing its shape."""
    if t is None or t.shape is None:
        return t
    shape, bd = list(t.shape), t.batch_dim
    for op, d in reversed(path):
        if op == "broadcast":
            # a constant of shape d met on the way: it must broadcast into the input unchanged
            if len(d) > len(shape) or any(c != 1 and not (isinstance(s, int) and s == c)
                                          for c, s in zip(reversed(d), reversed(shape))):
                return None
            continue
        if op == "pooled":
            # a pool of d spatial dims met first: the same batch and channels, its own (symbolic)
            # spatial sizes, when the layer after it takes a batch of d-dim maps too
            if len(shape) != d + 2 or bd != 0:
                return None
            continue
        if op in ("permute", "transpose"):
            # t = input.permute(dims): input[dims[i]] = t[i]; a transpose swaps two dims
            r = len(shape)
            if op == "transpose":
                a, b = (x if x >= 0 else x + r for x in d)
                if not (0 <= a < r and 0 <= b < r):
                    return None
                dims = list(range(r))
                dims[a], dims[b] = b, a
            else:
                dims = [x if x >= 0 else x + r for x in d]
                if sorted(dims) != list(range(r)):
                    return None
            inp: List[Any] = [None] * r
            for i, j in enumerate(dims):
                inp[j] = shape[i]
            shape, bd = inp, (dims[bd] if bd is not None else None)
            continue
        if op == "einops":
            # rearrange(x, pattern, **lengths): the input it turns into the layer's input
            got = invert_einops((op, d), shape, bd)
            if got is None or got.shape is None:
                return None
            shape, bd = list(got.shape), got.batch_dim
            continue
        if op == "squeeze":
            # input.squeeze(d) gave t: the input has a 1 at d (never before the batch)
            k = d if d >= 0 else d + len(shape) + 1
            if not 0 <= k <= len(shape) or bd is not None and k <= bd:
                return None
            shape.insert(k, 1)
            continue
        if op != "unsqueeze":
            return None
        k = d if d >= 0 else d + len(shape)
        if not 0 <= k < len(shape) or k == bd or len(shape) < 2:
            return None
        del shape[k]
        if bd is not None and bd > k:
            bd -= 1
    return Tensor(tuple(shape), t.dtype, bd)


def _set_training(root: ModuleValue) -> None:
    stack, seen = [root], set()
    while stack:
        m = stack.pop()
        if id(m) not in seen:
            seen.add(id(m))
            m.training = True
            stack.extend(m.children.values())


def assign_names(root: ModuleValue) -> None:
    """Qualified names as ``model.named_modules()`` gives them: registration order, first path wins."""
    seen = set()

    def walk(m: ModuleValue, prefix: str):
        if id(m) in seen:
            return
        seen.add(id(m))
        m.name = prefix
        for key, child in m.children.items():
            walk(child, f"{prefix}.{key}" if prefix else key)

    walk(root, "")


def _construct(interp: Interpreter, run: Run):
    frame = Frame(dict(run.ctor_locals))
    if run.ctor is None:
        return interp.instantiate(run.cls, [], dict(run.ctor_kwargs or {}), None)
    for a in run.ctor.args:
        if run.holes and isinstance(a.value, cst.Name) and a.value.value.startswith("__hole"):
            continue  # a hole: unknown on purpose
        v = interp.eval(a.value, frame)
        if v is UNKNOWN:
            return None
    return interp.eval(run.ctor, frame)


def _forward_params(interp: Interpreter, m: ModuleValue) -> List[str]:
    fwd = interp.class_attr(m.cls, "forward", instance=m) if m.cls is not None else None
    if not isinstance(fwd, FunctionValue):
        return []
    p = fwd.node.params
    return [q.name.value for q in (list(p.posonly_params) + list(p.params))[1:]]


_LATENT_NAMES = {"z", "noise", "latent", "latents", "z_in", "input_z", "code", "zs"}


def _latent_input(first: Optional[ModuleValue], name: str) -> Optional[Tensor]:
    """A generator's noise: ``forward(self, z)`` whose ``z`` first meets a ``Linear``. A Linear takes
    inputs of any rank, so no rank is guessed for an input in general; a latent vector by the GAN
    convention's names is a batch of vectors, (N, in_features)."""
    if first is None or first.kind != "layer" or first.type_name != "Linear" or first.args is None:
        return None
    if name.lower() not in _LATENT_NAMES and not name.lower().startswith(("z_", "noise", "latent")):
        return None
    k = first.args.get("in_features")
    if not (isinstance(k, int) and not isinstance(k, bool) and k > 0 or isinstance(k, D.Lin) and not k.is_opaque()):
        return None
    return Tensor((D.sym("N"), k), "float", 0)


_RANKED_NAMES = {2: ("N", "C"), 3: ("N", "C", "L"), 4: ("N", "C", "H", "W"), 5: ("N", "C", "D", "H", "W")}


def _ranked_input(first: Optional[ModuleValue], rank: int, index: int) -> Optional[Tensor]:
    """An input whose rank the model states before any layer (``b, c, t = x.shape``: Python
    raises for any other) and that no layer tells the shape of: each dim a size of its own, the
    batch first; the last one ``in_features`` when a Linear meets it first (nanoGPT's attention
    block: ``B, T, C = x.size()`` then ``self.c_attn(x)``), token ids when an Embedding does
    (``b, t = idx.size()`` then ``self.wte(idx)``). Another first layer decides alone."""
    if rank not in _RANKED_NAMES:
        return None
    sfx = "" if index == 0 else str(index + 1)
    kind = first.type_name if first is not None and first.kind == "layer" and first.args is not None else None
    if first is not None and kind not in ("Linear", "Embedding"):
        return None
    n = D.sym("N")  # one batch for all the inputs, as symbolic_input's
    if kind == "Embedding":
        names = ("T",) if rank == 2 else tuple(f"T{j}" for j in range(1, rank))
        return Tensor((n, *[D.sym(s + sfx) for s in names]), "long", 0)
    dims: List[Any] = [n] + [D.sym(s + sfx) for s in _RANKED_NAMES[rank][1:]]
    if kind == "Linear":
        k = first.args.get("in_features") if first is not None and first.args is not None else None
        if not (isinstance(k, int) and not isinstance(k, bool) and k > 0 or isinstance(k, D.Lin) and not k.is_opaque()):
            return None
        names = () if rank == 2 else ("T",) if rank == 3 else tuple(f"T{j}" for j in range(1, rank - 1))
        dims = [n] + [D.sym(s + sfx) for s in names] + [k]
    return Tensor(tuple(dims), "float", 0)


def _einops_rank_free(first: Optional[ModuleValue], step: Tuple[Any, ...]) -> Optional[Tensor]:
    """The input ``rearrange`` turns into what a Linear first takes (its last dim ``in_features``,
    any rank): the pattern's own rank and axes, solved for the last group (einops_ops.invert)."""
    if first is None or first.kind != "layer" or first.args is None:
        return None
    if first.type_name == "Linear":
        k = first.args.get("in_features")
    elif first.type_name == "LayerNorm":  # the newer ViT's LayerNorm(patch_dim) before its Linear
        k = first.args.get("normalized_shape")
        k = k[0] if isinstance(k, (tuple, list)) and len(k) == 1 else k
    else:
        return None
    if not isinstance(k, int) or isinstance(k, bool) or k <= 0:
        return None
    return invert_einops(step, None, None, last=k)


def _rank_free_witness(first: Optional[ModuleValue]) -> Optional[Tuple[Tuple[int, ...], str]]:
    """The smallest input a Linear (``(in_features,)``) or an Embedding (four token ids) takes,
    without its batch: what --confirm feeds a model whose input rank nothing fixes."""
    if first is None or first.kind != "layer" or first.args is None:
        return None
    if first.type_name == "Linear":
        k = first.args.get("in_features")
        return ((k,), "float") if isinstance(k, int) and not isinstance(k, bool) and k > 0 else None
    if first.type_name == "Embedding":
        return ((4,), "long")
    return None


def _forward_arity(interp: Interpreter, m: ModuleValue) -> int:
    fwd = interp.class_attr(m.cls, "forward", instance=m) if m.cls is not None else None
    if not isinstance(fwd, FunctionValue):
        return 1
    p = fwd.node.params
    params = list(p.posonly_params) + list(p.params)
    return max(0, len([q for q in params[1:] if q.default is None]))


# ------------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------------

def analyze_source(code: str, path: str = "<string>", input_shapes: Optional[Dict[str, List[InputSpec]]] = None,
                   strict: Optional[bool] = None, select=None, ignore=None,
                   constructions: Optional[Dict[str, List[str]]] = None, scan_project: bool = True,
                   time_budget: Optional[float] = None) -> Analysis:
    """Analyse one file. Raises cst.ParserSyntaxError on a syntax error.

    ``constructions``: name -> call texts to analyse (``--construct``); ``scan_project``: also
    look for constructions of the file's models in the other files of its project.

    ``time_budget``: CPU seconds for each class's analysis, three times that for the file's, after the
    parse (core/limits.py; None: none). A class still being analysed when either is spent is abandoned (unknown, no
    finding); :func:`budget_notes` says so in one line."""
    with paused_gc():
        return _analyze_source(code, path, input_shapes, strict, select, ignore, constructions, scan_project,
                               time_budget)


def _analyze_source(code, path, input_shapes, strict, select, ignore, constructions=None,
                    scan_project=True, budget=None) -> Analysis:
    strict = strict_mode() if strict is None else strict
    src = SourceModule(code, path)
    with limits.time_budget(budget):
        return _analyze_parsed(src, input_shapes, strict, select, ignore, constructions, scan_project)


def budget_notes(analysis: Analysis, path: str) -> List[str]:
    """One line for a file some of whose classes a budget (time, steps) cut short; none otherwise."""
    cut = [r for r in analysis.runs if r.error and r.error.startswith("abandoned:") and "budget" in r.error]
    if not cut:
        return []
    names = ", ".join(dict.fromkeys(r.cls.name if r.cls is not None else (r.ctor_text or "?") for r in cut))
    why = cut[0].error[len("abandoned: "):]
    return [f"shapelint: {path}: not fully analysed: {why}: {names} unknown"]


def _analyze_parsed(src, input_shapes, strict, select, ignore, constructions=None, scan_project=True) -> Analysis:
    from .findings import facts_to_findings

    path = src.path
    project = Project(src)
    planner = Planner(src, input_shapes or {}, strict, project)
    extra: Dict[str, List[Tuple[str, str, Any, bool, Optional[str], bool]]] = {}
    for name, texts in (constructions or {}).items():
        extra.setdefault(name, []).extend((t, "option", None, False, None, False) for t in texts)
    if scan_project and project.main.path and os.path.isfile(project.main.path):
        from . import datapipe  # noqa: F401  (registers the data-pipeline and reaching hooks)
        from .constructions import find_constructions

        for name, found in find_constructions(path, project.root, planner.construction_targets()).items():
            # a configuration a documented command line gives (an ImageNet line beside the CIFAR
            # model the user declares an input for) runs at its own input, never the declared one;
            # so does one the defaults do not build, when the defaults build the class too (StarGAN's
            # `Generator(64, 5 + 8 + 2)` for --dataset Both, beside `Generator(64, 5)`)
            default = any(c.default_run and not c.documented for c in found)
            extra.setdefault(name, []).extend(
                (c.text, c.where + (f" with {c.options}" if c.options else ""),
                 [InputSpec(i) for i in c.inputs] if c.inputs else None, c.from_options, c.input_from,
                 c.documented or (default and not c.default_run))
                for c in found)
    planner.constructions = extra
    runs = planner.plan()
    _execute_all(src, runs, strict, project)
    _declared_unbuilt(src, runs, planner.options, strict, project)
    _declared_misfits(src, runs, strict, project)
    coverage = _coverage(planner, runs)
    # the classes nobody builds (not as a model, not as a block of one): built once more with
    # symbolic constructor arguments, so that what holds for every value is still checked
    factories = _factory_runs(planner, coverage, runs)
    if factories:
        _execute_all(src, factories, strict, project, exploratory=True)
        runs += factories
        coverage = _coverage(planner, runs)
    symbolic = _symbolic_runs(planner, coverage)
    if symbolic:
        _execute_all(src, symbolic, strict, project, exploratory=True)
        _agreed(symbolic)
        for r in symbolic:
            if r.default_callables:
                r.facts = [f for f in r.facts if not (f.kind == "violation" and
                                                      getattr(f.payload, "KIND", None) == "construction")]
        runs += symbolic
        coverage = _coverage(planner, runs)
    for fw in registered():  # runs of model-building code the planner does not see (Keras models)
        runs += fw.file_runs(src, strict, lambda: Interpreter(src, strict, project))
    _invented_misfits(runs)
    _flipped_defaults(src, runs, strict, project)
    # a construction whose arguments were unknown built nothing: it is not a run
    runs = [r for r in runs if r.root is not None or r.facts or r.error]
    findings = facts_to_findings(src, runs, select, ignore)
    if scan_project and project.root and src.path and os.path.isfile(src.path) and \
            not any(r.concrete and _followed(r) for r in runs if r.root is not None):
        # a file of helpers and blocks whose own models meet no real input: checked through the
        # project's models that import it (lint/importers.py), within this file's own time budget
        from .importers import importer_findings

        seen = {(f.line, f.col, f.code) for f in findings}
        # an input declared for a model this file does not define (`--input-shape CurveNet=...`
        # while linting the blocks curvenet_cls.py assembles) is for an importer's model: its
        # analysis is what was asked for, and gets a file budget of its own rather than what the
        # file's own symbolic runs left
        elsewhere = any(name not in src.classes and name not in src.functions for name in (input_shapes or {}))
        deadline = limits.current_deadline()
        with limits.time_budget(deadline.budget) if elsewhere and deadline.budget else contextlib.nullcontext():
            found = importer_findings(src, project.root, select, ignore,
                                      lambda code, p: _analyze_parsed(SourceModule(code, p), input_shapes, strict,
                                                                      select, ignore), prefer=list(input_shapes or {}))
        for f in found:
            if (f.line, f.col, f.code) not in seen:
                seen.add((f.line, f.col, f.code))
                findings.append(f)
        findings.sort(key=lambda f: (f.line, f.col, f.code))
    return Analysis(src, runs, findings, coverage)


def _followed(r: Run) -> bool:
    """Did a run get somewhere: a violation recorded, or a known output? (A declared input given to
    a class built with unknown parts, `DeepLabV3(backbone=?, classifier=?)`, does not: the
    project's files that build the class are still asked, lint/importers.py.)"""
    if any(f.kind == "violation" for f in r.facts):
        return True
    outs = r.output if isinstance(r.output, (tuple, list)) else (r.output,)
    return any(isinstance(o, Tensor) and (o.shape is not None or bool(o.tail)) for o in outs)


def _declared_misfits(src, runs: List[Run], strict: bool, project) -> None:
    """A declared ``--input-shape CLASS=...`` goes to every construction of CLASS; the declaration is
    the user's word for one configuration, not a fact about the others. Findings at the declared
    input are dropped (README "Where constructions come from") when
    * the construction is one the file feeds itself, that input runs cleanly, and the class has
      other configurations the declaration may be for (MobileViT's own ``__main__`` feeding
      ``mobilevit_xs()``, one of three, a 256x256 image; a file's one ``Net()`` fed 28x28 is still
      checked at a declared 56x56);
    * the class is built with different arguments (train.py's ``PixelSNAIL([32, 32], ...)``, the
      MNIST script's ``PixelSNAIL([28, 28], ...)``), the declared input runs cleanly through one of
      them (or, when every declared run fails, through a configuration that keeps its own input,
      tried at the declared shape), which went past the failing node, and the failing construction
      runs cleanly on the input its own layers imply."""
    by_class: Dict[str, List[Run]] = {}
    for r in runs:
        if r.input_origin == "option" and r.cls is not None and r.root is not None and not r.error:
            by_class.setdefault(r.cls.name, []).append(r)

    def violations(r: Run) -> bool:
        return any(f.kind == "violation" for f in r.facts)

    def text(r: Run) -> str:
        return " ".join(r.ctor_text.split())

    for r in runs:
        if r.input_origin == "option" and r.own_inputs is not None and violations(r) and \
                repr(r.own_inputs) != repr(r.inputs) and r.cls is not None and \
                len({text(g) for g in by_class.get(r.cls.name, [])}) > 1:
            # MobileViT's own __main__ feeds mobilevit_xs() (256x256 by construction) a 256x256
            # image; a declared 64x64 breaks its pool. If the file's own input runs cleanly, the
            # declared shape is another configuration's
            own = Run(r.cls, r.ctor, r.ctor_text, r.own_inputs, "call", dict(r.ctor_locals))
            own.site, own.holes = r.site, r.holes
            _execute_all(src, [own], strict, project, exploratory=True)
            if own.root is not None and not own.error and not violations(own) and _known_output(own.output):
                r.facts = [f for f in r.facts if f.kind != "violation"]

    for name, group in by_class.items():
        for r in group:
            if violations(r) and _sized_for_another_input(r):
                r.facts = [f for f in r.facts if f.kind != "violation"]
        if len({text(r) for r in group}) > 1 and any(not _first_misfit(r) for r in group):
            # the declared channels are what one configuration's first layer takes (torch-vae's
            # VAE(64, 1, 128) for MNIST beside VAE(64, 3, 128) for CelebA, given 2x1x64x64): the
            # others' first layers, sized by a parameter, are for another input, and so is what
            # follows them; the fitting one is checked in full, its own faults included
            for r in group:
                if _first_misfit(r):
                    r.facts = [f for f in r.facts if f.kind != "violation"]
                    r.misfit = True
        fitting = [r for r in group if not violations(r) and not r.misfit]
        if not fitting and group[0].inputs is not None:
            # every construction given the declared shape fails: try it on the class's other
            # configurations, those that keep their own input (StarGAN's Generator(64, 15, 6) for
            # --dataset Both beside the default Generator(64, 5, 6), with c declared 2x15)
            mine = {text(r) for r in group}
            others = [o for o in runs if o.cls is not None and o.cls.name == name and o.input_origin != "option"
                      and o.root is not None and not o.error and o.ctor is not None and text(o) not in mine]
            for o in others[:3]:
                trial = Run(o.cls, o.ctor, o.ctor_text, group[0].inputs, "option", dict(o.ctor_locals))
                trial.ctor_kwargs, trial.holes = o.ctor_kwargs, o.holes
                _execute_all(src, [trial], strict, project, exploratory=True)
                if trial.root is not None and not trial.error and not violations(trial):
                    fitting.append(trial)
        if not fitting or len({text(r) for r in group + fitting}) < 2:
            continue
        fits = {text(r) for r in fitting}
        for r in group:
            if not violations(r) or text(r) in fits:
                continue
            # only a failure in code a fitting configuration went past cleanly at the same input
            # (it called a layer further down the same method) is the configuration's: a shortcut
            # only resnet18's blocks have stays reported
            blamed = [f for f in r.facts if f.kind == "violation" and f.src in (None, src) and
                      any(_went_past(src, f.node, g) for g in fitting)]
            if not blamed:
                continue
            own = Run(r.cls, r.ctor, r.ctor_text, None, "symbolic", dict(r.ctor_locals))
            own.ctor_kwargs, own.holes, own.built_at = r.ctor_kwargs, r.holes, r.built_at
            _execute_all(src, [own], strict, project, exploratory=True)
            if own.root is not None and not own.error and not violations(own):
                r.facts = [f for f in r.facts if not any(f is b for b in blamed)]


def _declared_unbuilt(src, runs: List[Run], options, strict: bool, project) -> None:
    """A declared ``--input-shape CLASS=...`` whose every run of CLASS built nothing (the call inside
    ``def mobilenet(**kwargs)`` with its arguments unknown, where the factory itself gives
    defaults): the declared input goes to the symbolic runs of the file's no-argument factories
    of CLASS that did build (never to the class's bare defaults, which the failed construction
    may have meant to replace, nor to an invented construction)."""
    declared = {r.cls.name for r in runs if r.input_origin == "option" and r.cls is not None}
    built = {r.cls.name for r in runs if r.input_origin == "option" and r.cls is not None and r.root is not None}
    for name in declared - built:
        if not options.get(name):
            continue
        for i, r in enumerate(runs):
            if r.cls is None or r.cls.name != name or r.input_origin != "symbolic" or r.root is None or \
                    r.error or r.ctor_kwargs is not None or r.ctor is None or r.built_at:
                continue
            retry = Run(None, r.ctor, r.ctor_text, options[name], "option", dict(r.ctor_locals))
            retry.built_at, retry.from_options, retry.holes = r.built_at, r.from_options, r.holes
            _execute_all(src, [retry], strict, project)
            if retry.root is not None:
                runs[i] = retry


def _sized_for_another_input(r: Run) -> bool:
    """A construction that states the image it is built for, and states another than the declared
    input: joint-vae's main.py builds ``VAE(img_size=(1, 32, 32), ...)`` for MNIST; a declared
    3x64x64 input is for another configuration of VAE (CelebA's), not a bug of this one. An
    argument naming the input's size (``img_size``, ``input_size``, ``image_shape``, ``input_dim``;
    not ``hidden_dims=[32, 64, 128]``) that is a literal tuple of ints as long as the declared
    input's (C, H, W) or (H, W), and differs from it."""
    call = r.ctor
    declared = r.inputs[0] if r.inputs and len(r.inputs) == 1 else None
    if not isinstance(call, cst.Call) or not isinstance(declared, tuple) or \
            not all(isinstance(d, int) for d in declared) or len(declared) < 3:
        return False
    for a in call.args:
        kw = a.keyword.value.lower() if a.keyword is not None else ""
        if not any(w in kw for w in ("img", "image", "input")) or not any(w in kw for w in ("size", "shape", "dim")) \
                or not isinstance(a.value, (cst.Tuple, cst.List)):
            continue
        vals = [e.value for e in a.value.elements]
        if not vals or not all(isinstance(v, cst.Integer) for v in vals):
            continue
        sizes = tuple(int(v.value, 0) for v in vals)  # type: ignore[attr-defined]
        for tail in (tuple(declared[1:]), tuple(declared[2:])):
            if len(sizes) == len(tail) >= 2 and sizes != tail:
                return True
    return False


def _known_output(v: Any) -> bool:
    """A forward that went through: its output (or one of a tuple's) is a tensor of known shape."""
    if isinstance(v, Tensor):
        return v.shape is not None
    if isinstance(v, (tuple, list)):
        return any(_known_output(x) for x in v)
    return False


def _went_past(src, node, run: Run, known: bool = False) -> bool:
    """Whether ``run`` called a layer written at or after ``node`` in the method of ``src`` holding
    it (a clean run's call at the node itself went through it); ``known``: a layer fed inputs of
    known shape (a run that went on with unknown values proves nothing of the node)."""
    got = _method_order(src, node)
    if got is None:
        return False
    order, at = got
    return any(c.node is not None and order.get(id(c.node), -1) >= at and
               (not known or c.inputs and all(_known_output(i) for i in c.inputs)) for c in run.calls)


def _method_order(src, node) -> Optional[Tuple[Dict[int, int], int]]:
    """(source order of the nodes of the method of ``src`` holding ``node``, ``node``'s place), or
    None when no method of the file's classes holds it."""
    if node is None:
        return None
    for info in src.classes.values():
        for fn in info.methods.values():
            order: Dict[int, int] = {}
            stack = [fn]
            while stack:
                n = stack.pop()
                order[id(n)] = len(order)
                stack.extend(reversed(code_children(n)))
            if id(node) in order:
                return order, order[id(node)]
    return None


def _invented_misfits(runs: List[Run]) -> None:
    """A declared input given to a construction nobody wrote (``VQ_CVAE(d=d)`` for any d, its
    ``num_channels=3`` a default the project's scripts override; ``vgg11()``, a factory's
    ``in_channels=3`` default, where the project builds ``vgg19_bn(in_channels=1)``): a channel count the first layer
    takes is the invented construction's guess, not the declared input's mistake. The first layer:
    the one the input's probe met, or else the first layer the forward called (SAGAN's generator
    reshapes its noise `z.view(N, z_dim, 1, 1)` before its first ConvTranspose2d, whose
    `z_dim=100` default the training script replaces by 128)."""
    for r in runs:
        if r.input_origin != "option" or (r.ctor_kwargs is None and not r.invented):
            continue
        if _first_misfit(r):
            # not the configuration the declared input is for: what follows the misfit (PointNet's
            # encoder splitting 6 channels into xyz and normals) is no more the user's than it
            r.facts = [f for f in r.facts if f.kind != "violation"]
            r.misfit = True


def _first_misfit(r: Run) -> bool:
    """The run's first layer (met by the input's probe, or the first layer called) takes another
    channel count than the declared input's, given by a parameter (not a literal)."""
    first = set(r.first_layers)
    called = next((c.module for c in r.calls if c.module is not None and c.module.kind == "layer"), None)
    if called is not None:
        first.add(id(called))
    return any(f.kind == "violation" and f.module is not None and id(f.module) in first and
               type(f.payload).__name__ == "Channels" and not _literal_size(f.module.node) for f in r.facts)


MAX_FLIPS = 3  # boolean defaults of an invented construction tried the other way (_flipped_defaults)


_SIZE_ARGS = ("in_channels", "num_features", "normalized_shape", "in_features", "num_channels", "input_size",
              "embed_dim")


def _literal_size(call: Any) -> bool:
    """Whether the layer built by ``call`` is given its input size as a literal (``nn.Conv2d(3, 32,
    3)``, ``nn.RMSNorm([4, 16])``): a number the code fixes, not a default the construction guessed
    (``nn.Conv2d(in_channels, ...)``)."""
    if not isinstance(call, cst.Call):
        return False
    arg = next((a for a in call.args if a.keyword is not None and a.keyword.value in _SIZE_ARGS), None) or \
        next((a for a in call.args if a.keyword is None and a.star == ""), None)

    def literal(e) -> bool:
        if isinstance(e, cst.Integer):
            return True
        if isinstance(e, (cst.List, cst.Tuple)):
            return all(isinstance(el, cst.Element) and literal(el.value) for el in e.elements)
        if isinstance(e, cst.BinaryOperation):
            return literal(e.left) and literal(e.right)
        return False

    return arg is not None and literal(arg.value)


def _flipped_defaults(src, runs: List[Run], strict: bool, project) -> None:
    """A declared input that fails a construction nobody wrote (the class's symbolic construction,
    its other parameters at their defaults) is for another configuration when turning one of the
    class's boolean defaults runs it cleanly: PointNet++'s ``get_model(num_classes,
    normal_channel=False)`` takes xyz only; the declared 2x6x2048 (xyz and normals) is for the
    README's ``normal_channel=True``. Which default the user's model has is not the linter's guess."""
    for r in list(runs):
        # a symbolic construction (ctor_kwargs) or the class's own defaults (``Net()``, invented)
        if r.input_origin != "option" or (r.ctor_kwargs is None and not r.invented) or r.ctor is not None or \
                r.cls is None or not (r.misfit or any(f.kind == "violation" for f in r.facts)):
            continue
        init = r.cls.methods.get("__init__")
        if init is None:
            continue
        given = dict(r.ctor_kwargs or {})
        flips = [p.name.value for p in list(init.params.params) + list(init.params.kwonly_params)
                 if p.default is not None and isinstance(p.default, cst.Name) and
                 p.default.value in ("True", "False") and p.name.value not in given][:MAX_FLIPS]
        for name in flips:
            init_default = next(p.default for p in list(init.params.params) + list(init.params.kwonly_params)
                                if p.name.value == name)
            kwargs = dict(given, **{name: init_default.value != "True"})  # type: ignore[union-attr]
            other = Run(r.cls, None, r.ctor_text, r.inputs, "option", dict(r.ctor_locals))
            other.ctor_kwargs = kwargs
            _execute_all(src, [other], strict, project, exploratory=True)
            if other.root is None or other.error:
                continue
            if r.misfit:
                # the declared input misfit this guess's first layer: the flipped default that
                # takes it there is the configuration it is for, and is checked as such
                # (PointNet++'s normal_channel=True default, a declared xyz-only 2x3x1024)
                if not _first_misfit(other):
                    other.ctor_text = f"{r.cls.name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})"
                    runs.append(other)
                    break
                continue
            if any(f.kind == "violation" for f in other.facts):
                # both values fail: what fails in both is reported (the guess's misfit of the
                # declared input, which the other value avoids, is not: BigGAN's G_shared=True
                # Linear fed class indices beside a real bug both share); nothing in common, the
                # guess's own failures stand (PointNet++ failing at another line either way)
                theirs = {(id(_anchor(src, f)), type(f.payload).__name__) for f in other.facts
                          if f.kind == "violation"}
                shared = [f for f in r.facts if f.kind == "violation" and
                          (id(_anchor(src, f)), type(f.payload).__name__) in theirs]
                if shared:
                    r.facts = [f for f in r.facts if f.kind != "violation"] + shared
                continue
            # it ran the declared input through, or at least went past every failing spot (an op
            # the rest of the model leaves unknown is no verdict against it)
            if _known_output(other.output) or all(_went_past(src, _anchor(src, f), other, known=True)
                                                  for f in r.facts if f.kind == "violation" and f.payload is not None):
                r.facts = [f for f in r.facts if f.kind != "violation"]
                break


def _anchor(src, f: Fact) -> Any:
    """The node of a method of ``src`` a violation is reached through: its own, or the innermost
    call there that led to it (a helper function of the file, a module of another file)."""
    nodes = ([f.node] if f.src in (None, src) else []) + \
        [node for node, where in reversed(f.sites) if where is src and node is not None]
    return next((n for n in nodes if _method_order(src, n) is not None), None)


def _execute_all(src, runs, strict, project, exploratory: bool = False) -> None:
    """``exploratory``: symbolic constructor arguments reach code paths (a layer given a symbolic
    size where it expects a literal) whose failure is not the user's: the run is abandoned with
    its facts dropped, never an SHP000."""
    for run in runs:
        try:
            execute(src, run, strict, project)
            if run.inputs is None:
                _settle_narrowing(src, run, strict, project, [MAX_NARROW_RUNS])
                for f in run.facts:  # a broadcast that fits only for a tiny image: a witness is larger
                    low = getattr(f.payload, "tiny_low", ()) if f.kind == "violation" else ()
                    if low:
                        run.lows[low[0]] = max(run.lows.get(low[0], 1), low[1])
            if run.branch_points and run.root is not None and not run.decisions and \
                    (run.ctor_kwargs is not None or run.holes):
                # symbolic constructor arguments decide the tests (a model's concrete construction
                # meets undecidable tests on what is unknown, where a split rarely pays its cost)
                _split_branches(src, run, strict, project)
        except AnalysisAbort as e:
            run.error = f"abandoned: {e}"
        except RecursionError as e:
            run.error = f"abandoned: {e}"
        except Exception as e:  # an engine bug: contained per class, unless the tests ask
            if exploratory or run.holes:
                run.error = f"abandoned: symbolic constructor arguments: {type(e).__name__}: {e}"
                run.facts = []
                continue
            if strict:
                raise
            run.error = f"{type(e).__name__}: {e}"


MAX_NARROW_RUNS = 6  # runs at fixed input sizes one class may cost (_settle_narrowing)


def _settle_narrowing(src, run: Run, strict: bool, project, budget: List[int]) -> None:
    """The first check of a symbolic run that failed for every input size but a few (a residual
    add of ``H-1`` and ``H``, which torch broadcasts only at H = 2; core/facts.py Narrowing) is a
    violation when the model fails at each of those few sizes too: each is run, with that input
    size fixed (and settled the same way in turn). Any size that runs through, or any run that
    cannot be followed to its end, leaves the check undecided, as it was."""
    first = next((f for f in run.facts if f.kind in ("violation", "narrow")), None)
    if first is None or first.kind != "narrow":
        return
    n = first.payload
    inputs = {s for t in run.input_tensors if t.shape is not None for d in t.shape for s in D.symbols(d)}
    if n.symbol not in inputs or n.symbol in run.fixed or len(n.values) > budget[0]:
        return
    for v in n.values:
        budget[0] -= 1
        sub = dataclasses.replace(run, fixed={**run.fixed, n.symbol: v}, root=None, input_tensors=[], output=None,
                                  calls=[], facts=[], error=None, skipped=[], not_built=None, lows={})
        try:
            execute(src, sub, strict, project)
        except (AnalysisAbort, RecursionError):
            return
        except Exception:
            if strict:
                raise
            return
        if sub.error or sub.root is None:
            return
        _settle_narrowing(src, sub, strict, project, budget)
        if not any(f.kind == "violation" and f.payload.KIND != "batch_fold" for f in sub.facts):
            return
    where = ", ".join(str(v) for v in n.values)
    run.lows[n.symbol] = max(run.lows.get(n.symbol, 1), max(n.values) + 1)
    first.kind = "violation"
    first.payload = dataclasses.replace(n.payload, only=f"{n.symbol} = {where}") \
        if hasattr(n.payload, "only") else n.payload


MAX_SPLIT_RUNS = 6  # runs one class may cost to decide its construction's undecidable tests


def _split_branches(src, run: Run, strict: bool, project) -> None:
    """A construction that met tests it cannot decide (`if nb_filts[0] != nb_filts[1]:` with
    symbolic sizes) ran both branches merged, so what depends on the branch (a shortcut conv or
    the identity) stayed unknown. Each branch of the first such test is run on its own (and so on
    for the next ones, within MAX_SPLIT_RUNS): whichever way the test goes, one of them is the
    model, so what every one of them finds (the same check failing at the same spot) holds for
    every value and is added to the run. A branch that raises on purpose (`raise ValueError`) is no
    model anyone runs; a branch that cannot be followed to its end leaves nothing added."""
    leaves = _branch_leaves(src, run, strict, project, [MAX_SPLIT_RUNS, MAX_NARROW_RUNS])
    if not leaves:
        return

    def key(f: Fact):
        return id(_anchor(src, f)), type(f.payload).__name__

    common = set.intersection(*({key(f) for f in facts} for facts, _ in leaves))
    have = {key(f) for f in run.facts if f.kind == "violation"}
    added = [f for f in leaves[0][0] if key(f) in common and key(f) not in have and _anchor(src, f) is not None]
    if not added:
        return
    run.facts = run.facts + added
    for _, lows in leaves:
        for s, v in lows.items():
            run.lows[s] = max(run.lows.get(s, 1), v)


def _branch_leaves(src, run: Run, strict: bool, project, budget: List[int]):
    """The violations of each side of ``run``'s first undecided test (deeper tests split in turn
    while the budget lasts), with their runs' least sizes; None when a side cannot be followed.
    A side whose test makes a symbolic constructor argument equal to a size (`stride == 1 and inp
    == oup` taken true) is run with that argument replaced: its configurations all have it."""
    out = []
    point = run.branch_points[0]
    for choice in (True, False):
        sub = _branch_run(src, run, {**run.decisions, point: choice}, None, strict, project, budget)
        if sub is None:
            return None
        if sub.not_built:
            continue  # this side raises on purpose: no configuration the project runs takes it
        env = _substitution(sub)
        if env:
            same = _branch_run(src, run, sub.decisions, env, strict, project, budget)
            if same is not None and not same.not_built and same.root is not None:
                sub = same
        deeper = _branch_leaves(src, sub, strict, project, budget) \
            if sub.branch_points and sub.root is not None else None
        if deeper is not None:
            out.extend(deeper)
        else:
            out.append(([f for f in sub.facts if f.kind == "violation"], dict(sub.lows)))
    return out


def _branch_run(src, run: Run, decisions, env, strict: bool, project, budget: List[int]) -> Optional[Run]:
    """``run`` once more with the branches ``decisions`` names taken (and its symbolic constructor
    arguments rewritten by ``env``); None when the budget is spent or it cannot be followed."""
    if budget[0] <= 0:
        return None
    budget[0] -= 1
    sub = dataclasses.replace(run, decisions=decisions, branch_points=[], equalities=[], root=None,
                              input_tensors=[], output=None, calls=[], facts=[], error=None, skipped=[],
                              not_built=None, lows=dict(run.lows))
    if env:
        sub.ctor_kwargs = {k: _rewritten(v, env) for k, v in (run.ctor_kwargs or {}).items()}
        sub.ctor_locals = {k: _rewritten(v, env) for k, v in run.ctor_locals.items()}
    try:
        execute(src, sub, strict, project)
        if sub.inputs is None and sub.root is not None:
            narrow = [budget[1]]
            _settle_narrowing(src, sub, strict, project, narrow)  # the split's runs share one budget
            budget[1] = narrow[0]
    except (AnalysisAbort, RecursionError):
        return None
    except Exception:
        if strict and not run.holes and run.ctor_kwargs is None:
            raise
        return None
    if sub.error or (sub.root is None and not sub.facts and not sub.not_built):
        return None
    return sub


def _substitution(run: Run) -> Dict[str, Any]:
    """The symbolic constructor arguments the decided tests of ``run`` make equal to another size
    (a symbol of the run's constructor arguments equal to an int or to another of them)."""
    if run.ctor_kwargs is None:
        return {}
    own = set()
    for v in list(run.ctor_kwargs.values()) + list(run.ctor_locals.values()):
        own |= _symbols_in(v)
    env: Dict[str, Any] = {}
    for a, b in run.equalities:
        for x, y in ((a, b), (b, a)):
            name = _bare_symbol(x)
            if name is None or name not in own or name in env:
                continue
            if isinstance(y, bool) or not (isinstance(y, int) and y >= 1 or isinstance(y, D.Lin) and not y.is_opaque()
                                           and D.symbols(y) <= own - {name}):
                continue
            env[name] = y
            break
    return env


def _bare_symbol(x: Any) -> Optional[str]:
    if isinstance(x, D.Lin) and not x.is_opaque() and x.const == 0 and len(x.terms) == 1 and x.terms[0][1] == 1:
        atom = x.terms[0][0]
        return atom.name if isinstance(atom, D.Sym) else None
    return None


def _symbols_in(v: Any) -> set:
    if isinstance(v, D.Lin):
        return set(D.symbols(v))
    if isinstance(v, (list, tuple)):
        out: set = set()
        for x in v:
            out |= _symbols_in(x)
        return out
    return set()


def _rewritten(v: Any, env: Dict[str, Any]) -> Any:
    if isinstance(v, D.Lin):
        return D.substitute(v, env)
    if isinstance(v, list):
        return [_rewritten(x, env) for x in v]
    if isinstance(v, tuple):
        return tuple(_rewritten(x, env) for x in v)
    return v


_MAX_FACTORY_RUNS = 2  # symbolic runs per class of the factories that need its sizes


def _factory_runs(planner: "Planner", coverage, runs: List[Run]) -> List[Run]:
    """The module's factories whose parameters have no defaults, all sizes (``def
    preresnet20(num_classes): return PreResNet(depth=20, num_classes=num_classes)``), for a model
    class no run analysed: called with a symbolic dim for each, reporting what holds for every value.
    The first two such factories of each class (they differ in depth, rarely in what they check).
    A class of another file counts when no run of this file built it (a file of builders,
    ``create_vgg_ssd(num_classes)`` assembling the layers of the project's ``SSD``)."""
    pending = {e["class"] for e in coverage if not e["analysed"]}
    built = {r.root.cls.name for r in runs if r.root is not None and r.root.cls is not None and not r.error}
    for fn in planner.src.functions.values():
        info = planner._factory_class(fn)
        if info is not None and info.source is not planner.src and info.name not in built:
            pending.add(info.name)
    out: List[Run] = []
    per_class: Dict[str, int] = {}
    for name, fn in planner.src.functions.items():
        if not pending:
            break
        p = fn.params
        required = [q for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params) if q.default is None]
        if not required or p.posonly_params or not all(_int_like(q) for q in required):
            continue
        calls = _returned_calls(fn)
        if not calls or len(calls) != len(list(_walk_returns(fn))):
            continue
        info = planner._factory_class(fn)
        if info is None or info.name not in pending or per_class.get(info.name, 0) >= _MAX_FACTORY_RUNS:
            continue
        local = {q.name.value: D.sym(q.name.value if q.name.value not in _RESERVED else q.name.value + "_")
                 for q in required}
        text = f"{name}({', '.join(f'{n}={n}' for n in local)})"
        opt = planner.options.get(name) or planner.options.get(info.name)
        r = Run(None, cst.parse_expression(text), text, opt, "option" if opt else "symbolic", local)
        r.ctor_kwargs = dict(local)  # symbolic constructor arguments: torch (--confirm) needs values
        r.built_at = "any value of " + ", ".join(local)
        per_class[info.name] = per_class.get(info.name, 0) + 1
        out.append(r)
    return out


_MAX_KEYED_RUNS = 6  # constructions per class from the keys of its own configuration dicts
# parameters a block is built with at a few values, each run (engine._agreed): a stride nobody passes
_WORLD_PARAMS: Dict[str, Tuple[int, ...]] = {"stride": (1, 2)}


_FLAG = (False, True)
_MAX_WORLD_RUNS = 8


def _worlds_size(worlds: List[Tuple[str, Tuple[Any, ...]]]) -> int:
    n = 1
    for _name, values in worlds:
        n *= len(values)
    return n


def _container_use(init: cst.FunctionDef, name: str) -> bool:
    """Whether ``__init__`` indexes, measures or iterates its parameter ``name`` (``anchors[0]``,
    ``len(anchors)``, ``for a in anchors``, ``*anchors``): a list, whatever its name says."""
    def named(e: Any) -> bool:
        return isinstance(e, cst.Name) and e.value == name

    def walk(node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Subscript) and named(node.value) or \
                isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len" and \
                len(node.args) == 1 and named(node.args[0].value) or \
                isinstance(node, (cst.For, cst.CompFor)) and named(node.iter) or \
                isinstance(node, (cst.StarredElement, cst.Arg)) and getattr(node, "star", "") == "*" and named(node.value):
            return True
        return any(walk(c) for c in node.children)

    return walk(init.body)


def _flag_param(init: cst.FunctionDef, name: str) -> bool:
    """Whether ``__init__`` uses its parameter ``name`` only as a truth value (``if add_last_bn:``,
    ``not preact``, ``a and b``) or keeps it on the module (``self._preact = preact``, tested in
    forward), at least once as a test: a flag, True or False."""
    tests = [0]

    def ok(node: cst.CSTNode, parent: Optional[cst.CSTNode]) -> bool:
        if isinstance(node, cst.Name) and node.value == name:
            if isinstance(parent, (cst.If, cst.IfExp, cst.While)) and parent.test is node or \
                    isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not) or \
                    isinstance(parent, cst.BooleanOperation):
                tests[0] += 1
                return True
            return isinstance(parent, cst.Assign) and parent.value is node and len(parent.targets) == 1 and \
                isinstance(parent.targets[0].target, cst.Attribute) and \
                isinstance(parent.targets[0].target.value, cst.Name) and parent.targets[0].target.value.value == "self"
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and node is not init:
            return name not in cst.Module(body=[]).code_for_node(node)  # a nested scope naming it: not followed
        if isinstance(node, cst.Attribute):
            return ok(node.value, node)  # never the attribute's own name
        return all(ok(c, node) for c in node.children)

    return ok(init.body, init) and tests[0] > 0


def _agreed(runs: List[Run]) -> None:
    """The symbolic constructions of one class at each stride (``Run.agree``): a violation counts
    where every run of the group has it (the same rule at the same node), and is kept once; when one
    of them did not finish, none counts."""
    groups: Dict[Any, List[Run]] = {}
    for r in runs:
        if r.agree is not None:
            groups.setdefault(r.agree, []).append(r)

    def marks(r: Run) -> set:
        return {(id(f.node), type(f.payload).__name__) for f in r.facts if f.kind == "violation"}

    for group in groups.values():
        done = all(r.root is not None and not r.error for r in group)
        common = set.intersection(*(marks(r) for r in group)) if done else set()
        for i, r in enumerate(group):
            r.facts = [f for f in r.facts if f.kind != "violation" or
                       i == 0 and (id(f.node), type(f.payload).__name__) in common]


def _symbolic_runs(planner: "Planner", coverage) -> List[Run]:
    out = []
    for entry in coverage:
        if entry["analysed"] or not entry["reason"] or not entry["reason"].startswith("constructor needs"):
            continue
        info = planner.src.classes.get(entry["class"])
        if info is None:
            continue
        owner = next((c for c in planner.interp.mro(info) if "__init__" in c.methods), None)
        if owner is None:
            continue
        init = owner.methods["__init__"]
        p = init.params
        if p.posonly_params and any(q.default is None for q in p.posonly_params):
            continue  # positional-only parameters cannot be given by name
        params = (list(p.posonly_params) + list(p.params))[1:] + list(p.kwonly_params)
        sized: List[str] = []
        kwargs: Dict[str, Any] = {}
        shown: Dict[str, str] = {}
        keyed: List[Tuple[str, List[Any]]] = []
        worlds: List[Tuple[str, Tuple[int, ...]]] = []
        read = _options_read(planner, info)
        for q in params:
            if q.default is not None:
                continue
            name = q.name.value
            keys = _config_keys(planner, owner, init, name)
            if keys:
                keyed.append((name, keys))
                kwargs[name] = keys[0]
            elif (name in _WORLD_PARAMS or _flag_param(init, name)) and not _rebinds(init, name) and \
                    _worlds_size(worlds) * len(_WORLD_PARAMS.get(name, _FLAG)) <= _MAX_WORLD_RUNS:
                # a block's stride (1 or 2, as its stages build it), a flag it only tests (`if
                # add_last_bn:`): each value is run, and what fails at every one is reported
                # (engine._agreed)
                worlds.append((name, _WORLD_PARAMS.get(name, _FLAG)))
                kwargs[name] = worlds[-1][1][0]
            elif _int_like(q) and not _container_use(init, name) or _sized_by_use(init, name):
                kwargs[name] = D.sym(name if name not in _RESERVED else name + "_")
                shown[name] = f"{name}={name}"
            elif _sized_items(init, name):
                # `nb_filts[0]`, `nb_filts[1]` only (RawNet's Residual_block(nb_filts)): a list whose
                # items used as sizes are symbols, the others unknown
                items = _sized_items(init, name)
                kwargs[name] = items
                shown[name] = f"{name}=[" + ", ".join(f"{name}[{i}]" if D.is_dim(v) else "?"
                                                      for i, v in enumerate(items)) + "]"
                sized += [f"{name}[{i}]" for i, v in enumerate(items) if D.is_dim(v)]
            elif read.get(name) and not _rebinds(init, name):
                # an options object (`configs.seq_len`, PatchTST's Model(configs)): a namespace whose
                # size-named attributes are symbols; any other attribute is unknown
                attrs = {a: D.sym(a if a not in _RESERVED else a + "_") for a in read[name]
                         if _int_name(a) and not _compared_to_text(info.source.code, a)}
                kwargs[name] = ObjectValue(None, attrs)
                shown[name] = f"{name}=argparse.Namespace({', '.join(f'{a}={a}' for a in attrs)})"
                sized += [f"{name}.{a}" for a in attrs]
            else:
                kwargs[name] = UNKNOWN
                shown[name] = f"{name}=?"
        if not any(v is not UNKNOWN for k, v in kwargs.items() if k not in dict(worlds)):
            continue  # nothing symbolic to say
        opt = planner.options.get(info.name)
        choices: List[Dict[str, Any]] = [{}]
        for name, keys in keyed:
            choices = [dict(c, **{name: k}) for c in choices for k in keys][:_MAX_KEYED_RUNS]
        if worlds:
            choices = [dict(c, **dict(zip([n for n, _v in worlds], vs)))
                       for c in choices for vs in itertools.product(*(v for _n, v in worlds))]
        symbolic = [k for k, v in kwargs.items() if D.is_dim(v) and k not in dict(keyed) and k not in dict(worlds)] \
            + sized
        for choice in choices:
            args = dict(kwargs, **choice)
            text = ", ".join(f"{n}={choice[n]!r}" if n in choice else shown[n] for n in kwargs)
            r = Run(info, None, f"{info.name}({text})", opt, "option" if opt else "symbolic", {})
            r.ctor_kwargs = args
            where = []
            if keyed:
                where.append("each key of " + ", ".join(_config_dict_names(init, dict(keyed))))
            if symbolic:
                where.append("any value of " + ", ".join(symbolic))
            if worlds:
                r.agree = (info.name, tuple((n, choice[n]) for n, _k in keyed))
                where.append("each of " + ", ".join(f"{n} = {' or '.join(map(str, v))}" for n, v in worlds))
            r.built_at = "; ".join(where)
            r.default_callables = _callable_defaults(init)
            out.append(r)
    return out


def _rebinds(init: cst.FunctionDef, name: str) -> bool:
    """Whether ``__init__`` assigns the parameter ``name`` itself (``configs = configs.model``)."""
    return name in _bound_in(init)


def _compared_to_text(code: str, attr: str) -> bool:
    """Whether the module compares an attribute ``attr`` with text (``configs.embed == 'timeF'``,
    ``args.norm in ('bn', 'gn')``): a string, not a size, whatever its name says."""
    a = re.escape(attr)
    return re.search(rf"\.{a}\b\s*(?:==|!=|\bin\b|\bnot\s+in\b)\s*[\[(]?\s*[rbfu]?['\"]", code) is not None or \
        re.search(rf"['\"]\s*[\])]?\s*(?:==|!=)\s*\w+\.{a}\b", code) is not None


def _callable_defaults(init: cst.FunctionDef) -> bool:
    """Whether ``__init__`` has a parameter whose default is a class or function (``which_conv=
    SNConv2d``, ``norm_layer=nn.BatchNorm2d``, ``act=partial(...)``): a plug-in its builders pass in.
    A construction nobody writes keeps that default, which the project's own callers replace
    (BigGAN's DBlock: every Discriminator passes a ``functools.partial`` with the kernel size; the
    default SNConv2d called with two arguments would raise), so what Python raises while building
    it is no certain error (SHP009 is left out of such runs)."""
    p = init.params
    for q in list(p.posonly_params) + list(p.params) + list(p.kwonly_params):
        d = q.default
        if d is None:
            continue
        if isinstance(d, (cst.Name, cst.Attribute)) and not (isinstance(d, cst.Name) and
                                                              d.value in ("None", "True", "False")):
            return True
        if isinstance(d, (cst.Call, cst.Lambda)):
            return True
    return False


_SIZE_LAYERS = ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Linear")


def _indexed_only(init: cst.FunctionDef, name: str) -> Optional[int]:
    """The largest index when ``__init__`` reads the parameter ``name`` only as ``name[0]``,
    ``name[1]``... (literal indices, each item read as a value, not itself indexed or an object),
    at least once and never rebinding it; None otherwise."""
    if name in _bound_in(init):
        return None
    uses = [0]
    indices: List[int] = []

    class V(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> Optional[bool]:
            if isinstance(node.value, cst.Name) and node.value.value == name:
                el = node.slice[0].slice if len(node.slice) == 1 else None
                if isinstance(el, cst.Index) and isinstance(el.value, cst.Integer):
                    indices.append(int(el.value.evaluated_value))
                    return False
            return None

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name:
                uses[0] += 1

    class Item(cst.CSTVisitor):  # an item indexed again or read as an object: not a plain value
        bad = False

        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Subscript) and isinstance(node.value.value, cst.Name) and \
                    node.value.value.value == name:
                Item.bad = True

        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Subscript) and isinstance(node.value.value, cst.Name) and \
                    node.value.value.value == name:
                Item.bad = True

    init.body.visit(V())
    init.body.visit(Item())
    if uses[0] or not indices or Item.bad or max(indices) > 16:
        return None
    return max(indices)


def _sized_items(init: cst.FunctionDef, name: str) -> List[Any]:
    """For a parameter read only item by item (:func:`_indexed_only`), a symbol for each item used
    as a size and UNKNOWN for the others; [] when it is not so read or no item is a size."""
    last = _indexed_only(init, name)
    if last is None:
        return []
    items = [D.sym(f"{name}[{i}]") if _sized_by_use(init, name, i) else UNKNOWN for i in range(last + 1)]
    return items if any(v is not UNKNOWN for v in items) else []


def _sized_by_use(init: cst.FunctionDef, name: str, item: Optional[int] = None) -> bool:
    """Whether ``__init__`` uses the parameter ``name`` (or its item ``name[item]``) as a size
    whatever it is called (``Discriminator(M)``): as one of the two sizes of a conv or linear layer
    (``nn.Linear(M // 16 * 512, 1)``), or in integer arithmetic with a literal (``M // 16``,
    ``2 * ngf``); never when the parameter is rebound."""
    if name in _bound_in(init):
        return False
    found = [False]

    def is_it(expr: cst.BaseExpression) -> bool:
        if item is None:
            return isinstance(expr, cst.Name) and expr.value == name
        if not (isinstance(expr, cst.Subscript) and isinstance(expr.value, cst.Name) and expr.value.value == name
                and len(expr.slice) == 1):
            return False
        el = expr.slice[0].slice
        return isinstance(el, cst.Index) and isinstance(el.value, cst.Integer) and \
            int(el.value.evaluated_value) == item

    def mentions(expr: cst.BaseExpression) -> bool:
        # the parameter itself, or integer arithmetic on it (`M // 16 * M // 16 * 512`): never an
        # item or attribute of it (`params["in_channels"]`: a dict of options)
        if is_it(expr):
            return True
        if isinstance(expr, cst.BinaryOperation):
            leaves = [x for x in (expr.left, expr.right) if not isinstance(x, cst.Integer)]
            return all(isinstance(x, (cst.Name, cst.BinaryOperation, cst.Subscript)) for x in leaves) and \
                any(mentions(x) for x in leaves)
        return False

    class V(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            callee = dotted(node.func) or ""
            if callee.rsplit(".", 1)[-1] in _SIZE_LAYERS and callee.split(".")[0] in ("nn", "torch"):
                sizes = [a.value for a in node.args[:2] if a.keyword is None] + [
                    a.value for a in node.args if a.keyword is not None and a.keyword.value in
                    ("in_channels", "out_channels", "in_features", "out_features")]
                if any(mentions(v) for v in sizes):
                    found[0] = True

        def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
            sides = (node.left, node.right)
            if isinstance(node.operator, (cst.FloorDivide, cst.Multiply, cst.Add, cst.Subtract)) and \
                    any(is_it(x) for x in sides) and \
                    any(isinstance(x, cst.Integer) for x in sides):
                found[0] = True

    init.body.visit(V())
    return found[0]


def _config_dict_names(init: cst.FunctionDef, keyed: Dict[str, Any]) -> List[str]:
    out = []
    for n in _subscripts_of(init, set(keyed)):
        if n[0] not in out:
            out.append(n[0])
    return out


def _subscripts_of(init: cst.FunctionDef, params: set) -> List[Tuple[str, str]]:
    """``(DICT, param)`` for each ``DICT[param]`` in ``init`` with DICT a plain name."""
    found: List[Tuple[str, str]] = []

    class V(cst.CSTVisitor):
        def visit_Subscript(self, node: cst.Subscript) -> None:
            if isinstance(node.value, cst.Name) and len(node.slice) == 1:
                idx = node.slice[0].slice
                if isinstance(idx, cst.Index) and isinstance(idx.value, cst.Name) and idx.value.value in params:
                    found.append((node.value.value, idx.value.value))

    init.visit(V())
    return found


def _config_keys(planner: "Planner", owner: ClassInfo, init: cst.FunctionDef, name: str) -> List[Any]:
    """The keys of the module's own configuration dict that ``__init__`` indexes with the
    parameter ``name`` (``cfg[vgg_name]`` with ``cfg = {'VGG11': [...], 'VGG19': [...]}``): each
    is a construction the code offers. Only when the parameter is not rebound and every such dict
    is a literal of the class's module with str/int keys that all of them share."""
    if name in _bound_in(init):
        return []
    common: Optional[List[Any]] = None
    for dname, param in _subscripts_of(init, {name}):
        if dname in _bound_in(init) or dname not in owner.source.assigns:
            return []
        try:
            v = planner.interp.lookup_global(dname, owner.source)
        except AnalysisAbort:
            return []
        if not isinstance(v, dict) or not v or \
                not all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in v):
            return []
        keys = list(v)
        common = keys if common is None else [k for k in common if k in keys]
    return common or []


def _bound_in(fn: cst.FunctionDef) -> set:
    """The names the body of ``fn`` binds (its parameters rebound included, not merely taken)."""
    return _bound_names(fn.with_changes(params=cst.Parameters()))


def _required_params(planner: "Planner", info: ClassInfo) -> List[str]:
    for c in planner.interp.mro(info):
        init = c.methods.get("__init__")
        if init is not None:
            p = init.params
            params = (list(p.posonly_params) + list(p.params))[1:] + list(p.kwonly_params)
            return [q.name.value for q in params if q.default is None]
    return []


def _options_read(planner: "Planner", info: ClassInfo) -> Dict[str, List[str]]:
    """For each parameter of the constructor that it reads attributes of (``args.width``, an
    options object), those attribute names, in order of first use."""
    for c in planner.interp.mro(info):
        init = c.methods.get("__init__")
        if init is None:
            continue
        code = cst.Module(body=[init]).code
        out: Dict[str, List[str]] = {}
        p = init.params
        for q in (list(p.posonly_params) + list(p.params))[1:] + list(p.kwonly_params):
            n = q.name.value
            seen = [a for a in re.findall(rf"\b{re.escape(n)}\.([A-Za-z_]\w*)\b(?!\s*\()", code)]
            if seen:
                out[n] = list(dict.fromkeys(seen))
        return out
    return {}


def _coverage(planner: "Planner", runs: List[Run]) -> List[Dict[str, Any]]:
    """Which model classes of the file some run built and ran (as the model or as one of its
    blocks), and for each other one why not, in one phrase, and what to give shapelint."""
    src = planner.src
    done: set = set()
    failed: Dict[str, str] = {}
    fed: Dict[str, str] = {}  # class -> the data pipeline's input it was analysed at, and where from
    for r in runs:
        if r.root is None:
            info = r.cls if r.cls is not None else (planner._called_class(r.ctor) if isinstance(r.ctor, cst.Call) else None)
            if r.not_built and info is not None:
                failed.setdefault(info.name, r.not_built)
            continue
        if r.input_from and r.inputs and not r.error and r.root.cls is not None:
            fed.setdefault(r.root.cls.name, "x".join(map(str, r.inputs[0])) + " from " + r.input_from)
        stack, seen = [r.root], set()
        names = set()
        while stack:
            m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            if m.cls is not None and m.cls.source is src and not m.attrs.get("__init_failed__"):
                names.add(m.cls.name)
            stack.extend(m.children.values())
        if r.error:
            for n in names:
                failed.setdefault(n, r.error)
        else:
            done |= names
    out = []
    for info in planner.model_classes():
        entry: Dict[str, Any] = {"class": info.name, "line": _class_line(info), "analysed": info.name in done,
                                 "reason": None, "hint": None, "input": fed.get(info.name)}
        if not entry["analysed"]:
            if info.name in failed:
                entry["reason"] = failed[info.name].replace("abandoned: ", "analysis abandoned: ")
                if "raises: " in entry["reason"]:
                    entry["hint"] = f"pass --construct '{info.name}(...)' with values it accepts"
            else:
                need = _required_params(planner, info)
                if need:
                    entry["reason"] = f"constructor needs {', '.join(need)}"
                    read = _options_read(planner, info)
                    args = ", ".join(f"{n}=argparse.Namespace({', '.join(f'{a}=...' for a in read[n])})"
                                     if read.get(n) else f"{n}=..." for n in need)
                    entry["hint"] = f"pass --construct '{info.name}({args})'"
                elif planner._default_constructible(info):
                    entry["reason"] = "its construction could not be followed"
                else:
                    entry["reason"] = "never built"
        out.append(entry)
    return out


def _class_line(info: ClassInfo) -> int:
    # the line of `class Name`: counted from the code before the node, without position metadata
    src = info.source
    try:
        idx = src.tree.body.index(info.node)
    except ValueError:
        return 0
    before = cst.Module(body=src.tree.body[:idx], header=src.tree.header).code
    return before.count("\n") + 1 + len(info.node.leading_lines) + len(info.node.decorators)


def analyze_target(path: str, target: str, inputs: Optional[List[InputSpec]] = None,
                   strict: Optional[bool] = None, code: Optional[str] = None, training: bool = False) -> Run:
    """One run of ``TARGET`` from ``PATH``: a class name (built with its defaults) or a call in
    Python syntax evaluated in the file's namespace (``resnet50()``, ``ResNet(BasicBlock, [2, 2, 2, 2])``).
    Without ``inputs``, the shapes found in the file for that construction, else symbolic ones.
    Raises ShapelintInputError for a target that is not a model of the file."""
    strict = strict_mode() if strict is None else strict
    if code is None:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    src = SourceModule(code, path)
    project = Project(src)
    try:
        node = cst.parse_expression(target)
    except cst.ParserSyntaxError:
        raise ShapelintInputError(f"target {target!r} is not a class name or a call")
    if isinstance(node, (cst.Name, cst.Attribute)):
        node = cst.Call(func=node)
    if not isinstance(node, cst.Call):
        raise ShapelintInputError(f"target {target!r} is not a class name or a call")
    name = dotted(node.func)
    if name is None or (name.split(".")[0] not in src.classes and name.split(".")[0] not in src.functions
                        and name.split(".")[0] not in src.imports and name.split(".")[0] not in src.rel_imports):
        raise ShapelintInputError(f"{path} has no class or function {name or target!r}")
    origin = "option"
    if inputs is None:
        planner = Planner(src, {}, strict, project)
        for r in planner.plan():
            if r.inputs is not None and r.ctor is not None and " ".join(src.code_for(r.ctor).split()) == \
                    " ".join(target.split()):
                inputs, origin = r.inputs, r.input_origin
                break
        else:
            origin = "symbolic"
    run = Run(None, node, target, inputs, origin, dict(_STDLIB_NAMES))  # Net(argparse.Namespace(...)) too
    try:
        execute(src, run, strict, project, training)
    except AnalysisAbort as e:
        run.error = f"abandoned: {e}"
    run.source = src
    built_wrong = any(getattr(f.payload, "KIND", None) == "construction" for f in run.facts or ())
    if run.root is None and run.not_built:  # the code's own assert/raise rejects these arguments
        raise ShapelintInputError(f"{path}: {run.not_built}")
    if run.root is None and run.error is None and not built_wrong:
        raise ShapelintInputError(f"{target} does not build a model shapelint can follow in {path}")
    return run  # a construction that fails (SHP009): the caller says why (summary's preflight)


def run_target(code: str, path: str, target: str, inputs: Optional[List[InputSpec]] = None,
               strict: Optional[bool] = None, training: bool = False) -> Run:
    """:func:`analyze_target` for ``shapelint summary``: without ``inputs``, the inputs the file feeds
    *any* construction of the target's class (``Net`` finds ``summary(Net(), (1, 28, 28))``), and
    with ``training`` the forward runs in train mode (``self.training`` true), as torchsummary runs it."""
    strict = strict_mode() if strict is None else strict
    src = SourceModule(code, path)
    try:
        node = cst.parse_expression(target)
    except cst.ParserSyntaxError:
        raise ShapelintInputError(f"target {target!r} is not a class name or a call")
    call = cst.Call(func=node) if isinstance(node, (cst.Name, cst.Attribute)) else node
    if isinstance(call, cst.Call):
        planner = Planner(src, {}, strict, Project(src))
        info = planner._called_class(call)
        if info is not None and isinstance(node, cst.Name) and node.value in src.classes and \
                not planner._default_constructible(info):
            raise ShapelintInputError(f"{node.value} needs constructor arguments: write the call, "
                                      f"e.g. '{path}::{node.value}(...)'")
        if inputs is None and info is not None:
            for r in planner.plan():
                if r.cls is not None and r.cls.name == info.name and r.inputs is not None and \
                        r.input_origin in ("summary", "call"):
                    inputs = r.inputs
                    break
    return analyze_target(path, target, inputs, strict, code=code, training=training)
