"""The shipped outbox of approval notices: one JSON object per line appended to a file, which
an SMS or e-mail gateway process reads (``tail -F``) and delivers. Each line is written whole
with one ``write`` on a file opened for appending, so concurrent server processes do not
interleave lines (POSIX appends of one ``write``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from guotu.domain.workflow.notices import Notice

__all__ = ["JsonLinesOutbox"]


class JsonLinesOutbox:
    """Append notices to ``path`` as JSON lines (UTF-8)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def send(self, notice: Notice) -> None:
        """Append one notice."""
        line = json.dumps(
            {
                "at": notice.at.isoformat(),
                "case": notice.case_id,
                "to": notice.to,
                "reason": notice.reason,
                "text_zh": notice.text_zh,
                "text_en": notice.text_en,
            },
            ensure_ascii=False,
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
