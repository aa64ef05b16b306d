"""The plan-review engine (成果审查): rule packs as data, operators by name, findings.

* :mod:`~guotu.domain.review.pack`: parse packs and profiles, layer them, hash them.
* :mod:`~guotu.domain.review.evaluate`: the review context, findings, the operator registry.
* :mod:`~guotu.domain.review.spatial`, :mod:`~guotu.domain.review.transmission`,
  :mod:`~guotu.domain.review.tables`: the built-in operators.
* :mod:`~guotu.domain.review.compat`: the use-compatibility table of 传导 checks.
"""
