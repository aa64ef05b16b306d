"""The command line's saved sign-ins: one access token per PostgreSQL workspace, kept in the
user's configuration folder (``$XDG_CONFIG_HOME/guotu/tokens.json``, by default
``~/.config/guotu/tokens.json``).

``guotu login`` writes a token here and ``guotu logout`` removes it; every other command on
that workspace reads it (:mod:`guotu.cli.principal`). The file is the user's alone: it is
written with mode 0600 in a folder of mode 0700, replaced whole (never half-written), and a
file others may read is refused rather than used, as ``ssh`` refuses a private key others may
read. A workspace is keyed by its location with any password masked
(:func:`workspace_key`): the same database and schema is the same workspace whatever password
reaches it.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from guotu.errors import ConfigError
from guotu.services.workspace import display_location, resolve_location

__all__ = [
    "SavedToken",
    "credentials_path",
    "forget_token",
    "save_token",
    "saved_token",
    "workspace_key",
]

_FORMAT = 1


@dataclass(frozen=True)
class SavedToken:
    """The token ``guotu login`` saved for one workspace: its text, whose it is, its id (to
    revoke it) and when it expires (ISO, UTC)."""

    workspace: str
    username: str
    token_id: str
    token: str
    expires_at: str


def credentials_path(environ: Mapping[str, str] | None = None) -> Path:
    """Where the saved tokens are: ``$XDG_CONFIG_HOME/guotu/tokens.json``, or
    ``~/.config/guotu/tokens.json``.

    Examples
    --------
    >>> credentials_path({"XDG_CONFIG_HOME": "/home/li/.cfg"}).as_posix()
    '/home/li/.cfg/guotu/tokens.json'
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "guotu" / "tokens.json"


def workspace_key(location: str) -> str:
    """The key of a workspace in the file: its location (an ``env:NAME`` resolved), with a
    password in it masked.

    Examples
    --------
    >>> workspace_key("postgresql://guotu:s3cret@db.local/yzt")
    'postgresql://guotu:***@db.local/yzt'
    """
    return display_location(resolve_location(location))


def _too_open(path: Path) -> ConfigError:
    return ConfigError(
        f"The token file {path} may be read by other users.",
        file=str(path),
        fix=f"Make it yours alone: chmod 600 {path} (or remove it and sign in again).",
        message_zh=f"令牌文件 {path} 的权限过宽：其他用户可以读取。",
        fix_zh=f"请执行 chmod 600 {path}，只允许本人读写（或删除该文件后重新登录）。",
    )


def _read(path: Path) -> dict[str, Any]:
    """The file's workspaces (empty when there is no file)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise _too_open(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"The token file {path} cannot be read: {exc}.",
            file=str(path),
            fix="Remove it and sign in again (guotu login).",
            message_zh=f"无法读取令牌文件 {path}：{exc}。",
            fix_zh="请删除该文件后重新登录（guotu login）。",
        ) from exc
    workspaces = doc.get("workspaces") if isinstance(doc, dict) else None
    return dict(workspaces) if isinstance(workspaces, dict) else {}


def _write(path: Path, workspaces: Mapping[str, Any]) -> None:
    """Replace the file with ``workspaces`` (mode 0600, folder 0700); no file when empty."""
    if not workspaces:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = json.dumps({"format": _FORMAT, "workspaces": workspaces}, ensure_ascii=False, indent=2)
    fd, tmp = tempfile.mkstemp(prefix=".tokens-", suffix=".json", dir=path.parent)  # 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def saved_token(location: str, environ: Mapping[str, str] | None = None) -> SavedToken | None:
    """The token saved for the workspace at ``location``, or ``None``.

    Raises
    ------
    ConfigError
        The file may be read by others, or does not read.
    """
    found = _read(credentials_path(environ)).get(workspace_key(location))
    if not isinstance(found, dict):
        return None
    try:
        return SavedToken(**{k: str(found[k]) for k in SavedToken.__dataclass_fields__})
    except KeyError:
        return None


def save_token(saved: SavedToken, environ: Mapping[str, str] | None = None) -> Path:
    """Save ``saved`` for its workspace (replacing the one saved before); the file's path."""
    path = credentials_path(environ)
    workspaces = _read(path)
    workspaces[saved.workspace] = asdict(saved)
    _write(path, workspaces)
    return path


def forget_token(location: str, environ: Mapping[str, str] | None = None) -> SavedToken | None:
    """Remove the token saved for the workspace at ``location``; the one removed, if any."""
    found = saved_token(location, environ)
    if found is None:
        return None
    path = credentials_path(environ)
    workspaces = _read(path)
    workspaces.pop(found.workspace, None)
    _write(path, workspaces)
    return found
