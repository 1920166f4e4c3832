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
_IMAGE_CHANNELS = (1, 3, 4)


def _implied(first: Optional[ModuleValue]) -> Optional[LayerInput]:
    if first is None:
        return None
    spec = LAYERS.get(first.type_name) if first.kind == "layer" else first.spec  # a subclass: its torch layer's
    return spec.implies if spec is not None else None


def symbolic_input(first: Optional[ModuleValue], index: int) -> Optional[Tensor]:
    """The symbolic input the layer ``first`` expects, for forward input number ``index``
    (its dims are suffixed with ``index + 1`` from the second input on)."""
    if first is None or first.args is None or not (first.kind == "layer" or first.kind == "user" and first.spec is not None):
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
    if isinstance(c, D.Lin) and not c.is_opaque():
        pass  # a size parameter of a construction nobody wrote (`Unet(in_ch, out_ch)`): the channels stay symbolic
    elif not isinstance(c, int) or isinstance(c, bool) or not c:
        return None
    if implied.kind == "spatial":
        # An image (1, 3 or 4 channels into a 2-D or 3-D layer) is taken to be at least 2x2: torch
        # broadcasts a 1-pixel map against any other, so `out + x` with `out` one pixel larger
        # than `x` would otherwise pass as "fine when H == 1". A generator's [N, nz, 1, 1] noise is
        # not an image and keeps H, W >= 1.
        lo = 2 if c in _IMAGE_CHANNELS and implied.spatial >= 2 else 1
        return Tensor((n, c, *[D.sym(s + sfx, lo=lo if s in "HW" else 1) for s in _SPATIAL[implied.spatial]]),
                      "float", 0)
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
