"""Persistent cache of each file's results, for ``shapelint check`` and the flake8 plugin.

An unchanged file is answered from one small JSON entry, without importing libcst or running the
engine: hash the file's bytes, read the entry, check that every file its analysis looked at is as
it was, print.

Cache key (all must match for a hit):

* the file's content (sha256 of the bytes the CLI reads, of the lines flake8 hands over);
* the file's path (absolute, and as displayed: findings carry it);
* ``settings``: shapelint's version, a hash of the installed package's own sources (the layer
  table, the rules, the engine: any edit to shapelint invalidates everything; the hash is memoised
  by the files' mtimes and sizes, so computing it is a few ``stat`` calls), the Python version,
  the front end (``cli`` or ``flake8``), and every option that changes results: input shapes,
  select/ignore, ``SHAPELINT_STRICT`` and the rest of ``[tool.shapelint]``;
* the dependencies: every file the analysis read (imports followed; any file a later feature reads,
  e.g. a construction found in another module, is recorded the same way) with its content hash,
  and every file it looked for, found or not (``__init__.py`` upwards, a sibling module an import
  may name), with whether it existed. They are recorded by a hook in ``core/project.py``, the one
  place the engine touches the file system, and checked on every hit.

Layout: ``<dir>/v1/<sha256(settings, paths)>.json``, one entry per (file, settings), overwritten
when the file changes, so the cache does not grow with edits. Writes are atomic (a private
temporary file, then ``os.replace``): concurrent writers (``--jobs``, several editors) each leave a
whole entry, the last one wins. An unreadable, truncated or malformed entry is a miss and is
rewritten. The default directory is ``.shapelint_cache/`` at the project root (the nearest folder
with a ``pyproject.toml`` or ``.git``, else the current directory), with a ``.gitignore`` holding
``*`` and a ``CACHEDIR.TAG``, as ruff does. A cache that cannot be written is silently skipped.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import threading
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

FORMAT = 1
DEFAULT_DIR = ".shapelint_cache"
_GITIGNORE = "# Automatically created by shapelint.\n*\n"
_CACHEDIR_TAG = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                 "# This file is a cache directory tag created by shapelint.\n"
                 "# For information about cache directory tags see https://bford.info/cachedir/\n")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as f:
            return _sha(f.read())
    except OSError:
        return None


def project_root(start: str) -> str:
    """The nearest folder at or above ``start`` holding a pyproject.toml or .git, else the cwd."""
    d = os.path.abspath(start if os.path.isdir(start) else (os.path.dirname(start) or "."))
    while True:
        if os.path.isfile(os.path.join(d, "pyproject.toml")) or os.path.exists(os.path.join(d, ".git")):
            return d
        parent = os.path.dirname(d)
        if parent == d:
            return os.getcwd()
        d = parent


# ------------------------------------------------------------------------------------------------
# The version of shapelint's own code
# ------------------------------------------------------------------------------------------------

def _package_dirs() -> List[str]:
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here]
    try:
        spec = importlib.util.find_spec("shapelint.rules")
    except (ImportError, ValueError):
        spec = None
    for loc in (spec.submodule_search_locations or []) if spec is not None else []:
        loc = os.path.abspath(loc)
        if not loc.startswith(here + os.sep) and loc not in dirs:
            dirs.append(loc)
    return dirs


def _source_files() -> List[str]:
    out = []
    for top in _package_dirs():
        for root, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
            out.extend(os.path.join(root, f) for f in sorted(files) if f.endswith((".py", ".json", ".toml")))
    return out


_code_version_memo: Dict[str, str] = {}


def code_version(memo_dir: Optional[str] = None) -> str:
    """sha256 over shapelint's installed source files (engine, layer table, rules). Memoised by the
    files' (path, mtime, size) signature, in this process and in ``memo_dir``: a few stat calls."""
    files = _source_files()
    stats = []
    for p in files:
        try:
            st = os.stat(p)
        except OSError:
            continue
        stats.append(f"{p}\0{st.st_mtime_ns}\0{st.st_size}")
    signature = _sha("\n".join(stats).encode())
    if signature in _code_version_memo:
        return _code_version_memo[signature]
    memo = os.path.join(memo_dir, "code-version.json") if memo_dir else None
    if memo:
        try:
            with open(memo, encoding="utf-8") as f:
                data = json.load(f)
            if isinstance(data, dict) and data.get("signature") == signature and isinstance(data.get("sha"), str):
                _code_version_memo[signature] = data["sha"]
                return data["sha"]
        except (OSError, ValueError):
            pass
    h = hashlib.sha256()
    roots = _package_dirs()
    for p in files:
        rel = next((os.path.relpath(p, r) for r in roots if p.startswith(r + os.sep)), p)
        h.update(rel.encode() + b"\0" + (_file_sha(p) or "-").encode() + b"\n")
    sha = h.hexdigest()
    _code_version_memo[signature] = sha
    if memo:
        _atomic_write(memo, json.dumps({"signature": signature, "sha": sha}))
    return sha


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------

