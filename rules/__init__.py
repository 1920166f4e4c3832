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

Fixes (``shapelint check --fix`` / ``--diff`` / ``--unsafe-fixes``): a rule may define
``fix(payload, node, ctx) -> Optional[shapelint.core.fixes.Fix]`` beside ``message``. It reads the same
typed payload (the right size is already in it: ``per_sample``, ``got``...) and asks the
``shapelint.core.fixes.FixContext`` ``ctx`` for syntax (the layer's constructor call, the argument bound
to a parameter, whether an expression is a literal constant); it returns the edits (node ->
replacement expression) and whether the fix is safe (a hardcoded size replaced by the integer the
analysis computed) or unsafe (a rewrite that changes behaviour: ``torch.flatten(x, 1)``,
``nn.LazyLinear``, ``view(x.size(0), -1)``). The fix is a function of the rule rather than a field
computed by the engine because only the rule knows which argument its payload talks about, and
because a fix needs the syntax the engine has long left behind. No fix is trusted alone:
``shapelint.fixes.fix_source`` applies it, re-analyses the file, follows the fixes of what that
reveals (the ``Linear`` after a corrected ``view``), and keeps the result only if no finding was
introduced; ``[*]`` in the output marks findings such a verified chain removes. When the literal to
edit is not in the layer's call (a default, a config entry), a fix offers ``choices`` and a
``claim`` (the layer, the parameter, the value) instead, and the one choice that gives exactly that
and changes nothing else is kept (``shapelint.core.fixes.traced_constant``). A rule without a
``fix`` says why in ``NO_FIX`` (one sentence); ``shapelint explain`` prints the fix's docstring or
that reason.
"""
