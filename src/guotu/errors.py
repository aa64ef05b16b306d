"""Every exception guotu raises.

The tree::

    GuotuError                      root; exit code 3 unless a branch says otherwise
    ├── InputError                  bad input from the user (exit 2, HTTP 400)
    │   ├── ConfigError             a setting or option that does not exist or does not parse
    │   ├── RulePackError           a rule pack that does not validate
    │   ├── LayerError              a file, layer, feature or field that cannot be imported
    │   ├── GeometryError           a geometry that cannot be used even after explicit repair
    │   ├── CRSError                missing, unknown or unsuitable coordinate reference system
    │   └── TooLargeError           an upload or request beyond a size limit (HTTP 413)
    ├── NotFoundError               a workspace, layer, code or role that does not exist (exit 2, HTTP 404)
    ├── AuthenticationError         not signed in, or a sign-in that failed (exit 2, HTTP 401)
    ├── PermissionDeniedError       signed in, but the roles do not allow it (exit 2, HTTP 403)
    │   └── PasswordChangeRequiredError  signed in with a password to change first (初始, 过期)
    ├── StoreError                  the store failed (exit 3, HTTP 500)
    │   ├── StoreUnavailableError   cannot open or reach the store
    │   │   └── DirectoryUnavailableError  cannot reach the LDAP directory or identity provider
    │   └── StoreIntegrityError     the store holds something it should not (corrupt, foreign file)
    ├── EnvironmentSetupError       a missing program or library on this machine (exit 3)
    └── PluginError                 a plugin that fails to register

A plan that breaks a rule is *not* an error: checks return findings.
Each class has a stable kebab-case ``code`` and an ``http_status``; messages are full
sentences naming the object and, where possible, the fix. Facts are kept as attributes.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "CRSError",
    "ConfigError",
    "ConflictError",
    "DirectoryUnavailableError",
    "EnvironmentSetupError",
    "GeometryError",
    "GuotuError",
    "InputError",
    "LayerError",
    "NotFoundError",
    "PasswordChangeRequiredError",
    "PermissionDeniedError",
    "PluginError",
    "RulePackError",
    "StoreError",
    "StoreIntegrityError",
    "StoreUnavailableError",
    "TooLargeError",
]


class GuotuError(Exception):
    """Root of every guotu exception.

    Parameters
    ----------
    message
        A full sentence naming the object and the fix.
    file, layer, feature, field
        Where the problem is, when known.
    fix
        What the user can do about it (kept apart so a UI can show it separately).
    message_zh, fix_zh
        The same message and fix in Chinese, shown by :meth:`render` (Chinese is the CLI's
        default language). ``str()`` stays English, for logs and tracebacks.

    Examples
    --------
    >>> err = LayerError("File a.shp does not exist.", file="a.shp", fix="Check the path.",
    ...                  message_zh="文件 a.shp 不存在。", fix_zh="请检查路径。")
    >>> err.render()
    '文件 a.shp 不存在。解决办法：请检查路径。'
    >>> err.render("en") == str(err) == "File a.shp does not exist. Fix: Check the path."
    True
    """

    code = "guotu-error"
    http_status = 500
    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        layer: str | None = None,
        feature: str | int | None = None,
        field: str | None = None,
        fix: str | None = None,
        message_zh: str | None = None,
        fix_zh: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.layer = layer
        self.feature = feature
        self.field = field
        self.fix = fix
        self.message_zh = message_zh
        self.fix_zh = fix_zh

    def __str__(self) -> str:
        return self.render("en")

    def render(self, lang: str = "zh") -> str:
        """The one-line message in ``lang`` (``"zh"`` or ``"en"``): the message, the location
        parts it does not already mention, then the fix.

        Without a Chinese message the English one is given whole (English labels too), so a
        line never mixes the two languages mid-sentence.
        """
        chinese = lang == "zh" and self.message_zh is not None
        text = self.message_zh if chinese and self.message_zh is not None else self.message
        fix = self.fix_zh if chinese and self.fix_zh is not None else self.fix
        labels = _LABELS_ZH if chinese else _LABELS_EN
        where = [
            f"{label} {value}"
            for label, value in zip(
                labels, (self.file, self.layer, self.feature, self.field), strict=True
            )
            if value is not None and str(value) not in text
        ]
        if where and chinese:
            body, stop = (text[:-1], text[-1]) if text.endswith("。") else (text, "")
            text = f"{body}（{'，'.join(where)}）{stop}"
        elif where:
            text = f"{text} ({', '.join(where)})"
        if fix and fix not in text:
            text = f"{text}解决办法：{fix}" if chinese else f"{text} Fix: {fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-ready dict (``code``, ``message``, ``status`` and the location).

        ``message`` is the English line of ``str()``; ``message_zh`` and ``fix_zh`` are added
        when the error has them.
        """
        out: dict[str, object] = {
            "code": self.code,
            "message": str(self),
            "status": self.http_status,
        }
        for key in ("file", "layer", "feature", "field", "fix", "message_zh", "fix_zh"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


_LABELS_EN = ("file", "layer", "feature", "field")
_LABELS_ZH = ("文件", "图层", "要素", "字段")


class InputError(GuotuError):
    """Bad input: a file, option or value the user can correct."""

    code = "input-error"
    http_status = 400
    exit_code = 2


class ConfigError(InputError):
    """A setting or command-line option that does not exist or does not parse."""

    code = "config-error"


class RulePackError(InputError):
    """A rule pack that does not validate against its schema."""

    code = "rule-pack-error"


class LayerError(InputError):
    """A file, layer, feature or field that cannot be imported as it is."""

    code = "layer-error"


class GeometryError(InputError):
    """A geometry that cannot be used, even after an explicit repair."""

    code = "geometry-error"


class CRSError(InputError):
    """A missing, unknown or unsuitable coordinate reference system."""

    code = "crs-error"


class TooLargeError(InputError):
    """An upload or request beyond a size limit (a setting), or an archive that unpacks to
    more than its limit (a zip bomb)."""

    code = "too-large"
    http_status = 413


class ConflictError(InputError):
    """A write that lost a race: someone changed the record since the caller read it (an
    approval case another department acted on a moment earlier). Read it again and redo."""

    code = "conflict"
    http_status = 409


class NotFoundError(GuotuError):
    """A workspace, layer, code or role that does not exist."""

    code = "not-found"
    http_status = 404
    exit_code = 2


class AuthenticationError(GuotuError):
    """Not signed in, or a sign-in that failed. The message never says whether the user name
    or the password was wrong."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 2


class PermissionDeniedError(GuotuError):
    """Signed in, but no role allows this. The message names the action, never a layer the
    user may not know exists."""

    code = "forbidden"
    http_status = 403
    exit_code = 2


class PasswordChangeRequiredError(PermissionDeniedError):
    """Signed in, but the password must be changed before anything else: an initial one set
    by an administrator, or one older than the password rules allow. The pages recognise the
    code and open the page that changes it."""

    code = "password-change-required"


class StoreError(GuotuError):
    """The store failed; the workspace is left as it was."""

    code = "store-error"


class StoreUnavailableError(StoreError):
    """The store cannot be opened or reached."""

    code = "store-unavailable"
    http_status = 503


class DirectoryUnavailableError(StoreUnavailableError):
    """The LDAP directory or the identity provider cannot be reached; its message names the
    host and port only."""

    code = "directory-unavailable"


class StoreIntegrityError(StoreError):
    """The store holds something it should not (a corrupt or foreign file)."""

    code = "store-integrity"


class EnvironmentSetupError(GuotuError):
    """A program or library this command needs is missing on this machine."""

    code = "environment-error"


class PluginError(GuotuError):
    """A plugin failed to register."""

    code = "plugin-error"
