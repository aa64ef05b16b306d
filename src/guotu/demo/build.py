"""Build the demo: generate the county, write the handover files, import them, save the manifest.

The workspace ends up holding the twelve layers XZQ, DLTB, STBHHX, YJJBNT, CZKFBJ, GHYD,
XXGHDY, XXGHDK, ZXGH, JSXM, TDZZXM and BHTB, each imported from its handover file through
:func:`guotu.services.importing.import_file` exactly as a user would import it (the plans'
layers into the approved version of their plan, :mod:`guotu.demo.plans`; the survey into
its yearly versions), and the
monitoring tables ``targets`` (规划目标.xlsx) and ``statistics`` (社会经济统计.xlsx), imported
through :func:`guotu.services.monitoring_inputs.import_table` as ``guotu monitor targets|
statistics import`` does, so that the CLI and the dashboard find them with no options. The workspace
is a GeoPackage file or a PostgreSQL + PostGIS schema (``postgresql://…``, ``env:NAME``).
``manifest.json`` (next to the files) lists every planted problem with its known answer.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guotu.demo.approvals import DemoApprovals, seed_approvals
from guotu.demo.county import County, generate_county
from guotu.demo.files import (
    HANDOVER,
    HISTORY_DIR,
    STATISTICS_FILE,
    TARGETS_FILE,
    write_handover_files,
)
from guotu.demo.history import HISTORY_YEARS, SURVEY_PLAN, survey_label, survey_valid_from
from guotu.demo.layout import COUNTY_CODE
from guotu.demo.plans import plan_of, record_plans
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.errors import LayerError
from guotu.ports import FeatureStore
from guotu.services.importing import import_file
from guotu.services.monitoring_inputs import import_table, load_catalogue
from guotu.services.workspace import PG_SCHEMES, open_workspace, resolve_location
from guotu.store.geopackage import GeoPackageStore

__all__ = ["DemoResult", "ProgressCallback", "build_demo", "default_out_dir"]

#: Called as ``on_step(step, done, total)`` before each step (``done`` steps finished).
ProgressCallback = Callable[[str, int, int], None]

#: Build steps besides one import per layer.
_STEPS = ("generate", "write_files", *(f"import:{h.layer}" for h in HANDOVER), "manifest")


@dataclass
class DemoResult:
    """What :func:`build_demo` made.

    Attributes
    ----------
    workspace, out_dir, manifest_path
        The workspace (a GeoPackage path, or a PostGIS workspace's name without its
        password), the folder of handover files and ``manifest.json``.
    seed, parcels
        The inputs.
    layers
        Workspace layer → feature count after import.
    items
        Number of manifest items.
    timings_s
        Seconds per step (``generate``, ``write_files``, ``import:<layer>``, ``manifest``)
        and ``total``.
    warnings, warnings_zh
        Import warnings, as ``layer: text``, in English and in Chinese.
    approvals
        The approval cases made (:mod:`guotu.demo.approvals`).
    """

    workspace: Path | str
    out_dir: Path
    manifest_path: Path
    seed: int
    parcels: int
    layers: dict[str, int]
    items: int
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    warnings_zh: list[str] = field(default_factory=list)
    approvals: DemoApprovals | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON summary printed by ``guotu demo --json``."""
        return {
            "workspace": str(self.workspace),
            "out_dir": str(self.out_dir),
            "manifest": str(self.manifest_path),
            "seed": self.seed,
            "parcels": self.parcels,
            "crs": "EPSG:4527",
            "layers": self.layers,
            "items": self.items,
            "timings_s": self.timings_s,
            "warnings": self.warnings,
            "warnings_zh": self.warnings_zh,
            "approvals": None if self.approvals is None else self.approvals.to_dict(),
        }


def default_out_dir(workspace: str | Path) -> Path:
    """``<workspace stem>_files/`` next to a GeoPackage workspace; ``demo_county_files/`` in
    the current folder for a PostGIS one.

    Examples
    --------
    >>> default_out_dir("data/demo_county.gpkg").as_posix()
    'data/demo_county_files'
    >>> default_out_dir("postgresql://guotu@db.example/guotu").as_posix()
    'demo_county_files'
    """
    location = resolve_location(workspace)
    if location.startswith(PG_SCHEMES):
        return Path("demo_county_files")
    ws = Path(location)
    return ws.with_name(f"{ws.stem}_files")


