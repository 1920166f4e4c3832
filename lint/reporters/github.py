from __future__ import annotations

from typing import List

from .base import Item, Reporter


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C,title=SHP001::message``,
    shown as annotations on the pull request. A notebook's finding is annotated on the file, with
    its ``cell_N:line:col`` in front of the message (GitHub cannot point inside a cell)."""

    name = "github"

    def report(self, items: List[Item], defects: List[dict]) -> None:
        w = self.out.write
        for it in items:
            if it.cell is None:
                where = f"file={_prop(it.path)},line={it.line},col={it.col}"
                msg = it.message
            else:
                where = f"file={_prop(it.path)}"
                msg = f"{it.position}: {it.message}"
            c = it.confirmation
            if c is not None and c.get("confirmed") is not None:
                msg += f" ({'confirmed' if c['confirmed'] else 'NOT confirmed'} by torch: {c.get('evidence', '')})"
            w(f"::error {where},title={_prop(it.code)}::{_data(msg)}\n")
        for d in defects:
            w(f"::warning file={_prop(d['path'])},title=shapelint defect::{_data(d['message'])}\n")
