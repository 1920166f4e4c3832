"""`model.summary()` of Keras 3, from the static model (keras/src/utils/summary_utils.py
print_summary): the same rows, shapes with a None batch, parameter counts, Total / Trainable /
Non-trainable with their sizes (float32, 4 bytes each), laid out with `rich` as Keras does when
rich is installed (it comes with Keras), else in the same box-drawing layout without wrapping."""
from __future__ import annotations

import shutil
from typing import List, Optional, Any, cast

from .layers import fmt_shape
from .model import KLayer, KModel


def readable_memory_size(size: float) -> str:
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"]:
        if size / 1024 < 1:
            return "{:.2f} {}".format(size, unit)
        size /= 1024
    return "{:.2f} {}".format(size, "PB")


def _shape_text(layer) -> str:
    nodes = layer.nodes
    if not nodes:
        return "?"
    outs = nodes[-1].outputs
    shapes = [fmt_shape(o.shape) if o.shape is not None else "?" for o in outs]
    if len(shapes) == 1:
        return shapes[0]
    return "[" + ", ".join(shapes) + "]"


def _sequential_like(model: KModel) -> bool:
    """summary_utils.print_summary's test: one node per depth, each with one input tensor, and
    no layer called twice inside the model.  A subclassed model is a sequence of its layers."""
    if model.kind == "sequential" or not isinstance(model, KModel):
        return True
    nodes = []
    for v in model.nodes_by_depth.values():
        if len(v) > 1 or (len(v) == 1 and len(v[0].inputs) > 1):
            return False
        nodes += v
    for l in model.layers:
        if sum(1 for n in l.nodes if any(n is m for m in nodes)) > 1:
            return False
    return True


def _in_model(model: KModel, node) -> bool:
    return any(node is n for l in model.layers for n in l.nodes)


def _connections(model, layer) -> str:
    out = []
    relevant = [n for v in model.nodes_by_depth.values() for n in v]
    for n in layer.nodes:
        if relevant and not any(n is m for m in relevant):
            continue
        for t in n.inputs:
            h = getattr(t, "history", None)
            if h is None:
                return "?"
            out.append(f"{h[0].name}[{h[1]}][{h[2]}]")
    return ", ".join(out) if out else "-"


def model_layers(model) -> list:
    """``model.layers``: a subclassed model's are the layers it tracks (subclass.KObject)."""
    return model.layers if isinstance(model, KModel) else model.tracked()


def summary_rows(model: KModel):
    seq = _sequential_like(model)
    rows = []
    for l in model_layers(model):
        if model.kind == "sequential" and isinstance(l, KLayer) and l.spec.name == "InputLayer":
            continue
        name = f"{l.name} ({l.type_name})"
        count = l.count()
        if isinstance(l, KLayer) and l.spec.name == "InputLayer":
            params = "0"
        elif not l.nodes and not getattr(l, "called", False) and not (not isinstance(l, KLayer) and l.built):
            params = "0 (unbuilt)"
        else:
            params = "?" if count is None else f"{count:,}"
        row = [name, _shape_text(l), params]
        if not seq:
            row.append(_connections(model, l))
        rows.append(row)
    return seq, rows


def render(model: KModel, line_length: Optional[int] = None) -> str:
    """The text `model.summary(print_fn=...)` captures for this model."""
    seq, rows = summary_rows(model)
    if seq:
        default, positions = 88, [0.45, 0.80, 1.0]
        header, align = ["Layer (type)", "Output Shape", "Param #"], ["left", "left", "right"]
    else:
        default, positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        align = ["left", "left", "right", "left"]
    default = min(default, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default
    widths, current = [], 0
    for pos in positions:
        widths.append(int(pos * line_length) - current)
        current += widths[-1]
    tr, nt = model.count(True), model.count(False)
    total = None if tr is None else tr + nt
    footer = []
    for label, n in (("Total params", total), ("Trainable params", tr), ("Non-trainable params", nt)):
        footer.append(f" {label}: ?" if n is None else f" {label}: {n:,} ({readable_memory_size(n * 4)})")
    title = f'Model: "{model.name}"'
    try:
        import rich.console
        import rich.markup
        import rich.table
    except ImportError:  # pragma: no cover - rich comes with keras
        return _plain(title, header, widths, align, rows, footer)
    columns = [rich.table.Column(h, justify=cast(Any, align[i]), width=widths[i])  # rich's Literal type
               for i, h in enumerate(header)]
    table = rich.table.Table(*columns, width=line_length, show_lines=True)
    for row in rows:
        table.add_row(*(rich.markup.escape(c) for c in row))
    console = rich.console.Console(highlight=False, force_terminal=False, color_system=None)
    console.begin_capture()
    console.print(rich.markup.escape(title))
    console.print(table)
    for line in footer:
        console.print(rich.markup.escape(line))
    return console.end_capture()


def _plain(title, header, widths, align, rows, footer) -> str:
    def cell(text, w, a):
        text = text if len(text) <= w - 2 else text[: w - 3] + "…"
        return " " + (text.rjust(w - 2) if a == "right" else text.ljust(w - 2)) + " "

    ws = [w - 1 for w in widths]
    out = [title]
    out.append("┏" + "┳".join("━" * w for w in ws) + "┓")
    out.append("┃" + "┃".join(cell(h, w, "left" if a == "left" else "right")
                              for h, w, a in zip(header, ws, align)) + "┃")
    out.append("┡" + "╇".join("━" * w for w in ws) + "┩")
    for i, r in enumerate(rows):
        out.append("│" + "│".join(cell(c, w, a) for c, w, a in zip(r, ws, align)) + "│")
        if i < len(rows) - 1:
            out.append("├" + "┼".join("─" * w for w in ws) + "┤")
    out.append("└" + "┴".join("─" * w for w in ws) + "┘")
    return "\n".join(out + footer) + "\n"


def models_of(kruns) -> List[KModel]:
    return [m for r in kruns for m in ([r.model] if r.model is not None else [])]


def build_target(path: str, code: str, target: str, strict: bool = False):
    """The Keras model TARGET builds in the file (a call such as `build_model()`, evaluated in a
    fresh session as `keras.backend.clear_session()` would leave it, or a module-level name),
    or None when the file builds no Keras model there."""
    import libcst as cst

    from ...core.interpreter import AnalysisAbort, Frame, Interpreter
    from ...core.project import Project
    from ...core.source import SourceModule
    from .frontend import uses_keras

    src = SourceModule(code, path)
    if not uses_keras(src):
        return None
    interp = Interpreter(src, strict, Project(src))
    try:
        node = cst.parse_expression(target)
    except cst.ParserSyntaxError:
        return None
    frame = Frame(src=src)
    try:
        if isinstance(node, cst.Name) and node.value not in src.functions and node.value not in src.classes:
            for stmt in src.tree.body:
                if not isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                    interp.exec_stmt(stmt, frame)
            v = frame.locals.get(node.value) if hasattr(frame, "locals") else None
        else:
            v = interp.eval(node, frame)
    except (AnalysisAbort, RecursionError):
        return None
    # a subclassed model (subclass.KObject) is not summarised: Keras's own table for one depends on
    # which layer classes mark themselves built at construction, and on the backend's tracing batch
    return v if isinstance(v, KModel) else None
