"""``guotu demo``: build the synthetic demo county (files, workspace and manifest)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from guotu.cli.access import role_names
from guotu.cli.base import (
    Context,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    root,
    workspace_option,
)
from guotu.cli.check import render_check
from guotu.cli.principal import os_user
from guotu.cli.workspace import render_balance
from guotu.demo.access import SeededAccess, seed_access
from guotu.demo.build import DemoResult, ProgressCallback, build_demo, default_out_dir
from guotu.demo.county import MIN_PARCELS
from guotu.demo.files import HANDOVER
from guotu.io.findings import write_findings_gpkg
from guotu.io.review_report import write_review_html
from guotu.services.checking import check_workspace
from guotu.services.identity import generate_password
from guotu.services.review import review_plan
from guotu.services.review_output import review_document, summary
from guotu.services.stats import land_use_balance
from guotu.services.workspace import open_workspace

__all__ = ["demo_command"]

DEFAULT_WORKSPACE = "demo_county.gpkg"


def _step_label(ctx: Context, step: str) -> str:
    if step.startswith("import:"):
        layer = step.split(":", 1)[1]
        return ctx.t(f"导入图层 {layer}", f"Importing layer {layer}")
    labels = {
        "generate": ("生成合成县域数据", "Generating the synthetic county"),
        "write_files": ("写出移交文件", "Writing the handover files"),
        "manifest": ("写出已知问题清单 manifest.json", "Writing manifest.json"),
        "done": ("完成", "Done"),
    }
    zh, en = labels.get(step, (step, step))
    return ctx.t(zh, en)


def _build_with_progress(
    ctx: Context, as_json: bool, workspace: str, out_dir: Path, parcels: int, seed: int, force: bool
) -> DemoResult:
    """Run :func:`build_demo` with a progress bar (terminal) or step lines (pipes)."""

    def run(on_step: ProgressCallback | None) -> DemoResult:
        return build_demo(
            workspace, out_dir, parcels=parcels, seed=seed, force=force, on_step=on_step
        )

    if as_json:
        return run(None)
    con = console()
    if not con.is_terminal:

        def echo_step(step: str, done: int, total: int) -> None:
            if step != "done":
                click.echo(f"[{done + 1}/{total}] {_step_label(ctx, step)}")

        return run(echo_step)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=con) as bar:
        task = bar.add_task(_step_label(ctx, "generate"), total=1)

        def advance(step: str, done: int, total: int) -> None:
            bar.update(task, description=_step_label(ctx, step), completed=done, total=total)

        return run(advance)


@root.command("demo")
@workspace_option(required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Folder for the handover files and manifest.json (default: "
    "<workspace stem>_files/ next to a GeoPackage, ./demo_county_files/ for PostGIS).",
)
@click.option(
    "--parcels",
    type=click.IntRange(min=MIN_PARCELS),
    default=30000,
    show_default=True,
    help="About how many land parcels (GHYD, DLTB) to generate.",
)
@click.option(
    "--seed",
    type=int,
    default=20261122,
    show_default=True,
    help="Random seed; the same seed and size give the same county.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Overwrite an existing workspace and files (a PostGIS workspace is emptied: "
    "guotu's tables in its schema are dropped and made anew).",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Only build; skip the quality check, 用地平衡表 and review that follow.",
)
@click.option(
    "--no-accounts",
    is_flag=True,
    help="Seed no departments, accounts or layer grades (by default they are, and the "
    "accounts' passwords are printed once at the end).",
)
@json_option
@lang_option
@pass_context
def demo_command(
    ctx: Context,
    workspace: str | None,
    out_dir: str | None,
    parcels: int,
    seed: int,
    force: bool,
    no_check: bool,
    no_accounts: bool,
    as_json: bool,
) -> None:
    """Build the demo county 示范县: handover files, a workspace and a manifest of known answers.

    The county is synthetic and deterministic: about 300 km² around 117.4°E 36.6°N with
    towns, ecological red lines, permanent farmland, an urban development boundary, a master
    plan, a detailed plan, projects and change patches, with planted quality problems and
    review conflicts listed in manifest.json.

    -w is a GeoPackage file (default demo_county.gpkg) or a PostgreSQL + PostGIS workspace
    (postgresql://…, postgres://…, env:NAME); the 质检, 用地平衡表 and review then run on it.
    """
    ws = workspace or DEFAULT_WORKSPACE
    out = Path(out_dir) if out_dir else default_out_dir(ws)
    result = _build_with_progress(ctx, as_json, ws, out, parcels, seed, force)
    seeded = None
    if not no_accounts:
        with open_workspace(ws) as store:
            seeded = seed_access(
                store, make_password=generate_password, actor=f"guotu demo ({os_user()})"
            )
    report = balance = None
    if not no_check:
        # The main job goes on: 质检 of every layer, the 用地平衡表 of the master plan, then
        # the review (成果审查) of the master plan against the control lines.
        with open_workspace(ws) as store:
            report = check_workspace(store)
            balance = land_use_balance(store, "GHYD", max_level=1)
            review = review_plan(store, "master-plan")
            crs = store.crs
        errors_gpkg = result.out_dir / "质检错误.gpkg"
        written = write_findings_gpkg(errors_gpkg, report.findings, crs) if crs else None
        review_html = result.out_dir / "成果审查报告.html"
        write_review_html(review_document(review, ctx.lang, review.layers), review_html)
    if as_json:
        data = result.to_dict()
        if report is not None and balance is not None:
            data["check"] = {"summary": report.summary(), "errors_gpkg": str(errors_gpkg)}
            data["balance"] = balance.to_dict()
            data["review"] = {
                "summary": summary(review),
                "stamp": review.stamp(),
                "html": str(review_html),
            }
        if seeded is not None:
            data["accounts"] = [
                {
                    "username": a.username,
                    "display_name": a.display_name,
                    "department": a.department,
                    "roles": list(a.roles),
                    "password": a.password,
                }
                for a in seeded.accounts
            ]
        emit_json(data)
        return
    source = {
        h.layer: h.file + (f" ({h.source_layer})" if h.source_layer else "") for h in HANDOVER
    }
    table = Table(title=ctx.t("工作空间图层", "Workspace layers"))
    table.add_column(ctx.t("图层", "Layer"))
    table.add_column(ctx.t("要素数", "Features"), justify="right")
    table.add_column(ctx.t("移交文件", "Handover file"))
    for name, count in result.layers.items():
        table.add_row(name, str(count), source.get(name, ""))
    con = console()
    con.print(table)
    total = result.timings_s.get("total", 0.0)
    click.echo(
        ctx.t(
            f"示范县已生成：工作空间 {result.workspace}，移交文件 {result.out_dir}，"
            f"已知问题清单 {result.manifest_path}（{result.items} 项），用时 {total:.1f} 秒。",
            f"Demo county built: workspace {result.workspace}, handover files {result.out_dir}, "
            f"manifest {result.manifest_path} ({result.items} items), in {total:.1f} s.",
        )
    )
    if result.approvals is not None:
        click.echo(ctx.t(*result.approvals.summary()))
    for zh, en in zip(result.warnings_zh, result.warnings, strict=True):
        click.echo(ctx.t(f"提示：{zh}", f"Note: {en}"))
    if report is not None and balance is not None:
        click.echo()
        render_check(ctx, report, str(errors_gpkg), written)
        click.echo(
            ctx.t(
                "（以上问题均为示范县中有意埋设的已知问题，见 manifest.json。）",
                "(These are the problems planted on purpose; see manifest.json.)",
            )
        )
        click.echo()
        render_balance(ctx, balance)
        by_sev = summary(review)["by_severity"]
        click.echo(
            ctx.t(
                f"成果审查（总体规划用地 × 三区三线，规则包 {review.pack.id}）：错误 {by_sev['error']}，"
                f"警告 {by_sev['warning']}，提示 {by_sev['info']}；报告 {review_html}"
                "（guotu review master-plan 查看详情）。",
                f"Plan review (master-plan land use × control lines, pack {review.pack.id}): "
                f"{by_sev['error']} error(s), {by_sev['warning']} warning(s), {by_sev['info']} info; "
                f"report {review_html} (details: guotu review master-plan).",
            )
        )
    if seeded is not None:
        click.echo()
        _render_accounts(ctx, seeded)


def _render_accounts(ctx: Context, seeded: SeededAccess) -> None:
    """The demo's accounts with their passwords, printed this once."""
    names = {d.id: d.name for d in seeded.departments}
    table = Table(
        title=ctx.t(
            f"示范县账号（{len(seeded.departments)} 个部门、{len(seeded.accounts)} 个账号、"
            f"{len(seeded.policies)} 个图层的开放等级）",
            f"Demo accounts ({len(seeded.departments)} departments, {len(seeded.accounts)} "
            f"accounts, open grades of {len(seeded.policies)} layers)",
        )
    )
    for head in (
        ctx.t("用户名", "User name"),
        ctx.t("姓名", "Name"),
        ctx.t("部门", "Department"),
        ctx.t("角色", "Roles"),
        ctx.t("密码", "Password"),
    ):
        table.add_column(head)
    for a in seeded.accounts:
        table.add_row(
            a.username,
            a.display_name,
            names.get(a.department, a.department),
            role_names(a.roles, ctx.lang),
            a.password,
        )
    console().print(table)
    click.echo(
        ctx.t(
            "这些演示密码只显示这一次，未写入任何文件；忘记时可用 guotu user passwd 重设。"
            "各图层的开放等级见 guotu policy list；启用登录（环境变量 GUOTU_AUTH）后，在 "
            "guotu serve 的网页上用这些账号登录，首次登录时须修改初始密码。",
            "These demo passwords are shown this once and written nowhere; reset one with "
            "guotu user passwd. The layers' open grades: guotu policy list; with sign-in on "
            "(GUOTU_AUTH=local) these accounts sign in to guotu serve (docs/access.md), each "
            "changing its initial password at the first sign-in.",
        )
    )
