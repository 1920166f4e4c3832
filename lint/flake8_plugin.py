"""flake8 entry point (code prefix SHP).

Kept light: the engine (and libcst) is imported only for files that mention torch, and the lint
path never imports torch itself. An exception in the analysis never stops flake8: it becomes one
SHP000 finding, or is raised under SHAPELINT_STRICT=1.

Deep but valid code is analysed on a large stack (lint/guard.py); code deeper than that, and files
over ``--shapelint-max-file-size``, are skipped with one line on stderr and no finding, so that
flake8's own report stays clean and every other file's findings stand.
"""
from __future__ import annotations

import sys
from typing import Dict, List

from . import __version__


class ShapeLintPlugin:
    name = "shapelint"
    version = __version__
    _input_shapes: Dict[str, List] = {}
    _config_error = None
    _max_file_size = None
    _time_budget = None  # CPU seconds per class, 3x per file (--shapelint-time-budget, default 2)
    _cache = None  # lint/cache.py's ResultCache, made by parse_options unless --shapelint-no-cache
    _coverage = False  # SHP100 named in --select/--extend-select (SHP1 or SHP100; plain SHP is not enough)

    def __init__(self, tree, filename: str, lines: List[str]):
        self.tree = tree
        self.filename = filename
        self.lines = lines

    @classmethod
    def add_options(cls, parser):
        # SHP100 (a model class not analysed) is opt-in: flake8 stays quiet about coverage unless asked
        if hasattr(parser, "extend_default_ignore"):
            parser.extend_default_ignore(["SHP100"])
        parser.add_option(
            "--input-shape", action="append", default=[], parse_from_config=True,
            help="shapelint: input shape of a model class, CLASS=DIMS (e.g. Net=1,1,28,28 or Net=N,3,H,W); "
                 "repeat for several classes or inputs. In a config file, separate entries by spaces or newlines.",
        )
        parser.add_option(
            "--shapelint-max-file-size", default="2MB", parse_from_config=True,
            help="shapelint: skip larger files with one line on stderr (default 2MB; e.g. 500kB, 5MB)",
        )
        parser.add_option(
            "--shapelint-time-budget", default="2", parse_from_config=True,
            help="shapelint: CPU seconds of analysis per class, three times that per file (default 2; 0: none); a class still being "
                 "analysed when it is spent is left unknown, with one line on stderr",
        )
        # -- result cache (lint/cache.py) --
        parser.add_option("--shapelint-no-cache", action="store_true", default=False, parse_from_config=True,
                          help="shapelint: do not read or write the result cache (.shapelint_cache/)")
        parser.add_option("--shapelint-cache-dir", default=None, parse_from_config=True,
                          help="shapelint: result cache directory (default: .shapelint_cache/ at the project root)")

    @classmethod
    def parse_options(cls, options):
        from .options import DEFAULT_MAX_FILE_SIZE, DEFAULT_TIME_BUDGET, ShapelintInputError, input_shapes, \
            parse_seconds, parse_size

        raw = getattr(options, "input_shape", None) or []
        if isinstance(raw, str):
            raw = [raw]
        try:
            cls._input_shapes = input_shapes(raw)
            cls._max_file_size = parse_size(getattr(options, "shapelint_max_file_size", None) or DEFAULT_MAX_FILE_SIZE,
                                            "--shapelint-max-file-size")
            raw_budget = getattr(options, "shapelint_time_budget", None)
            cls._time_budget = parse_seconds(raw_budget if raw_budget is not None else DEFAULT_TIME_BUDGET,
                                             "--shapelint-time-budget")
            cls._config_error = None
        except ShapelintInputError as e:
            cls._input_shapes = {}
            cls._config_error = str(e)
        chosen = []
        for attr in ("select", "extend_select"):
            v = getattr(options, attr, None) or []
            chosen += [v] if isinstance(v, str) else list(v)
        cls._coverage = any(len(c.strip()) >= 4 and "SHP100".startswith(c.strip().upper()) for c in chosen)
        # -- result cache (lint/cache.py) --
        from .cache import open_cache

        shapes = {k: [repr(v) for v in vs] for k, vs in cls._input_shapes.items()}  # names and dtypes too
        cls._cache = open_cache(".", "flake8", {"input-shape": shapes, "time-budget": cls._time_budget,
                                                "coverage": cls._coverage},
                                enabled=not getattr(options, "shapelint_no_cache", False),
                                directory=getattr(options, "shapelint_cache_dir", None))

    def run(self):
        from .frameworks import mentions_framework

        code = "".join(self.lines)
        if not mentions_framework(code):
            return
        if self._config_error:
            yield 1, 0, f"SHP000 shapelint: bad option: {self._config_error}", type(self)
            return
        size = len(code.encode("utf-8", "surrogatepass"))
        if self._max_file_size is not None and size > self._max_file_size:
            print(f"shapelint: {self.filename}: skipped: {size} bytes is over --shapelint-max-file-size "
                  f"({self._max_file_size})", file=sys.stderr)
            return
        from .cache import flake8_results

        try:
            results = flake8_results(self._cache, self.filename, code, lambda: self._analyze(code))
        except Exception as e:  # never take flake8 down
            from .engine import strict_mode

            if strict_mode():
                raise
            yield 1, 0, f"SHP000 shapelint failed on {self.filename}: {type(e).__name__}: {e}", type(self)
            return
        for line, col, text in results:
            yield line, col, text, type(self)

    def _analyze(self, code):
        """The findings as (line, col, text), analysed on a deep stack (lint/guard.py)."""
        from .guard import paused_gc

        with paused_gc():  # the depth check, the analysis and the fix marks: collected once, after
            return self._analyze_paused(code)

    def _analyze_paused(self, code):
        import libcst as cst

        from .engine import analyze_source
        from .guard import TooDeep, check_depth, run_deep

        def analyse():
            check_depth(code, self.tree)
            return analyze_source(code, self.filename, self._input_shapes, time_budget=self._time_budget)

        try:
            analysis = run_deep(analyse)
        except cst.ParserSyntaxError:
            return []  # flake8 reports syntax errors itself (E999); libcst's own limits: nothing to say
        except TooDeep as e:
            print(f"shapelint: {self.filename}: not analysed: {e}", file=sys.stderr)
            return []
        from .engine import budget_notes
        from .rules.shp100_model_not_analysed import coverage_message

        for note in budget_notes(analysis, self.filename):  # stderr only: never a finding
            print(note, file=sys.stderr)
        marks = set()
        if analysis.findings:
            from .fixes import fixable

            try:  # `[*]`: a verified safe fix exists (`shapelint check --fix` applies it)
                marks = run_deep(fixable, analysis, code, self.filename, self._input_shapes,
                                 time_budget=self._time_budget)
            except Exception:
                from .engine import strict_mode

                if strict_mode():
                    raise
        out = [(f.line, f.col, f"{f.code} {'[*] ' if (f.line, f.code) in marks else ''}{f.message}")
               for f in analysis.findings]
        if self._coverage:
            out += [(c["line"] or 1, 0, f"SHP100 {coverage_message(c)}") for c in analysis.coverage
                    if not c["analysed"]]
        return out
