"""The plan-review engine (成果审查): rule packs as data, operators by name, findings.

* :mod:`~guotu.domain.review.pack`: parse packs and profiles, layer them, hash them.
* :mod:`~guotu.domain.review.evaluate`: what an operator reads and returns (the review
  context; findings are :mod:`guotu.domain.core.findings`' records).
* :mod:`~guotu.domain.review.operators`: the operators by name, and the run of a pack.
* :mod:`~guotu.domain.review.spatial`, :mod:`~guotu.domain.review.transmission`,
  :mod:`~guotu.domain.review.tables`, :mod:`~guotu.domain.review.routing`: the built-in
  operators and the detour search.
* :mod:`~guotu.domain.review.compat`: the use-compatibility table of 传导 checks.
"""
