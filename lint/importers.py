"""Reverse reach: findings in a file of helpers that only other files build into models.

FlowNet's ``models/util.py`` holds ``conv()``, ``deconv()``, ``crop_like()``; ``models/FlowNetS.py``
imports them and builds the model. Linting ``util.py`` alone builds nothing, yet a wrong number
there breaks every model that uses it. So the files of the project that import the linted one and
define model classes (at most MAX_IMPORTERS, in path order) are analysed as they would be linted
themselves, and the violations that lie in the linted file are reported at their own lines, with
the model and the importing file named. Nothing of the importers' own code is reported here, and
no importer's analysis looks for importers in turn. lint/engine.py asks for this only for a file
none of whose own models meets a real input (a file of helpers, or of blocks the other files
assemble), and runs it within that file's time budget.

Their findings carry no run and no fact: ``--confirm`` and ``--fix`` act on the file that builds
the model (lint it to confirm or fix there).
"""
from __future__ import annotations

import contextvars
import dataclasses
import os
import re
from typing import Any, Callable, Dict, Iterable, List

from .core import limits
from .results import Finding
from .staticeval import _notify, _read

MAX_IMPORTERS = 3
# a project with more files than this (a library's source tree: diffusers, transformers) is not
# searched for importers: each importer's analysis reads the project again, and there are many
MAX_PROJECT_FILES = 150
_BUSY: contextvars.ContextVar[bool] = contextvars.ContextVar("shapelint_importers", default=False)
_MODEL_CLASS = re.compile(r"^class\s+\w+\s*\([^)]*Module\b", re.M)
_BUILDER = re.compile(r"^def\s+\w+\s*\(", re.M)


