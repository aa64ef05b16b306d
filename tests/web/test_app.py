"""The app factory and the one error mapping (JSON envelope; OGC form under OGC routes)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from fastapi.testclient import TestClient

from guotu.cli.base import root
from guotu.settings import Settings, load_settings
from guotu.web.app import create_app


def test_unknown_routes_use_the_right_error_form(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(tmp_path / "none.gpkg"))))
    plain = client.get("/no-such-thing")
    assert plain.status_code == 404
    assert plain.json() == {"code": "not-found", "message": "Not Found", "status": 404}
    ogc = client.get("/collections/no-such/items/1/extra")
    assert ogc.status_code == 404 and set(ogc.json()) == {"code", "description"}


def test_settings_from_environment_and_options() -> None:
    s = load_settings({"GUOTU_MAX_ITEMS_LIMIT": "50", "GUOTU_PORT": "81"}, port=82)
    assert (s.max_items_limit, s.port) == (50, 82)


def test_serve_refuses_a_missing_workspace(tmp_path: Path) -> None:
    out = CliRunner().invoke(root, ["serve", "-w", str(tmp_path / "missing.gpkg")])
    assert out.exit_code == 2
