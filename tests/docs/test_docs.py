"""Docs that must not drift from the code."""

from __future__ import annotations

from pathlib import Path

import guotu
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.roles import ROLES

DOCS = Path(__file__).parents[2] / "docs"
README = Path(__file__).parents[2] / "README.md"


def test_glossary_lists_every_role_and_standard_field() -> None:
    text = (DOCS / "glossary.md").read_text(encoding="utf-8")
    for role in ROLES:
        assert f"`{role.id}`" in text and role.name_zh in text
    for name in FIELDS:
        assert f"`{name}`" in text


def test_public_api_all_is_complete_and_sorted() -> None:
    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def key(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert list(guotu.__all__) == sorted(guotu.__all__, key=key)
    for name in guotu.__all__:
        assert hasattr(guotu, name)


def test_readme_first_screen_has_the_two_set_up_commands() -> None:
    first = README.read_text(encoding="utf-8").split("---")[0]
    commands = [
        line.split("#")[0].strip() for line in first.splitlines() if line.startswith("make ")
    ]
    assert commands == ["make demo", "make test"]
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text()
    assert "make test" in ci
