from __future__ import annotations

import json
from typing import List

from .base import Item, Reporter


class JsonReporter(Reporter):
    """``[{path, line, col, code, message}]``; ``line`` and ``col`` are 1-based, exactly the numbers
    the text format prints (and flake8 prints); notebooks add ``cell``; ``--confirm`` adds its verdict.
    The ``shapelint defect`` notes go to stderr, so that stdout stays a list of findings. With
    ``--statistics`` (opt-in, so that existing consumers keep their list) the document is an object
    ``{"findings": [...], "coverage": [{path, class, line, analysed, reason, hint}], "analysed", "models"}``."""

    name = "json"

    def report(self, items: List[Item], defects: List[dict]) -> None:
        findings = [it.as_dict() for it in items]
        if self.statistics:  # opt-in object form: the findings and the model classes analysed or not
            doc = {"findings": findings, "coverage": self.coverage,
                   "analysed": sum(1 for c in self.coverage if c["analysed"]), "models": len(self.coverage)}
            self.out.write(json.dumps(doc, indent=2) + "\n")
        else:  # a list of findings, as always (coverage is on stderr)
            self.out.write(json.dumps(findings, indent=2) + "\n")
        for d in defects:
            self.err.write(f"{d['path']}: {d['message']}\n")
