from __future__ import annotations

from dataclasses import dataclass
from typing import IO, List, Optional


@dataclass
class Item:
    """One finding as the reporters see it."""

    path: str
    line: int  # 1-based; inside the code cell for a notebook
    col: int  # 1-based, as flake8 prints it
    code: str
    message: str
    cell: Optional[int] = None  # the code cell of a notebook (nbqa's ``cell_N``, from 1)
    confirmation: Optional[dict] = None  # --confirm's verdict
    fix: Optional[str] = None  # 'safe': `check --fix` fixes it (shown as [*]); 'unsafe': with --unsafe-fixes

    @property
    def marked_code(self) -> str:
        """``SHP001 [*]`` when --fix can fix it (TorchFix's and ruff's convention), else the code."""
        return f"{self.code} [*]" if self.fix == "safe" else self.code

    @property
    def position(self) -> str:
        """``12:5``, or ``cell_3:12:5`` in a notebook (nbqa's convention)."""
        pos = f"{self.line}:{self.col}"
        return pos if self.cell is None else f"cell_{self.cell}:{pos}"

    def as_dict(self) -> dict:
        d = {"path": self.path, "line": self.line, "col": self.col, "code": self.code, "message": self.message}
        if self.cell is not None:
            d["cell"] = self.cell
        if self.fix is not None:
            d["fix"] = self.fix
        if self.confirmation is not None:
            d.update(self.confirmation)
        return d


class Reporter:
    """Write a whole report at once (formats such as JSON and SARIF are one document)."""

    name = ""

    def __init__(self, out: IO[str], err: IO[str]):
        self.out = out
        self.err = err
        # the model classes of the checked files, analysed or not (dicts: path, class, line,
        # analysed, reason, hint), and whether --statistics was given
        self.coverage: List[dict] = []
        self.statistics = False

    def report(self, items: List[Item], defects: List[dict]) -> None:
        raise NotImplementedError
