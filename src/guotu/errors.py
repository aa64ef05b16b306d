"""Every exception guotu raises.

The tree::

    GuotuError                      root; exit code 3 unless a branch says otherwise
    ├── InputError                  bad input from the user (exit 2, HTTP 400)
    │   ├── ConfigError             a setting or option that does not exist or does not parse
    │   ├── RulePackError           a rule pack that does not validate
    │   ├── LayerError              a file, layer, feature or field that cannot be imported
    │   ├── GeometryError           a geometry that cannot be used even after explicit repair
    │   └── CRSError                missing, unknown or unsuitable coordinate reference system
    ├── NotFoundError               a workspace, layer, code or role that does not exist (exit 2, HTTP 404)
    ├── StoreError                  the store failed (exit 3, HTTP 500)
    │   ├── StoreUnavailableError   cannot open or reach the store
    │   └── StoreIntegrityError     the store holds something it should not (corrupt, foreign file)
    ├── EnvironmentSetupError       a missing program or library on this machine (exit 3)
    └── PluginError                 a plugin that fails to register

A plan that breaks a rule is *not* an error: checks return findings.
Each class has a stable kebab-case ``code`` and an ``http_status``; messages are full
sentences naming the object and, where possible, the fix. Facts are kept as attributes.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "ConfigError",
    "EnvironmentSetupError",
    "GeometryError",
    "GuotuError",
    "InputError",
    "LayerError",
    "NotFoundError",
    "PluginError",
    "RulePackError",
    "StoreError",
    "StoreIntegrityError",
    "StoreUnavailableError",
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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.layer = layer
        self.feature = feature
        self.field = field
        self.fix = fix

    def __str__(self) -> str:
        text = self.message
        where = [f"{label} {value}" for label, value in (
            ("file", self.file), ("layer", self.layer), ("feature", self.feature),
            ("field", self.field)) if value is not None and str(value) not in text]
        if where:
            text = f"{text} ({', '.join(where)})"
        if self.fix and self.fix not in text:
            text = f"{text} Fix: {self.fix}"
        return text

    def to_dict(self) -> dict[str, object]:
        """The error as a JSON-ready dict (``code``, ``message``, ``status`` and the location)."""
        out: dict[str, object] = {"code": self.code, "message": str(self), "status": self.http_status}
        for key in ("file", "layer", "feature", "field", "fix"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


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


class NotFoundError(GuotuError):
    """A workspace, layer, code or role that does not exist."""

    code = "not-found"
    http_status = 404
    exit_code = 2


class StoreError(GuotuError):
    """The store failed; the workspace is left as it was."""

    code = "store-error"


class StoreUnavailableError(StoreError):
    """The store cannot be opened or reached."""

    code = "store-unavailable"
    http_status = 503


class StoreIntegrityError(StoreError):
    """The store holds something it should not (a corrupt or foreign file)."""

    code = "store-integrity"


class EnvironmentSetupError(GuotuError):
    """A program or library this command needs is missing on this machine."""

    code = "environment-error"


class PluginError(GuotuError):
    """A plugin failed to register."""

    code = "plugin-error"
