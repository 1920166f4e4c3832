"""The command lines a project documents for its own scripts, as option values (issue 9).

Many projects give their models' configurations only on the command line, in the README or a
shell script beside the code:

    python main.py --model condensenet -b 64 -j 12 cifar10 --stages 14-14-14 --growth 8-16-32
    python train.py --net_type resnet --dataset cifar100 --depth 56 --bottleneck

``documented(root)`` finds such lines (``*.sh`` files, README and other Markdown/reST files,
continuation lines joined, environment prefixes and interpreter flags skipped) and maps each to
the project's script it runs. ``world(tree, argv)`` parses one line the way the script's own
``argparse`` parser would (the ``add_argument`` calls of the script, read with ``ast``): each
option the line gives becomes its value in a WORLD (lint/staticeval.py), converted by its
``type``. A line argparse would refuse (an unknown option, a value outside ``choices``, a missing
argument, ``--help``) gives nothing; a value written as a placeholder (``[cifar10/cifar100]``,
``<depth>``, ``$DEPTH``) or converted by a function of the project is UNKNOWN, never guessed.

Only the standard library (``ast``, ``shlex``, ``re``) is used; every file read is told to
core/project.py's READ_HOOK (through staticeval's reader), so cached results follow the docs.
"""
from __future__ import annotations

import ast
import os
import re
import shlex
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .staticeval import _SKIP_DIRS, CommandUnknown, _notify, _read

MAX_DOCS = 60  # documentation files read under a project root
MAX_DEPTH = 3  # folders below the root searched for them
MAX_LINES = 12  # command lines kept per script
_DOC_SUFFIXES = (".sh", ".bash", ".md", ".rst", ".markdown")
_PYTHON = re.compile(r"(?:^|[\s;&|(`])(?:[\w./-]*/)?python[0-9.]*(?=\s)")
_INTERP_FLAGS_WITH_VALUE = {"-W", "-X", "-c", "-m"}
_SHELL_STOP = {";", "&&", "||", "|", "&", ">", ">>", "<", "2>", "2>&1", "1>", "|&"}
_REDIRECT = re.compile(r"(?:^|\s)(?:\d?>|<|\||;|&)")
_PLACEHOLDER = re.compile(r"[\[\]<>{}$*|]")


Unknown = CommandUnknown  # a value not static: reading it is UNKNOWN
UNKNOWN = CommandUnknown()


def _doc_files(root: str) -> List[str]:
    out: List[str] = []
    base = root.rstrip(os.sep).count(os.sep)
    for d, dirs, files in os.walk(root):
        if d.count(os.sep) - base >= MAX_DEPTH:
            dirs[:] = []
        dirs[:] = sorted(x for x in dirs if x not in _SKIP_DIRS and not x.startswith("."))
        for f in sorted(files):
            if f.lower().endswith(_DOC_SUFFIXES) or f.upper().startswith("README"):
                out.append(os.path.join(d, f))
                if len(out) >= MAX_DOCS:
                    return out
    return out


def _logical_lines(text: str) -> List[Tuple[int, str]]:
    """(first line number, line) with shell continuations (``\\`` at the end) joined."""
    out: List[Tuple[int, str]] = []
    cur, start = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        s = line.rstrip()
        if cur and s.lstrip().startswith(("```", "~~~")):
            out.append((start, cur))  # a Markdown fence closes the block: the `\` before it continues nothing
            cur = ""
        if not cur:
            start = n
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        out.append((start, cur + s))
        cur = ""
    if cur:
        out.append((start, cur))
    return out


