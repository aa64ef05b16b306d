/* guotu monitoring dashboard (规划实施监测): indicator cards coloured by status with their
 * trend (ECharts), warnings, the cases on a map (MapLibre, the workspace's own tiles) and the
 * farmland ledger. Plain JavaScript over /monitor/*.json; nothing loaded from outside. */
"use strict";

const TEXT = {
  zh: {
    title: "规划实施监测", asOf: "现状日期", report: "体检评估报告", oneMap: "一张图", lang: "English",
    indicators: "指标监测", map: "预警与案件分布", warnings: "预警", cases: "监测案件",
    ledger: "耕地占补平衡与土地整治", red: "突破", yellow: "预警", green: "正常", none: "无目标",
    target: "目标", convention: "约定算法", noWarnings: "无预警。",
    patch: "图斑", cls: "类型", status: "状态", area: "面积(m²)", update: "年度",
    occupied: "占用耕地", supplemented: "补充耕地", balance: "平衡", ha: "公顷", loading: "加载中…",
    project: "整治项目", progress: "进度", planned: "计划新增耕地", measured: "测得新增耕地",
    total: "合计", casesTotal: "{n} 件", legendTitle: "案件类型",
    sevError: "违法违规（红线内、占用永久基本农田、开发边界外新增建设）", sevWarning: "待处理（未批先建、符合规划但未批）",
    sevInfo: "已批已建、非建设类变化", progressUnknown: "当日进度未知",
  },
  en: {
    title: "Plan implementation monitoring", asOf: "As of", report: "Check-up report", oneMap: "One map", lang: "中文",
    indicators: "Indicators", map: "Warnings and cases", warnings: "Warnings", cases: "Monitoring cases",
    ledger: "Farmland balance and land consolidation", red: "Breached", yellow: "Warning", green: "OK", none: "No target",
    target: "Target", convention: "convention", noWarnings: "No warning.",
    patch: "Patch", cls: "Class", status: "Status", area: "Area (m²)", update: "Update",
    occupied: "Occupied", supplemented: "Supplemented", balance: "Balance", ha: "ha", loading: "Loading…",
    project: "Project", progress: "Progress", planned: "Planned new farmland", measured: "Measured new farmland",
    total: "Total", casesTotal: "{n} cases", legendTitle: "Case classes",
    sevError: "Unlawful (red line, permanent farmland, outside the urban boundary)", sevWarning: "To be settled (built before approval, unapproved)",
    sevInfo: "Approved and built, not construction", progressUnknown: "progress not known on that date",
  },
};
const COLOURS = { red: "#c0392b", yellow: "#d68910", green: "#2e7d32", none: "#7f8c8d" };
/** Today in the browser's time zone, as YYYY-MM-DD (what the date input starts with). */
const today = () => { const d = new Date(); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10); };
/** A record time given in the page's address (``?known_at=…``) is passed on to every read. */
const KNOWN_AT = new URLSearchParams(location.search).get("known_at") || "";
const state = { lang: localStorage.getItem("guotu.lang") || "zh", asOf: today(), charts: [], map: null, data: {} };
const $ = (s) => document.querySelector(s);
const t = (k) => TEXT[state.lang][k];
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (n, d = 2) => (n == null ? "—" : Number(n).toLocaleString(state.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: d, minimumFractionDigits: d }));

/** A colour defined once in app.css (the severity colours, --sev-error …). */
const cssColour = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

/** ``url`` with ``lang`` set to the chosen language (it wins over Accept-Language): every
 * request of the page carries it, tiles too (see buildMap). */
function withLang(url) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin || !u.protocol.startsWith("http")) return url;
  u.searchParams.set("lang", state.lang);
  return /^[a-z][a-z0-9+.-]*:/i.test(url) ? u.href : u.pathname + u.search;
}

async function getJSON(url) {
  const r = await fetch(withLang(url));
  const body = await r.json().catch(() => ({}));
  if (body.code === "password-change-required") {  // an initial or expired password: changed first
    location.replace(`/ui/password?${new URLSearchParams({ next: location.pathname + location.search })}`);
  }
  if (!r.ok) throw new Error(body.message || `${r.status}`);
  return body;
}

function query() {
  const p = new URLSearchParams({ lang: state.lang });
  if (state.asOf) p.set("as_of", state.asOf);
  if (KNOWN_AT) p.set("known_at", KNOWN_AT);
  return p.toString();
}

