"""The interface between the core and a framework (see lint/frameworks/__init__.py for how
frameworks are registered): the hooks the interpreter calls and the NOT_MINE answer."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple

if TYPE_CHECKING:
    from .interpreter import Interpreter
    from .source import ClassInfo, SourceModule
    from .values import ModuleValue


class _NotMine:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_MINE"


NOT_MINE: Any = _NotMine()  # a hook's answer for what it does not model: ask the next framework


class Framework:
    """The hooks the interpreter calls.  Every hook may answer NOT_MINE (the defaults do)."""

    name: str = ""
    prefixes: Tuple[str, ...] = ()  # qualified-name prefixes this framework owns ("torch.")

    # a function (qualified name of a function of the analysed code, its last four path parts then
    # class and name: 'transformers.modeling_utils.PreTrainedModel.post_init') -> a model of that
    # function, called as model(interp, fn, args, kwargs, node) instead of interpreting it; None: none
    library_model: Any = None

    # instantiate_object(interp, info, args, kwargs, node): a plain class of the analysed code that a
    # library of this framework gives meaning to (a config class), else NOT_MINE; None: no such model
    instantiate_object: Any = None

    def owns(self, qualname: str) -> bool:
        """Is this qualified name one of the framework's (``torch.nn.Conv2d``)?"""
        return qualname.startswith(self.prefixes)

    # -- classes of the analysed code deriving from the framework's classes
    def class_base(self, interp: "Interpreter", info: "ClassInfo") -> Optional[str]:
        """The framework class a user class derives from (its canonical qualified name), else None."""
        return None

    def instantiate(self, interp: "Interpreter", info: "ClassInfo", base: str, args: list, kwargs: dict,
                    node: Any) -> Any:
        """Build an instance of a user class whose framework base is ``base`` (class_base's answer)."""
        return NOT_MINE

    # -- names and calls
    def call_qual(self, interp: "Interpreter", name: str, args: list, kwargs: dict, node: Any) -> Any:
        """Call a function or class by qualified name (``torch.nn.Conv2d(...)``, ``torch.cat(...)``)."""
        return NOT_MINE

    def call_module(self, interp: "Interpreter", m: "ModuleValue", args: list, kwargs: dict, node: Any) -> Any:
        """Run a module instance on inputs (its forward).  The interpreter records the call."""
        return NOT_MINE

    def call_method(self, interp: "Interpreter", obj: Any, name: str, args: list, kwargs: dict,
                    node: Any) -> Any:
        """``obj.name(*args, **kwargs)`` on a framework value (tensor, module), or on a ``SuperRef``
        whose lookup reached the framework's base class (``super().__init__(...)``)."""
        return NOT_MINE

    # -- values
    def owns_value(self, v: Any) -> bool:
        """Is ``v`` one of the framework's own value objects, beyond the core's ModuleValue, Tensor
        and Param (a Keras layer or model)?  The core then asks this framework alone to call it
        (:meth:`call_value`) and to look its attributes up (:meth:`getattr`).  It may be an
        ObjectValue (an instance of a user class deriving from the framework's base class, built by
        :meth:`instantiate`): the core keeps its attributes and methods, and asks the framework for
        an attribute the class does not define (what the base class provides) and to call it."""
        return False

    def call_value(self, interp: "Interpreter", func: Any, args: list, kwargs: dict, node: Any) -> Any:
        """``func(*args, **kwargs)`` where ``func`` is one of the framework's own values (owns_value)."""
        return NOT_MINE

    def getattr(self, interp: "Interpreter", obj: Any, attr: str, node: Any) -> Any:
        """``obj.attr`` on a framework value (ModuleValue, Tensor, Param, or a value owns_value claims)."""
        return NOT_MINE

    def getitem(self, interp: "Interpreter", obj: Any, key: Any, node: Any) -> Any:
        """``obj[key]`` on a framework value."""
        return NOT_MINE

    def items_of(self, interp: "Interpreter", v: Any) -> Any:
        """The items iterating a framework value gives (a list), None when not known exactly."""
        return NOT_MINE

    def binop(self, interp: "Interpreter", op: str, a: Any, b: Any, node: Any) -> Any:
        """``a op b`` (op: libcst's operator name, 'Add', 'MatrixMultiply') with a framework operand."""
        return NOT_MINE

    def aug_assign(self, interp: "Interpreter", op: str, target: Any, value: Any) -> bool:
        """``target op= value`` mutating a framework value in place; True when handled (no rebinding)."""
        return False

    def isinstance(self, interp: "Interpreter", v: Any, qualname: str) -> Any:
        """``isinstance(v, <qualname>)`` for an owned name: True, False, UNKNOWN, or NOT_MINE."""
        return NOT_MINE

    def hasattr(self, interp: "Interpreter", obj: Any, name: str) -> Any:
        """``hasattr(obj, name)`` on a framework value: True, False, UNKNOWN, or NOT_MINE."""
        return NOT_MINE

    def class_attr(self, interp: "Interpreter", info: "ClassInfo", attr: str) -> Any:
        """An attribute a user class inherits from this framework's classes, that the class body
        does not define (``Fn.apply`` of an autograd Function), or NOT_MINE."""
        return NOT_MINE

    # -- planning
    def file_runs(self, src: "SourceModule", strict: bool, interpreter: Callable[[], "Interpreter"]) -> list:
        """Runs (``shapelint.results.Run``, already executed, ``root`` None) for code of the file the
        engine's planner does not analyse: model-building code of another kind (Keras's functional
        and Sequential models).  ``interpreter()`` gives a fresh interpreter of the file (its
        project, its strictness).  The runs' facts become findings like any run's."""
        return []
