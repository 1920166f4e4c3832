"""The input a model's first layer implies, read from the layer table (``LayerSpec.implies``):

* :func:`symbolic_input`: with no input shape given, the symbolic tensor the first layer expects
  (``Conv2d(3, ...)`` -> ``(N, 3, H, W)``; an LSTM -> ``(L, N, F)`` or ``(N, L, F)``);
* :func:`batch_dim`: for a declared input shape, where its batch is (an unbatched ``(C, H, W)``
  image or a ``(784,)`` vector has none; an LSTM without ``batch_first`` has it at 1).

A layer declares what it implies with ``@layer(..., implies=LayerInput(...))``; nothing here
names a layer.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from ...core import dims as D
from ...core.values import ModuleValue, Tensor
from .layers import LAYERS, LayerInput

_SPATIAL = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _implied(first: Optional[ModuleValue]) -> Optional[LayerInput]:
    if first is None:
        return None
    spec = LAYERS.get(first.type_name)
    return spec.implies if spec is not None else None


def symbolic_input(first: Optional[ModuleValue], index: int) -> Optional[Tensor]:
    """The symbolic input the layer ``first`` expects, for forward input number ``index``
    (its dims are suffixed with ``index + 1`` from the second input on)."""
    if first is None or first.kind != "layer" or first.args is None:
        return None
    implied = _implied(first)
    if implied is None or implied.channels is None:
        # Linear, Embedding and BatchNorm1d accept inputs of several ranks ((N, F), (N, T, F)...):
        # guessing one would invent findings (x.split(C, dim=2) on a guessed 2-D input), so no guess.
        return None
    sfx = "" if index == 0 else str(index + 1)
    n = D.sym("N")
    a: Dict[str, Any] = first.args
    c = a.get(implied.channels)
    if not isinstance(c, int) or isinstance(c, bool) or not c:
        return None
    if implied.kind == "spatial":
        return Tensor((n, c, *[D.sym(s + sfx) for s in _SPATIAL[implied.spatial]]), "float", 0)
    if implied.kind == "sequence":
        bf = a.get("batch_first")
        if bf is True:
            return Tensor((n, D.sym("L" + sfx), c), "float", 0)
        if bf is False:
            return Tensor((D.sym("L" + sfx), n, c), "float", 1)
    return None


def batch_dim(first: Optional[ModuleValue], rank: int) -> Optional[int]:
    """Where the batch is in a declared input of ``rank`` dims, judging by the layer that first meets it."""
    implied = _implied(first)
    if implied is not None and implied.kind == "spatial":
        return 0 if rank == implied.spatial + 2 else None
    if implied is not None and implied.kind == "sequence":
        if rank != 3:
            return None
        bf = (first.args or {}).get("batch_first") if first is not None else None
        return 0 if bf is True else (1 if bf is False else None)
    return 0 if rank >= 2 else None
