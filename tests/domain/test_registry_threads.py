"""Operator registries load once, even when threads ask at the same moment."""

from __future__ import annotations

import threading
import time

from guotu.domain.core.registry import Registry


def test_concurrent_first_lookups_wait_for_the_load() -> None:
    def slow_loader() -> None:
        time.sleep(0.2)  # a slow import: the others must wait, not see an empty registry
        reg.register("late")(len)

    reg: Registry[object] = Registry("operator", slow_loader)
    seen: list[object] = []
    errors: list[Exception] = []

    def ask() -> None:
        try:
            seen.append(reg.get("late"))
        except Exception as exc:  # any failure is the bug
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and seen == [len] * 8


def test_a_loader_asking_its_own_registry_does_not_deadlock() -> None:
    def loader() -> None:
        reg.register("a")(len)
        assert "a" in reg.names()  # asks while loading

    reg: Registry[object] = Registry("operator", loader)
    assert reg.names() == ("a",)
