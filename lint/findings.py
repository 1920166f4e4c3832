"""Facts to findings: each violation fact goes to the rule that owns its payload (the registry
guarantees exactly one); positions are computed once per file, and only when there is something
to report."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set, Tuple

from libcst.metadata import MetadataWrapper, PositionProvider

from .core import dims as D
from .results import Finding, Run, short_construction
from .core.source import SourceModule
from .core.values import ModuleValue


_OPAQUE = re.compile(r"\?\d+")


class MessageContext:
    """What a rule may ask while writing its message: source text, lines, the run's input."""

    def __init__(self, src: SourceModule, run: Run, positions, module: Optional[ModuleValue] = None,
                 cache: Optional[Dict] = None):
        self.src = src
        self.run = run
        self._positions = positions
        self._cache = cache if cache is not None else {}
        self.module = module  # the layer the violation belongs to, if any (its definition line)

    def text(self, node, limit=60) -> str:
        if node is None:
            return ""
        t = " ".join(self.src.code_for(node).split())
        return t if len(t) <= limit else t[: limit - 3] + "..."

    def line(self, node) -> Optional[int]:
        pos = self._positions().get(node) if node is not None else None
        return pos.start.line if pos is not None else None

    def defined_at(self, module: Optional[ModuleValue]) -> str:
        if module is None or module.node is None:
            return ""
        line = self.line(module.node)
        if line:
            return f" (defined on line {line})"
        there = getattr(module, "src", None)
        if there is not None and there is not self.src and there.path and self.src.path:
            # a layer another file builds (a helper's nn.PixelShuffle in blocks.py): where to fix it
            import os

            here = os.path.dirname(os.path.abspath(self.src.path)) or "."
            return f" (defined at {_frame(there, module.node, here, self._cache)})"
        return ""

    def input_desc(self) -> str:
        t = self.run.input_text()
        ctor = short_construction(" ".join(self.run.ctor_text.split()))
        where = self.run.built_at
        if where and where.startswith(("any value of ", "each key of ", "each of ")):
            src = f" (for {where})"
        else:
            where, _, opts = (where or "").partition(" with ")  # "train.py:40 with net='small'"
            opts = f" with {opts}" if opts else ""
            src = f" (as {where} builds it{opts})" if where and where != "option" else ""
            if src and self.run.input_from:
                src = f" (as {where} builds it{opts}; input from {self.run.input_from})"
            elif not where and self.run.input_from:  # a module-level model the file's own loader feeds
                src = f" (input from {self.run.input_from})"
        if not t:
            return f" for {ctor}{src}" if where else ""
        built = "" if self.run.cls is not None and ctor == f"{self.run.cls.name}()" else f" of {ctor}"
        return f" for input {t}{built}{src}"

    @staticmethod
    def dim(d) -> str:
        return _OPAQUE.sub("?", D.text(d))  # a size nobody knows prints as ?

    @classmethod
    def shape(cls, s) -> str:
        if s is None:
            return "?"
        return "[" + ", ".join("..." if d is Ellipsis else cls.dim(d) for d in s) + "]"

    @staticmethod
    def product(dims_) -> str:
        """'20*11*11 = 2420' for concrete dims, else the symbolic product."""
        dims_ = list(dims_)
        total = D.prod(dims_)
        parts = "*".join(D.text(d) if isinstance(d, int) or len(D.text(d)) < 3 else f"({D.text(d)})"
                         for d in dims_)
        if len(dims_) > 1 and isinstance(total, int):
            return f"{parts} = {total}"
        return D.text(total) if len(dims_) != 1 else parts


