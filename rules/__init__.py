"""shapelint's checks, one module per code (``shpNNN_short_name.py``).

A rule module defines ``CODE``, ``NAME``, ``SUMMARY`` (one line), ``DOC`` (what it catches, why
it matters, example, use instead, limits), its violation payloads (one ``@dataclass`` per case,
subclassing ``shapelint.core.facts.Payload``, with ``KIND`` naming the family it owns), ``KINDS``
(those payload classes), and ``message(payload, node, ctx)``, which turns one violation into the
finding's text: all the English of a finding lives here. The engine imports the payload classes
and raises ``Violation(Payload(...))``; ``shapelint.rules_registry`` fails at import when a payload
has no rule or two rules claim one kind. A rule may define ``on_forward_end(facts, output)`` to
decide at the end of forward (SHP005). Rules never walk syntax and never infer shapes: the engine
has done that once for all of them.
"""
