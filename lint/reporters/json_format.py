from __future__ import annotations

import json
from typing import List

from .base import Item, Reporter


class JsonReporter(Reporter):
    """``[{path, line, col, code, message}]``; ``line`` and ``col`` are 1-based, exactly the numbers
    the text format prints (and flake8 prints); notebooks add ``cell``; ``--confirm`` adds its verdict.
    The ``shapelint defect`` notes go to stderr, so that stdout stays a list of findings."""

    name = "json"

    def report(self, items: List[Item], defects: List[dict]) -> None:
        self.out.write(json.dumps([it.as_dict() for it in items], indent=2) + "\n")
        for d in defects:
            self.err.write(f"{d['path']}: {d['message']}\n")
