"""User-facing errors shared by the commands.

This module imports nothing from shapelint, so every command (cli, summary, confirm, ...) can
raise these without importing another command: no import cycle goes through an error type.
"""
from __future__ import annotations


class CliError(Exception):
    """Bad input or a command that cannot do what was asked: ``shapelint`` prints the message
    (one line, no traceback) on stderr and exits with status 2."""


__all__ = ["CliError"]
