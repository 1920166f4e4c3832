"""One file of ``shapelint check``: read it safely, analyse it on a deep stack, and return plain,
picklable results (so that ``--jobs N`` can run files in worker processes and print exactly what
one process would).

Reading refuses what is not a regular file (devices, FIFOs, a symlink to ``/dev/zero``), skips
files over ``max-file-size`` with one note, honours PEP 263 encoding declarations
(``tokenize.open``, as Python and flake8 read source), and reads notebooks through
:mod:`notebook`. A syntax error is placed where Python places it. Code nested too deeply even for
the guarded stack is reported once as not analysed.
"""
from __future__ import annotations

import ast
import os
import stat
import tokenize
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from .guard import TooDeep, paused_gc, run_deep
from .options import DEFAULT_MAX_FILE_SIZE, InputSpec
from .reporters.base import Item


@dataclass
class CheckOptions:
    shapes: Dict[str, List[InputSpec]] = field(default_factory=dict)
    select: List[str] = field(default_factory=list)
    ignore: List[str] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    want_classes: bool = False  # collect class names and forward arities (to validate --input-shape)
    keep_analysis: bool = False  # keep the engine's Analysis (in-process runs only: --confirm)
    unsafe_fixes: bool = False  # mark the findings --unsafe-fixes would fix too
    cache: Any = None  # lint/cache.py's ResultCache (None: no cache); picklable, so workers share it
    constructions: Dict[str, List[str]] = field(default_factory=dict)  # --construct: name -> call texts
    time_budget: Optional[float] = None  # CPU seconds of analysis per file (core/limits.py); None: none


@dataclass
class FileResult:
    path: str
    items: List[Item] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # bad input: printed on stderr, exit status 2
    notes: List[str] = field(default_factory=list)  # skipped / not analysed: stderr only
    classes: Dict[str, Optional[int]] = field(default_factory=dict)  # class -> forward inputs (None: any)
    functions: List[str] = field(default_factory=list)  # module-level functions (with want_classes)
    analysis: Any = None
    findings: List[Any] = field(default_factory=list)  # the engine's findings, with keep_analysis
    # model classes of the file: {"class", "line", "analysed", "reason", "hint"} (engine._coverage)
    coverage: List[Dict[str, Any]] = field(default_factory=list)


_KINDS = [(stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]


def _human(n: int) -> str:
    for unit, size in (("GB", 1024 ** 3), ("MB", 1024 ** 2), ("kB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def read_source(path: str, max_size: int = DEFAULT_MAX_FILE_SIZE):
    """(code, mapper or None, None) or (None, None, (kind, message)) with kind 'error' or 'note'."""
    from .notebook import NotebookError, is_notebook, load_source

    try:
        st = os.stat(path)  # follows symlinks: a link to /dev/zero is a character device
    except OSError as e:
        return None, None, ("error", f"shapelint: {path}: cannot read: {e.strerror or e}")
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a regular file")
        return None, None, ("error", f"shapelint: {path}: refused: {kind}, not a regular file")
    if st.st_size > max_size:
        return None, None, ("note", f"shapelint: {path}: skipped: {_human(st.st_size)} is over "
                                    f"max-file-size ({_human(max_size)})")
    try:
        if is_notebook(path):
            code, mapper = load_source(path)
            return code, mapper, None
        with tokenize.open(path) as f:  # PEP 263 coding cookie or BOM, else UTF-8
            return f.read(), None, None
    except NotebookError as e:
        return None, None, ("error", f"shapelint: {e}")
    except (OSError, UnicodeDecodeError, SyntaxError, LookupError) as e:
        # SyntaxError/LookupError: a coding cookie naming an unknown encoding
        return None, None, ("error", f"shapelint: {path}: cannot read: {e}")


def forward_inputs(tree: ast.AST) -> Dict[str, Optional[int]]:
    """Each class of the module -> how many positional inputs its ``forward`` takes (None: any
    number, or not known from this file)."""
    classes = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}

    def arity(c: ast.ClassDef, seen) -> Optional[int]:
        for st in c.body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)) and st.name == "forward":
                a = st.args
                if a.vararg is not None:
                    return None
                return max(0, len(a.posonlyargs) + len(a.args) - 1)
        for b in c.bases:
            if isinstance(b, ast.Name) and b.id in classes and b.id not in seen:
                return arity(classes[b.id], seen | {b.id})
        return None

    return {name: arity(c, {name}) for name, c in classes.items()}


