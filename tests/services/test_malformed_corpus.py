"""Every malformed input of the corpus (tests/corpus/malformed.py) is refused with exit 2 and
a Chinese message naming the file and the fix, in bounded time and memory, the workspace
byte for byte as it was; or, for damage that leaves a file readable, imported exactly as
the file holds it.

The run writes its counts (inputs, refused, accepted and verified, internal errors,
workspace changes) to ``corpus-summary.json`` in its temporary folder and prints them.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import time
import warnings
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from guotu.cli import root
from guotu.demo.build import build_demo
from guotu.store.geopackage import GeoPackageStore

from ..conftest import file_digest
from ..corpus.malformed import EITHER, REFUSE, WS, Case, make_corpus

pytestmark = pytest.mark.slow

#: Longest a refusal may take, and most the peak memory of the process may grow, per input.
MAX_SECONDS = 30.0
MAX_RSS_GROWTH_MB = 600.0
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stored_matches_file(ws: Path, case: Case) -> str | None:
    """Why an accepted import does not hold exactly the features its file holds (None: it
    does)."""
    source = case.reference or Path(case.argv[1])
    layer = case.extra.get("source_layer")
    with GeoPackageStore.open(ws) as store:
        stored = store.read_layer(case.layer)
        crs = store.crs
    expected = gpd.read_file(source, layer=layer, engine="pyogrio")
    if len(stored) != len(expected):
        return f"stored {len(stored)} features, the file holds {len(expected)}"
    ours = np.asarray(stored.geometry.values, dtype=object)
    theirs = np.asarray(expected.to_crs(crs).geometry.values, dtype=object)
    single = shapely.get_type_id(theirs) == shapely.GeometryType.POLYGON
    if single.any():  # polygons are stored as multipolygons
        theirs[single] = shapely.multipolygons(theirs[single][:, None])
    if not shapely.equals_exact(ours, theirs, tolerance=1e-6).all():
        return "geometries differ from the file's"
    return None


def _run(case: Case, ws: Path) -> tuple[int, str, float, float]:
    argv = [str(ws) if a == WS else a for a in case.argv]
    saved = {k: os.environ.get(k) for k in case.env}
    os.environ.update(case.env)
    before = _peak_rss_mb()
    started = time.perf_counter()
    try:
        result = CliRunner().invoke(root, argv, catch_exceptions=True)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - started
    output = result.output + (
        f"\n{result.exception!r}"
        if result.exception and not isinstance(result.exception, SystemExit)
        else ""
    )
    return result.exit_code, output, seconds, _peak_rss_mb() - before


def _problems_of_refusal(case: Case, output: str) -> list[str]:
    problems = []
    if "Traceback" in output or "内部错误" in output:
        problems.append("a traceback or internal error")
    if not _CJK.search(output):
        problems.append("no Chinese message")
    if "请" not in output:
        problems.append("no fix (请…)")
    problems += [f"does not name {n!r}" for n in case.names if n not in output]
    return problems


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[Case]]:
    base = tmp_path_factory.mktemp("corpus")
    demo = build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    cases = make_corpus(demo.out_dir, base / "cases")
    return base, demo.workspace, cases


def test_every_malformed_input_is_refused_or_imported_exactly(corpus) -> None:
    base, pristine, cases = corpus
    assert len(cases) >= 250
    ws = base / "ws.gpkg"
    shutil.copy(pristine, ws)
    digest = file_digest(ws)
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for case in cases:
        code, output, seconds, grown = _run(case, ws)
        changed = file_digest(ws) != digest
        problems: list[str] = []
        if seconds > MAX_SECONDS:
            problems.append(f"took {seconds:.1f} s")
        if grown > MAX_RSS_GROWTH_MB:
            problems.append(f"peak memory grew by {grown:.0f} MB")
        if code == 2:
            counts["refused"] += 1
            problems += _problems_of_refusal(case, output)
            if changed:
                counts["workspace changed"] += 1
                problems.append("the workspace changed")
        elif code == 0 and case.mode == EITHER and case.layer:
            why = _stored_matches_file(ws, case)
            counts["accepted and verified" if why is None else "accepted wrongly"] += 1
            if why:
                problems.append(f"accepted, but {why}")
        else:
            counts["internal errors" if code == 3 else f"exit {code}"] += 1
            expected = "exit 2" if case.mode == REFUSE else "exit 2 or a verified import"
            problems.append(f"exit {code}, expected {expected}")
        if problems:
            failures.append(f"{case.id}: {'; '.join(problems)}\n    {output.strip()[:300]}")
        if changed:
            shutil.copy(pristine, ws)
            for suffix in ("-wal", "-shm"):
                Path(str(ws) + suffix).unlink(missing_ok=True)
    summary = {"inputs": len(cases), **counts, "by_kind": Counter(c.kind for c in cases)}
    (base / "corpus-summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print("malformed-input corpus:", json.dumps(summary, ensure_ascii=False))
    assert not failures, f"{len(failures)} of {len(cases)} inputs:\n" + "\n".join(failures)


def test_the_corpus_covers_every_member_file_of_each_container(corpus) -> None:
    _base, _ws, cases = corpus
    truncated = {c.id.split("@")[0] for c in cases if c.kind == "truncate"}
    for member in (
        "建设项目.shp",
        "建设项目.shx",
        "建设项目.dbf",
        "三区三线.gpkg",
        "详细规划单元.geojson",
        "地块控制指标.xlsx",
    ):
        assert any(t.endswith(member) for t in truncated), member
    gdb_members = {t.split("/")[-1] for t in truncated if "规划用地.gdb/" in t}
    assert any(m.endswith(".gdbtable") for m in gdb_members)
    assert any(m.endswith(".gdbtablx") for m in gdb_members)
    kinds = {c.kind for c in cases}
    assert {
        "truncate",
        "flip",
        "sidecar",
        "geometry",
        "crs",
        "encoding",
        "zip",
        "table",
        "yaml",
        "name",
    } <= kinds


def test_reading_the_damaged_gdb_with_gdal_alone_loses_features(corpus) -> None:
    """Why the container checks exist: GDAL reads some cut FileGDB tables (a .gdbtablx cut
    short) without an error and gives fewer features than the table holds; the corpus test
    above shows guotu refuses every one of them."""
    _base, _ws, cases = corpus
    cuts = [c for c in cases if c.id.startswith("truncate/规划用地.gdb/a") and c.mode == REFUSE]
    whole = len(pyogrio.read_dataframe(cuts[0].reference, layer="GHYD"))
    silent = []
    for case in cuts:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                read = len(pyogrio.read_dataframe(Path(case.argv[1]), layer="GHYD"))
            except (pyogrio.errors.DataSourceError, pyogrio.errors.FeatureError):
                continue  # GDAL itself refuses this one
        if read < whole:
            silent.append(case.id)
    assert silent, "no cut that GDAL reads silently: the corpus lost its point"
