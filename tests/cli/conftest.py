"""The command-line tests run in the CLI's default language whatever the shell sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _default_language() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:  # before the module-scoped demo fixtures too
        patch.delenv("GUOTU_LANG", raising=False)
        yield
