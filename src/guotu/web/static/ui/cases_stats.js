/* guotu approval statistics (审批统计) over GET /cases/stats.json: open cases by stage, mean
 * and 90th-percentile working days per stage (closed stays, 补正 not counted), overdue open
 * cases by the department that must act, and closed cases by how they ended. Horizontal bar
 * charts drawn as plain SVG here (no chart library). */
"use strict";

addText({
  zh: {
    title: "审批", pageTitle: "审批统计 · 国土空间规划一张图", procedure: "流程", allProcedures: "全部流程",
    byStage: "在办案件（按环节）", days: "各环节用时（工作日）", mean: "平均", p90: "90% 分位",
    overdueByDept: "超期案件（按待办部门）", closedIn: "已办结案件（按结果）",
    statsHint: "用时按工作日计，不含补正期间；平均与 90% 分位按已办结的环节统计。",
    total: "案件总数", openCases: "在办", noData: "暂无数据。", cases: "{n} 件", daysUnit: "{n} 个工作日", stays: "{n} 次", system: "系统",
    lateStays: "其中超期 {n} 次",
  },
  en: {
    title: "Approvals", pageTitle: "Approval statistics · One map", procedure: "Procedure", allProcedures: "All procedures",
    byStage: "Open cases by stage", days: "Working days per stage", mean: "Mean", p90: "90th percentile",
    overdueByDept: "Overdue cases by department", closedIn: "Closed cases by outcome",
    statsHint: "Working days, 补正 (supplementing) not counted; mean and 90th percentile over the stages left.",
    total: "Cases", openCases: "open", noData: "No data yet.", cases: "{n}", daysUnit: "{n} working days", stays: "{n} stays", system: "system",
    lateStays: "{n} late",
  },
});

const stats = { doc: null, procedure: "" };
const BAR_H = 20;
const GAP = 10;

/** A horizontal bar chart as wide as ``el``: ``rows`` of {label, values: [number …], title};
 * ``series`` the class of each value's bar; ``unit`` says a value in words (the tooltip). */
function barChart(el, rows, series, unit) {
  if (!rows.length) { el.innerHTML = `<p class="empty" data-testid="no-data">${esc(t("noData"))}</p>`; return; }
  const width = Math.max(320, el.clientWidth || 480);
  const labelW = Math.min(220, Math.round(width * 0.38));
  const inner = width - labelW - 56;
  const max = Math.max(1, ...rows.flatMap((r) => r.values));
  const groupH = series.length * BAR_H + GAP;
  const height = rows.length * groupH + GAP;
  const chars = Math.floor(labelW / 13);
  const parts = [];
  rows.forEach((r, i) => {
    const y0 = GAP + i * groupH;
    const shown = r.label.length > chars ? `${r.label.slice(0, chars - 1)}…` : r.label;
    parts.push(`<text x="${labelW - 6}" y="${y0 + (series.length * BAR_H) / 2 + 4}" text-anchor="end">${esc(shown)}<title>${esc(r.label)}</title></text>`);
    r.values.forEach((v, j) => {
      const w = Math.max(v > 0 ? 2 : 0, (v / max) * inner);
      const y = y0 + j * BAR_H;
      parts.push(`<rect class="bar ${series[j]}" data-testid="bar" data-label="${esc(r.label)}" data-value="${v}" x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${BAR_H - 4}"><title>${esc(r.title || r.label)}：${esc(unit(v))}</title></rect>`);
      parts.push(`<text class="value" x="${(labelW + w + 4).toFixed(1)}" y="${y + BAR_H - 6}">${esc(fmt(v, 2))}</text>`);
    });
  });
  parts.push(`<line class="axis" x1="${labelW}" y1="0" x2="${labelW}" y2="${height}"></line>`);
  el.innerHTML = `<svg class="bars" data-testid="bars" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" xmlns="http://www.w3.org/2000/svg">${parts.join("")}</svg>`;
}

/** Rows in the order of their procedure's stages (the procedures' order, then the stages'). */
function inStageOrder(rows) {
  const rank = (r) => {
    const p = (ui.procedures || []).findIndex((x) => x.id === r.workflow);
    const s = procedureOf(r.workflow)?.stages.findIndex((x) => x.id === r.stage) ?? -1;
    return [p < 0 ? 999 : p, s < 0 ? 999 : s];
  };
  return [...rows].sort((a, b) => { const [pa, sa] = rank(a); const [pb, sb] = rank(b); return pa - pb || sa - sb; });
}