/** A series point's label, as the PDF report writes it: the year of a year-end value
 * (2025-12-31 → 2025), else year and month (today's value 2026-12-07 → 2026-12). */
const pointLabel = (asOf) => (asOf.slice(5) === "12-31" ? asOf.slice(0, 4) : asOf.slice(0, 7));

/** An axis tick short enough for a small chart (18,556 → 18,556; 1,234,567 → 123.5万 in zh). */
function tick(v) {
  const a = Math.abs(v);
  if (state.lang === "zh" && a >= 1e6) return `${+(v / 1e4).toFixed(1)}万`;
  if (state.lang !== "zh" && a >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  return Number(v).toLocaleString(state.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: a >= 100 ? 0 : 2 });
}

function applyText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = t("lang");
  for (const f of ["html", "pdf", "xlsx"]) $(`#report-${f}`).href = `/monitor/report.${f}?${query()}`;
}

function renderIndicators(doc) {
  state.charts.forEach((c) => c.dispose());
  state.charts = [];
  const s = doc.summary;
  $(".summary").innerHTML = ["red", "yellow", "green"].map((k) => `<span class="pill ${k}" data-testid="count-${k}">${t(k)} ${s[k]}</span>`).join("")
    + `<span class="pill none">${t("none")} ${s.no_target}</span>`;
  const cards = $("#cards");
  cards.innerHTML = "";
  for (const row of doc.indicators) {
    const colour = COLOURS[row.status || "none"];
    const card = document.createElement("div");
    card.className = "icard";
    card.dataset.testid = "card";
    card.dataset.indicator = row.id;
    card.dataset.status = row.status || "none";
    card.style.setProperty("--c", colour);
    const d = row.unit === "%" ? 3 : 2;
    card.innerHTML = `<h3>${esc(row.name)}${row.convention ? ` <small title="${esc(row.convention)}">*</small>` : ""}</h3>
      <div><span class="v">${fmt(row.value, d)}</span> ${esc(row.unit_label)}<span class="st">${t(row.status || "none")}</span></div>
      <div class="meta">${row.target != null ? `${t("target")} ${esc(row.direction_label || row.direction)}${fmt(row.target, d)}（${row.target_year}）` : "&nbsp;"}
      ${row.crossing_text ? ` · <span data-testid="crossing">${esc(row.crossing_text)}</span>` : ""}</div>
      ${row.withheld ? `<div class="meta" data-testid="withheld">${esc(row.reason)}</div>` : ""}<div class="spark"></div>`;
    cards.appendChild(card);
    if (typeof echarts === "undefined") continue;
    const chart = echarts.init(card.querySelector(".spark"), null, { renderer: "canvas" });
    const points = row.series.filter((p) => p.value != null);
    // the value axis is drawn with its ticks and takes the target in, so the scale is read
    // (a 5 ha drop on 18,550 ha does not look like a collapse) and the target line is seen
    const target = row.target;
    const bound = (v, side) => {
      const lo = target != null ? Math.min(v.min, target) : v.min;
      const hi = target != null ? Math.max(v.max, target) : v.max;
      const pad = (hi - lo) * 0.15 || Math.abs(hi) * 0.01 || 1;
      return side < 0 ? lo - pad : hi + pad;
    };
    chart.setOption({
      grid: { left: 8, right: 8, top: 8, bottom: 4, containLabel: true }, animation: false,
      tooltip: { trigger: "axis", formatter: (ps) => `${esc(ps[0].axisValue)}<br>${fmt(ps[0].value, d)} ${esc(row.unit_label)}` },
      // the first and the last point are always labelled (today's as 2026-12, like the PDF)
      xAxis: { type: "category", data: points.map((p) => pointLabel(p.as_of)), axisTick: { alignWithLabel: true },
        axisLabel: { fontSize: 9, interval: (i) => i === 0 || i === points.length - 1 || (i % 2 === 0 && i < points.length - 2) } },
      yAxis: { type: "value", min: (v) => bound(v, -1), max: (v) => bound(v, 1), splitNumber: 3,
        axisLabel: { fontSize: 9, formatter: (v) => tick(v), showMinLabel: false, showMaxLabel: false }, splitLine: { lineStyle: { color: "#eee" } } },
      series: [{ type: "line", data: points.map((p) => p.value), symbolSize: 4, lineStyle: { color: colour }, itemStyle: { color: colour },
        markLine: target != null ? { symbol: "none", silent: true, lineStyle: { color: "#c0392b", type: "dashed" }, data: [{ yAxis: target }], label: { show: false } } : undefined }],
    });
    state.charts.push(chart);
  }
  const warns = [...doc.warnings.map((w) => ({ status: w.status, message: w.message }))];
  for (const w of state.data.consolidation?.warnings || []) warns.push({ status: "yellow", message: w });
  $("#warnings").innerHTML = warns.length ? warns.map((w) => `<li class="${esc(w.status)}" data-testid="warning">${esc(w.message)}</li>`).join("") : `<li>${t("noWarnings")}</li>`;
  const notes = [...(state.data.cases?.notes || []), ...(state.data.consolidation?.notes || [])];
  $("#notes").innerHTML = notes.map((n) => `<li data-testid="note">${esc(n)}</li>`).join("");
}