def _clear_workspace(path: Path, force: bool) -> None:
    if not path.exists():
        return
    if not force:
        raise LayerError(
            f"Workspace {path} already exists; the demo does not overwrite it.",
            file=str(path),
            fix="Add --force, or give another -w path.",
            message_zh=f"工作空间 {path} 已存在，示范县不会覆盖它。",
            fix_zh="请加 --force，或用 -w 指定另一个路径。",
        )
    for suffix in ("", "-wal", "-shm", "-journal"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


@contextlib.contextmanager
def _database_workspace(location: str, force: bool) -> Iterator[FeatureStore]:
    """The PostGIS workspace at ``location``, made if new; one with layers or plans is
    refused without ``force`` and emptied with it (only guotu's own tables, see
    :func:`guotu.store.postgis_reset.reset_workspace`)."""
    with open_workspace(location, create=True) as store:
        layers = store.layers()
        if layers or store.plans():
            if not force:
                raise LayerError(
                    f"Workspace {store.path} is not empty ({len(layers)} layers); the demo "
                    "does not overwrite it.",
                    file=str(store.path),
                    fix="Add --force to empty it (guotu's tables in that schema only), or give "
                    "another schema (options=-c search_path=NAME in the DSN).",
                    message_zh=f"工作空间 {store.path} 不是空的（{len(layers)} 个图层），示范县"
                    "不会覆盖它。",
                    fix_zh="请加 --force 清空它（只删除该模式中 guotu 的表），或在连接串中用 "
                    "options=-c search_path=名称 指定另一个模式。",
                )
            from guotu.store.postgis_reset import reset_workspace

            reset_workspace(store, actor="guotu demo", reason="guotu demo --force")
        yield store


def _import_survey_history(store: FeatureStore, out: Path) -> VersionSpec:
    """Record the 2021–2024 survey updates (DLTB) in the survey plan, as a bureau records
    them each year; returns the version the current DLTB.shp (2025) goes into."""
    store.create_plan(
        SURVEY_PLAN,
        level=PlanLevel.COUNTY,
        type=PlanType.SURVEY,
        xzqdm=COUNTY_CODE,
        description="年度国土变更调查（演示数据）",
    )
    for year in HISTORY_YEARS[:-1]:
        import_file(
            store,
            out / HISTORY_DIR / f"DLTB_{year}.shp",
            role="land_survey",
            layer="DLTB",
            version=VersionSpec(
                SURVEY_PLAN,
                survey_label(year),
                valid_from=survey_valid_from(year),
                reason=f"{year} 年度国土变更调查成果入库",
            ),
            reason="演示数据",
        )
    last = HISTORY_YEARS[-1]
    return VersionSpec(
        SURVEY_PLAN,
        survey_label(last),
        valid_from=survey_valid_from(last),
        reason=f"{last} 年度国土变更调查成果入库",
    )


def build_demo(
    workspace: str | Path,
    out_dir: str | Path | None = None,
    *,
    parcels: int = 30000,
    seed: int = 20261122,
    force: bool = False,
    on_step: ProgressCallback | None = None,
) -> DemoResult:
    """Generate the demo county, write its handover files and import them into ``workspace``.

    Parameters
    ----------
    workspace
        The GeoPackage to create, or a PostgreSQL + PostGIS location (``postgresql://…``,
        ``postgres://…``, ``env:NAME``) whose schema is made or, with ``force``, emptied.
    out_dir
        Folder for the handover files and ``manifest.json`` (default
        :func:`default_out_dir`).
    parcels
        About how many land parcels (GHYD, DLTB); 3000 builds in seconds, 300000 in minutes.
    seed
        Seed of the generator; the same seed and size give the same county.
    force
        Overwrite an existing workspace and existing files.
    on_step
        Progress callback, see :data:`ProgressCallback`.

    Returns
    -------
    DemoResult
        Paths, counts and timings.

    Raises
    ------
    LayerError
        If the workspace (a GeoPackage file, a PostGIS schema with layers) or a file exists
        and ``force`` is false.
    ConfigError
        If ``parcels`` is too small, or the location is not one guotu can open.
    """
    location = resolve_location(workspace)  # env:NAME → its value; other URLs are refused
    is_db = location.startswith(PG_SCHEMES)
    ws = Path(location)
    out = Path(out_dir) if out_dir is not None else default_out_dir(workspace)
    timings: dict[str, float] = {}
    total = len(_STEPS)
    started = time.perf_counter()
    clock = started

    def step(name: str) -> None:
        nonlocal clock
        if on_step is not None:
            on_step(name, _STEPS.index(name), total)
        clock = time.perf_counter()

    def done(name: str) -> None:
        timings[name] = round(time.perf_counter() - clock, 3)

    with contextlib.ExitStack() as stack:
        # A database workspace is checked (and emptied) before anything is generated; a
        # GeoPackage file is removed now and made only when the first layer goes in.
        db_store = (
            stack.enter_context(_database_workspace(str(workspace), force)) if is_db else None
        )
        if db_store is None:
            _clear_workspace(ws, force)
        county, counts, warnings, warnings_zh = _generate_and_import(
            db_store, ws, out, parcels, seed, force, step, done
        )
        shown: Path | str = ws if db_store is None else str(db_store.path)
        store = db_store or stack.enter_context(GeoPackageStore.open(ws))
        approvals = seed_approvals(store, county)  # 审批案件 at every stage (issue 17)

    step("manifest")
    manifest_path = out / "manifest.json"
    manifest = county.manifest()
    manifest["approvals"], timings["approvals"] = approvals.manifest(), approvals.seconds
    manifest_path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    done("manifest")
    timings["total"] = round(time.perf_counter() - started, 3)
    if on_step is not None:
        on_step("done", total, total)
    return DemoResult(
        shown,
        out,
        manifest_path,
        seed,
        parcels,
        counts,
        len(county.items),
        timings,
        warnings,
        warnings_zh,
        approvals,
    )


def _generate_and_import(
    db_store: FeatureStore | None,
    ws: Path,
    out: Path,
    parcels: int,
    seed: int,
    force: bool,
    step: Callable[[str], None],
    done: Callable[[str], None],
) -> tuple[County, dict[str, int], list[str], list[str]]:
    """Generate the county, write its files into ``out`` and import them into ``db_store``
    (a GeoPackage at ``ws`` when it is ``None``): (county, feature counts, warnings in
    English and in Chinese)."""
    step("generate")
    county: County = generate_county(parcels, seed)
    done("generate")
    step("write_files")
    write_handover_files(county, out, force=force)
    done("write_files")

    warnings: list[str] = []
    warnings_zh: list[str] = []
    counts: dict[str, int] = {}
    with contextlib.ExitStack() as stack:
        if db_store is None:
            ws.parent.mkdir(parents=True, exist_ok=True)
            store: FeatureStore = stack.enter_context(GeoPackageStore.open(ws, create=True))
        else:
            store = db_store
        record_plans(store)
        for h in HANDOVER:
            step(f"import:{h.layer}")
            plan = plan_of(h.layer)
            version = plan.version() if plan is not None else None
            if h.layer == "DLTB" and county.history is not None:
                version = _import_survey_history(store, out)
            result = import_file(
                store,
                out / h.file,
                role=h.role,
                layer=h.layer,
                source_layer=h.source_layer,
                table=out / h.table if h.table else None,
                table_key=h.table_key,
                version=version,
                allow_empty_geometry=h.allow_empty_geometry,
            )
            counts[h.layer] = result.layer.features
            warnings += [f"{h.layer}: {w}" for w in result.warnings]
            warnings_zh += [f"{h.layer}：{w}" for w in result.warnings_zh]
            done(f"import:{h.layer}")
        if county.history is not None:  # the tables are written with the history
            _import_monitoring_tables(store, out)
    return county, counts, warnings, warnings_zh


def _import_monitoring_tables(store: FeatureStore, out: Path) -> None:
    """Record 规划目标.xlsx and 社会经济统计.xlsx as the workspace's tables ``targets`` and
    ``statistics`` (a bureau imports them once; monitoring then reads them)."""
    catalogue = load_catalogue()
    for kind, name in (("targets", TARGETS_FILE), ("statistics", STATISTICS_FILE)):
        import_table(
            store, kind, out / name, catalogue, actor="guotu demo", reason="示范县演示数据"
        )
