from __future__ import annotations

from typing import List

from .base import Item, Reporter


class TextReporter(Reporter):
    """flake8's line format: ``path:line:col: CODE message`` (``path:cell_3:line:col`` in a notebook)."""

    name = "text"

    def report(self, items: List[Item], defects: List[dict]) -> None:
        w = self.out.write
        for it in items:
            w(f"{it.path}:{it.position}: {it.marked_code} {it.message}\n")
            c = it.confirmation
            if c is not None:
                dev = f" ({c['device']})" if c.get("device") else ""
                state = {True: f"confirmed by torch{dev}", False: f"NOT confirmed by torch{dev}"}.get(
                    c.get("confirmed"), "unconfirmed")
                w(f"    {state}: {c.get('evidence', '')}\n")
                for each in c.get("constructions", [])[1:]:  # the finding's other constructions
                    st = {True: "confirmed", False: "NOT confirmed"}.get(each.get("confirmed"), "unconfirmed")
                    w(f"    {st} for {each['construction']}: {each.get('evidence', '')}\n")
        for d in defects:
            w(f"{d['path']}: {d['message']}\n")
