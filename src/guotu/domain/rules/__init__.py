"""The plan-review engine (成果审查): rule packs as data, operators by name, findings.

* :mod:`~guotu.domain.rules.pack`: parse packs and profiles, layer them, hash them.
* :mod:`~guotu.domain.rules.evaluate`: the review context, findings, the operator registry.
* :mod:`~guotu.domain.rules.spatial`, :mod:`~guotu.domain.rules.transmission`,
  :mod:`~guotu.domain.rules.tables`: the built-in operators.
* :mod:`~guotu.domain.rules.compat`: the use-compatibility table of 传导 checks.
"""