function renderCases(doc) {
  const rows = doc.cases.filter((c) => c.class !== "approved_built");
  const area = rows.reduce((sum, c) => sum + c.area_m2, 0);
  $("#cases").innerHTML = `<table><tr><th>${t("patch")}</th><th>${t("cls")}</th><th>${t("status")}</th><th>${t("area")}</th></tr>`
    + rows.map((c) => `<tr data-testid="case-row"><td>${esc(c.tbbh)}</td><td><span class="sev sev-${esc(c.severity)}" data-testid="case-class">${esc(c.class_name)}</span></td><td>${esc(c.status_name)}</td><td class="num">${fmt(c.area_m2)}</td></tr>`).join("")
    + `<tr class="total" data-testid="cases-total"><th>${t("total")}</th><th colspan="2">${t("casesTotal").replace("{n}", rows.length)}</th><th class="num">${fmt(area)}</th></tr></table>`;
  const src = state.map?.getSource("cases");
  if (src) src.setData(doc.map);
  renderCaseLegend(doc);
}

/** The case map's legend: a dot per severity, with the case classes it stands for. */
function renderCaseLegend(doc) {
  const present = new Set((doc.map?.features || []).map((f) => f.properties.severity));
  const items = [["error", "sevError"], ["warning", "sevWarning"], ["info", "sevInfo"]].filter(([sev]) => present.has(sev));
  $("#case-legend").innerHTML = items.length ? `<b>${t("legendTitle")}</b>` + items.map(([sev, key]) =>
    `<div data-testid="case-legend-item" data-severity="${sev}"><span class="dot" style="background:${cssColour(`--sev-${sev}`)}"></span>${esc(t(key))}</div>`).join("") : "";
  $("#case-legend").hidden = !items.length;
}

function renderLedger(doc) {
  $("#ledger-chart").hidden = Boolean(doc.note);
  if (doc.note) { $("#ledger").innerHTML = `<p class="hint">${esc(doc.note)}</p>`; return; }
  const tot = doc.totals;
  $("#ledger").innerHTML = `<table data-testid="ledger-table"><tr><th>${t("update")}</th><th>${t("occupied")}(${t("ha")})</th><th>${t("supplemented")}(${t("ha")})</th><th>${t("balance")}(${t("ha")})</th></tr>`
    + doc.ledger.map((r) => `<tr><td>${esc(r.version)}</td><td class="num">${fmt(r.occupied_m2 / 1e4, 4)}</td><td class="num">${fmt(r.supplemented_m2 / 1e4, 4)}</td><td class="num">${fmt(r.balance_m2 / 1e4, 4)}</td></tr>`).join("")
    + `<tr class="total" data-testid="ledger-total"><th>${t("total")}</th><th class="num">${fmt(tot.occupied_m2 / 1e4, 4)}</th><th class="num">${fmt(tot.supplemented_m2 / 1e4, 4)}</th><th class="num">${fmt(tot.balance_m2 / 1e4, 4)}</th></tr></table>`
    + `<table><tr><th>${t("project")}</th><th>${t("progress")}</th><th>${t("planned")}(${t("ha")})</th><th>${t("measured")}(${t("ha")})</th></tr>`
    + doc.projects.map((p) => `<tr data-testid="project-row"><td>${esc(p.xmmc)}</td><td class="num" data-testid="project-progress"${p.progress_pct == null ? ` title="${esc(t("progressUnknown"))}"` : ""}>${p.progress_pct == null ? "—" : `${p.progress_pct}%`}</td><td class="num">${fmt((p.planned.new_farmland_m2 || 0) / 1e4, 4)}</td><td class="num">${fmt(p.measured.new_farmland_m2 / 1e4, 4)}</td></tr>`).join("") + "</table>";
  if (typeof echarts === "undefined") return;
  const chart = echarts.init($("#ledger-chart"), null, { renderer: "canvas" });
  chart.setOption({
    animation: false, tooltip: { trigger: "axis" }, legend: { data: [t("occupied"), t("supplemented")] },
    grid: { left: 50, right: 10, top: 30, bottom: 30 },
    xAxis: { type: "category", data: doc.ledger.map((r) => r.version.slice(0, 4)) },
    yAxis: { type: "value", name: t("ha") },
    series: [{ name: t("occupied"), type: "bar", data: doc.ledger.map((r) => r.occupied_m2 / 1e4), itemStyle: { color: "#c0392b" } },
             { name: t("supplemented"), type: "bar", data: doc.ledger.map((r) => r.supplemented_m2 / 1e4), itemStyle: { color: "#2e7d32" } }],
  });
  state.charts.push(chart);
}

