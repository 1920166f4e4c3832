"""The three output formats of ``shapelint summary``: the style's text table, markdown for issues
and READMEs, and JSON with the true figures only (keys documented in the package docstring)."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

from ...core import dims as D
from .accounting import Model, first_tensor, json_shape, output_fields
from .renderer import Table
from .torchinfo_style import LayerInfo


def layers_json(run: Any, model: Model) -> List[Dict[str, Any]]:
    """Every submodule call in call order, with its own parameters and torchinfo's mult-adds."""
    out = []
    for c in sorted(run.calls, key=lambda c: c.start):
        m = c.module
        if m is model.root or id(m) not in model.in_tree:
            continue
        own = model.own_params(m)
        info = LayerInfo(m.name, m, m.name.count(".") + 1, None)
        t = first_tensor(c.output)
        info.output_size = list(t.shape) if t is not None and t.shape is not None else None
        macs: Any = 0
        if info.is_leaf:
            info.calc_macs(model)
            macs = info.true_macs
            macs = macs if isinstance(macs, int) or macs is None else D.text(macs)
        out.append({"name": m.name, "type": m.type_name, "depth": m.name.count(".") + 1,
                    "output_shape": json_shape(c.output), "params": model.count(own),
                    "trainable": model.count(own, trainable_only=True), "mult_adds": macs})
    return out


def _input_names(run: Any) -> List[Optional[str]]:
    """Per entry of input_shapes: None for a positional input, else its name (``cond``, ``batch.x``)."""
    names = [getattr(s, "name", None) for s in run.inputs or ()]
    names = [n for n in names if n is None] + [n for n in names if n is not None]
    return [names[i] if i < len(names) else None for i in range(len(run.input_tensors))]


def json_text(run: Any, model: Model, target: str, style: str, table: Table, info_table: Table,
              adm: Optional[Dict[str, Any]], notes: List[str], skipped: Optional[List[str]] = None,
              graph: Optional[Dict[str, Any]] = None) -> str:
    """``info_table`` is the torchinfo table (its mult-adds are the true ones)."""
    total, trainable = model.totals()
    fields = output_fields(run.output)  # an output dataclass: its set fields, named
    outs = [v for _, v in fields] if fields else \
        run.output if isinstance(run.output, (tuple, list)) else [run.output]
    doc = {
        "model": target, "style": style,
        "input_shapes": [json_shape(t) for t in run.input_tensors],
        "input_names": _input_names(run),
        "output_shapes": [json_shape(o) for o in outs],
        "output_names": [k for k, _ in fields] if fields else None,
        "layers": layers_json(run, model),
        "totals": {"params": total, "trainable": trainable,
                   "non_trainable": None if total is None or trainable is None else total - trainable,
                   "mult_adds": info_table.mult_adds},
        # false: parts of the model were not followed (see not_followed); the totals are lower bounds
        "complete": not skipped,
        "not_followed": list(skipped or []),
        "memory": table.json_memory,
        "admissible_inputs": adm,
        # the peers' figures stay in the text table's notes: JSON carries the true figures only
        "notes": [n for n in notes if not n.startswith(("torchsummary", "torchinfo", "and \""))],
    }
    if graph is not None:
        doc["graph"] = graph  # the graph model the pictures are drawn from (graph.py, docs/graph.md)
    return json.dumps(doc, indent=2)


def markdown_text(table: Table, title: str, notes: List[str], adm: Optional[Dict[str, Any]]) -> str:
    out = [f"**{title}**", ""]
    head, rows = table.rows[0], table.rows[1:]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|")
    for r in rows:
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    out.append("")
    for k, v in table.totals + table.memory:
        out.append(f"- {k}: {v}")
    for n in notes:
        out.append(f"\n> Note: {n}")
    if adm:
        out.append(f"\nAdmissible inputs: {adm['text']}")
    return "\n".join(out)


def plain_text(table: Table, notes: List[str], adm: Optional[Dict[str, Any]]) -> str:
    lines = list(table.lines) + [f"Note: {n}" for n in notes]
    if adm is not None:
        lines.append(f"Admissible inputs: {adm['text']}")
    return "\n".join(lines)