/** Learn the names of the departments overdue cases wait for (the statistics give ids): one
 * overdue case read for each department not yet known. */
async function learnOverdueNames(doc) {
  const unknown = doc.overdue_by_department.map((r) => r.department).filter((d) => !ui.names[d] && !["system", "*"].includes(d));
  if (!unknown.length) return;
  const overdue = (await api("/cases.json?box=overdue&limit=1000")).cases;
  for (const d of unknown) {
    if (ui.names[d]) continue;
    const c = overdue.find((s) => s.waiting.some((w) => w === `dept:${d}` || w.endsWith(`@${d}`)));
    if (c) learnNames(await api(`/cases/${encodeURIComponent(c.case_id)}.json`));
  }
}

function stageLabel(workflow, stage, several) {
  const s = stageName(workflow, stage);
  return several ? `${procedureName(workflow)} · ${s}` : s;
}

function render() {
  const doc = stats.doc;
  const select = $("#procedure");
  if (ui.procedures) {
    const chosen = stats.procedure;
    select.innerHTML = `<option value="">${esc(t("allProcedures"))}</option>`
      + ui.procedures.map((p) => `<option value="${esc(p.id)}">${esc(ui.lang === "zh" ? p.name_zh : p.name_en)}</option>`).join("");
    select.value = chosen;
  }
  if (!doc) return;
  $("#totals").innerHTML = `<span>${esc(t("total"))} <b data-testid="total-cases">${doc.cases}</b></span><span>${esc(t("openCases"))} <b data-testid="open-cases">${doc.open}</b></span>`;
  const workflows = new Set([...doc.by_stage, ...doc.stage_days, ...doc.closed_in].map((r) => r.workflow));
  const several = workflows.size > 1;
  barChart($("#chart-stage"), inStageOrder(doc.by_stage).map((r) => ({ label: stageLabel(r.workflow, r.stage, several), values: [r.open] })),
    [""], (v) => fill(t("cases"), { n: v }));
  barChart($("#chart-days"), inStageOrder(doc.stage_days).map((r) => ({
    label: stageLabel(r.workflow, r.stage, several), values: [r.mean, r.p90],
    title: `${stageLabel(r.workflow, r.stage, several)}（${fill(t("stays"), { n: r.stays })}${r.late ? `，${fill(t("lateStays"), { n: r.late })}` : ""}）`,
  })), ["mean", "p90"], (v) => fill(t("daysUnit"), { n: fmt(v, 2) }));
  barChart($("#chart-overdue"), doc.overdue_by_department.map((r) => ({
    label: ["system", "*"].includes(r.department) ? t("system") : deptName(r.department), values: [r.cases],
  })), ["late"], (v) => fill(t("cases"), { n: v }));
  barChart($("#chart-closed"), inStageOrder(doc.closed_in).map((r) => ({ label: stageLabel(r.workflow, r.stage, several), values: [r.cases] })),
    [""], (v) => fill(t("cases"), { n: v }));
}

async function load() {
  const q = stats.procedure ? `?procedure=${encodeURIComponent(stats.procedure)}` : "";
  stats.doc = await api(`/cases/stats.json${q}`);
  render();
  try { await learnOverdueNames(stats.doc); } catch (err) { /* the ids stay shown */ }
  render();
}

async function init() {
  stats.procedure = new URLSearchParams(location.search).get("procedure") || "";
  $("#procedure").addEventListener("change", async (e) => {
    stats.procedure = e.target.value;
    const u = new URL(location.href);
    if (stats.procedure) u.searchParams.set("procedure", stats.procedure); else u.searchParams.delete("procedure");
    history.replaceState(null, "", u.pathname + u.search);
    try { await load(); } catch (err) { message(err.message, false); }
  });
  await loadProcedures();
  await load();
  let resized = null;
  window.addEventListener("resize", () => { clearTimeout(resized); resized = setTimeout(render, 200); });
}

startPage("stats", init, render);
