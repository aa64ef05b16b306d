"""The ``guotu`` command line.

Every command follows one shape: parse options, call one service, render the result
(Chinese by default, ``--lang en`` for English, ``--json`` for machine-readable output on
stdout). Errors print one readable message and exit with the code of their class (2 for
input, 3 for environment or store); ``--debug`` shows the traceback.
"""

from __future__ import annotations

# Command modules register themselves on the root group when imported.
from guotu.cli import access as _access  # noqa: F401  (dept, role)
from guotu.cli import accounts as _accounts  # noqa: F401  (user)
from guotu.cli import admin as _admin  # noqa: F401  (admin)
from guotu.cli import audit as _audit  # noqa: F401  (audit)
from guotu.cli import case as _case  # noqa: F401  (case)
from guotu.cli import check as _check  # noqa: F401  (registers `guotu check`)
from guotu.cli import codes as _codes  # noqa: F401  (registers `guotu codes`)
from guotu.cli import demo as _demo  # noqa: F401  (registers `guotu demo`)
from guotu.cli import diff as _diff  # noqa: F401  (diff)
from guotu.cli import history as _history  # noqa: F401  (history, log)
from guotu.cli import login as _login  # noqa: F401  (login, logout, whoami)
from guotu.cli import monitor as _monitor  # noqa: F401  (monitor)
from guotu.cli import plans as _plans  # noqa: F401  (plan)
from guotu.cli import policies as _policies  # noqa: F401  (policy)
from guotu.cli import query as _query  # noqa: F401  (query)
from guotu.cli import review as _review  # noqa: F401  (review, rules)
from guotu.cli import serve as _serve  # noqa: F401  (serve)
from guotu.cli import tokens as _tokens  # noqa: F401  (token)
from guotu.cli import workspace as _workspace  # noqa: F401  (import, layers, roles, stats)
from guotu.cli.base import main, root

__all__ = ["main", "root"]