def _atomic_write(path: str, text: str) -> bool:
    """Write ``text`` to a private temporary file beside ``path``, then rename it over ``path``
    (atomic on POSIX and Windows): readers see the old entry or the new one, never half of one."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False


def _prepare_dir(directory: str) -> bool:
    try:
        os.makedirs(os.path.join(directory, f"v{FORMAT}"), exist_ok=True)
    except OSError:
        return False
    for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
        p = os.path.join(directory, name)
        if not os.path.exists(p):
            _atomic_write(p, text)
    return True


# ------------------------------------------------------------------------------------------------
# The cache
# ------------------------------------------------------------------------------------------------

class ResultCache:
    """Entries of one front end under one set of options. Picklable (plain attributes only), so a
    process pool can carry it."""

    def __init__(self, directory: str, frontend: str, options: Dict[str, Any]):
        self.directory = os.path.abspath(directory)
        self.frontend = frontend
        self.options = options
        self._ready: Optional[bool] = None
        self._settings: Optional[str] = None

    @property
    def settings(self) -> str:
        """Hash of everything but the file and its dependencies that the results depend on;
        computed on first use (a run whose files skip shapelint never touches the cache)."""
        if self._settings is None:
            settings = {
                "format": FORMAT,
                "shapelint": _shapelint_version(),
                "code": code_version(self.directory if self._prepare() else None),
                "python": list(sys.version_info[:2]),
                "libcst": _libcst_stamp(),
                "torch": _torch_stamp(),  # torch.__version__ decides branches (core.values.torch_version)
                "frontend": self.frontend,
                "strict": os.environ.get("SHAPELINT_STRICT", "") not in ("", "0"),
                "options": self.options,
            }
            self._settings = _sha(json.dumps(settings, sort_keys=True, default=repr).encode())
        return self._settings

    def _prepare(self) -> bool:
        if self._ready is None:
            self._ready = _prepare_dir(self.directory)
        return self._ready

    def entry_path(self, path: str) -> str:
        key = _sha(f"{self.settings}\0{os.path.abspath(path)}\0{path}".encode())
        return os.path.join(self.directory, f"v{FORMAT}", key[:40] + ".json")

    def lookup(self, path: str, content_sha: str) -> Optional[Dict[str, Any]]:
        """The stored result of ``path`` if its content, options and dependencies are unchanged."""
        try:
            with open(self.entry_path(path), encoding="utf-8") as f:
                entry = json.load(f)
            if not (isinstance(entry, dict) and entry.get("format") == FORMAT
                    and entry.get("settings") == self.settings and entry.get("path") == path
                    and entry.get("sha") == content_sha and isinstance(entry.get("result"), dict)):
                return None
            for dep, found, sha in entry["deps"]:
                if sha is not None:
                    if _file_sha(dep) != sha:
                        return None
                elif os.path.isfile(dep) != found:
                    return None
            return entry["result"]
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing, truncated or malformed: a miss, rewritten by store()

    def store(self, path: str, content_sha: str, deps: Dict[str, tuple], result: Dict[str, Any]) -> bool:
        if not self._prepare():
            return False
        entry = {"format": FORMAT, "settings": self.settings, "path": path, "sha": content_sha,
                 "deps": [[p, found, sha] for p, (found, sha) in sorted(deps.items())], "result": result}
        return _atomic_write(self.entry_path(path), json.dumps(entry))

    def cached(self, path: str, content: bytes, compute: Callable[[], Optional[Dict[str, Any]]]) -> Dict[str, Any]:
        """The result for ``path`` with this ``content``: stored, or ``compute()``'s (stored unless
        it returns None)."""
        sha = _sha(content)
        hit = self.lookup(path, sha)
        if hit is not None:
            return hit
        with recording() as deps:
            result = compute()
        if result is None:
            return {}
        self.store(path, sha, deps, result)
        return result


@contextmanager
def recording():
    """Record every file the engine looks for or reads (core/project.py's READ_HOOK): path ->
    (found, sha256 of its bytes taken before the engine reads it, or None if only looked for).
    Hashing before the read makes a file edited mid-analysis a later miss, never a stale hit."""
    from .core.project import READ_HOOK

    deps: Dict[str, tuple] = {}

    def note(p: str, found: bool, read: bool) -> None:
        p = os.path.abspath(p)
        if read:
            deps[p] = (True, _file_sha(p) or "unreadable")
        elif p not in deps:
            deps[p] = (found, None)

    token = READ_HOOK.set(note)
    try:
        yield deps
    finally:
        READ_HOOK.reset(token)


def _libcst_stamp() -> str:
    """Which libcst is installed (its parser decides what a file means), without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("libcst")
        st = os.stat(spec.origin)
        return f"{spec.origin}:{st.st_mtime_ns}:{st.st_size}"
    except (ImportError, ValueError, TypeError, OSError, AttributeError):
        return "?"


def _torch_stamp() -> str:
    from .core.values import torch_version

    return str(torch_version())


def _shapelint_version() -> str:
    from . import __version__

    return __version__


def open_cache(start: str, frontend: str, options: Dict[str, Any], enabled: bool = True,
               directory: Optional[str] = None, config: Optional[Dict[str, Any]] = None) -> Optional[ResultCache]:
    """The cache for a run, or None when disabled (``--no-cache``, ``cache = false`` in
    ``[tool.shapelint]``, ``SHAPELINT_NO_CACHE=1``). ``directory``: ``--cache-dir``; else
    ``$SHAPELINT_CACHE_DIR``; else config ``cache-dir`` (relative to the project root), else
    ``<project root>/.shapelint_cache``."""
    config = config or {}
    if not enabled or config.get("cache", True) is False or os.environ.get("SHAPELINT_NO_CACHE", "") not in ("", "0"):
        return None
    root = project_root(start)
    directory = directory or os.environ.get("SHAPELINT_CACHE_DIR") or None
    if not directory:
        directory = config.get("cache-dir", config.get("cache_dir"))
        if isinstance(directory, str) and directory:
            directory = os.path.join(root, os.path.expanduser(directory))
        else:
            directory = os.path.join(root, DEFAULT_DIR)
    return ResultCache(directory, frontend, options)


def result_options(config: Optional[Dict[str, Any]] = None, **options) -> Dict[str, Any]:
    """The options that change results, as plain data: the given ones and the config table's other
    keys (less the cache's own and those the caller already normalised)."""
    out = {k: v for k, v in sorted((config or {}).items())
           if k not in ("cache", "cache-dir", "cache_dir", "input-shape", "input_shape", "select", "ignore")}
    out.update(options)
    return out


# ------------------------------------------------------------------------------------------------
# Front ends
# ------------------------------------------------------------------------------------------------

def cached_check(path: str, opts: Any) -> Any:
    """``checker.check_file`` through ``opts.cache``: the file's FileResult (items, stderr lines,
    classes), stored as plain data. Files the checker refuses before reading (not a regular file,
    over the size limit) and results holding an internal error (SHP000) are never cached, and a
    hit imports neither libcst nor the engine."""
    from .checker import check_file

    content = _cacheable_content(path, opts)
    if content is None:
        return check_file(path, opts)
    fresh = []

    def compute() -> Optional[Dict[str, Any]]:
        r = check_file(path, opts)
        fresh.append(r)
        if any(it.code == "SHP000" for it in r.items):
            return None
        return {"items": [[it.line, it.col, it.code, it.message, it.cell, it.fix] for it in r.items],
                "errors": r.errors, "notes": r.notes, "classes": r.classes, "coverage": r.coverage,
                "functions": r.functions}

    got = opts.cache.cached(path, content, compute)
    if fresh:
        return fresh[0]
    return _stored_result(path, got)


def cache_hit(path: str, opts: Any) -> Any:
    """The stored FileResult of ``path``, or None (no cache, not cacheable, or a miss): what
    :func:`cached_check` returns without computing anything. ``shapelint check`` asks it first, in
    its own process, and starts worker processes only for the misses."""
    content = _cacheable_content(path, opts)
    if content is None:
        return None
    got = opts.cache.lookup(path, _sha(content))
    return None if got is None else _stored_result(path, got)


def _cacheable_content(path: str, opts: Any) -> Optional[bytes]:
    if opts.cache is None or opts.keep_analysis:
        return None
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > opts.max_file_size:
            return None
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _stored_result(path: str, got: Dict[str, Any]) -> Any:
    from .checker import FileResult
    from .reporters.base import Item

    return FileResult(path, items=[Item(path, *it[:5], fix=it[5] if len(it) > 5 else None)
                                   for it in got.get("items", [])], errors=got.get("errors", []),
                      notes=got.get("notes", []), classes=got.get("classes", {}),
                      coverage=got.get("coverage", []), functions=got.get("functions", []))


def flake8_results(cache: Optional[ResultCache], filename: str, code: str, compute):
    """The plugin's ``(line, col, text)`` triples through the cache; ``compute()`` returns them as
    a list, or raises (an analysis failure is not cached)."""
    if cache is None:
        return compute()
    got = cache.cached(filename, code.encode("utf-8", "surrogatepass"),
                       lambda: {"findings": [list(t) for t in compute()]})
    return [tuple(t) for t in got.get("findings", [])]