def _invocations(line: str) -> List[Tuple[str, List[str]]]:
    """``(script, argv)`` for each ``python [flags] script.py args`` in one logical line."""
    out: List[Tuple[str, List[str]]] = []
    for m in _PYTHON.finditer(line):
        rest = line[m.end():]
        if m.group(0).startswith("`") or line[:m.start() + 1].count("`") % 2:
            rest = rest.split("`")[0]  # Markdown inline code: `python train.py --depth 20`
        rest = _REDIRECT.split(rest)[0]  # `... 2>&1 | tee log`, `> out.txt`, `; next`
        try:
            lex = shlex.shlex(rest, posix=True, punctuation_chars=";&|<>")
            lex.whitespace_split = True
            lex.commenters = "#"
            tokens = list(lex)
        except ValueError:
            continue
        tokens = _bracketed(tokens)
        i = 0
        while i < len(tokens) and tokens[i].startswith("-") and tokens[i] != "-m":
            i += 2 if tokens[i] in _INTERP_FLAGS_WITH_VALUE else 1
        if i >= len(tokens):
            continue
        if tokens[i] == "-m":
            if i + 1 >= len(tokens):
                continue
            script = tokens[i + 1].replace(".", "/") + ".py"
            i += 2
        elif tokens[i].endswith(".py"):
            script = tokens[i]
            i += 1
        else:
            continue
        argv: List[str] = []
        for t in tokens[i:]:
            if t in _SHELL_STOP or t.startswith((">", "2>", "1>")):
                break
            argv.append(t.strip("`"))
        out.append((script, argv))
    return out


def _bracketed(tokens: List[str]) -> List[str]:
    """A placeholder written with spaces (``--resume [pre-trained model dir]``) is one argument:
    the words from an unclosed ``[`` to its ``]`` are joined (the value stays a placeholder)."""
    out: List[str] = []
    for t in tokens:
        if out and out[-1].count("[") > out[-1].count("]"):
            out[-1] += " " + t
        else:
            out.append(t)
    return out


# per process: root -> its documentation files; (doc, its text's length and hash) -> its invocations
_DOCS: Dict[Tuple[str, int], List[str]] = {}
_LINES: Dict[Tuple[str, int, int], List[Tuple[int, str, List[str]]]] = {}


def documented(root: str, scripts: List[str]) -> Dict[str, List[Tuple[List[str], str]]]:
    """Absolute script path -> (argument list, 'README.md:12') for each command line documented
    for it (at most MAX_LINES, duplicates dropped), for the project's ``scripts`` (absolute paths)."""
    by_base: Dict[str, List[str]] = {}
    for s in scripts:
        by_base.setdefault(os.path.basename(s), []).append(s)
    known = set(scripts)
    out: Dict[str, List[Tuple[List[str], str]]] = {}
    try:
        stamp = (root, os.stat(root).st_mtime_ns)
    except OSError:
        return out
    docs = _DOCS.get(stamp)
    if docs is None:  # once per process (and state of the root folder): a project's model files share it
        docs = _DOCS[stamp] = _doc_files(root)
    for doc in docs:
        _notify(os.path.abspath(doc), True, True)  # every analysed file depends on the docs (the cache)
        got = _read(doc)
        if got is None:
            continue
        key = (doc, len(got[0]), hash(got[0]))
        found = _LINES.get(key)
        if found is None:
            found = _LINES[key] = [(n, script, argv) for n, line in _logical_lines(got[0]) if "python" in line
                                   for script, argv in _invocations(line)]
        for n, script, argv in found:
            path = _resolve(script, root, os.path.dirname(doc), known, by_base)
            if path is None:
                continue
            lines = out.setdefault(path, [])
            if all(argv != a for a, _ in lines) and len(lines) < MAX_LINES:
                lines.append((argv, f"{os.path.relpath(doc, root)}:{n}"))
    return out


def _resolve(script: str, root: str, doc_dir: str, known, by_base) -> Optional[str]:
    if _PLACEHOLDER.search(script):
        return None
    for base in (root, doc_dir):
        p = os.path.abspath(os.path.join(base, script))
        if p in known:
            return p
    same = by_base.get(os.path.basename(script), [])
    return same[0] if len(same) == 1 else None


