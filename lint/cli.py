"""The ``shapelint`` command: check, summary, explain, rules.

Exit status of ``check``: 0 clean, 1 findings, 2 bad input (unreadable path, syntax error,
malformed --input-shape), always with one readable message and never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

_SKIP_DIRS = {"__pycache__", "node_modules", "site-packages", "build", "dist"}


class CliError(Exception):
    pass


def _iter_files(paths: List[str]):
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS
                                 and not os.path.isfile(os.path.join(root, d, "pyvenv.cfg")))
                for f in sorted(files):
                    if f.endswith(".py"):
                        yield os.path.join(root, f)
        elif os.path.isfile(p):
            yield p
        else:
            raise CliError(f"shapelint: {p}: no such file or directory")


def _check_file(path, shapes, select, ignore):
    import libcst as cst

    from .engine import analyze_source
    from .options import suppressed

    try:
        with open(path, encoding="utf-8") as f:
            code = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"shapelint: {path}: cannot read: {e}")
    if "torch" not in code:
        return None, []
    try:
        analysis = analyze_source(code, path, shapes, select=select, ignore=ignore)
    except cst.ParserSyntaxError as e:
        raise CliError(f"shapelint: {path}:{e.raw_line}:{e.raw_column + 1}: syntax error: {e.message}")
    lines = code.splitlines()
    kept = [f for f in analysis.findings
            if not (0 < f.line <= len(lines) and suppressed(lines[f.line - 1], f.code))]
    return analysis, kept


def cmd_check(args) -> int:
    from .options import ShapelintInputError, codes, input_shapes, load_config

    try:
        cfg = load_config(args.paths[0] if args.paths else ".")
        cfg_shapes = cfg.get("input-shape", cfg.get("input_shape", []))
        if isinstance(cfg_shapes, str):
            cfg_shapes = [cfg_shapes]
        shapes = input_shapes(list(cfg_shapes))
        for name, specs in input_shapes(args.input_shape or []).items():
            shapes[name] = specs  # the command line wins over the config file
        select = codes(args.select) or codes(cfg.get("select"))
        ignore = codes(args.ignore) or codes(cfg.get("ignore"))
    except ShapelintInputError as e:
        raise CliError(f"shapelint: {e}")
    # -- result cache (lint/cache.py); --confirm needs each file's analysis, so it bypasses it --
    from .cache import check_file as cached_check_file, open_cache, result_options

    cache = open_cache(args.paths[0] if args.paths else ".", "cli",
                       result_options(cfg, shapes=shapes, select=select, ignore=ignore),
                       enabled=not (args.no_cache or args.confirm), directory=args.cache_dir, config=cfg)
    results = []
    bad_files = 0
    for path in _iter_files(args.paths):
        try:
            analysis, findings = cached_check_file(cache, path, shapes, select, ignore, _check_file, CliError)
        except CliError as e:
            # one unreadable or unparsable file must not hide the findings of the others
            print(str(e), file=sys.stderr)
            bad_files += 1
            continue
        if findings:
            results.append((analysis, findings))
    all_findings = [f for _, fs in results for f in fs]
    confirmations = {}
    defects = []  # places where torch contradicts shapelint itself: not findings, never the exit status
    if args.confirm and all_findings:
        from .commands.confirm import ConfirmError, confirm_findings

        from concurrent.futures import ThreadPoolExecutor

        def confirm(item):
            return confirm_findings(item[0], item[1], device=args.device, timeout=args.timeout)

        # one child process per file: a few at a time, since each mostly waits for torch to import
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1, len(results)))) as pool:
                for got in pool.map(confirm, results):
                    defects.extend(got.pop("defects", []))
                    confirmations.update(got)
        except ConfirmError as e:  # also under `python -m shapelint.cli`, where this module is __main__
            raise CliError(str(e))
    if args.format == "json":
        out = []
        for f in all_findings:
            d = f.as_dict()
            if id(f) in confirmations:
                d.update(confirmations[id(f)])
            out.append(d)
        print(json.dumps(out, indent=2))
        for d in defects:  # stdout stays a list of findings
            print(f"{d['path']}: {d['message']}", file=sys.stderr)
    else:
        for f in all_findings:
            print(f"{f.path}:{f.line}:{f.col + 1}: {f.code} {f.message}")
            c = confirmations.get(id(f))
            if c is not None:
                dev = f" ({c['device']})" if c.get("device") else ""
                state = {True: f"confirmed by torch{dev}", False: f"NOT confirmed by torch{dev}"}.get(
                    c.get("confirmed"), "unconfirmed")
                print(f"    {state}: {c.get('evidence', '')}")
        for d in defects:
            print(f"{d['path']}: {d['message']}")
    if bad_files:
        return 2
    return 1 if all_findings else 0


def cmd_explain(args) -> int:
    from .rules_registry import rule_by_code

    rule = rule_by_code(args.code)
    if rule is None:
        raise CliError(f"shapelint: unknown rule {args.code!r}; `shapelint rules` lists them")
    print(f"{rule.CODE} ({rule.NAME}): {rule.SUMMARY}\n")
    print(rule.DOC.rstrip())
    return 0


def cmd_rules(args) -> int:
    from .rules_registry import all_rules

    for r in all_rules():
        print(f"{r.CODE}  {r.NAME:24s} {r.SUMMARY}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shapelint", description="Static tensor-shape checks for PyTorch models.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command")

    c = sub.add_parser("check", help="report shape bugs in model files")
    c.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    c.add_argument("--input-shape", action="append", metavar="CLASS=DIMS",
                   help="input shape of a model class, e.g. Net=1,1,28,28 or Net=N,3,H,W (repeat for several)")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--select", help="comma-separated codes or prefixes to report (default: all)")
    c.add_argument("--ignore", help="comma-separated codes or prefixes to skip")
    c.add_argument("--confirm", action="store_true",
                   help="run the real torch forward pass to confirm each finding (runs your model code; needs torch)")
    c.add_argument("--device", choices=("auto", "cuda", "cpu", "meta"), default="auto",
                   help="with --confirm: where to run (auto: CUDA if available, else meta with CPU fallback)")
    c.add_argument("--timeout", type=float, default=60.0, help="with --confirm: seconds per model (default 60)")
    c.add_argument("--no-cache", action="store_true",
                   help="do not read or write the result cache (config: cache = false)")
    c.add_argument("--cache-dir", metavar="DIR",
                   help="result cache directory (config: cache-dir; default: .shapelint_cache/ at the project root)")
    c.set_defaults(func=cmd_check)

    try:
        from .commands.summary import add_arguments as add_summary_arguments, run as run_summary
    except ImportError:  # pragma: no cover - during development only
        add_summary_arguments = run_summary = None
    if add_summary_arguments is not None:
        s = sub.add_parser("summary", help="print a torchsummary/torchinfo table without running the model")
        add_summary_arguments(s)
        s.set_defaults(func=run_summary)

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
