"""``shapelint summary``: torchsummary's and torchinfo's tables, computed from source.

    shapelint summary 'PATH::TARGET' [--input-shape DIMS]... [--style torchsummary|torchinfo|keras]
                      [--depth N] [--format text|json|markdown]

TARGET is a model class name (built with its defaults), a function that returns a model
(``ResNet18``), or a call in Python syntax evaluated statically in the file's namespace
(``ResNet(BasicBlock, [2, 2, 2, 2])``, ``Generator(ngpu=1)``).

``--input-shape`` is, in every style, the whole tensor the model's forward receives, batch
included, one per model input: ``--input-shape 2,1,28,28`` for what
``torchsummary.summary(model, (1, 28, 28))`` runs (torch.rand(2, 1, 28, 28)) and what
``torchinfo.summary(model, input_size=(2, 1, 28, 28))`` runs.  A dim may be a symbol
(``N,1,H,W``).  An input without the batch dimension the model's first layer expects (``1,28,28``
for a Conv2d) is refused with a message, as is a number of inputs that does not fit ``forward``.
Without ``--input-shape`` the inputs the file itself feeds the model are used (a ``summary(...)``
call or ``model(torch.randn(...))``), else symbolic ones (``N, C, H, W``); a symbolic table ends
with the input sizes that the model's hardcoded sizes admit.

Every figure follows the peer's own conventions (see ``docs/formulas.md``):
torchsummary 1.5.1 (rows for every hooked module call in post-order, batch shown as -1, MiB at
batch 1, float32), torchinfo 1.8.0 (pre-order tree with depth-idx, full shapes, ``--`` and
``(recursive)``, MB = 1e6 bytes, mult-adds).  Where the peer's figure is wrong (a module used
twice counted twice, parameters not named weight/bias, a frozen weight with a trainable bias,
several inputs, ...), the line shows the true figure and a note under the table says what the
peer would have printed and why.  Parameter counts and mult-adds come from the layer table
(``LayerSpec.params``).

The JSON format (``--format json``) carries the true figures only, with these stable keys::

    {"model": str, "style": str, "input_shapes": [[dim, ...], ...], "input_names": [null | str, ...],
     "output_shapes": [shape, ...],
     "layers": [{"name", "type", "depth", "output_shape", "params", "trainable", "mult_adds"}],
     "totals": {"params", "trainable", "non_trainable", "mult_adds"},
     "memory": {"convention", "unit", "input_size", "forward_backward_pass_size", "params_size",
                "estimated_total_size"},
     "admissible_inputs": null | {"text", "input", "symbols", "admissible": bool, "complete": bool,
                                  "components": [{"symbols": [str], "boxes": [{symbol: interval}]}]},
     "notes": [str]}

``layers`` lists every submodule that runs (containers and custom blocks included) in call
order, a module called twice appearing twice; ``name`` is the qualified name as
``model.named_modules()`` gives it; ``depth`` its depth in the module tree; ``params`` and
``trainable`` count the module's *own* parameters (not its children's); ``mult_adds`` is
torchinfo's formula for leaf modules (Linear counted over all leading dims) and 0 otherwise.
Shapes include the batch; a symbolic dim is a string; an unknown shape is null; a tuple output is
a list of shapes, a dict output an object of them.  ``input_names`` gives, per input, null for a
positional one or the name it was given (``cond``, ``batch.x`` for a key of a dict parameter).  Memory figures
are unrounded, in the chosen style's unit, at batch 1 for torchsummary, null when symbolic.  The
torchsummary style runs the model in train mode, as torchsummary does (the file's own inputs
at batch 2, as torchsummary feeds them).
``admissible_inputs`` (null unless a size other than the batch is symbolic): every component
must hold, and within a component one of its boxes; an interval is ``[lo, hi]`` (``hi`` null:
no upper bound) or ``[lo, hi, period]`` (``lo + k*period .. hi + k*period`` for k >= 0).
Unconstrained symbols (the batch) are left out.  "Admissible" means the forward runs *and keeps
the batch*: a ``view(-1, K)`` that folds the batch to fit does not count.  Two linked sizes are
searched up to 1,024 above their smallest value; three or more linked sizes are not solved.

Exit status: 0 a table; 1 a table of a model that has a shape error at these inputs (the findings,
as ``shapelint check`` prints them, on stderr and in the JSON notes); 2 no table: bad input, a
model that cannot be built or run with these inputs, or a forward of which nothing is known.

Keras models (``--style keras``, the default for a target that builds one: a function such as
``build_model()`` or a module-level name): Keras 3's ``model.summary()`` text, exactly; its JSON
has the keys above, ``layers`` in ``model.layers`` order with depth 1 (a nested model's layers
at depth 2), ``mult_adds`` null, ``memory`` {"convention": "keras", "unit": "B", "params_size":
float32 bytes}.

Modules: ``accounting`` (the module tree, parameters, sizes), ``renderer`` (the interface a style
implements), ``torchsummary_style`` and ``torchinfo_style`` (the two peers' tables),
``keras_style`` (Keras's ``model.summary()``, over ``shapelint.frameworks.keras.summary``),
``admissible`` (the input-size solver), ``preflight`` (what refuses a table), ``output`` (text,
markdown, JSON) and ``command`` (the arguments and ``run``).
"""
from __future__ import annotations

import importlib
from typing import Any

from .arguments import STYLES, add_arguments  # light: the CLI's parser needs only these

_LAZY = {"Model": "accounting", "admissible": "admissible", "run": "command", "RENDERERS": "renderer",
         "Renderer": "renderer", "Table": "renderer", "register": "renderer"}


def __getattr__(name: str) -> Any:
    """The heavy parts (engine, libcst) load on first use, with the styles registered."""
    if name not in _LAZY:
        raise AttributeError(name)
    importlib.import_module(".torchinfo_style", __name__)
    importlib.import_module(".torchsummary_style", __name__)
    importlib.import_module(".keras_style", __name__)
    return getattr(importlib.import_module("." + _LAZY[name], __name__), name)


__all__ = ["Model", "admissible", "add_arguments", "run", "RENDERERS", "Renderer", "Table", "register", "STYLES"]
