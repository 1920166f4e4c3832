"""The ``shapelint`` command: check, summary, explain, rules.

Exit status of ``check``: 0 clean, 1 findings, 2 bad input (unreadable path, syntax error,
malformed --input-shape), 3 (only with ``--require-coverage``) no finding but a model class that
could not be analysed; always with one readable message and never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from .errors import CliError  # noqa: F401 - re-exported: shapelint.cli.CliError

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


FORMATS = ("text", "json", "sarif", "github")  # lint/reporters: one class each


def _iter_files(paths: List[str]):
    """Yield (path, None) for each file to check and (path, message) for a path that does not
    exist: one bad path never stops the others."""
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                                 and not os.path.isfile(os.path.join(root, d, "pyvenv.cfg")))
                for f in sorted(files):
                    if f.endswith((".py", ".ipynb")):
                        yield os.path.join(root, f), None
        elif os.path.lexists(p):
            yield p, None  # files, and what only looks like one (FIFOs, devices): read_source decides
        else:
            yield p, f"shapelint: {p}: no such file or directory"


def _options(args):
    """Flags and [tool.shapelint] merged and validated: a typo is an error naming the fix."""
    from .checker import CheckOptions
    from .options import (DEFAULT_MAX_FILE_SIZE, DEFAULT_TIME_BUDGET, ShapelintInputError, check_codes, codes,
                          constructions, input_shapes, load_config, parse_seconds, parse_size)

    try:
        cfg = load_config(args.paths[0] if args.paths else ".")
        cfg_shapes = cfg.get("input-shape", [])
        if isinstance(cfg_shapes, str):
            cfg_shapes = [cfg_shapes]
        shapes = input_shapes(list(cfg_shapes))
        origin = {name: "input-shape in [tool.shapelint]" for name in shapes}
        for name, specs in input_shapes(args.input_shape or []).items():
            shapes[name] = specs  # the command line wins over the config file
            origin[name] = "--input-shape"
        select = check_codes(codes(args.select), "--select") or check_codes(
            codes(cfg.get("select")), "select in [tool.shapelint]")
        ignore = check_codes(codes(args.ignore), "--ignore") or check_codes(
            codes(cfg.get("ignore")), "ignore in [tool.shapelint]")
        if args.max_file_size is not None:
            max_size = parse_size(args.max_file_size, "--max-file-size")
        elif "max-file-size" in cfg:
            max_size = parse_size(cfg["max-file-size"], "max-file-size in [tool.shapelint]")
        else:
            max_size = DEFAULT_MAX_FILE_SIZE
        if args.time_budget is not None:
            budget = parse_seconds(args.time_budget, "--time-budget")
        elif "time-budget" in cfg:
            budget = parse_seconds(cfg["time-budget"], "time-budget in [tool.shapelint]")
        else:
            budget = DEFAULT_TIME_BUDGET
        cfg_ctor = cfg.get("construct", [])
        if isinstance(cfg_ctor, str):
            cfg_ctor = [cfg_ctor]
        if not isinstance(cfg_ctor, list):
            raise ShapelintInputError("construct in [tool.shapelint]: expected a string or a list of calls")
        ctors = constructions(cfg_ctor, "construct in [tool.shapelint]")
        for name, texts in constructions(args.construct or []).items():
            ctors[name] = texts  # the command line wins over the config file, per name
            origin["construct:" + name] = "--construct"
        require = cfg.get("require-coverage", False)
        if not isinstance(require, bool):
            raise ShapelintInputError(f"require-coverage in [tool.shapelint]: expected true or false, got {require!r}")
        args.require_coverage = bool(args.require_coverage or require)
    except ShapelintInputError as e:
        raise CliError(f"shapelint: {e}")
    opts = CheckOptions(shapes, select, ignore, max_size, want_classes=bool(shapes) or bool(ctors),
                        keep_analysis=args.confirm, constructions=ctors, time_budget=budget,
                        unsafe_fixes=args.unsafe_fixes)
    # the result cache (lint/cache.py); --confirm needs each file's analysis, so it bypasses it
    from .cache import open_cache, result_options

    opts.cache = open_cache(args.paths[0] if args.paths else ".", "cli",
                            result_options(cfg, shapes={k: [repr(v) for v in vs] for k, vs in shapes.items()},
                                           select=select, ignore=ignore, max_size=max_size,
                                           want_classes=opts.want_classes, time_budget=budget, construct=ctors),
                            enabled=not (args.no_cache or args.confirm or args.unsafe_fixes or args.fix or args.diff),
                            directory=args.cache_dir, config=cfg)
    return opts, origin


def _imports_name(path: str, name: str) -> bool:
    """Does the file import ``name`` (``from .ssd import SSD``, ``import ... as SSD``)? Read as text:
    a cheap check for the validation of ``--input-shape``, which the analysis then applies."""
    import re

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    pattern = re.compile(r"^\s*(from\s+\S+\s+)?import\s[^\n#]*\b" + re.escape(name) + r"\b", re.M)
    return bool(pattern.search(text))


def _check_input_shapes(opts, origin, results) -> None:
    """Every class named by ``--input-shape`` must be defined in a checked file (the config's
    ``input-shape`` may name classes of files not checked in this run: pre-commit passes only the
    changed files), and no class may be given more inputs than its forward takes (repeating
    CLASS=DIMS is how several inputs are given)."""
    from .options import did_you_mean

    defined: dict = {}
    for r in results:
        for name, n in r.classes.items():
            defined.setdefault(name, []).append(n)
    for key, where in origin.items():
        if not key.startswith("construct:"):
            continue
        name = key.split(":", 1)[1]
        if name not in defined and not any(name in r.functions for r in results):
            names = set(defined) | {f for r in results for f in r.functions}
            hint = did_you_mean(name, names) if names else "; no class is defined in the checked files"
            raise CliError(f"shapelint: {where} {opts.constructions[name][0]}: no class or function {name!r} "
                           f"in the checked files{hint}")
    for name, specs in opts.shapes.items():
        text = ",".join(str(d) for d in specs[0])
        if name not in defined:
            if origin[name] != "--input-shape":
                continue  # the config names classes of the whole project; a run may check a few files
            from .importers import importer_defines

            if importer_defines([r.path for r in results], name):
                continue  # a model the project assembles from a checked file's blocks (reverse reach)
            if any(name in r.functions for r in results):
                continue  # a factory of a checked file (`create_vgg_ssd=...`): its constructions get the shape
            if any(_imports_name(r.path, name) for r in results):
                continue  # a project class a checked file imports and builds (`create_vgg_ssd()` -> SSD)
            hint = did_you_mean(name, defined) if defined else "; no class is defined in the checked files"
            raise CliError(f"shapelint: {origin[name]} {name}={text}: no class {name!r} in the checked files{hint}")
        arities = defined[name]
        specs = [s for s in specs if getattr(s, "name", None) is None]  # named inputs (CLASS.param=) aside
        if len(specs) > 1 and all(n is not None and n < len(specs) for n in arities):
            most = max(arities)
            raise CliError(f"shapelint: {origin[name]} {name}: given {len(specs)} times, but {name}.forward takes "
                           f"{most} input{'s' if most != 1 else ''} (give CLASS=DIMS once per forward input)")


def _results(files, opts, jobs: int):
    """check_file over the files, in order; in worker processes when jobs > 1 (cache hits are read
    here: workers start only when at least two files miss)."""
    from .cache import cache_hit, cached_check as check_file

    if jobs <= 1 or len(files) <= 1:
        for f in files:
            yield check_file(f, opts)
        return
    hits = {i: r for i, r in ((i, cache_hit(f, opts)) for i, f in enumerate(files)) if r is not None}
    misses = [f for i, f in enumerate(files) if i not in hits]
    if len(misses) <= 1:
        for i, f in enumerate(files):
            yield hits[i] if i in hits else check_file(f, opts)
        return
    from concurrent.futures import ProcessPoolExecutor
    from itertools import repeat

    # imported once, here: forked workers inherit libcst and the engine instead of each importing them
    from . import engine  # noqa: F401

    with ProcessPoolExecutor(max_workers=min(jobs, len(misses))) as pool:
        computed = pool.map(check_file, misses, repeat(opts), chunksize=1)
        for i in range(len(files)):
            yield hits[i] if i in hits else next(computed)


def _progress(it, total: int):
    """A progress bar on stderr when it is a terminal and the run takes more than a second or two
    (tqdm, imported only then); silent otherwise."""
    if total < 2 or not sys.stderr.isatty():
        return it
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency, but never required
        return it
    return tqdm(it, total=total, delay=1.5, unit="file", file=sys.stderr, leave=False)


def _fix_files(files, opts, args) -> int:
    """--fix / --diff: each file's verified fix chain (lint/fixes.py); --fix writes the files,
    --diff prints unified diffs. Returns the number of files that changed (or would)."""
    from .checker import read_source
    from .fixes import fix_source
    from .guard import TooDeep, run_deep

    changed = fixed = 0
    for path in files:
        code, mapper, problem = read_source(path, opts.max_file_size)
        if problem is not None or mapper is not None or "torch" not in code:
            continue  # unreadable files are reported by the check that follows; notebooks are not fixed
        try:
            out = run_deep(fix_source, code, path, opts.shapes, opts.select, opts.ignore, args.unsafe_fixes,
                           constructions=opts.constructions, time_budget=opts.time_budget)
        except TooDeep:
            continue
        except Exception:  # a syntax error: the check that follows reports it
            from .engine import strict_mode

            if strict_mode():
                import libcst as cst

                if not isinstance(sys.exc_info()[1], cst.ParserSyntaxError):
                    raise
            continue
        if not out.changed:
            continue
        changed += 1
        fixed += len(out.fixed)
        if args.diff:
            sys.stdout.write(out.diff())
        else:
            with open(path, "rb") as f:
                raw = f.read()
            newline = "\r\n" if b"\r\n" in raw else "\n"
            with open(path, "w", encoding=_encoding(raw), newline=newline) as f:
                f.write(out.after)
    if args.fix and not args.diff:
        print(f"shapelint: fixed {fixed} finding{'s' if fixed != 1 else ''} in {changed} "
              f"file{'s' if changed != 1 else ''}", file=sys.stderr)
    return changed


def _encoding(raw: bytes) -> str:
    import io
    import tokenize

    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        return "utf-8"
    return enc


def cmd_check(args) -> int:
    from .reporters import Item, get_reporter

    opts, origin = _options(args)
    files, bad_files = [], 0
    for path, problem in _iter_files(args.paths):
        if problem:
            print(problem, file=sys.stderr)
            bad_files += 1
        else:
            files.append(path)
    if args.diff:
        if args.confirm:
            raise CliError("shapelint: --diff and --confirm cannot be combined")
        return 1 if _fix_files(files, opts, args) else (2 if bad_files else 0)
    if args.fix:
        _fix_files(files, opts, args)
    jobs = 1 if args.confirm else (args.jobs or os.cpu_count() or 1)
    results = []
    for r in _progress(_results(files, opts, jobs), len(files)):
        # one unreadable, unparsable or too deep file must not hide the findings of the others
        for msg in r.errors + r.notes:
            print(msg, file=sys.stderr)
        bad_files += bool(r.errors)
        results.append(r)
    if opts.shapes or opts.constructions:
        _check_input_shapes(opts, origin, results)
    items: List[Item] = [it for r in results for it in r.items]
    defects = []  # places where torch contradicts shapelint itself: not findings, never the exit status
    with_findings = [r for r in results if r.findings]
    if args.confirm and with_findings:
        from .commands.confirm import ConfirmError, confirm_findings

        from concurrent.futures import ThreadPoolExecutor

        def confirm(r):
            return confirm_findings(r.analysis, r.findings, device=args.device, timeout=args.timeout,
                                    memory=args.confirm_memory)

        confirmations = {}
        # one child process per file: a few at a time, since each mostly waits for torch to import
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1, len(with_findings)))) as pool:
                for got in pool.map(confirm, with_findings):
                    defects.extend(got.pop("defects", []))
                    confirmations.update(got)
        except ConfirmError as e:  # also under `python -m shapelint.cli`, where this module is __main__
            raise CliError(str(e))
        for r in with_findings:
            for it, f in zip(r.items, r.findings):
                it.confirmation = confirmations.get(id(f))
    coverage = [dict(c, path=r.path) for r in results for c in r.coverage]
    reporter_cls = get_reporter(args.format)

    def make(out):
        rep = reporter_cls(out, sys.stderr)
        rep.coverage, rep.statistics = coverage, args.statistics
        return rep

    if args.output_file:
        try:
            with open(args.output_file, "w", encoding="utf-8") as out:
                make(out).report(items, defects)
        except OSError as e:
            raise CliError(f"shapelint: --output-file {args.output_file}: {e.strerror or e}")
    else:
        make(sys.stdout).report(items, defects)
        sys.stdout.flush()  # the findings before the coverage lines of stderr, when both are one stream
    _print_coverage(coverage, args.statistics)
    if bad_files:
        return 2
    if items:
        return 1
    if args.require_coverage and any(not c["analysed"] for c in coverage):
        return 3
    return 0


def _coverage_phrase(c) -> str:
    why = c.get("reason") or "not analysed"
    hint = c.get("hint")
    return f"{c['class']} ({why}{': ' + hint if hint else ''})"


def _print_coverage(coverage, statistics: bool) -> None:
    """One line on stderr when a model class could not be analysed: how many were, and why each
    other one was not (``--statistics``: always, and a table, one row per class)."""
    missing = [c for c in coverage if not c["analysed"]]
    if not coverage or not (missing or statistics):
        return  # silence: every model class of the checked files was analysed
    done = sum(1 for c in coverage if c["analysed"])
    line = f"shapelint: analysed {done} of {len(coverage)} model class{'es' if len(coverage) != 1 else ''}"
    missing = [c for c in coverage if not c["analysed"]]
    if missing:
        line += "; not analysed: " + ", ".join(_coverage_phrase(c) for c in missing)
    print(line, file=sys.stderr)
    if statistics:
        for c in coverage:
            state = "analysed" if c["analysed"] else "NOT ANALYSED"
            extra = "" if c["analysed"] else "  " + (c.get("reason") or "") + \
                (f"; {c['hint']}" if c.get("hint") else "")
            if c["analysed"] and c.get("input"):
                extra = f"  at input {c['input']}"
            print(f"{c['path']}:{c['line']}: {c['class']:<24} {state}{extra}", file=sys.stderr)


def cmd_explain(args) -> int:
    from .rules_registry import fix_doc, rule_by_code

    rule = rule_by_code(args.code)
    if rule is None:
        raise CliError(f"shapelint: unknown rule {args.code!r}; `shapelint rules` lists them")
    print(f"{rule.CODE} ({rule.NAME}): {rule.SUMMARY}\n")
    print(rule.DOC.rstrip())
    print(f"\n## Fix (`check --fix`)\n{fix_doc(rule)}")
    return 0


def cmd_rules(args) -> int:
    from .rules_registry import all_rules

    for r in all_rules():
        print(f"{r.CODE}  {r.NAME:24s} {r.SUMMARY}")
    return 0


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return n


def _run_summary(args) -> int:
    from .commands.summary import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shapelint", description="Static tensor-shape checks for PyTorch models.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    c = sub.add_parser("check", help="report shape bugs in model files")
    c.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    c.add_argument("--input-shape", action="append", metavar="CLASS=DIMS",
                   help="input shape of a model class, e.g. Net=1,1,28,28 or Net=N,3,H,W (repeat for several); "
                        "Net.cond=2,4 names a forward parameter, Net.batch.x=2,3 a key of a dict parameter, "
                        "a :long suffix the dtype (Net=2,16:long)")
    c.add_argument("--format", choices=FORMATS, default="text",
                   help="text (flake8's lines), json, sarif (SARIF 2.1.0, for GitHub code scanning), "
                        "github (GitHub Actions annotations)")
    c.add_argument("--output-file", metavar="PATH", help="write the report to PATH instead of stdout")
    c.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                   help="files analysed in parallel (default: all cores); the output is the same for any N")
    c.add_argument("--max-file-size", metavar="SIZE",
                   help="skip larger files with one line on stderr (default 2MB; e.g. 500kB, 5MB)")
    c.add_argument("--construct", action="append", metavar="CALL",
                   help="a construction to analyse, e.g. 'ResNet(depth=20)' or 'wrn(28, 10)' (repeat for several)")
    c.add_argument("--statistics", action="store_true",
                   help="print a table of the model classes analysed and not (stderr); with --format json, "
                        "the report becomes {findings, coverage}")
    c.add_argument("--require-coverage", action="store_true",
                   help="exit 3 when no finding is reported but a model class could not be analysed")
    c.add_argument("--time-budget", metavar="SECONDS",
                   help="CPU seconds of analysis per class, three times that per file (default 2; 0: none); a class still being analysed "
                        "when it is spent is left unknown, with one line on stderr")
    c.add_argument("--select", help="comma-separated codes or prefixes to report (default: all)")
    c.add_argument("--ignore", help="comma-separated codes or prefixes to skip")
    c.add_argument("--confirm", action="store_true",
                   help="run the real torch forward pass to confirm each finding (runs your model code; needs torch)")
    c.add_argument("--device", choices=("auto", "cuda", "cpu", "meta"), default="auto",
                   help="with --confirm: where to run (auto: CUDA if available, else meta with CPU fallback)")
    c.add_argument("--timeout", type=float, default=60.0, help="with --confirm: seconds per model (default 60)")
    c.add_argument("--confirm-memory", default="4G", metavar="SIZE",
                   help="with --confirm: memory the model may use beyond torch's own (default 4G; 0: no limit)")
    c.add_argument("--fix", action="store_true",
                   help="rewrite the files with the safe fixes (verified: the fixed file lints clean of them), "
                        "then report what is left")
    c.add_argument("--unsafe-fixes", action="store_true",
                   help="with --fix/--diff: also the unsafe fixes (torch.flatten(x, 1), nn.LazyLinear, "
                        "view(x.size(0), -1)); in the report, mark them")
    c.add_argument("--diff", action="store_true",
                   help="print the fixes as a unified diff instead of writing them (exit 1 if any)")
    c.add_argument("--no-cache", action="store_true",
                   help="do not read or write the result cache (config: cache = false)")
    c.add_argument("--cache-dir", metavar="DIR",
                   help="result cache directory (config: cache-dir; default: .shapelint_cache/ at the project root)")
    c.set_defaults(func=cmd_check)

    from .commands.summary.arguments import add_arguments as add_summary_arguments

    s = sub.add_parser("summary", help="print a torchsummary/torchinfo table without running the model")
    add_summary_arguments(s)
    s.set_defaults(func=_run_summary)

    e = sub.add_parser("explain", help="print the documentation of a rule")
    e.add_argument("code", metavar="SHPNNN")
    e.set_defaults(func=cmd_explain)

    r = sub.add_parser("rules", help="list the rules")
    r.set_defaults(func=cmd_rules)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from . import __version__

        print(f"shapelint {__version__}")
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CliError as e:
        print(str(e), file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
