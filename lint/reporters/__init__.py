"""Output formats of ``shapelint check``: one class per format, all fed the same items.

A reporter gets the findings as :class:`Item` (1-based line and column, as flake8 prints them;
``cell`` set for notebooks, where ``line`` is the line inside that code cell) and the
``shapelint defect`` notes of ``--confirm``, and writes them to ``out`` (stdout or
``--output-file``); ``err`` is stderr.
"""
from __future__ import annotations

from typing import Dict, Type

from .base import Item, Reporter
from .github import GithubReporter
from .json_format import JsonReporter
from .sarif import SarifReporter
from .text import TextReporter

REPORTERS: Dict[str, Type[Reporter]] = {
    r.name: r for r in (TextReporter, JsonReporter, SarifReporter, GithubReporter)
}

__all__ = ["Item", "Reporter", "REPORTERS", "get_reporter"]


def get_reporter(name: str) -> Type[Reporter]:
    return REPORTERS[name]
