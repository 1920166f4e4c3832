"""Keras 3 (and tf.keras) behind the Framework interface (shapelint.core.framework_api).

Registered before torch: it claims only names under its prefixes and its own values (KLayer,
KModel, their bound methods, KObject instances of user subclasses of keras.Model and
keras.layers.Layer), never a ModuleValue, Tensor or Param, so torch's hooks see what they always
saw.  A Keras symbolic tensor (KTensor) is a Tensor: its methods and attributes are the tensor
model's, which is what a Keras tensor offers of its shape."""
from __future__ import annotations

from typing import Any

from .. import register
from ...core.framework_api import NOT_MINE, Framework
from ...core.objects import SuperRef
from ...core.values import UNKNOWN
from . import PREFIXES
from .frontend import keras_runs
from .model import KLayer, KModel, _Method, call_qual
from .subclass import KObject, base_init, instantiate, keras_base

_OWN = (KLayer, KModel, _Method, KObject)


class KerasFramework(Framework):
    name = "keras"
    prefixes = PREFIXES

    # -- user subclasses of keras.Model / keras.layers.Layer (subclass.py)
    def class_base(self, interp, info) -> Any:
        return keras_base(interp, info)

    def instantiate(self, interp, info, base, args, kwargs, node) -> Any:
        return instantiate(interp, info, base, args, kwargs, node)

    def call_method(self, interp, obj, name, args, kwargs, node) -> Any:
        if not (isinstance(obj, SuperRef) and isinstance(obj.instance, KObject)):
            return NOT_MINE
        if name == "__init__":  # super().__init__(name=..., trainable=..., **kwargs)
            base_init(obj.instance, kwargs)
            return None
        return None if name == "build" else UNKNOWN

    # -- names under keras. / tf.keras.
    def call_qual(self, interp, name, args, kwargs, node) -> Any:
        if not name.startswith(self.prefixes):
            return NOT_MINE
        return call_qual(interp, name, args, kwargs, node)

    def isinstance(self, interp, v, qualname) -> Any:
        return UNKNOWN  # Keras's class hierarchy is not modelled

    # -- its own values
    def owns_value(self, v) -> bool:
        return isinstance(v, _OWN)

    def call_value(self, interp, func, args, kwargs, node) -> Any:
        return func.call_value(interp, args, kwargs, node)

    def getattr(self, interp, obj, attr, node) -> Any:
        if not isinstance(obj, _OWN) or isinstance(obj, _Method):
            return NOT_MINE
        return obj.get_attr(interp, attr, node)

    # -- runs of Keras model-building code (frontend.py)
    def file_runs(self, src, strict, interpreter) -> list:
        return keras_runs(src, strict, interpreter)


register(KerasFramework(), first=True)
