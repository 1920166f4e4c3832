"""The layer table: for each torch layer, once, its constructor signature, its shape rule, its
parameters (names and shapes, from which counts and mult-adds follow), its configuration checks
and the input it implies as a model's first layer. The ``F.*`` forms bind their own signature and
call the same rule.

Adding a layer is one ``@layer(...)`` entry in the module of its family:

* ``table.py``: the machinery (specs, binding, registration, shared helpers);
* ``conv.py``, ``pool.py``, ``norm.py``, ``linear.py`` (linear, flatten, element-wise),
  ``resample.py`` (interpolate, pixel shuffle, padding), ``recurrent.py`` (embedding, RNNs and cells), ``attention.py``
(MultiheadAttention, scaled_dot_product_attention, the transformer layers).

Formulas follow the torch docs pages ``torch.nn.<Name>`` and ATen's shape checks; every one is
tested against a real torch forward. A rule returns the output, raises
:class:`~shapelint.core.facts.Violation` with a payload owned by a rule module in
``shapelint.rules`` when torch would refuse the call *for certain*, and raises
:class:`~shapelint.core.facts.Unknowable` when it cannot tell.
"""
from __future__ import annotations

from ....core.facts import BindError, Unknowable, Violation, assumed, folded
from .table import (DEVICE, FUNCTIONS, LAYERS, REQUIRED, FunctionSpec, LayerInput, LayerSpec, R, bind,
                    dim_or_violation, functional, layer, need, need_int, param_count, shape_of, tup)
from . import conv, pool, norm, linear, resample, recurrent, attention  # noqa: F401  (each registers its layers)
from .conv import conv_output
from .linear import flatten_shape
from .pool import pool_output
from .resample import pad_shape

__all__ = [
    "BindError", "Unknowable", "Violation", "assumed", "folded", "DEVICE", "FUNCTIONS", "LAYERS", "REQUIRED",
    "FunctionSpec", "LayerInput", "LayerSpec", "R", "bind", "dim_or_violation", "functional", "layer", "need",
    "need_int", "param_count", "shape_of", "tup", "conv_output", "flatten_shape", "pool_output", "pad_shape",
]
