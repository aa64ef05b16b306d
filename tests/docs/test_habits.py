"""The habits that keep the code clean are in the repository and agree with each other: the
pre-commit hooks run what `make lint` runs, the licence file is the licence pyproject states,
and the changelog has the Keep-a-Changelog shape."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _lint_tools() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    body = re.search(r"^lint:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, flags=re.M)
    assert body, "no lint target in the Makefile"
    tools = set()
    for line in body.group(1).splitlines():
        words = line.strip().replace("$(BIN)/", "").split()
        tools.add(" ".join(w for w in words[:2] if not w.startswith(("src", "tests"))))
    return tools


def test_pre_commit_runs_what_make_lint_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    entries = set()
    for hook in hooks:
        words = hook["entry"].replace(".venv/bin/", "").split()
        entries.add(" ".join(words[:2]) if words[0] == "ruff" else words[0])
    assert entries == _lint_tools()


def test_licence_file_is_the_licence_pyproject_states() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_changelog_has_an_unreleased_section_first() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert sections and sections[0] == "Unreleased"
    kinds = set(re.findall(r"^### (\w+)", text, flags=re.M))
    assert kinds <= {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def test_no_commented_out_doctest_examples() -> None:
    # an example either runs under --doctest-modules or is not there: ">>> # f(…)" is neither
    offences = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "src" / "guotu").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s*>>> # \w+\(", line)
    ]
    assert offences == []