def _python_syntax_error(code: str, path: str) -> Optional[Tuple[int, int, str]]:
    try:
        compile(code, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as e:
        return e.lineno or 1, e.offset or 1, e.msg
    except (ValueError, RecursionError, MemoryError):  # null bytes; too deep for the compiler
        return None
    return None


def _analyse(code: str, path: str, opts: CheckOptions, mapper):
    """Runs on the guarded stack: (analysis or None, syntax error or None, classes)."""
    import libcst as cst

    from .engine import analyze_source
    from .frameworks import mentions_framework
    from .guard import check_depth

    classes: Dict[str, Optional[int]] = {}
    if opts.want_classes:
        try:
            classes = forward_inputs(ast.parse(code))
        except (SyntaxError, ValueError):
            pass
    if not mentions_framework(code):
        return None, None, classes
    check_depth(code)
    try:
        analysis = analyze_source(code, path, opts.shapes, select=opts.select, ignore=opts.ignore,
                                  constructions=opts.constructions, time_budget=opts.time_budget)
    except cst.ParserSyntaxError as e:
        got = _python_syntax_error(code, path)
        if got is None:  # Python accepts it, libcst does not (one of its limits): not the user's error
            raise TooDeep(f"libcst cannot parse it: {e.message}") from None
        return None, got, classes
    if opts.want_classes:
        # a function of the file returning an nn.Sequential (ConvMixer) takes --input-shape by its name
        for r in analysis.runs:
            func = r.ctor.func if r.cls is None and isinstance(r.ctor, cst.Call) else None
            if isinstance(func, cst.Name) and getattr(r.root, "kind", None) == "sequential":
                classes.setdefault(func.value, 1)
    return analysis, None, classes


def _fix_marks(analysis, code: str, path: str, opts: CheckOptions, mapper) -> Dict[Tuple[int, str], str]:
    """(line, code) -> 'safe'/'unsafe' for the findings a verified fix chain removes (lint/fixes.py);
    notebooks are not fixed."""
    if mapper is not None or not analysis.findings:
        return {}
    from .fixes import fixable

    out: Dict[Tuple[int, str], str] = {}
    kinds = (False, True) if opts.unsafe_fixes else (False,)
    for unsafe in kinds:
        try:
            got = run_deep(fixable, analysis, code, path, opts.shapes, opts.select, opts.ignore, unsafe,
                           opts.constructions, opts.time_budget)
        except Exception:  # a fix that cannot be verified is no fix; never a failed check
            from .engine import strict_mode

            if strict_mode():
                raise
            continue
        for key in got:
            out.setdefault(key, "unsafe" if unsafe else "safe")
    return out


def check_file(path: str, opts: CheckOptions) -> FileResult:
    with paused_gc():  # the depth check's tree and the analysis (guard.py): collected once, after
        return _check_file(path, opts)


def _check_file(path: str, opts: CheckOptions) -> FileResult:
    from .engine import strict_mode
    from .options import suppressed

    res = FileResult(path)
    code, mapper, problem = read_source(path, opts.max_file_size)
    if problem is not None:
        (res.errors if problem[0] == "error" else res.notes).append(problem[1])
        return res
    try:
        analysis, syntax, res.classes = run_deep(_analyse, code, path, opts, mapper)
        if opts.want_classes:  # to validate --construct: the module-level functions (factories)
            import re

            res.functions = sorted(set(re.findall(r"^(?:async\s+)?def\s+(\w+)", code, re.MULTILINE)))
    except TooDeep as e:
        res.notes.append(f"shapelint: {path}: not analysed: {e}")
        return res
    except Exception as e:  # an engine bug outside any one class: one SHP000, never a traceback
        if strict_mode():
            raise
        res.items.append(Item(path, 1, 1, "SHP000", f"shapelint failed on this file: {type(e).__name__}: {e}"))
        return res
    if syntax is not None:
        line, col, msg = syntax
        pos = f"{line}:{col}" if mapper is None else mapper.position(line, col)
        res.errors.append(f"shapelint: {path}:{pos}: syntax error: {msg}")
        return res
    if analysis is None:
        return res
    res.coverage = [dict(c) for c in analysis.coverage]
    from .engine import budget_notes

    res.notes.extend(budget_notes(analysis, path))  # a class a budget cut short: one line, no finding
    lines = code.splitlines()
    marks = _fix_marks(analysis, code, path, opts, mapper)
    for f in analysis.findings:
        if 0 < f.line <= len(lines) and suppressed(lines[f.line - 1], f.code):
            continue
        if mapper is not None:
            cell, line = mapper.cell_line(f.line)
            res.items.append(Item(path, line, f.col + 1, f.code, f.message, cell=cell))
        else:
            res.items.append(Item(path, f.line, f.col + 1, f.code, f.message, fix=marks.get((f.line, f.code))))
        if opts.keep_analysis:
            res.findings.append(f)
    if opts.keep_analysis:
        res.analysis = analysis
    return res