async function buildMap() {
  const cfg = await getJSON("/ui/config.json");
  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef2f5" } }];
  for (const l of cfg.layers.filter((x) => ["admin_boundary", "ecological_redline", "permanent_farmland", "urban_boundary"].includes(x.role))) {
    sources[l.name] = { type: "vector", tiles: [`${location.origin}/tiles/${encodeURIComponent(l.name)}/{z}/{x}/{y}.mvt`], maxzoom: 18 };
    if (l.role !== "admin_boundary") layers.push({ id: `${l.name}-fill`, type: "fill", source: l.name, "source-layer": l.name, paint: { "fill-color": l.colour || "#999", "fill-opacity": 0.15 } });
    layers.push({ id: `${l.name}-line`, type: "line", source: l.name, "source-layer": l.name, paint: { "line-color": l.colour || "#666", "line-width": 1 } });
  }
  sources.cases = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  const sev = ["match", ["get", "severity"], "error", cssColour("--sev-error"), "warning", cssColour("--sev-warning"), cssColour("--sev-info")];
  layers.push({ id: "cases-fill", type: "fill", source: "cases", paint: { "fill-color": sev, "fill-opacity": 0.6 } },
              { id: "cases-point", type: "circle", source: "cases", maxzoom: 14, paint: { "circle-radius": 5, "circle-color": sev, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  state.map = new maplibregl.Map({ container: "map", style: { version: 8, sources, layers }, bounds: cfg.bounds || [73, 18, 135, 54], fitBoundsOptions: { padding: 10 }, attributionControl: false,
    transformRequest: (url) => ({ url: withLang(url) }) });
  state.map.addControl(new maplibregl.NavigationControl(), "top-left");
  window.guotuMonitorMap = state.map;
  await new Promise((resolve) => state.map.once("load", resolve));
}

async function load() {
  $("#status").textContent = t("loading");
  try {
    const q = query();
    const [ind, cases, cons] = await Promise.all([
      getJSON(`/monitor/indicators.json?${q}`),
      getJSON(`/monitor/cases.json?${q}`).catch((e) => ({ cases: [], map: { type: "FeatureCollection", features: [] }, error: e.message })),
      getJSON(`/monitor/consolidation.json?${q}`),
    ]);
    state.data = { indicators: ind, cases, consolidation: cons };
    renderIndicators(ind);
    renderCases(cases);
    renderLedger(cons);
    $("#status").textContent = "";
    document.body.dataset.ready = "1";
  } catch (err) {
    $("#status").textContent = err.message;
  }
}

async function main() {
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", state.lang);
    applyText();
    load();
  });
  $("#as-of").value = state.asOf;
  $("#as-of").addEventListener("change", (e) => { state.asOf = e.target.value || today(); e.target.value = state.asOf; applyText(); load(); });
  applyText();
  await buildMap().catch((e) => { $("#status").textContent = e.message; });
  await load();
  window.addEventListener("resize", () => state.charts.forEach((c) => c.resize()));
}

main();