# ---------------------------------------------------------------- argparse, read statically


class _Spec:
    __slots__ = ("flags", "dest", "action", "type", "nargs", "const", "choices", "positional")

    def __init__(self) -> None:
        self.flags: List[str] = []
        self.dest = ""
        self.action = "store"
        self.type: Any = None  # None (str), "int", "float", "str", or UNKNOWN (a function)
        self.nargs: Any = None
        self.const: Any = None
        self.choices: Optional[List[Any]] = None
        self.positional = False


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return UNKNOWN


def specs(tree: ast.Module, imported: Sequence[ast.Call] = ()) -> Optional[List[_Spec]]:
    """The options of the script's ``add_argument`` calls, after those of a parser it imports
    (``from core.option import parser``) (None: no parser, or one built in ways not read:
    sub-parsers, ``parents=``)."""
    out: List[_Spec] = []
    for node in [*imported, *ast.walk(tree)]:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr == "add_subparsers" or \
                node.func.attr == "ArgumentParser" and any(k.arg == "parents" for k in node.keywords):
            return None
        if node.func.attr != "add_argument":
            continue
        sp = _Spec()
        names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if len(names) != len(node.args) or not names:
            return None
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        if any(k.arg is None for k in node.keywords):
            return None
        sp.positional = not names[0].startswith("-")
        sp.flags = [] if sp.positional else names
        longs = [n for n in names if n.startswith("--")]
        sp.dest = names[0] if sp.positional else (longs[0][2:] if longs else names[0].lstrip("-")).replace("-", "_")
        if "dest" in kw:
            d = _literal(kw["dest"])
            if not isinstance(d, str):
                return None
            sp.dest = d
        if "action" in kw:
            a = _literal(kw["action"])
            if not isinstance(a, str):
                return None
            sp.action = a
        t = kw.get("type")
        if t is not None:
            sp.type = t.id if isinstance(t, ast.Name) and t.id in ("int", "float", "str") else UNKNOWN
        if "nargs" in kw:
            n = kw["nargs"]  # argparse.REMAINDER is '...': the rest of the line (yacs' `opts`)
            sp.nargs = "..." if isinstance(n, (ast.Attribute, ast.Name)) and \
                (n.attr if isinstance(n, ast.Attribute) else n.id) == "REMAINDER" else _literal(n)
        if "const" in kw:
            sp.const = _literal(kw["const"])
        if "choices" in kw:
            c = _literal(kw["choices"])
            # choices not literal (``choices=model_names``): membership is the evaluation's to check
            sp.choices = list(c) if isinstance(c, (list, tuple)) else None
        out.append(sp)
    return out or None


class _Refused(Exception):
    """argparse would exit on this command line."""


def _convert(sp: _Spec, text: str) -> Any:
    if _PLACEHOLDER.search(text):
        return UNKNOWN
    if sp.type is UNKNOWN:
        return UNKNOWN
    try:
        v: Any = int(text) if sp.type == "int" else float(text) if sp.type == "float" else text
    except ValueError:
        raise _Refused
    if sp.choices is not None and v not in sp.choices:
        if any(isinstance(c, Unknown) for c in sp.choices):
            return UNKNOWN
        raise _Refused  # argparse: invalid choice
    return v


def _is_option(tok: str) -> bool:
    if not tok.startswith("-") or tok == "-":
        return False
    try:
        float(tok)
        return False  # a negative number
    except ValueError:
        return True


def world(tree: ast.Module, argv: List[str], imported: Sequence[ast.Call] = ()) -> Optional[Dict[str, Any]]:
    """``{dest: value}`` for the options ``argv`` gives the script whose syntax tree is ``tree``
    (values UNKNOWN where not static), or None when the script's parser is not read or argparse
    would refuse the line."""
    sps = specs(tree, imported)
    if sps is None:
        return None
    try:
        return _parse(sps, argv)
    except _Refused:
        return None


