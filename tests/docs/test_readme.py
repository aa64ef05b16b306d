"""Every ``guotu`` command in the README runs as written, in order, in the folder ``make demo``
leaves (``demo_county.gpkg`` and ``demo_county_files/``), and the output the README shows is
what the command prints.

``guotu serve`` is started as a real process and asked for its map page; every other command
runs in-process. A review or check may exit 1 (findings at ``--fail-on``); everything else
exits 0.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.demo.build import build_demo

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands(text: str) -> list[tuple[str, list[str]]]:
    """``(command line, lines the README shows as its output)`` for every ``guotu`` command
    in the README's ``sh`` and ``console`` blocks, in order."""
    out: list[tuple[str, list[str]]] = []
    for kind, body in re.findall(r"```(sh|console)\n(.*?)```", text, flags=re.S):
        lines = body.replace("\\\n", " ").splitlines()
        current: list[str] | None = None
        for line in lines:
            command = (
                line[2:]
                if kind == "console" and line.startswith("$ ")
                else (line if kind == "sh" else None)
            )
            if command is None:
                if current is not None:
                    current.append(line)
                continue
            command = re.sub(r"\s+#.*$", "", command).strip()
            for part in (p.strip() for p in command.split(" ; ")):
                if part.startswith("guotu "):
                    current = []
                    out.append((part, current))
    return out


def test_the_readme_parser_finds_continued_lines_and_outputs() -> None:
    text = (
        "```console\n$ guotu a -w x   # note\nline one\n$ make b\n```\n"
        "```sh\nguotu c \\\n    --d 1 ; guotu e\nmake f\n```\n"
    )
    assert readme_commands(text) == [
        ("guotu a -w x", ["line one"]),
        ("guotu c      --d 1", []),
        ("guotu e", []),
    ]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make demo` leaves: the demo county at its default size."""
    base = tmp_path_factory.mktemp("readme")
    build_demo(base / "demo_county.gpkg", base / "demo_county_files")
    return base


def _serve(argv: list[str], cwd: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "guotu", *argv, "--port", str(port)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ui/", timeout=2) as r:
                    assert r.status == 200
                    return
            except OSError:
                time.sleep(0.25)
        pytest.fail(f"guotu serve did not answer: {proc.stdout.read() if proc.stdout else ''}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def _cells(shown: str) -> list[str]:
    """The pieces of a shown output line that must appear in the real output (the parts
    between table borders and ellipses)."""
    parts = re.split(r"[│┃]|…", shown)
    return [p.strip() for p in parts if p.strip()]


def test_every_readme_command_runs_and_shows_what_the_readme_says(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert len(commands) >= 20
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "400")  # tables on one line each, as compared below
    runner = CliRunner()
    ran: list[str] = []
    for line, shown in commands:
        argv = shlex.split(line)[1:]
        if argv[0] == "serve":
            _serve(argv, folder)
            ran.append(line)
            continue
        result = runner.invoke(root, argv, catch_exceptions=False)
        allowed = (0, 1) if argv[0] in ("review", "check") else (0,)  # 1: findings
        assert result.exit_code in allowed, f"{line}\n{result.output}"
        flat = re.sub(r"\s+", " ", result.output)
        for piece in (c for s in shown for c in _cells(s)):
            assert re.sub(r"\s+", " ", piece) in flat, f"{line}: README shows {piece!r}\n{flat}"
        ran.append(line)
    assert any(c.startswith("guotu serve") for c in ran)


def test_a_read_known_before_anything_was_recorded_says_so(folder: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(folder)
    out = CliRunner().invoke(
        root, ["stats", "-w", "demo_county.gpkg", "--layer", "GHYD", "--known-at", "2020-01-01"]
    )
    assert out.exit_code == 0, out.output
    assert "还没有任何版本" in out.output and "--as-of" in out.output
