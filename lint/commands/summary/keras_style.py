"""Keras 3's ``model.summary()`` (``--style keras``, the default for a target that builds a Keras
model): the text Keras prints, from ``shapelint.frameworks.keras.summary``; JSON and markdown in
the same form as the torch styles'.  The model is built by the Keras frontend, not by a torch run."""
from __future__ import annotations

import json
from typing import Any, Dict, List

from ...errors import CliError
from .renderer import Renderer, Table, register

PEER = "Keras 3"


def _shape(t: Any) -> Any:
    from ...core import dims as D

    if t is None or getattr(t, "shape", None) is None:
        return None
    return [d if isinstance(d, int) else ("N" if D.text(d) == "None" else D.text(d)) for d in t.shape]


def _outputs(layer: Any) -> Any:
    if not layer.nodes:
        return None
    outs = layer.nodes[-1].outputs
    return _shape(outs[0]) if len(outs) == 1 else [_shape(o) for o in outs]


def _layers(model: Any, depth: int = 1) -> List[Dict[str, Any]]:
    from ...frameworks.keras.model import KModel
    from ...frameworks.keras.summary import model_layers

    out = []
    for layer in model_layers(model):
        if model.kind == "sequential" and not isinstance(layer, KModel) and layer.spec.name == "InputLayer":
            continue
        nested = isinstance(layer, KModel) or getattr(layer, "kind", "") == "model"
        out.append({"name": layer.name, "type": layer.type_name, "depth": depth, "output_shape": _outputs(layer),
                    "params": 0 if nested else layer.count(), "trainable": 0 if nested else layer.count(True),
                    "mult_adds": None})
        if nested:
            out += _layers(layer, depth + 1)
    return out


def json_doc(model: Any, target: str) -> Dict[str, Any]:
    """The summary JSON (shapelint.commands.summary's keys) of a Keras model."""
    from ...frameworks.keras.model import KModel

    if getattr(model, "kind", "") == "sequential":
        ins = [model.input_layer.input_tensor] if model.input_layer is not None else []
        outs = [model.current] if model.current is not None else []
    elif isinstance(model, KModel):
        ins, outs = list(model.inputs), list(model.outputs)
    else:  # a subclassed model: its first call
        ins, outs = (list(model.nodes[0].inputs), list(model.nodes[0].outputs)) if model.nodes else ([], [])
    tr, nt = model.count(True), model.count(False)
    total = None if tr is None else tr + nt
    return {"model": target, "style": "keras",
            "input_shapes": [_shape(t) for t in ins], "output_shapes": [_shape(t) for t in outs],
            "layers": _layers(model),
            "totals": {"params": total, "trainable": tr, "non_trainable": nt, "mult_adds": None},
            "memory": {"convention": "keras", "unit": "B", "params_size": None if total is None else total * 4},
            "admissible_inputs": None, "notes": []}


@register
class KerasRenderer(Renderer):
    name = "keras"
    convention = PEER
    own_models = True

    def render(self, run: Any, model: Any, depth: int) -> Table:
        raise CliError("shapelint: --style keras summarises Keras models only")

    def own_model(self, path: str, code: str, target: str) -> Any:
        if "keras" not in code:
            return None
        from ...frameworks.keras.summary import build_target

        m = build_target(path, code, target.strip())
        if m is not None and (m.uncertain or m.failed):
            raise CliError(f"shapelint: {path}: {target.strip()}: the model could not be built statically "
                           f"(see `shapelint check {path}`)")
        return m

    def render_own(self, model: Any, target: str, fmt: str) -> str:
        from ...frameworks.keras.summary import render, summary_rows

        if fmt == "json":
            return json.dumps(json_doc(model, target), indent=2)
        if fmt == "markdown":
            seq, rows = summary_rows(model)
            head = ["Layer (type)", "Output Shape", "Param #"] + ([] if seq else ["Connected to"])
            doc = json_doc(model, target)
            out = [f"**{target} (Keras model.summary(), computed by shapelint)**", "",
                   "| " + " | ".join(head) + " |", "|" + "|".join([":---"] + ["---:"] * (len(head) - 1)) + "|"]
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
            t = doc["totals"]
            out += [""] + [f"- {k}: {'?' if t[key] is None else format(t[key], ',')}" for k, key in
                           (("Total params", "params"), ("Trainable params", "trainable"),
                            ("Non-trainable params", "non_trainable"))]
            return "\n".join(out)
        return render(model)
