"""The ``shapelint summary`` command: arguments, building and running the target, the checks that
refuse a meaningless table, and the output."""
from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from ...core import dims as D
from ...errors import CliError
from . import keras_style, preflight, torchinfo_style, torchsummary_style  # noqa: F401  (the styles register themselves)
from .accounting import Model, mark_incomplete, merge_branches, not_followed
from .admissible import admissible
from .output import json_text, markdown_text, plain_text
from .arguments import add_arguments  # noqa: F401  (re-exported)
from .renderer import RENDERERS, Renderer, renderer

if TYPE_CHECKING:
    from ...options import InputSpec


def _target(args: Any) -> Tuple[str, str]:
    spec = args.target
    if "::" not in spec:
        raise CliError(f"shapelint: summary target {spec!r} must be PATH::TARGET, e.g. models.py::Net")
    path, target = spec.split("::", 1)
    if not target.strip():
        raise CliError(f"shapelint: summary target {spec!r} names no class after '::'")
    if args.depth is not None and args.depth < 0:
        raise CliError("shapelint: --depth must be >= 0")
    return path, target.strip()


def _read(path: str) -> str:
    """The file's source: a notebook's code cells as one module (lint/notebook.py), else the file
    as Python reads it (PEP 263 encodings)."""
    import tokenize

    try:
        if path.endswith(".ipynb"):
            from ...notebook import NotebookError, load_source

            try:
                return load_source(path)[0]
            except NotebookError as e:
                raise CliError(f"shapelint: {path}: not a notebook: {e}")
        with tokenize.open(path) as f:
            return f.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as e:
        raise CliError(f"shapelint: {path}: cannot read: {e}")


def _inputs(args: Any) -> Optional[List["InputSpec"]]:
    """--input-shape as given: the whole tensor, batch included, whatever the style."""
    from ...options import ShapelintInputError, parse_named_dims

    if not args.input_shape:
        return None
    try:
        return [parse_named_dims(text) for text in args.input_shape]
    except ShapelintInputError as e:
        raise CliError(f"shapelint: {e}")


def _analyse(code: str, path: str, target: str, inputs: Optional[List["InputSpec"]], style: Renderer) -> Any:
    import libcst as cst

    from ...engine import run_target
    from ...options import ShapelintInputError

    try:
        return run_target(code, path, target, inputs, training=style.training)
    except ShapelintInputError as e:
        msg = str(e)
        raise CliError(f"shapelint: {msg}" if msg.startswith(path) else f"shapelint: {path}: {msg}")
    except cst.ParserSyntaxError as e:
        raise CliError(f"shapelint: {path}:{e.raw_line}:{e.raw_column + 1}: syntax error: {e.message}")


def _file_inputs(r: Any) -> Optional[List["InputSpec"]]:
    """The inputs the run used (the file's own, or symbolic), a symbolic dim as text."""
    from ...options import InputSpec

    names = [getattr(s, "name", None) for s in r.inputs or ()]
    names = [n for n in names if n is None] + [n for n in names if n is not None]
    found = []
    for i, t in enumerate(r.input_tensors):
        if t.shape is None or not t.shape:
            return None
        dims_ = tuple(d if isinstance(d, int) else D.text(d) for d in t.shape)
        if not all(isinstance(d, int) or d.isidentifier() for d in dims_):
            return None
        found.append(InputSpec(dims_, names[i] if i < len(names) else None, t.dtype if t.dtype != "float" else None))
    return found


def _build(args: Any, code: str, path: str, target: str, style: Renderer) -> Tuple[Any, List[str]]:
    """The run of the target with the inputs to summarise, or CliError saying why there is none."""
    inputs = _inputs(args)
    r = _analyse(code, path, target, inputs, style)
    if r.error:
        raise CliError(f"shapelint: {path}: could not analyse {target}: {r.error}")
    problem = preflight.constructor_problem(r)
    if problem:
        raise CliError(f"shapelint: {path}: cannot build {target}: {problem}")
    if r.root is None:
        raise CliError(f"shapelint: {path}: could not build {target} statically (an argument or a layer is unknown)")
    if inputs is not None:
        problem = preflight.forward_problem(r, len([s for s in inputs if s.name is None]),
                                            [s.name for s in inputs if s.name is not None])
        if problem:
            raise CliError(f"shapelint: {path}: cannot run {target}: {problem}")
        texts = [t for t, s in zip(args.input_shape, inputs) if s.name is None] + \
            [t for t, s in zip(args.input_shape, inputs) if s.name is not None]
        for problem in preflight.batch_problems(r, texts):
            raise CliError(f"shapelint: {path}: {problem}")
    if not r.input_tensors or all(t.shape is None for t in r.input_tensors):
        raise CliError(f"shapelint: {path}: cannot tell the input of {target}: pass --input-shape")
    notes = []
    if inputs is None:
        # the file's own (or symbolic) inputs, with the batch the style's tool would use
        found = _file_inputs(r)
        batch, note = style.file_batch(found) if found else (None, None)
        if note:
            notes.append(note)
        if batch is not None and found:
            r = _analyse(code, path, target, [f.with_dims((batch,) + f[1:]) for f in found], style)
    return r, notes


