"""``python -m shapelint``: the same command as ``shapelint``."""
import sys

from .cli import main

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
