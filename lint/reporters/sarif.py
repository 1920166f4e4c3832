from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List

from .base import Item, Reporter

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> tuple:
    """(uri, uriBaseId or None): relative to the working directory when below it (what GitHub
    code scanning expects), else an absolute file URI."""
    p = Path(path)
    try:
        rel = p.resolve().relative_to(Path(os.getcwd()).resolve())
        return rel.as_posix(), "%SRCROOT%"
    except (ValueError, OSError):
        return p.resolve().as_uri(), None


class SarifReporter(Reporter):
    """SARIF 2.1.0 (GitHub code scanning's format): one run, the rules as the tool's
    ``driver.rules``, one result per finding at its 1-based line and column. A notebook finding
    points at the notebook with the line inside its cell and ``properties.cell``."""

    name = "sarif"

    def report(self, items: List[Item], defects: List[dict]) -> None:
        from .. import __version__
        from ..rules_registry import all_rules

        rules = all_rules()
        index = {r.CODE: i for i, r in enumerate(rules)}
        results = []
        for it in items:
            uri, base = _uri(it.path)
            loc = {"uri": uri}
            if base:
                loc["uriBaseId"] = base
            text = it.message if it.cell is None else f"{it.position}: {it.message}"
            res = {
                "ruleId": it.code,
                "level": "error",
                "message": {"text": text},
                "locations": [{"physicalLocation": {
                    "artifactLocation": loc,
                    "region": {"startLine": it.line, "startColumn": it.col},
                }}],
            }
            if it.code in index:
                res["ruleIndex"] = index[it.code]
            props = {}
            if it.cell is not None:
                props["cell"] = it.cell
            if it.confirmation is not None:
                props["confirmation"] = it.confirmation
            if props:
                res["properties"] = props
            results.append(res)
        notes = [{"level": "warning", "message": {"text": f"{d['path']}: {d['message']}"}} for d in defects]
        doc = {
            "$schema": SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "shapelint",
                    "version": __version__,
                    "rules": [{
                        "id": r.CODE,
                        "name": r.NAME,
                        "shortDescription": {"text": r.SUMMARY},
                        "fullDescription": {"text": r.SUMMARY},
                        "help": {"text": r.DOC, "markdown": r.DOC},
                        "defaultConfiguration": {"level": "error"},
                    } for r in rules],
                }},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path(os.getcwd()).resolve().as_uri() + "/"}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
                "results": results,
                # the model classes analysed or not (why, and what to give shapelint)
                "properties": {"coverage": self.coverage},
            }],
        }
        self.out.write(json.dumps(doc, indent=2) + "\n")
