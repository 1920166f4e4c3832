"""The renderer interface: one class per peer's table style.

A renderer turns one analysed run (the module tree, its call records and inputs, from
:func:`shapelint.engine.run_target`) into a :class:`Table` laid out as the peer tool prints it,
with the true figures, and notes where the peer would print something else.  Adding a style is
one module with one :class:`Renderer` subclass, decorated with :func:`register`; ``--style``
offers every registered name (arguments.STYLES lists them statically).

A style for another framework's models (``keras_style``: Keras's ``model.summary()``) sets
``own_models`` and builds its model itself (:meth:`Renderer.own_model`, :meth:`Renderer.render_own`);
with no ``--style``, the first such style that finds its model in the target is used, else
torchsummary's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

from .accounting import Model


@dataclass
class Table:
    """What a renderer returns; the command prints it as text, markdown or JSON."""

    lines: List[str]  # the text table, as the peer prints it
    rows: List[Tuple[str, ...]]  # for markdown: the header first
    totals: List[Tuple[str, str]]  # (label, value) lines after the rows
    memory: List[Tuple[str, str]]
    notes: List[str] = field(default_factory=list)  # where the peer would print something else
    json_memory: Dict[str, Any] = field(default_factory=dict)  # the memory figures, unrounded
    mult_adds: Optional[int] = None


class Renderer:
    """One peer's table.  Subclasses set the class attributes and implement :meth:`render`."""

    name: ClassVar[str]  # the --style value
    convention: ClassVar[str]  # the peer and version whose conventions are followed
    training: ClassVar[bool] = False  # whether the peer runs the forward in train mode

    def file_batch(self, found: Sequence[Tuple[Any, ...]]) -> Tuple[Optional[int], Optional[str]]:
        """For the inputs the file itself feeds the model (batch first, a symbolic dim as text):
        the batch this peer's tool would run them at, when it differs (else None), and a note."""
        return None, None

    def render(self, run: Any, model: Model, depth: int) -> Table:
        """The table for ``run``; ``depth`` is the deepest tree level shown, where the style has one."""
        raise NotImplementedError

    # -- a style for another framework's models (own_models): it builds and prints them itself
    own_models: ClassVar[bool] = False

    def own_model(self, path: str, code: str, target: str) -> Any:
        """The model TARGET builds in the file, when it is one of this style's framework, else None.
        Raises CliError when it is one but cannot be summarised."""
        return None

    def render_own(self, model: Any, target: str, fmt: str) -> str:
        """The summary of an own_model in format ``fmt`` (text, json, markdown)."""
        raise NotImplementedError


RENDERERS: Dict[str, Type[Renderer]] = {}


def register(cls: Type[Renderer]) -> Type[Renderer]:
    RENDERERS[cls.name] = cls
    return cls


def renderer(name: str) -> Renderer:
    return RENDERERS[name]()
