"""Help text wrapped by display width: a Chinese character takes two terminal columns, and a
line may break between two of them (click measures characters and breaks at spaces only).

:class:`HelpFormatter` is click's formatter measuring that way; the guotu commands use it
for help in both languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import click

__all__ = ["HelpFormatter", "display_width", "wrap_text"]

_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_OPEN = "（“‘《「『【〔"
_CLOSE = "，。、；：！？）”’》」』】〕…"
#: A unit a line may break before: a short bracketed note of an option (``[必填]``,
#: ``[默认 批复]``), a run of other characters, or one CJK character, with the punctuation
#: that must not start (closing) or end (opening) a line attached.
_UNIT = re.compile(
    rf"\[[^\[\]\n]{{1,16}}\]|\s+|[{_OPEN}]*(?:[^\s{_CJK}{_OPEN}{_CLOSE}]+|[{_CJK}]|.)"
    rf"[{_CLOSE}]*"
)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (a Chinese character takes two).

    Examples
    --------
    >>> display_width("用法：guotu")
    11
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap_paragraph(text: str, width: int, initial: str, subsequent: str) -> list[str]:
    lines: list[str] = []
    parts: list[str] = []
    indent, used, space = initial, 0, False
    for unit in _UNIT.findall(text):
        if unit.isspace():
            space = bool(parts)
            continue
        while unit:
            room = max(width - display_width(indent), 10)
            gap = 1 if space and parts else 0
            w = display_width(unit)
            if parts and used + gap + w > room:
                lines.append(indent + "".join(parts))
                indent, parts, used, gap = subsequent, [], 0, 0
            if not parts and w > room:  # longer than a line: cut it
                cut, n = "", 0
                for ch in unit:
                    if n + display_width(ch) > room:
                        break
                    cut, n = cut + ch, n + display_width(ch)
                lines.append(indent + cut)
                indent, unit = subsequent, unit[len(cut) :]
                continue
            parts += [" "] * gap + [unit]
            used, space, unit = used + gap + w, False, ""
    if parts or not lines:
        lines.append(indent + "".join(parts))
    return lines


def _join_lines(lines: list[str]) -> str:
    """Lines of one paragraph as one: a space between words, none between Chinese text."""
    out = ""
    for line in lines:
        line = line.strip()
        if out and not (
            re.search(rf"[{_CJK}{_CLOSE}]$", out) or re.match(rf"[{_CJK}{_OPEN}]", line)
        ):
            out += " "
        out += line
    return out


def wrap_text(text: str, width: int, initial: str = "", subsequent: str = "") -> str:
    """Wrap paragraphs (separated by blank lines) to ``width`` display columns, like click's
    ``wrap_text(preserve_paragraphs=True)`` (a paragraph opening with a ``\\b`` line is kept
    as it is), but measuring Chinese characters as two columns and breaking between them.

    Examples
    --------
    >>> print(wrap_text("检查工作空间的图层：几何、代码、属性。", 20))
    检查工作空间的图层：
    几何、代码、属性。
    """
    paragraphs: list[tuple[int, bool, list[str]]] = []
    buf: list[str] = []
    extra = 0

    def flush() -> None:
        if buf:
            raw = buf[0].strip() == "\b"
            paragraphs.append((extra, raw, buf[1:] if raw else list(buf)))
            buf.clear()

    for line in text.expandtabs().splitlines():
        if not line.strip():
            flush()
            continue
        if not buf:
            extra = len(line) - len(line.lstrip())
        buf.append(line)
    flush()
    out = []
    for more, raw, lines in paragraphs:
        first, rest = initial + " " * more, subsequent + " " * more
        if raw:
            out.append("\n".join((first if i == 0 else rest) + ln for i, ln in enumerate(lines)))
        else:
            out.append("\n".join(_wrap_paragraph(_join_lines(lines), width, first, rest)))
    return "\n\n".join(out)


class HelpFormatter(click.HelpFormatter):
    """click's help formatter, measuring and wrapping by display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        prefix = "Usage: " if prefix is None else prefix
        head = f"{prefix:>{self.current_indent}}{prog} "
        if not args:
            self.write(head.rstrip(" ") + "\n")
            return
        indent = " " * display_width(head)
        self.write(wrap_text(args, self.width - self.current_indent, head, indent) + "\n")

    def write_heading(self, heading: str) -> None:
        colon = "：" if re.search(f"[{_CJK}]", heading) else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write(wrap_text(text, self.width, indent, indent) + "\n")

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        rows = list(rows)
        first_col = min(max((display_width(a) for a, _ in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_text(second, max(self.width - first_col - 2, 10)).splitlines() or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")
