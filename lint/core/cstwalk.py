"""Fast reads of a libcst tree: a node's children without rebuilding it.

libcst's ``node.children`` and ``node.visit(visitor)`` go through ``_visit_and_replace_children``,
which rebuilds (and re-validates) every node it passes: walking a large module that way costs
more than parsing it. :func:`children` returns the same list, in the same (source) order, by
reading the node's fields directly. The field order of each node class is the order in which its
``_visit_and_replace_children`` visits them, read once per class from the method's code (the
field names it passes to libcst's ``visit_*`` helpers are constants of that code, in order) and
checked against libcst's ``children`` of the first node of the class met (a class that does not
match is read through libcst, slowly but right); tests/test_speed_equivalence.py checks
``children(n) == n.children`` on every node of real files.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Type

import libcst as cst

_ORDER: Dict[Type, Optional[Tuple[str, ...]]] = {}
_KIND: Dict[Type, int] = {}


def _fields(node: cst.CSTNode) -> Optional[Tuple[str, ...]]:
    """The child fields of ``type(node)`` in visiting order, checked once against libcst's own
    ``children`` of this first node met; None (libcst's ``children`` is used for the class) when
    they differ, as they would if a libcst release visited its fields some other way."""
    cls = type(node)
    names = set(getattr(cls, "__dataclass_fields__", ()))
    code = cls._visit_and_replace_children.__code__
    seen: List[str] = []
    for c in code.co_consts:
        if isinstance(c, str) and c in names and c not in seen:
            seen.append(c)
    order = tuple(seen)
    got, want = _read_fields(node, order, False), node.children
    ok = len(got) == len(want) and all(a is b for a, b in zip(got, want))
    _ORDER[cls] = order if ok else None
    return _ORDER[cls]


def _kind(t: Type) -> int:
    """0: a node holding code, 1: a trivia node (see TRIVIA), 2: a sequence, 3: anything else.
    libcst's base classes are ABCs, whose isinstance is slow: the answer is kept per type."""
    if issubclass(t, cst.CSTNode):
        k = 1 if issubclass(t, TRIVIA) else 0
    elif issubclass(t, (list, tuple)):
        k = 2
    else:
        k = 3
    _KIND[t] = k
    return k


def _children(node: cst.CSTNode, code_only: bool) -> List[cst.CSTNode]:
    order = _ORDER.get(type(node), ())
    if order == ():
        order = _fields(node)
    if order is None:
        kids = node.children
        return [c for c in kids if not isinstance(c, TRIVIA)] if code_only else list(kids)
    return _read_fields(node, order, code_only)


def _read_fields(node: cst.CSTNode, order: Tuple[str, ...], code_only: bool) -> List[cst.CSTNode]:
    out: List[cst.CSTNode] = []
    kinds = _KIND
    for name in order:
        v = getattr(node, name)
        k = kinds.get(type(v))
        if k is None:
            k = _kind(type(v))
        if k == 0 or (k == 1 and not code_only):
            out.append(v)
        elif k == 2:
            for x in v:
                kx = kinds.get(type(x))
                if kx is None:
                    kx = _kind(type(x))
                if kx == 0 or (kx == 1 and not code_only):
                    out.append(x)
    return out


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """``node.children``, without rebuilding ``node``."""
    return _children(node, False)


# nodes that hold no code below them (only spaces, newlines and comments): never worth a walk
TRIVIA = (cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
          cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
          cst.RightCurlyBrace, cst.BaseBinaryOp, cst.BaseBooleanOp, cst.BaseCompOp, cst.BaseUnaryOp, cst.BaseAugOp,
          cst.Comma, cst.Dot, cst.Colon, cst.AssignEqual, cst.Semicolon)


def code_children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """:func:`children` less the whitespace, comments, parentheses and operators."""
    return _children(node, True)
