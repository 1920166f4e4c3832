"""Cross-module resolution inside a project: relative imports (`from ..ops.misc import X`) and
absolute imports of modules under the same root are followed; each file is parsed once per run.
Names from outside the project (torch, math, functools) are left to the interpreter's models."""
from __future__ import annotations

import contextvars
import os
from typing import Dict, List, Optional, Tuple

import libcst as cst

from .source import SourceModule

MAX_MODULES = 64  # a model should not need more; past this, names become unknown

# Dependency log for lint/cache.py: while it records an analysis, this holds a callable
# ``note(path, found, read)`` told of every file this module looks for or reads (before reading
# it), so a cached result is dropped when any of them changes, appears or disappears.
READ_HOOK: contextvars.ContextVar = contextvars.ContextVar("shapelint_read_hook", default=None)


def _isfile(path: str) -> bool:
    found = os.path.isfile(path)
    note = READ_HOOK.get()
    if note is not None:
        note(path, found, False)
    return found


class ModuleRef:
    """A module of the project used as a value (`from . import _utils`; `_utils.f`)."""

    def __init__(self, src: SourceModule):
        self.src = src


class Project:
    def __init__(self, main: SourceModule):
        self.main = main
        self.cache: Dict[str, Optional[SourceModule]] = {}
        path = os.path.abspath(main.path) if main.path and os.path.exists(main.path) else None
        if path:
            self.cache[path] = main
        self.root: Optional[str]
        self.package: Optional[str]
        self.root, self.package = _package_of(path) if path else (None, None)
        if self.package and self.package.split(".")[0] == "torch":
            # torch's own sources: their names are what the layer table models, by qualified name
            self.root, self.package = None, None

    def _load(self, path: str) -> Optional[SourceModule]:
        path = os.path.abspath(path)
        if path in self.cache:
            return self.cache[path]
        if len(self.cache) >= MAX_MODULES:
            return None
        note = READ_HOOK.get()
        if note is not None:
            note(path, True, True)
        try:
            with open(path, encoding="utf-8") as f:
                code = f.read()
            mod = SourceModule(code, path)
        except (OSError, UnicodeError, cst.ParserSyntaxError, RecursionError):  # unreadable or unparsable:
            # its names stay unknown (RecursionError: libcst on deeply nested code)
            mod = None
        self.cache[path] = mod
        return mod

    def module(self, dotted: str) -> Optional[SourceModule]:
        """The project module with this absolute dotted name, if it lies under the root (or, for
        a name the root does not have, beside the analysed file: see _script_dir)."""
        if not self.root or not dotted:
            return None
        for start in (self._base_for(dotted), self._script_dir(dotted), *self._between(), *self._above(dotted)):
            if start is None:
                continue
            base = os.path.join(start, *dotted.split("."))
            for cand in (base + ".py", os.path.join(base, "__init__.py")):
                if _isfile(cand):
                    return self._load(cand)
        return None

    def _above(self, dotted: str) -> List[str]:
        """The folders above the root (three levels at most) holding the name's top module or
        folder: a file in a folder without ``__init__.py`` importing its repository's own modules
        as the scripts at the top run it (``from pointnet_util import index_points`` and ``from
        models.Menghao.model import Net`` in models/Menghao/, with the repository on sys.path)."""
        if not self.root or self.package:
            return []
        out, d = [], os.path.dirname(self.root)
        top = dotted.split(".")[0]
        for _ in range(3):
            if d == os.path.dirname(d):
                break
            if os.path.isdir(os.path.join(d, top)) or _isfile(os.path.join(d, top + ".py")):
                out.append(d)
            d = os.path.dirname(d)
        return out

    def _script_dir(self, dotted: str) -> Optional[str]:
        """The analysed file's own folder, for a top-level name the root does not have: run as a
        script (or with that folder on sys.path), Python finds its siblings there first
        (`from vggm import VGGM` in pretrainedmodels/models/_driver.py)."""
        path = self.main.path
        if not path or not os.path.isabs(os.path.abspath(path)):
            return None
        here = os.path.dirname(os.path.abspath(path))
        if here == self._base_for(dotted):
            return None
        top = os.path.join(self._base_for(dotted), dotted.split(".")[0])
        if _isfile(top + ".py") or _isfile(os.path.join(top, "__init__.py")):
            return None  # the root has that name: it wins
        return here

    def _between(self) -> List[str]:
        """The folders between the analysed file's and the root, innermost first: a repository
        whose top folder has an ``__init__.py`` is still run from that folder (``from
        models.condensenet import CondenseNet`` in CondenseNet/models/_driver.py, root CondenseNet's
        parent), so a name neither the root nor the file's folder has is looked up there."""
        path = self.main.path
        if not path or not self.root:
            return []
        out, d = [], os.path.dirname(os.path.dirname(os.path.abspath(path)))
        while d.startswith(self.root + os.sep):
            out.append(d)
            d = os.path.dirname(d)
        return out

    def _base_for(self, dotted: str) -> str:
        """The folder absolute names start from: the root, or its parent when the name starts
        with the root's own folder (a namespace package without __init__.py: `from
        cifar10_models.resnet import resnet18` in cifar10_models/_driver.py, `from models.imagenet
        import mobilenetv2` in models/imagenet/, a package inside one)."""
        top = dotted.split(".")[0]
        if self.root and top == os.path.basename(self.root) and \
                not _isfile(os.path.join(self.root, top + ".py")) and \
                not _isfile(os.path.join(self.root, top, "__init__.py")):
            return os.path.dirname(self.root)
        return self.root or ""

    def absolute_name(self, src: SourceModule, level: int, module: str) -> Optional[str]:
        """`from ..ops import x` in torchvision/models/resnet.py -> 'torchvision.ops'."""
        if not src.path or not self.root:
            return None
        _, pkg = _package_of(os.path.abspath(src.path))
        if pkg is None:
            return None
        parts = pkg.split(".") if pkg else []
        up = level - 1  # level 1 is the file's own package (for __init__.py too)
        if up > len(parts):
            return None
        base = parts[: len(parts) - up] if up else parts
        name = ".".join(base + ([module] if module else []))
        return name or None

    def owns(self, dotted: str) -> bool:
        """Is this absolute module name a module of the project (its package, or a sibling file
        of a script: `from parts import Up` next to parts.py)?"""
        top = dotted.split(".")[0]
        if self.package and top == self.package.split(".")[0]:
            return True
        if not self.root or top in ("torch", "torchvision", "numpy", "math", "functools", "typing"):
            return False
        base = os.path.join(self._base_for(dotted), top)
        if _isfile(base + ".py") or _isfile(os.path.join(base, "__init__.py")) or \
                (os.path.isdir(base) and base == self.root and len(dotted.split(".")) > 1):
            return True
        parts = dotted.split(".")
        for here in (self._script_dir(dotted), *self._between()):
            if here is not None and (_isfile(os.path.join(here, top + ".py")) or
                                     _isfile(os.path.join(here, top, "__init__.py"))):
                return True
        for here in (self._base_for(dotted), self._script_dir(dotted), *self._between(), *self._above(dotted)):
            # a namespace package (folders without __init__.py: `from models.Menghao.model import
            # PointTransformerCls`) or a module above the root (_above) that is a file of the project
            if here is None:
                continue
            for k in range(len(parts), 0, -1):  # the module, or the module a name is imported from
                full = os.path.join(here, *parts[:k])
                if _isfile(full + ".py") or _isfile(os.path.join(full, "__init__.py")):
                    return True
        return False


def _package_of(path: str) -> Tuple[str, str]:
    """(root folder, dotted package of the file's folder) following __init__.py upwards."""
    d = os.path.dirname(path)
    parts = []
    while _isfile(os.path.join(d, "__init__.py")):
        parts.append(os.path.basename(d))
        parent = os.path.dirname(d)
        if parent == d:
            break
        d = parent
    return d, ".".join(reversed(parts))