def _stem(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return os.path.basename(os.path.dirname(path)) if stem == "__init__" else stem


def _imports(text: str, stem: str) -> bool:
    s = re.escape(stem)
    return re.search(rf"^\s*(from\s+[\w.]*\b{s}\s+import\b|from\s+\.+\s+import\s+[^\n]*\b{s}\b"
                      rf"|import\s+[\w.]*\b{s}\b|from\s+[\w.]*\s+import\s+[^\n]*\b{s}\b)", text, re.M) is not None


def importers(path: str, root: str, prefer: Iterable[str] = (), limit: int = MAX_IMPORTERS) -> List[str]:
    """The project files under ``root`` that import the module at ``path`` and define model
    classes: those importing it directly first, then those importing one of them (CurveNet's
    ``walk.py``, imported by the blocks of ``curvenet_util.py``, which ``curvenet_cls.py``
    assembles into the model), then the files of functions importing it directly (builders), at
    most ``limit`` in all; those defining a class named in ``prefer`` (the declared inputs'
    classes) before the others."""
    from .constructions import _candidate_files, _scan_root

    path = os.path.abspath(path)
    files = _candidate_files(_scan_root(root, path), path)
    if len(files) > MAX_PROJECT_FILES:
        return []
    texts: Dict[str, str] = {}
    for f in files:
        got = _read(f)
        if got is None:
            continue
        _notify(os.path.abspath(f), True, True)
        texts[os.path.abspath(f)] = got[0]

    def importing(target: str) -> List[str]:
        stem = _stem(target)
        return [f for f, text in texts.items() if f not in (path, target) and stem in text and _imports(text, stem)]

    direct = importing(path)
    out = [f for f in direct if _MODEL_CLASS.search(texts[f])]
    for d in direct:
        out += [f for f in importing(d) if f not in out and f not in direct and _MODEL_CLASS.search(texts[f])]
    # a file of builder functions importing this one's classes (DeepLabV3Plus' network/modeling.py:
    # `deeplabv3plus_mobilenet()` assembles _deeplab.py's DeepLabV3 and heads with a backbone of
    # another file): its factories are constructions of this file's models
    out += [f for f in direct if f not in out and _BUILDER.search(texts[f])]
    wanted = [re.compile(rf"^class\s+{re.escape(n)}\b", re.M) for n in prefer]
    if wanted:
        out.sort(key=lambda f: 0 if any(w.search(texts[f]) for w in wanted) else 1)  # stable: path order kept
    return out[:limit]


def importer_findings(src: Any, root: str, select, ignore, analyze: Callable[[str, str], Any],
                      prefer: Iterable[str] = ()) -> List[Finding]:
    """Findings in ``src``'s file that the analyses of its importers reach (``analyze(code, path)``
    lints one file)."""
    from .findings import facts_to_findings

    if _BUSY.get() or not src.path or not os.path.isfile(src.path):
        return []
    here = os.path.abspath(src.path)
    out: List[Finding] = []
    token = _BUSY.set(True)
    analysed: List[Any] = []
    try:
        for f in importers(here, root, prefer):
            if limits.current_deadline().passed():
                break  # this file's time budget is spent: the other importers are left out
            got = _read(f)
            if got is None:
                continue
            try:
                analysed.append((f, analyze(got[0], f)))
            except SyntaxError:
                continue
        declared = set(prefer)
        # a declared class two importers define (BigGAN.py's and BigGANdeep.py's Generator): the
        # declaration is for one of them; when it runs cleanly through one, what fails in the
        # other is that class's input, not the declared one's
        clean = {r.cls.name: f for f, a in analysed for r in a.runs
                 if r.cls is not None and r.cls.name in declared and r.input_origin == "option" and
                 r.root is not None and not r.error and not any(x.kind == "violation" for x in r.facts)}
        for f, analysis in analysed:
            name = os.path.relpath(f, os.path.dirname(here))
            for run in analysis.runs:
                if run.cls is not None and run.input_origin == "option" and clean.get(run.cls.name, f) != f:
                    continue
                groups: Dict[int, List[Any]] = {}
                srcs: Dict[int, Any] = {}
                for fact in run.facts:
                    if fact.kind != "violation":
                        continue
                    if fact.src is not None and fact.src.path and os.path.abspath(fact.src.path) == here:
                        groups.setdefault(id(fact.src), []).append(fact)
                        srcs[id(fact.src)] = fact.src
                        continue
                    through = next((w for n, w in reversed(fact.sites) if n is not None and w is not None and
                                    w.path and os.path.abspath(w.path) == here), None)
                    if through is not None:
                        # a failure in a third file (a project's batch norm) that this file's call
                        # leads to: reported at that call, the frames past it named
                        groups.setdefault(id(through), []).append(fact)
                        srcs[id(through)] = through
                        continue
                    layer = fact.module
                    lsrc = getattr(layer, "src", None) if layer is not None else None
                    if lsrc is not None and lsrc.path and os.path.abspath(lsrc.path) == here and \
                            layer.node is not None and layer.kind == "layer":
                        # a layer this file builds (KAIR's basicblock.conv() helper: the
                        # PixelShuffle(3) it makes) failing where another file calls it: reported
                        # where it is built, the line to fix
                        groups.setdefault(id(lsrc), []).append(dataclasses.replace(fact, node=layer.node, src=lsrc,
                                                                                   sites=()))
                        srcs[id(lsrc)] = lsrc
                model = " ".join(run.ctor_text.split())
                for key, facts in groups.items():
                    mine = dataclasses.replace(run, facts=facts)
                    for found in facts_to_findings(srcs[key], [mine], select, ignore):
                        out.append(Finding(src.path, found.line, found.col, found.code,
                                           f"{found.message} (reached through {model} of {name})"))
    finally:
        _BUSY.reset(token)
    return out


def importer_defines(paths: List[str], name: str) -> bool:
    """Whether a project file that imports one of ``paths`` defines class ``name`` (``--input-shape
    UNet=...`` while linting ``unet_parts.py``, whose blocks ``unet_model.py``'s UNet assembles: the
    declaration reaches the file through that importer)."""
    from .core.project import _package_of

    pattern = re.compile(rf"^class\s+{re.escape(name)}\b", re.M)
    for path in paths[:MAX_IMPORTERS]:
        if not path or not os.path.isfile(path):
            continue
        root = _package_of(os.path.abspath(path))[0]
        if not root:
            continue
        first = importers(path, root, (name,), limit=1)  # one defining it, if any does, comes first
        got = _read(first[0]) if first else None
        if got is not None and pattern.search(got[0]):
            return True
    return False

