"""Functions registered by name: the check operators and the review operators.

A rule pack or a check list names its operator; :class:`Registry` finds the function, and an
unknown name fails with the list of the known ones (STYLE §5).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from guotu.errors import ConfigError

__all__ = ["Registry"]

F = TypeVar("F", bound=Callable[..., Any])


class Registry(Generic[F]):
    """Functions registered by name (check operators here; review operators reuse it).

    Examples
    --------
    >>> ops: Registry[Callable[[int], int]] = Registry("operator")
    >>> @ops.register("double")
    ... def _double(x: int) -> int:
    ...     return 2 * x
    >>> ops.get("double")(4)
    8
    """

    def __init__(self, kind: str, loader: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self._functions: dict[str, F] = {}
        self._loader = loader
        self._lock = threading.RLock()
        self._loading = False

    def register(self, name: str) -> Callable[[F], F]:
        """Decorator registering a function under ``name`` (a name is registered once)."""

        def deco(fn: F) -> F:
            if name in self._functions and self._functions[name] is not fn:
                raise ConfigError(f"The {self.kind} {name!r} is registered twice.")
            self._functions[name] = fn
            return fn

        return deco

    def names(self) -> tuple[str, ...]:
        """Every registered name, sorted."""
        self._load()
        return tuple(sorted(self._functions))

    def get(self, name: str) -> F:
        """The function called ``name``; :class:`ConfigError` lists the known names."""
        self._load()
        try:
            return self._functions[name]
        except KeyError:
            raise ConfigError(
                f"Unknown {self.kind} {name!r}.", fix=f"Known: {', '.join(self.names())}."
            ) from None

    def _load(self) -> None:
        # Threads asking at once (the web app's first requests) wait for one load: the
        # loader is only cleared once its operators are registered.
        if self._loader is None:
            return
        with self._lock:
            loader = self._loader
            if loader is None or self._loading:  # done, or asked again while loading
                return
            self._loading = True
            try:
                loader()
            finally:
                self._loading = False
            self._loader = None