def facts_to_findings(src: SourceModule, runs: List[Run], select=None, ignore=None) -> List[Finding]:
    from .rules_registry import rule_for_payload

    cache: Dict[str, Dict] = {}

    def positions():
        if "p" not in cache:
            wrapper = MetadataWrapper(src.tree, unsafe_skip_copy=True)
            cache["p"] = wrapper.resolve(PositionProvider)
        return cache["p"]

    out: List[Finding] = []
    seen: Set[Tuple[Any, ...]] = set()
    for run in runs:
        if run.error and not run.error.startswith("abandoned"):
            key: Tuple[Any, ...] = ("SHP000", run.cls.name if run.cls else run.ctor_text)
            if key not in seen:
                seen.add(key)
                line = positions()[run.cls.node].start.line if run.cls and run.cls.source is src else 1
                out.append(Finding(src.path, line, 0, "SHP000",
                                   f"shapelint could not analyse {run.cls.name if run.cls else run.ctor_text} in {src.path}: "
                                   f"{run.error} (please report this)", run))
        for fact in run.facts:
            if fact.kind != "violation" or fact.node is None:
                continue
            rule = rule_for_payload(fact.payload)
            if not _selected(rule.CODE, select, ignore):
                continue
            pos = positions().get(fact.node)
            elsewhere = ""
            if pos is None:
                # the violation lies in a module this file imports: report it at the innermost
                # call in this file that leads there, naming where torch would fail
                pos, elsewhere = _site_in_file(src, fact, positions, cache)
                if pos is None:
                    pos, elsewhere = _layer_in_file(src, fact, positions, cache)
                if pos is None:
                    continue
            key = (pos.start.line, pos.start.column, rule.CODE)
            if key in seen:
                continue
            seen.add(key)
            ctx = MessageContext(src, run, positions, fact.module, cache)
            message = rule.message(fact.payload, fact.node, ctx)
            built = _built_elsewhere(src, fact.module, cache)
            if built and built not in message and built not in elsewhere:
                # a layer another file builds (a helper's nn.PixelShuffle(3) in blocks.py): the
                # line to fix, beside the frames torch's traceback shows
                elsewhere = f"{elsewhere[:-1]}, {fact.module.type_name} built at {built})" if elsewhere else \
                    f" ({fact.module.type_name} built at {built})"
            out.append(Finding(src.path, pos.start.line, pos.start.column, rule.CODE, message + elsewhere, run, fact))
    out.sort(key=lambda f: (f.line, f.col, f.code))
    return out


def _site_in_file(src: SourceModule, fact, positions, cache):
    """The innermost call in ``src`` that leads to a violation in another module, and the frames
    torch's traceback would show past it, outermost first: ``(in model.py:53, spectral_norm.py:68)``
    for a driver whose Discriminator fails inside the SpectralNorm wrapper model.py wraps a conv in
    (at most _MAX_FRAMES, the innermost kept)."""
    import os

    other = fact.src
    if other is None or other is src:
        return None, ""
    sites = list(fact.sites)
    for j in range(len(sites) - 1, -1, -1):
        node, where = sites[j]
        if where is not src or node is None:
            continue
        pos = positions().get(node)
        if pos is None:
            continue
        here = os.path.dirname(os.path.abspath(src.path)) or "."
        frames: List[str] = []
        for n, w in [s for s in sites[j + 1:] if s[1] is not None and s[1] is not src] + [(fact.node, other)]:
            text = _frame(w, n, here, cache)
            if text and (not frames or frames[-1] != text):
                frames.append(text)
        return pos, f" (in {', '.join(frames[-_MAX_FRAMES:])})"
    return None, ""


_MAX_FRAMES = 3


def _layer_in_file(src: SourceModule, fact, positions, cache):
    """A violation in another module's forward whose failing layer this file builds, with no call
    of this file on the way (a factory, ``create_vgg_ssd``, hands its layers to the project's
    ``SSD``, whose forward runs them): reported where the layer is built, naming where torch fails."""
    import os

    m = fact.module
    if m is None or m.kind != "layer" or m.node is None or getattr(m, "src", None) is not src or \
            fact.src is None or fact.src is src:
        return None, ""
    pos = positions().get(m.node)
    if pos is None:
        return None, ""
    text = _frame(fact.src, fact.node, os.path.dirname(os.path.abspath(src.path)) or ".", cache)
    return pos, f" (in {text})" if text else ""


def _built_elsewhere(src: SourceModule, module: Optional[ModuleValue], cache) -> str:
    """``blocks.py:85``: where a torch layer was built, when that is another file than ``src``."""
    import os

    there = getattr(module, "src", None) if module is not None else None
    if there is None or there is src or module.kind != "layer" or module.node is None or \
            not there.path or not src.path:
        return ""
    here = os.path.dirname(os.path.abspath(src.path)) or "."
    text = _frame(there, module.node, here, cache)
    return text if ":" in text else ""


def _frame(module: SourceModule, node, here: str, cache) -> str:
    """``net.py:16``: where ``node`` lies in ``module``, named relative to the linted file's folder."""
    import os

    key = ("p", id(module))
    if key not in cache:
        cache[key] = MetadataWrapper(module.tree, unsafe_skip_copy=True).resolve(PositionProvider)
    there = cache[key].get(node) if node is not None else None
    name = os.path.relpath(module.path, here) if module.path else "?"
    return f"{name}:{there.start.line}" if there is not None else name


def _selected(code: str, select, ignore) -> bool:
    if select and not any(code.startswith(s) for s in select):
        return False
    if ignore and any(code.startswith(s) for s in ignore):
        return False
    return True

