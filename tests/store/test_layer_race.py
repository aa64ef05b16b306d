"""Two writers creating the same new layer: the second is refused with a LayerError (the
user's input, exit 2) and the first one's layer is left whole. The second writer's view of the
workspace is made stale on purpose, as if it had checked just before the first committed.
PostGIS rows skip without ``GUOTU_TEST_PG_DSN``."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from guotu.errors import LayerError
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0
from .conftest import revision_count

GK39 = CRS.from_epsg(4527)


def _frame(n: int) -> gpd.GeoDataFrame:
    geoms = shapely.box(np.arange(n) * 10.0 + X0, Y0, np.arange(n) * 10.0 + X0 + 10, Y0 + 10)
    return gpd.GeoDataFrame({"BSM": np.arange(n).astype(str)}, geometry=geoms, crs=GK39)


def _write(store: Any, name: str, n: int) -> Any:
    return store.write_layer(
        name, "planned_land_use", _frame(n), column_types={"BSM": "text"}, geometry_type="POLYGON"
    )


def _second_writer(store: Any) -> Any:
    """Another connection to the workspace of ``store`` (another process, in effect)."""
    if isinstance(store, GeoPackageStore):
        return GeoPackageStore.open(store.path)
    from guotu.store.postgis import PostGISStore

    return PostGISStore.open(store.dsn, schema=store.schema)


def test_a_layer_created_meanwhile_refuses_the_second_writer(
    sql_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(sql_store, "OTHER", 1)
    with _second_writer(sql_store) as late:
        stale = late.layers()  # what the second writer saw before the first one committed
        _write(sql_store, "NEW", 3)
        real = late.layers
        calls = iter([stale])
        monkeypatch.setattr(late, "layers", lambda: next(calls, None) or real())
        with pytest.raises(LayerError, match="another import created it just now") as err:
            _write(late, "NEW", 5)
    assert err.value.exit_code == 2 and "另一个导入刚刚创建了它" in err.value.render()
    assert sql_store.layer("NEW").features == 3 and revision_count(sql_store, "NEW") == 3
    assert len(sql_store.versions("layer:NEW")) == 1
