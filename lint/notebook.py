"""Jupyter notebooks as one Python module.

The code cells of ``nb.ipynb`` are joined, in order, into one module (as the kernel runs them top
to bottom); IPython-only lines -- line magics (``%matplotlib inline``), shell escapes (``!pip
install ...``), help (``x?``) and assignments from them (``files = !ls``) -- become ``pass`` at the
same indentation, so that every other line keeps its place. A cell that starts with a cell magic
(``%%bash``, ``%%writefile``...) is not Python and is blanked whole, except the magics whose body
is Python (``%%time``, ``%%timeit``, ``%%capture``...), where only the magic line is.

Positions follow nbqa's convention: ``nb.ipynb:cell_3:12:5`` is line 12, column 5 of the third
*code* cell (markdown and raw cells are not counted), lines and cells numbered from 1.

``load_source(path) -> (code, mapper)``: ``mapper.cell_line(line)`` turns a line of ``code`` into
``(cell, line_in_cell)``, ``mapper.position(line, col)`` into the ``cell_3:12:5`` text.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import List, Tuple

# cell magics whose body is ordinary Python
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug", "python", "python3", "skip"}

_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!]|\w[\w.]*\s*=\s*[%!])")
_HELP_LINE = re.compile(r"^(\s*)(?:\?\??[\w.]+|[\w.]+\?\??)\s*$")


class NotebookError(Exception):
    """Not a notebook shapelint can read."""


def is_notebook(path: str) -> bool:
    return str(path).endswith(".ipynb")


@dataclass
class CellMapper:
    """Line ``i`` (1-based) of the joined module -> (code cell number, line in that cell)."""

    lines: List[Tuple[int, int]] = field(default_factory=list)

    def cell_line(self, line: int) -> Tuple[int, int]:
        if 1 <= line <= len(self.lines):
            return self.lines[line - 1]
        return (0, line)

    def position(self, line: int, col: int) -> str:
        """``cell_3:12:5`` for a 1-based line and column of the joined module."""
        cell, in_cell = self.cell_line(line)
        return f"cell_{cell}:{in_cell}:{col}"


def _cell_lines(cell_source: List[str] | str) -> List[str]:
    text = "".join(cell_source) if isinstance(cell_source, list) else str(cell_source)
    return text.splitlines()


def _python_lines(lines: List[str]) -> List[str]:
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(None, 1)
        if magic and magic[0] in PYTHON_CELL_MAGICS:
            return ["pass"] + [_clean(ln) for ln in lines[1:]]
        return [""] * len(lines)  # %%bash, %%writefile ...: not Python
    return [_clean(ln) for ln in lines]


def _clean(line: str) -> str:
    m = _MAGIC_LINE.match(line) or _HELP_LINE.match(line)
    if m:
        return f"{m.group(1)}pass"
    return line


def notebook_source(text: str, path: str = "<notebook>") -> Tuple[str, CellMapper]:
    try:
        nb = json.loads(text)
    except ValueError as e:
        raise NotebookError(f"{path}: not a notebook (invalid JSON: {e})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{path}: not a notebook (no 'cells' list; nbformat 4 is supported)")
    out: List[str] = []
    mapper = CellMapper()
    number = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        lines = _python_lines(_cell_lines(cell.get("source", "")))
        for i, line in enumerate(lines, 1):
            out.append(line)
            mapper.lines.append((number, i))
        out.append("")  # a blank line between cells; it maps just past the end of the cell before
        mapper.lines.append((number, len(lines) + 1))
    return "\n".join(out) + "\n", mapper


def load_source(path: str) -> Tuple[str, CellMapper]:
    """The code cells of the notebook at ``path`` as one module, and the line mapper.

    Raises OSError when the file cannot be read and NotebookError when it is not a notebook.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return notebook_source(text, path)