def _find(sps: List[_Spec], flag: str) -> _Spec:
    exact = [s for s in sps if flag in s.flags]
    if exact:
        return exact[0]
    if flag.startswith("--"):  # argparse accepts a unique prefix of a long option
        pre = [s for s in sps for f in s.flags if f.startswith(flag)]
        if len({id(s) for s in pre}) == 1:
            return pre[0]
    raise _Refused


def _take(sp: _Spec, argv: List[str], i: int) -> Tuple[Any, int]:
    """The value(s) for ``sp`` from ``argv[i:]`` and the next index."""
    n = sp.nargs
    if n is None:
        if i >= len(argv) or _is_option(argv[i]):
            raise _Refused  # argparse: expected one argument
        return _convert(sp, argv[i]), i + 1
    if isinstance(n, int) and not isinstance(n, bool):
        if i + n > len(argv) or any(_is_option(a) for a in argv[i:i + n]):
            raise _Refused
        return [_convert(sp, a) for a in argv[i:i + n]], i + n
    if n in ("*", "+", "?"):
        j = i
        while j < len(argv) and not _is_option(argv[j]) and (n != "?" or j == i):
            j += 1
        if n == "+" and j == i:
            raise _Refused
        if n == "?":
            return (_convert(sp, argv[i]) if j > i else sp.const), j
        return [_convert(sp, a) for a in argv[i:j]], j
    raise _Refused


def _parse(sps: List[_Spec], argv: List[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    positionals = [s for s in sps if s.positional]
    pos_values: List[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--":
            raise _Refused  # argparse's handling of '--' varies by version: no run is assumed
        if not _is_option(tok):
            pos_values.append(tok)
            i += 1
            continue
        flag, eq, inline = tok.partition("=")
        if not eq and not flag.startswith("--") and len(flag) > 2 and not any(flag in s.flags for s in sps):
            flag, inline, eq = flag[:2], flag[2:], "="  # -b64 (a single-dash '-net' is its own flag)
        sp = _find(sps, flag)
        i += 1
        a = sp.action
        if a in ("help", "version"):
            raise _Refused
        if a in ("store_true", "store_false", "store_const", "count", "append_const"):
            if eq:
                raise _Refused
            if a == "count":
                prev = out.get(sp.dest, 0)
                out[sp.dest] = prev + 1 if isinstance(prev, int) else UNKNOWN
            elif a == "append_const":
                out[sp.dest] = UNKNOWN
            else:
                out[sp.dest] = True if a == "store_true" else False if a == "store_false" else sp.const
            continue
        if a not in ("store", "append"):
            out[sp.dest] = UNKNOWN  # a custom Action class
            if eq:
                continue
            while i < len(argv) and not _is_option(argv[i]):
                i += 1
            continue
        if eq:
            if sp.nargs not in (None, "?"):
                raise _Refused
            v: Any = _convert(sp, inline)
        else:
            v, i = _take(sp, argv, i)
        out[sp.dest] = UNKNOWN if a == "append" else v
    if len(pos_values) > len(positionals) and not any(s.nargs in ("*", "+", "...") for s in positionals):
        raise _Refused
    k = 0
    for sp in positionals:
        if sp.nargs in ("*", "+", "..."):
            if sp is not positionals[-1]:
                out[sp.dest] = UNKNOWN
                break
            rest = pos_values[k:]
            if sp.nargs == "+" and not rest:
                raise _Refused
            out[sp.dest] = [_convert(sp, a) for a in rest]
            k = len(pos_values)
            continue
        if sp.nargs == "?":
            if k < len(pos_values):
                out[sp.dest] = _convert(sp, pos_values[k])
                k += 1
            continue
        if k >= len(pos_values):
            raise _Refused  # a positional argparse requires
        out[sp.dest] = _convert(sp, pos_values[k])
        k += 1
    return out