def _shape_errors(r: Any, path: str) -> List[str]:
    """The model's shape errors at these inputs, as `shapelint check` prints them."""
    bad = [f for f in r.facts if f.kind == "violation"]
    if not bad:
        return []
    from ...findings import facts_to_findings

    found = facts_to_findings(r.source, [r]) if getattr(r, "source", None) is not None else []
    if found:
        return [f"{f.path}:{f.line}:{f.col + 1}: {f.code} {f.message}" for f in found]
    return [f"{path}: a shape error ({bad[0].data.get('kind')}); run `shapelint check {path}`"]


def _violations(r: Any) -> List[Tuple[Any, str, str]]:
    """(fact, rule code, text of the operation) of the run's findings, for the graph."""
    from ...rules_registry import rule_for_payload

    out = []
    src = getattr(r, "source", None)
    for f in r.facts:
        if f.kind != "violation" or f.payload is None:
            continue
        text = ""
        if src is not None and f.node is not None:
            try:
                text = " ".join(src.code_for(f.node).split())[:40]
            except Exception:  # noqa: BLE001 - a node of another file: the code alone
                text = ""
        out.append((f, rule_for_payload(f.payload).CODE, text))
    return out


def run(args: Any) -> int:
    """Exit status: 0 a table; 1 a table of a model with a shape error (the findings on stderr);
    2 no table (bad input, a model that cannot be built or run, nothing known)."""
    path, target = _target(args)
    code = _read(path)
    # a style of another framework's models (Keras) builds them itself; without --style, the first
    # that finds its model in the target is used
    for own in [renderer(args.style)] if args.style else [renderer(n) for n in RENDERERS]:
        if own.own_models:
            m = own.own_model(path, code, target)
            if m is not None:
                print(own.render_own(m, target, args.format), end="" if args.format == "text" else "\n")
                return 0
            if args.style:
                raise CliError(f"shapelint: {path}: {target} does not build a {own.name} model shapelint can follow")
    style = renderer(args.style or "torchsummary")
    from ...core.facts import LINEAGE

    lineage: dict = {}
    token = LINEAGE.set(lineage) if args.format in ("json", "mermaid", "dot", "svg", "html") else None
    try:
        r, notes = _build(args, code, path, target, style)
    finally:
        if token is not None:
            LINEAGE.reset(token)
    errors = _shape_errors(r, path)
    if not errors and preflight.nothing_known(r):
        raise CliError(f"shapelint: {path}: could not follow the forward of {target}: no layer's output shape "
                       f"is known (`shapelint check {path}` may say why)")
    r.calls, branched = merge_branches(r.calls)
    if branched:
        notes.append("the forward takes a branch shapelint cannot decide (an `if` on requires_grad or on "
                     "data, say): the calls of both branches are listed, each module call once")
    model = Model(r)
    opaque = sorted({m.type_name for m in model.tree if m.kind == "opaque"})
    if opaque:
        notes.append(f"shapelint does not model {', '.join(opaque)}: shapes and counts that depend on "
                     f"{'it' if len(opaque) == 1 else 'them'} show as ?")
    table = style.render(r, model, args.depth)
    skipped = not_followed(r, model)
    mark_incomplete(table, skipped)
    # the admissible sizes, when a size other than the batch is symbolic
    adm = admissible(r) if any(not isinstance(d, int) for t in r.input_tensors for d in (t.shape or ())[1:]) \
        else None
    all_notes = table.notes + notes
    title = f"{os.path.basename(path)}::{target}"
    if args.format in ("mermaid", "dot", "svg", "html"):
        from . import graph as G

        g = G.build_graph(r, model, title, _violations(r), lineage)
        if args.format == "mermaid":
            text = G.mermaid(g)
        elif args.format == "dot":
            text = G.dot(g)
        else:
            try:
                svg = G.render_svg(G.dot(g))
            except G.NoGraphviz as why:
                raise CliError(f"shapelint: --format {args.format}: {why}")
            text = svg if args.format == "svg" else G.html(g, svg)
        sys.stdout.write(text)
    elif args.format == "json":
        from .graph import build_graph

        info = table if style.name == "torchinfo" else renderer("torchinfo").render(r, model, args.depth)
        print(json_text(r, model, target, style.name, table, info, adm,
                        all_notes + [f"shape error: {e}" for e in errors], skipped,
                        graph=build_graph(r, model, title, _violations(r), lineage).as_dict()))
    elif args.format == "markdown":
        title = f"{os.path.basename(path)}::{target} ({style.name} style, computed by shapelint)"
        print(markdown_text(table, title, all_notes, adm))
    else:
        print(plain_text(table, all_notes, adm))
    for e in errors:
        print(f"shapelint: {e}", file=sys.stderr)
    return 1 if errors else 0
