"""shapelint's checks, one module per code (``shpNNN_short_name.py``).

A rule module defines ``CODE``, ``NAME``, ``KINDS`` (the engine's violation kinds it reports),
``SUMMARY`` (one line), ``DOC`` (what it catches, why it matters, example, use instead, limits)
and ``message(data, node, ctx)``, which turns one fact into the finding's text. Rules never walk
syntax and never infer shapes: the engine has done that once for all of them.
"""
