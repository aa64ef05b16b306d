/* guotu web UI (一张图): the workspace's own vector tiles, layer tree, as-of date, site
 * query, plan review (workspace layer or an uploaded plan, as a job with progress),
 * 用地平衡表 and version diff (charts by ECharts). Plain JavaScript over the app's API; no external
 * resource (no CDN, no basemap, no glyphs). */
"use strict";

const TEXT = {
  zh: {
    title: "国土空间规划一张图", asOf: "现行日期", api: "接口文档", monitor: "实施监测", cases: "审批", layers: "图层",
    legend: "图例", legendYdyh: "用地用海一级类", legendSandiao: "三调一级类（现状地类）",
    legendNone: "勾选规划用地或现状地类图层后显示其分类图例。",
    absent: "另有 {n} 类本工作空间未出现（含用海类）", absentLand: "另有 {n} 类本工作空间未出现",
    picked: "已在地图上勾出", mu: "面积(亩)", exportTable: "下载表格", report: "审查报告",
    tabQuery: "地块查询", tabReview: "成果审查",
    tabBalance: "用地平衡表", queryHint: "在地图上点击一处，查看该处适用的全部规划管控要求。",
    kind: "审查类型", "kind_master-plan": "总体规划用地", "kind_detailed-plan": "详细规划地块",
    "kind_special-plan": "专项规划线位", kind_project: "建设项目", run: "运行审查",
    layer: "图层", compute: "计算", lang: "English", loading: "加载中…",
    applies: "适用要素", pending: "待生效的修改", allowed: "允许的用地（一级类）",
    versionStatus: { drafting: "编制中", publicity: "公示", submitted: "报批", approved: "批复", amended: "修改", repealed: "废止" },
    forbidden: "禁止", conditional: "有条件", none: "无", share: "占比",
    relation: { within: "位于其内", on_boundary: "位于边界上", contains: "包含", overlaps: "相交", crosses: "穿越" },
    running: "审查中…", findings: "审查问题", total: "共", error: "错误", warning: "警告",
    info: "提示", download: "下载报告", area: "面积", noFindings: "未发现问题。",
    code: "代码", name: "名称", features: "图斑数", areaHa: "面积(公顷)", sharePct: "占比(%)",
    totalArea: "合计", groups: { zones: "三区三线与边界", plans: "规划", other: "其他" },
    findingsLayer: "审查问题",
    tabDiff: "版本对比", sourceWorkspace: "工作空间中的图层", sourceUpload: "上传成果文件",
    planFile: "成果数据", planFileHint: "Shapefile、FileGDB 请压缩为 zip；指标审查请上传规划指标表（xlsx/csv）。",
    tableFile: "属性表（可选）", tableKey: "关联字段", chooseFile: "请先选择要上传的文件。",
    queued: "排队中…", rule: "规则", plan: "规划", from: "原版本", to: "新版本", compare: "对比",
    added: "新增", removed: "删除", changed: "修改", noPlans: "工作空间中没有可对比的规划版本。",
    sameVersion: "请选择两个不同的版本。", netChange: "面积变化(公顷)", layerCol: "图层",
    key: "编号", noChange: "两个版本没有差别。",
    use: "用途", areaOld: "原面积", areaNew: "新面积", areaDelta: "变化", noneCode: "（无）",
    areaNote: "面积为椭球面积，单位：平方米（m²）。",
    truncated: "变化较多，地图只画出前 {n} 处。", balanceChart: "一级类面积(公顷)",
    schemes: { sandiao: "三调工作分类", ydyh2023: "用地用海分类" }, ha: "公顷", sheet: "规划条件查询单",
    change: { added: "新增", removed: "删除", changed: "修改" },
    signIn: "登录", signOut: "退出登录", admin: "系统管理", timedOut: "登录已超时，请重新登录",
    changePassword: "修改密码",
    notSignedIn: "请先登录", signInAgain: "登录",
  },
  en: {
    title: "Territorial spatial planning one map", asOf: "As of", api: "API", monitor: "Monitoring", cases: "Approvals", layers: "Layers",
    legend: "Legend", legendYdyh: "Land and sea use, level 1", legendSandiao: "Land survey (三调), level 1",
    legendNone: "Show a land-use or land-survey layer to see its legend.",
    absent: "{n} more classes do not occur in this workspace (sea classes among them)", absentLand: "{n} more classes do not occur in this workspace",
    picked: "outlined on the map", mu: "Area (mu)", exportTable: "Download", report: "Review report",
    tabQuery: "Site query", tabReview: "Plan review",
    tabBalance: "Land-use balance", queryHint: "Click a place on the map to see every plan control that applies there.",
    kind: "Review kind", "kind_master-plan": "Master-plan land use", "kind_detailed-plan": "Detailed-plan parcels",
    "kind_special-plan": "Special-plan routes", kind_project: "Construction projects", run: "Run review",
    layer: "Layer", compute: "Compute", lang: "中文", loading: "Loading…",
    applies: "What applies", pending: "Pending changes", allowed: "Allowed uses (level 1)",
    versionStatus: { drafting: "drafting", publicity: "on public display", submitted: "submitted", approved: "approved", amended: "amended", repealed: "repealed" },
    forbidden: "forbidden", conditional: "conditional", none: "none", share: "share",
    relation: { within: "within", on_boundary: "on the boundary", contains: "contains", overlaps: "overlaps", crosses: "crosses" },
    running: "Reviewing…", findings: "Findings", total: "Total", error: "error", warning: "warning",
    info: "info", download: "Download report", area: "area", noFindings: "No finding.",
    code: "Code", name: "Name", features: "Features", areaHa: "Area (ha)", sharePct: "Share (%)",
    totalArea: "Total", groups: { zones: "Control lines and boundaries", plans: "Plans", other: "Other" },
    findingsLayer: "Review findings",
    tabDiff: "Versions", sourceWorkspace: "Layer in the workspace", sourceUpload: "Upload a plan file",
    planFile: "Plan data", planFileHint: "Zip a Shapefile or FileGDB; for the indicator review upload the indicator table (xlsx/csv).",
    tableFile: "Attribute table (optional)", tableKey: "Join field", chooseFile: "Choose the file to upload first.",
    queued: "Queued…", rule: "rule", plan: "Plan", from: "From version", to: "To version", compare: "Compare",
    added: "added", removed: "removed", changed: "changed", noPlans: "No plan versions to compare in the workspace.",
    sameVersion: "Choose two different versions.", netChange: "Area change (ha)", layerCol: "Layer",
    key: "Key", noChange: "The two versions are the same.",
    use: "Use", areaOld: "Before", areaNew: "After", areaDelta: "Change", noneCode: "(none)",
    areaNote: "Areas are ellipsoidal, in square metres (m²).",
    truncated: "Many changes: the map draws the first {n}.", balanceChart: "Area by level-1 class (ha)",
    schemes: { sandiao: "3rd land survey classes", ydyh2023: "Land and sea use classes" }, ha: "ha", sheet: "Printable sheet",
    change: { added: "added", removed: "removed", changed: "changed" },
    signIn: "Sign in", signOut: "Sign out", admin: "Administration", timedOut: "Your session timed out: sign in again",
    changePassword: "Change password",
    notSignedIn: "Sign in first", signInAgain: "Sign in",
  },
};
const ZONE_ROLES = ["admin_boundary", "ecological_redline", "permanent_farmland", "urban_boundary"];
const HIDDEN_BY_DEFAULT = ["DLTB", "XXGHDK", "XXGHDY", "BHTB", "TDZZXM"];
const state = { lang: localStorage.getItem("guotu.lang") || "zh", config: null, map: null, asOf: "", review: null, balance: null, visible: {}, plans: [], diff: null, charts: {}, query: null, picked: null };
/** Roles whose feature a click picks and outlines, most specific first. */
const PICK_ORDER = ["detailed_parcel", "construction_project", "planned_land_use", "land_survey", "consolidation_project", "change_patch", "detailed_unit", "special_plan"];
/** How long a click waits for a second one: a double click zooms and queries nothing. */
const CLICK_DELAY_MS = 300;

const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key];
/* The plan and version an entry comes from, as the server words it (plan_version_label). */
const planText = (e) => (state.lang === "en" ? e.plan_label_en : e.plan_label)
  || `${e.plan || ""} ${e.version?.label || ""}`.trim();
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (n, d = 2, min = d) => (n == null ? "—" : Number(n).toLocaleString(state.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: d, minimumFractionDigits: min }));
/** A colour defined once in app.css (the severity colours, --sev-error …). */
const cssColour = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
/** Today in the browser's time zone, as YYYY-MM-DD (what the date inputs start with). */
const today = () => { const d = new Date(); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10); };

function status(text) { $("#status").textContent = text || ""; }

/** ``url`` with ``lang`` set to the chosen language: an explicit lang wins over the browser's
 * Accept-Language, so every request of the page carries it (tiles too, see buildMap). */
function withLang(url) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin || !u.protocol.startsWith("http")) return url;
  u.searchParams.set("lang", state.lang);
  return /^[a-z][a-z0-9+.-]*:/i.test(url) ? u.href : u.pathname + u.search;
}

async function getJSON(url, options, { quiet = false } = {}) {
  const r = await fetch(withLang(url), withCsrf(options));
  const body = await r.json().catch(() => ({}));
  if (r.status === 401) signInNeeded();
  else if (body.code === "password-change-required") changePasswordFirst();
  else if (!quiet) checkSession();
  if (!r.ok) { throw new Error(body.message || `${r.status} ${r.statusText}`); }
  return body;
}

/* -- who is signed in (auth = local/ldap; with auth = none /auth/me is the local user and
 * nothing about signing in is shown) ------------------------------------------------------ */
const session = { me: null, auth: false, checked: 0, checking: null, expired: false };
/** Least time between two checks of the session after the page's requests (ms). */
const SESSION_CHECK_MS = 1000;
/** How often an idle page asks whether its session is still alive (ms). */
const SESSION_POLL_MS = 60000;

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

/** ``options`` with the session's CSRF token (the ``guotu_csrf`` cookie) as X-CSRF-Token
 * on a request that changes something. */
function withCsrf(options = {}) {
  const method = (options.method || "GET").toUpperCase();
  const token = cookie("guotu_csrf") || session.me?.csrf_token;
  if (["GET", "HEAD"].includes(method) || !token) return options;
  const headers = new Headers(options.headers || {});
  headers.set("X-CSRF-Token", token);
  return { ...options, headers, credentials: "same-origin" };
}

function signInURL() {
  return `/ui/login?${new URLSearchParams({ next: location.pathname + location.search + location.hash })}`;
}

/** The page that changes the signed-in user's password, coming back here. */
function passwordURL() {
  return `/ui/password?${new URLSearchParams({ next: location.pathname + location.search + location.hash })}`;
}

/** The password must be changed first (an initial or expired one): the server answers nothing
 * else until it is, so go to the page that changes it. */
function changePasswordFirst() {
  location.replace(passwordURL());
}

/** A request answered 401: the session timed out (or, never signed in, sign in first). */
function signInNeeded() {
  if (!session.auth && !session.me) return;
  session.expired = Boolean(session.me) || session.expired;
  session.me = null;
  renderUser();
}

function renderUser() {
  const me = session.me;
  const signedIn = Boolean(me && me.via === "session");
  $("#user").hidden = !signedIn;
  $("#sign-out").hidden = !signedIn;
  $("#password-link").hidden = !(signedIn && me.user.source === "local");
  $("#password-link").href = passwordURL();
  $("#admin-link").hidden = !(signedIn && me.user.permissions.some((p) => ["manage_accounts", "grant", "set_policy", "read_audit"].includes(p)));
  if (signedIn) {
    const dept = me.user.department ? ` · ${me.user.department.name}` : "";
    $("#user").textContent = `${me.user.display_name}${dept}`;
    $("#user").title = me.user.username;
  }
  $("#sign-in-link").hidden = !(session.auth && !signedIn && !session.expired);
  $("#sign-in-link").href = signInURL();
  const banner = $("#session-expired");
  banner.hidden = !session.expired;
  if (session.expired) {
    banner.querySelector("span").textContent = t("timedOut");
    banner.querySelector("a").textContent = t("signInAgain");
    banner.querySelector("a").href = signInURL();
  }
}

/** Ask /auth/me who the page is: 200 signed in (or the local user of auth = none), 401 the
 * server has sign-in and nobody is signed in, or no longer (the session timed out). */
async function loadMe() {
  const r = await fetch(withLang("/auth/me"), { headers: { Accept: "application/json" } });
  session.checked = Date.now();
  if (r.status === 401) {
    session.auth = true;
    signInNeeded();
    return;
  }
  if (!r.ok) return;
  const me = await r.json();
  if (me.password_change && me.via === "session") {
    changePasswordFirst();
    return;
  }
  session.auth = me.via !== "local";
  session.me = session.auth ? me : null;
  session.expired = false;
  renderUser();
}

/** After a request of a signed-in page, make sure its session is still alive (at most once a
 * second): data routes answer a timed-out session as anonymous rather than 401. */
function checkSession(force = false) {
  if (!session.me || session.checking) return session.checking;
  if (!force && Date.now() - session.checked < SESSION_CHECK_MS) return null;
  session.checking = loadMe().catch(() => {}).finally(() => { session.checking = null; });
  return session.checking;
}

async function signOut() {
  try {
    await fetch(withLang("/auth/sign-out"), withCsrf({ method: "POST" }));
  } finally {
    location.assign("/ui/login?reason=signed_out");
  }
}

function applyText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = t("lang");
  if (state.config) { buildLayerTree(); buildLegend(); renderBalance(); renderDiff(); renderQuery(); renderReview(); }
  renderUser();
}

function tileURL(name) {
  const q = state.asOf ? `?as_of=${state.asOf}` : "";
  return `${location.origin}/tiles/${encodeURIComponent(name)}/{z}/{x}/{y}.mvt${q}`;
}

/** The colour table of a layer's classification: 用地用海 or 三调 (land survey). */
function classTable(layer) {
  return layer.code_scheme === "sandiao" ? state.config.land_survey_colours : state.config.land_use_colours;
}

/** Fill colour by level-1 class; a 三调 wetland code (0303, 1106 …) takes 00 湿地's colour. */
function classFill(layer) {
  const code = ["to-string", ["coalesce", ["get", layer.code_field], ""]];
  const table = classTable(layer);
  const match = ["match", ["slice", code, 0, 2]];
  for (const c of table) { if (c.code !== "00") match.push(c.code, c.colour); }
  match.push("#cccccc");
  const wet = table.find((c) => c.code === "00");
  if (layer.code_scheme !== "sandiao" || !wet) return match;
  return ["case", ["in", ["slice", code, 0, 4], ["literal", state.config.sandiao_wetland_codes]], wet.colour, match];
}

/** A filter that keeps the feature a site-query entry names (by the layer's id field, or by
 * the tile feature id when the layer has no such field), or nothing. */
function featureFilter(layer, entry) {
  if (!entry || entry.layer !== layer.name) return ["boolean", false];
  const value = String(entry.feature);
  const field = layer.id_field || "BSM";
  return ["case", ["has", field], ["==", ["to-string", ["get", field]], value], ["==", ["to-string", ["id"]], value]];
}

function mapLayersOf(layer) {
  const id = layer.name;
  const base = { source: id, "source-layer": id };
  const line = layer.colour || "#666666";
  if (layer.geometry_type.includes("LINE")) {
    return [{ ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 3 } }];
  }
  if (layer.code_field && layer.code_scheme) {
    return [
      { ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": classFill(layer), "fill-opacity": 0.85 } },
      { ...base, id: `${id}-line`, type: "line", minzoom: 13, paint: { "line-color": "#777777", "line-width": 0.4 } },
    ];
  }
  if (ZONE_ROLES.includes(layer.role)) {
    const dash = layer.role === "urban_boundary" ? [3, 2] : layer.role === "admin_boundary" ? [4, 2, 1, 2] : [1, 0];
    const out = [{ ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 2, "line-dasharray": dash } }];
    if (layer.role !== "admin_boundary") {
      out.unshift({ ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": line, "fill-opacity": 0.15 } });
    }
    return out;
  }
  return [
    { ...base, id: `${id}-fill`, type: "fill", paint: { "fill-color": layer.colour || "#9e9e9e", "fill-opacity": layer.colour ? 0.25 : 0.5 } },
    { ...base, id: `${id}-line`, type: "line", paint: { "line-color": line, "line-width": 1 } },
  ];
}

function drawOrder(layer) {
  if (layer.role === "land_survey") return 0;
  if (layer.code_field === "YDYHFLDM") return layer.role === "planned_land_use" ? 1 : 2;
  if (ZONE_ROLES.includes(layer.role)) return 4;
  return 3;
}

function buildMap() {
  const cfg = state.config;
  const sources = {};
  const layers = [{ id: "background", type: "background", paint: { "background-color": "#eef2f5" } }];
  const ordered = [...cfg.layers].sort((a, b) => drawOrder(a) - drawOrder(b));
  for (const layer of ordered) {
    sources[layer.name] = { type: "vector", tiles: [tileURL(layer.name)], minzoom: 0, maxzoom: 18 };
    const visible = !HIDDEN_BY_DEFAULT.includes(layer.name);
    for (const ml of mapLayersOf(layer)) {
      ml.layout = { visibility: visible ? "visible" : "none" };
      layers.push(ml);
    }
  }
  sources.site = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  sources.findings = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  sources.diff = { type: "geojson", data: { type: "FeatureCollection", features: [] } };
  const sev = ["match", ["get", "severity"], "error", cssColour("--sev-error"), "warning", cssColour("--sev-warning"), cssColour("--sev-info")];
  layers.push(
    { id: "findings-fill", type: "fill", source: "findings", paint: { "fill-color": sev, "fill-opacity": 0.45 } },
    { id: "findings-line", type: "line", source: "findings", paint: { "line-color": sev, "line-width": ["case", ["boolean", ["feature-state", "selected"], false], 5, 2.5] } },
  );
  const diffColour = ["match", ["get", "kind"], "added", "#2e7d32", "removed", "#c62828", "#ef8f00"];
  layers.push(
    { id: "diff-fill", type: "fill", source: "diff", paint: { "fill-color": diffColour, "fill-opacity": 0.35 } },
    { id: "diff-line", type: "line", source: "diff", paint: { "line-color": diffColour, "line-width": 2 } },
  );
  // the picked feature's outline, from the layer's own tiles (hidden until a query picks one)
  for (const layer of ordered) {
    if (layer.geometry_type.includes("LINE")) continue;
    const base = { source: layer.name, "source-layer": layer.name, filter: ["boolean", false] };
    layers.push({ ...base, id: `${layer.name}-highlight-casing`, type: "line", paint: { "line-color": "#ffffff", "line-width": 6, "line-opacity": 0.9 } },
                { ...base, id: `${layer.name}-highlight`, type: "line", paint: { "line-color": "#0d47a1", "line-width": 3 } });
  }
  layers.push({ id: "site", type: "circle", source: "site", paint: { "circle-radius": 5, "circle-color": "#ffffff", "circle-stroke-color": "#0d47a1", "circle-stroke-width": 3 } });
  const map = new maplibregl.Map({
    container: "map", style: { version: 8, sources, layers }, attributionControl: false,
    bounds: cfg.bounds || [73, 18, 135, 54], fitBoundsOptions: { padding: 20 }, maxZoom: 20,
    transformRequest: (url) => ({ url: withLang(url) }),
  });
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
  // A click queries the site once the browser knows it was not the first of a double click
  // (which zooms): MapLibre reports both clicks of a double click as clicks too.
  let pending = null;
  map.on("click", (e) => {
    clearTimeout(pending);
    pending = setTimeout(() => { pending = null; siteQuery(e.lngLat); }, CLICK_DELAY_MS);
  });
  map.on("dblclick", () => { clearTimeout(pending); pending = null; });
  map.getCanvas().style.cursor = "crosshair";
  state.map = map;
  window.guotuMap = map;
}

function setLayerVisible(name, visible) {
  state.visible[name] = visible;
  const layer = state.config.layers.find((l) => l.name === name);
  for (const ml of mapLayersOf(layer)) {
    if (state.map.getLayer(ml.id)) state.map.setLayoutProperty(ml.id, "visibility", visible ? "visible" : "none");
  }
}

function layerVisible(name) {
  return state.visible[name] ?? !HIDDEN_BY_DEFAULT.includes(name);
}

function buildLayerTree() {
  const tree = $("#layer-tree");
  tree.innerHTML = "";
  const groups = { zones: [], plans: [], other: [] };
  for (const l of state.config.layers) {
    const g = ZONE_ROLES.includes(l.role) ? "zones" : (l.code_field === "YDYHFLDM" || l.role === "special_plan" || l.role === "detailed_unit") ? "plans" : "other";
    groups[g].push(l);
  }
  for (const [g, list] of Object.entries(groups)) {
    if (!list.length) continue;
    const head = document.createElement("li");
    head.className = "group";
    head.textContent = t("groups")[g];
    tree.appendChild(head);
    for (const l of list) {
      const li = document.createElement("li");
      const checked = layerVisible(l.name);
      const colour = l.code_scheme ? `linear-gradient(90deg,${classTable(l).filter((c) => (state.config.present[l.code_scheme] || []).includes(c.code)).slice(0, 6).map((c) => c.colour).join(",") || "#ccc,#ccc"})` : (l.colour || "#9e9e9e");
      li.innerHTML = `<label><input type="checkbox" data-layer="${esc(l.name)}" data-testid="toggle-${esc(l.name)}" ${checked ? "checked" : ""}>
        <span class="swatch" style="background:${colour}"></span>${esc(state.lang === "zh" ? l.role_zh : l.role_en)}
        <small>${esc(l.name)}${l.features != null ? ` · ${l.features}` : ""}</small></label>`;
      tree.appendChild(li);
    }
  }
  tree.querySelectorAll("input[data-layer]").forEach((box) => {
    box.addEventListener("change", () => { setLayerVisible(box.dataset.layer, box.checked); buildLegend(); });
  });
  const select = $("#balance-layer");
  const current = select.value;
  select.innerHTML = state.config.layers.filter((l) => l.code_field)
    .map((l) => `<option value="${esc(l.name)}">${esc(l.name)} ${esc(state.lang === "zh" ? l.role_zh : l.role_en)}</option>`).join("");
  const planned = state.config.layers.find((l) => l.role === "planned_land_use");
  select.value = current || (planned ? planned.name : select.value);
}

/** A legend section per classification of a visible coded layer (用地用海, 三调), listing the
 * level-1 classes that occur in the workspace. */
function buildLegend() {
  const shown = new Set(state.config.layers.filter((l) => l.code_scheme && layerVisible(l.name)).map((l) => l.code_scheme));
  const sections = [["ydyh2023", state.config.land_use_colours, "legendYdyh"], ["sandiao", state.config.land_survey_colours, "legendSandiao"]];
  let html = "";
  for (const [scheme, table, title] of sections) {
    if (!shown.has(scheme)) continue;
    const present = new Set(state.config.present[scheme] || []);
    html += `<li class="legend-head" data-scheme="${scheme}">${t(title)}</li>` + table.filter((c) => present.has(c.code)).map((c) =>
      `<li data-code="${esc(c.code)}"><span class="swatch" style="background:${c.colour}"></span>${c.code} ${esc(state.lang === "zh" ? c.name_zh : c.name_en)}</li>`).join("");
  }
  $("#legend").innerHTML = html || `<li class="hint">${t("legendNone")}</li>`;
}

function setAsOf(value) {
  state.asOf = value || today();
  $("#as-of").value = state.asOf;
  for (const l of state.config.layers) {
    const src = state.map.getSource(l.name);
    if (src) src.setTiles([tileURL(l.name)]);
  }
}

const UNITS = { m2: "m²", m: "m", "%": "%" };

/** A standard field's value with its unit: areas in m² and 公顷, years and codes as they are. */
function fieldValue(field, value) {
  const number = typeof value === "number" ? value : NaN;
  if (!field || !Number.isFinite(number) || !["real", "integer"].includes(field.kind)) return esc(value);
  if (field.unit === "m2") {
    const ha = `${fmt(number / 1e4, 4)} ${t("ha")}`;
    return `${fmt(number)} m²${state.lang === "zh" ? `（${ha}）` : ` (${ha})`}`;
  }
  if (field.kind === "integer" && !UNITS[field.unit]) return esc(String(number));
  const unit = UNITS[field.unit] || "";
  return `${fmt(number, 2, 0)}${unit && unit !== "%" ? " " : ""}${unit}`;
}

/** Attributes under their standard Chinese names (the field code on hover); in English under
 * their field codes (the Chinese name on hover). Other columns keep their own names. */
function propsTable(props) {
  const fields = state.config.fields || {};
  const rows = Object.entries(props || {}).filter(([, v]) => v !== null && v !== "").slice(0, 12);
  const zh = state.lang === "zh";
  return `<table class="props">${rows.map(([k, v]) => {
    const f = fields[k];
    const label = f && zh ? f.name_zh : k;
    const hover = f && zh ? k : (f ? f.name_zh : k);
    return `<tr data-field="${esc(k)}"><td title="${esc(hover)}">${esc(label)}</td><td>${fieldValue(f, v)}</td></tr>`;
  }).join("")}</table>`;
}

/** Level-1 codes as "07 居住用地、…": the classes that occur in the workspace first; the
 * others (the sea classes of an inland county …) folded into one collapsed entry. */
function classList(codes) {
  if (!codes?.length) return t("none");
  const names = Object.fromEntries(state.config.land_use_colours.map((c) => [c.code, state.lang === "zh" ? c.name_zh : c.name_en]));
  const sea = new Set(state.config.land_use_colours.filter((c) => c.sea).map((c) => c.code));
  const present = new Set(state.config.present?.ydyh2023 || codes);
  const sep = state.lang === "zh" ? "、" : ", ";
  const label = (c) => `${c} ${esc(names[c] || "")}`;
  const here = codes.filter((c) => present.has(c));
  const absent = codes.filter((c) => !present.has(c));
  let html = here.map(label).join(sep) || t("none");
  if (absent.length) {
    const key = absent.some((c) => sea.has(c)) ? "absent" : "absentLand";
    html += ` <details class="absent"><summary>${t(key).replace("{n}", absent.length)}</summary>${absent.map(label).join(sep)}</details>`;
  }
  return html;
}

/** The feature a query picks (and outlines): the most specific visible one that applies. */
function pickedEntry(doc) {
  const applies = doc.applies.filter((a) => a.relation !== "touches");
  for (const role of PICK_ORDER) {
    const hit = applies.find((a) => a.role === role && layerVisible(a.layer));
    if (hit) return hit;
  }
  return null;
}

/** Outline one site-query entry's feature on the map (``null``: none). */
function highlight(entry) {
  state.picked = entry ? { layer: entry.layer, feature: entry.feature } : null;
  for (const l of state.config.layers) {
    for (const id of [`${l.name}-highlight-casing`, `${l.name}-highlight`]) {
      if (state.map.getLayer(id)) state.map.setFilter(id, featureFilter(l, entry));
    }
  }
  document.querySelectorAll("#query-result .card[data-layer]").forEach((el) => {
    el.classList.toggle("picked", Boolean(entry) && el.dataset.layer === entry.layer && el.dataset.feature === String(entry.feature));
  });
}

async function siteQuery(lngLat) {
  showTab("query");
  state.map.getSource("site").setData({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: [lngLat.lng, lngLat.lat] } });
  const out = $("#query-result");
  out.innerHTML = `<p class="hint">${t("loading")}</p>`;
  const params = new URLSearchParams({ point: `${lngLat.lng.toFixed(7)},${lngLat.lat.toFixed(7)}`, crs: "EPSG:4326", lang: state.lang });
  if (state.asOf) params.set("as_of", state.asOf);
  try {
    state.query = await getJSON(`/query?${params}`);
    const picked = pickedEntry(state.query);
    renderQuery();
    highlight(picked);
  } catch (err) {
    state.query = null;
    highlight(null);
    out.innerHTML = `<p class="error" data-testid="query-error">${esc(err.message)}</p>`;
  }
}

/** The last query's answer in the chosen language (run again after a language switch). */
function renderQuery() {
  const doc = state.query;
  if (!doc) return;
  const roleName = {};
  for (const l of state.config.layers) roleName[l.name] = state.lang === "zh" ? l.role_zh : l.role_en;
  let html = `<p class="meta">${esc(doc.site.coordinates.map((v) => v.toFixed(2)).join(", "))} (${esc(doc.site.crs)}) · ${t("asOf")} ${esc(doc.as_of)}</p>`;
  for (const [flag, key] of [["restricted_layers_omitted", "restricted_note"], ["region_limited", "region_note"]]) {
    if (doc[flag] && doc[key]) html += `<p class="meta" data-testid="access-note">${esc(doc[key][state.lang] || doc[key].zh)}</p>`;
  }
  html += `<h3>${t("applies")} (${doc.applies.length})</h3>`;
  for (const a of doc.applies) {
    const rel = t("relation")[a.relation] || a.relation;
    const title = a.name ? `${esc(a.name)} <span class="meta">${esc(a.feature)}</span>` : esc(a.feature);
    html += `<div class="card" data-testid="applies-item" data-layer="${esc(a.layer)}" data-feature="${esc(a.feature)}"><b data-testid="applies-title">${esc(roleName[a.layer] || a.layer)} · ${title}</b>
      <div class="meta">${esc(a.layer)} · ${esc(rel)}${a.share_of_site != null ? ` · ${t("share")} ${fmt(100 * a.share_of_site, 1)}%` : ""}
      · ${esc(planText(a))}<span class="picked-note"> · ${t("picked")}</span></div>${propsTable(a.properties)}</div>`;
  }
  if (doc.pending?.length) {
    html += `<h3>${t("pending")}</h3>` + doc.pending.map((p) => `<div class="card"><b>${esc(roleName[p.layer] || p.layer)}</b> · ${esc(p.name || p.feature)} · ${esc(t("change")[p.change] || p.change)}
      <div class="meta">${esc(p.layer)} · ${esc(planText(p))} ${esc(t("versionStatus")[p.version?.status] || p.version?.status || "")} ${esc(p.version?.valid_from || "")}</div></div>`).join("");
  }
  const uses = doc.allowed_uses;
  if (uses) {
    html += `<h3>${t("allowed")}</h3><div class="codes" data-testid="uses-allowed">${classList(uses.allowed)}</div>`;
    html += `<div class="codes" data-testid="uses-conditional"><b>${t("conditional")}</b>：${classList(uses.conditional)}</div>`;
    html += `<div class="codes" data-testid="uses-forbidden"><b>${t("forbidden")}</b>：${classList(uses.forbidden)}</div>`;
  }
  const sheet = doc.links?.find((l) => l.type === "text/html");
  if (sheet) html += `<p><a href="${esc(withLang(sheet.href))}" target="_blank" data-testid="query-sheet">${t("sheet")}</a></p>`;
  const out = $("#query-result");
  out.innerHTML = html;
  out.querySelectorAll(".card[data-layer]").forEach((el) => el.addEventListener("click", () => {
    highlight(doc.applies.find((a) => a.layer === el.dataset.layer && String(a.feature) === el.dataset.feature) || null);
  }));
  if (state.picked) highlight(state.picked);
}

function bboxOf(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === "number") { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else { c.forEach(walk); }
  };
  walk(geometry.coordinates);
  return b;
}

function selectFinding(n) {
  const map = state.map;
  map.removeFeatureState({ source: "findings" });
  document.querySelectorAll(".finding").forEach((el) => el.classList.toggle("selected", Number(el.dataset.n) === n));
  const feature = state.review?.map.features.find((f) => f.id === n);
  if (!feature) return;
  map.setFeatureState({ source: "findings", id: n }, { selected: true });
  map.fitBounds(bboxOf(feature.geometry), { padding: 80, maxZoom: 17, duration: 0 });
}

function reviewSource() {
  return document.querySelector('input[name="review-source"]:checked').value;
}

function showProgress(job) {
  const bar = $("#review-progress");
  bar.hidden = false;
  const p = job.progress || {};
  const share = p.total ? p.done / p.total : 0;
  bar.querySelector("div").style.width = `${(100 * share).toFixed(0)}%`;
  bar.querySelector("span").textContent = job.status === "queued" ? t("queued")
    : `${t("running")} ${p.done}/${p.total}${p.rule ? ` · ${t("rule")} ${p.rule}` : ""}`;
}

async function runReview() {
  const kind = $("#review-kind").value;
  const out = $("#review-result");
  const form = new FormData();
  if (reviewSource() === "upload") {
    const file = $("#review-file").files[0];
    if (!file) { out.innerHTML = `<p class="error">${t("chooseFile")}</p>`; return; }
    form.append("file", file);
    const table = $("#review-table").files[0];
    if (table) form.append("table", table);
    if ($("#review-key").value.trim()) form.append("table_key", $("#review-key").value.trim());
  }
  out.innerHTML = "";
  const params = new URLSearchParams({ lang: state.lang });
  if (state.asOf) params.set("as_of", state.asOf);
  $("#review-run").disabled = true;
  try {
    let job = await getJSON(`/review/${kind}/jobs?${params}`, { method: "POST", body: form });
    showProgress(job);
    while (job.status === "queued" || job.status === "running") {
      await new Promise((resolve) => setTimeout(resolve, 250));
      job = await getJSON(`/review/jobs/${job.id}`, undefined, { quiet: true });
      showProgress(job);
    }
    $("#review-progress").hidden = true;
    if (job.status === "failed") throw new Error(job.error.message);
    renderReview(job.result);
  } catch (err) {
    $("#review-progress").hidden = true;
    out.innerHTML = `<p class="error" data-testid="review-error">${esc(err.message)}</p>`;
  } finally {
    $("#review-run").disabled = false;
  }
}

function renderReview(doc = state.review) {
  if (!doc) return;
  const out = $("#review-result");
  state.review = doc;
  state.map.getSource("findings").setData(doc.map);
  const s = doc.summary.by_severity;
  let html = `<p class="meta">${esc(doc.source_label || doc.source)}</p>`;
  if (doc.restricted_layers_omitted && doc.restricted_note) html += `<p class="meta" data-testid="access-note">${esc(doc.restricted_note[state.lang] || doc.restricted_note.zh)}</p>`;
  html += `<p data-testid="review-summary">${t("total")} ${doc.summary.total}：<span class="sev sev-error">${t("error")} ${s.error}</span>
    <span class="sev sev-warning">${t("warning")} ${s.warning}</span> <span class="sev sev-info">${t("info")} ${s.info}</span></p>`;
  // HTML and PDF open in a new tab (served inline); XLSX downloads
  html += `<p>${t("report")}：` + doc.links.map((l) => {
    const fmt = l.title.toLowerCase();
    const how = fmt === "xlsx" ? "download" : 'target="_blank" rel="noopener"';
    return `<a href="${esc(l.href)}" ${how} data-testid="download-${esc(fmt)}">${esc(l.title)}</a>`;
  }).join(" · ") + "</p>";
  if (!doc.findings.length) html += `<p>${t("noFindings")}</p>`;
  doc.findings.forEach((f, i) => {
    const n = i + 1;
    html += `<div class="card finding" data-n="${n}" data-testid="finding"><span class="sev sev-${esc(f.severity)}">${t(f.severity)}</span>
      <b>${n}. ${esc(f.title)}</b><div>${esc(f.message)}</div>
      <div class="meta">${esc(f.rule)}${f.area_m2 != null ? ` · ${t("area")} ${fmt(f.area_m2)} m²` : ""} · ${esc(f.basis)}</div></div>`;
  });
  out.innerHTML = html;
  out.querySelectorAll(".finding").forEach((el) => el.addEventListener("click", () => selectFinding(Number(el.dataset.n))));
}

/** Draw an ECharts chart in the (hidden until then) element ``id``; ``null`` hides it. */
function chart(id, option) {
  const el = document.getElementById(id);
  el.hidden = option === null;
  if (typeof echarts === "undefined" || option === null) return;
  if (!state.charts[id]) state.charts[id] = echarts.init(el, null, { renderer: "canvas" });
  state.charts[id].setOption(option, true);
  state.charts[id].resize();
}

async function runBalance() {
  const layer = $("#balance-layer").value;
  const out = $("#balance-result");
  out.innerHTML = `<p class="hint">${t("loading")}</p>`;
  const params = new URLSearchParams({ layer });
  if (state.asOf) params.set("as_of", state.asOf);
  try {
    state.balance = await getJSON(`/ui/balance.json?${params}`);
    renderBalance();
  } catch (err) {
    state.balance = null;
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

function renderBalance() {
  const doc = state.balance;
  if (!doc) return;
  // coloured by the layer's own classification (用地用海 or 三调)
  const layer = state.config.layers.find((l) => l.name === doc.layer);
  const ydyh = Boolean(layer?.code_scheme);
  const colours = Object.fromEntries((layer?.code_scheme ? classTable(layer) : []).map((c) => [c.code, c.colour]));
  const read = doc.data_version;
  let html = read ? `<p class="meta" data-testid="balance-version">${esc(state.lang === "zh" ? read.text_zh : read.text_en)}</p>` : "";
  html += `<table class="balance" data-testid="balance-table"><tr><th>${t("code")}</th><th>${t("name")}</th><th>${t("features")}</th><th>${t("areaHa")}</th><th>${t("mu")}</th><th>${t("sharePct")}</th></tr>`;
  for (const r of doc.rows) {
    const sw = r.level === 1 && ydyh ? `<span class="swatch" style="background:${colours[r.code] || "#ccc"}"></span>` : "";
    html += `<tr class="l${r.level}"><td>${sw}${esc(r.code)}</td><td>${r.level > 1 ? "　" : ""}${esc(state.lang === "zh" ? r.name_zh : r.name_en)}</td>
      <td class="num">${r.features}</td><td class="num">${fmt(r.area_m2 / 1e4)}</td><td class="num" data-testid="balance-mu">${fmt(r.area_mu)}</td>
      <td class="num">${fmt(100 * r.share)}<div class="bar" style="width:${Math.min(100, 100 * r.share).toFixed(1)}%"></div></td></tr>`;
  }
  const mu = doc.total_area_m2 / (10000 / 15);
  html += `<tr class="l1"><td></td><td>${t("totalArea")}</td><td class="num">${doc.features}</td><td class="num">${fmt(doc.total_area_ha)}</td><td class="num">${fmt(mu)}</td><td class="num">100.00</td></tr></table>`;
  const notes = state.lang === "zh" ? doc.notes_zh : doc.notes;
  html += notes.map((n) => `<p class="hint">${esc(n)}</p>`).join("");
  const q = new URLSearchParams({ layer: doc.layer, lang: state.lang });
  if (state.asOf) q.set("as_of", state.asOf);
  html += `<p>${t("exportTable")}：<a href="/ui/balance.csv?${q}" download data-testid="balance-csv">CSV</a> · <a href="/ui/balance.xlsx?${q}" download data-testid="balance-xlsx">XLSX</a></p>`;
  $("#balance-result").innerHTML = html;
  renderBalanceChart(doc, ydyh, colours);
}

/** Axis labels short enough not to run into each other, all in one unit: with a largest
 * value of 10,000 or more, 5,000 → 0.5万 (zh) or 5k (en). */
function compactAxis(values) {
  const top = Math.max(0, ...values.map((v) => Math.abs(v)));
  const [step, unit] = state.lang === "zh" ? [1e4, "万"] : [1e3, "k"];
  return (v) => (top >= 1e4 ? `${+(v / step).toFixed(2)}${v === 0 ? "" : unit}` : `${+v.toFixed(2)}`);
}

function renderBalanceChart(doc, ydyh, colours) {
  const level1 = doc.rows.filter((r) => r.level === 1);
  chart("balance-chart", {
    title: { text: t("balanceChart"), textStyle: { fontSize: 12 } }, grid: { left: 120, right: 20, top: 30, bottom: 20 },
    tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}<br>${fmt(p.value)} ${t("ha")}` },
    xAxis: { type: "value", splitNumber: 3, axisLabel: { fontSize: 10, hideOverlap: true, formatter: compactAxis(level1.map((r) => r.area_m2 / 1e4)) } },
    yAxis: { type: "category", inverse: true, data: level1.map((r) => `${r.code} ${state.lang === "zh" ? r.name_zh : r.name_en}`), axisLabel: { fontSize: 10, width: 110, overflow: "truncate" } },
    series: [{ type: "bar", data: level1.map((r) => ({ value: r.area_m2 / 1e4, itemStyle: { color: ydyh ? colours[r.code] || "#999" : "#4f7cac", borderColor: "#666", borderWidth: 0.5 } })) }],
  });
}

async function loadPlans() {
  try {
    state.plans = await getJSON("/ui/plans.json");
  } catch (err) {
    state.plans = [];
  }
  const select = $("#diff-plan");
  const comparable = state.plans.filter((p) => p.versions.length > 1);
  select.innerHTML = comparable.map((p) => `<option value="${esc(p.name)}">${esc(p.name)}</option>`).join("");
  if (!comparable.length) $("#diff-result").innerHTML = `<p class="hint">${t("noPlans")}</p>`;
  fillVersions();
}

function fillVersions() {
  const plan = state.plans.find((p) => p.name === $("#diff-plan").value);
  const options = (plan?.versions || []).map((v) => `<option value="${esc(v.label)}">${esc(v.label)}${v.valid_from ? ` (${esc(v.valid_from)})` : ""}</option>`).join("");
  $("#diff-from").innerHTML = options;
  $("#diff-to").innerHTML = options;
  if (plan && plan.versions.length > 1) {
    const last = plan.versions[plan.versions.length - 1];
    $("#diff-to").value = last.label;
    $("#diff-from").value = last.parent || plan.versions[plan.versions.length - 2].label;
  }
}

async function runDiff() {
  const out = $("#diff-result");
  const plan = $("#diff-plan").value;
  const from = $("#diff-from").value;
  const to = $("#diff-to").value;
  if (!plan) { out.innerHTML = `<p class="hint">${t("noPlans")}</p>`; return; }
  if (from === to) { out.innerHTML = `<p class="error">${t("sameVersion")}</p>`; return; }
  out.innerHTML = `<p class="hint">${t("loading")}</p>`;
  try {
    state.diff = await getJSON(`/ui/diff.json?${new URLSearchParams({ plan, from, to })}`);
    renderDiff();
  } catch (err) {
    state.diff = null;
    out.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

/** ``0103 旱地``: a code named by the classification of its own layer (``code_names`` of the
 * diff: 三调 for DLTB, 用地用海 for GHYD …). */
function codeLabel(layer, code) {
  if (code == null || code === "") return "";
  if (code === "∅") return t("noneCode");
  const n = layer?.code_names?.[code];
  const name = n && (state.lang === "zh" ? n.name_zh : n.name_en || n.name_zh);
  return name ? `${code} ${name}` : String(code);
}

function schemeName(layer) {
  return layer.code_scheme ? t("schemes")[layer.code_scheme] || layer.code_scheme : "";
}

function renderDiff() {
  const doc = state.diff;
  if (!doc) return;
  state.map.getSource("diff").setData(doc.map);
  const out = $("#diff-result");
  if (!doc.layers.length) { out.innerHTML = `<p>${t("noChange")}</p>`; chart("diff-chart", null); return; }
  const layers = Object.fromEntries(doc.layers.map((l) => [l.layer, l]));
  let html = `<p class="meta">${esc(doc.plan)}：${esc(doc.from)} → ${esc(doc.to)}</p>`;
  html += `<table class="balance" data-testid="diff-summary"><tr><th>${t("layerCol")}</th><th>${t("added")}</th><th>${t("removed")}</th><th>${t("changed")}</th></tr>`;
  html += doc.layers.map((l) => `<tr><td>${esc(l.layer)}<div class="meta">${esc(schemeName(l))}</div></td><td class="num kind-added">${l.added}</td><td class="num kind-removed">${l.removed}</td><td class="num kind-changed">${l.changed}</td></tr>`).join("");
  html += "</table>";
  if (doc.map_truncated) html += `<p class="hint">${t("truncated").replace("{n}", doc.map.features.length)}</p>`;
  html += `<p class="hint">${t("areaNote")}</p>`;
  html += `<table class="balance diff-changes" data-testid="diff-changes"><thead><tr><th>${t("key")}</th>
    <th class="num">${t("areaOld")}</th><th class="num">${t("areaNew")}</th><th class="num">${t("areaDelta")}</th></tr></thead>`;
  // One tbody per change: its key and areas, then its use before and after on a line of its own.
  doc.map.features.slice(0, 300).forEach((f) => {
    const p = f.properties;
    const layer = layers[p.layer];
    const delta = p.area_new_m2 - p.area_old_m2;
    html += `<tbody class="diff-row" data-id="${f.id}" data-testid="diff-row" data-kind="${esc(p.kind)}"><tr>
      <td>${esc(p.key ?? "")} <span class="meta"><span class="kind-${esc(p.kind)}">${t(p.kind)}</span> · ${esc(p.layer)}</span></td>
      <td class="num" data-testid="diff-area-old">${p.kind === "added" ? "—" : fmt(p.area_old_m2)}</td>
      <td class="num" data-testid="diff-area-new">${p.kind === "removed" ? "—" : fmt(p.area_new_m2)}</td>
      <td class="num" data-testid="diff-area-delta">${delta > 0 ? "+" : ""}${fmt(delta)}</td></tr>
      <tr class="use"><td colspan="4">${t("use")}：<span data-testid="diff-from">${esc(codeLabel(layer, p.from_code) || "—")}</span>
        → <span data-testid="diff-to">${esc(codeLabel(layer, p.to_code) || "—")}</span></td></tr></tbody>`;
  });
  html += "</table>";
  out.innerHTML = html;
  out.querySelectorAll(".diff-row").forEach((row) => row.addEventListener("click", () => {
    const f = doc.map.features.find((x) => x.id === Number(row.dataset.id));
    if (f) state.map.fitBounds(bboxOf(f.geometry), { padding: 80, maxZoom: 17, duration: 0 });
  }));
  renderDiffChart(doc);
}

/** Net area change per level-1 class, from the change matrix of every layer; each code rolls
 * up in its own layer's classification (05H1 of 三调 is 05 商业服务业用地, not 05 湿地). */
function renderDiffChart(doc) {
  const net = {};
  const labels = {};
  const schemes = new Set(doc.layers.map((l) => l.code_scheme || ""));
  for (const l of doc.layers) {
    for (const m of l.matrix) {
      if (m.from === m.to) continue;
      for (const [code, sign] of [[m.from, -1], [m.to, 1]]) {
        if (code === "∅") continue;
        const n = l.code_names?.[code];
        const level1 = n ? n.level1 : String(code);
        const key = `${l.code_scheme || ""}|${level1}`;
        net[key] = (net[key] || 0) + sign * m.area_ha;
        const name = n && (state.lang === "zh" ? n.level1_name_zh : n.level1_name_en || n.level1_name_zh);
        labels[key] = `${level1}${name ? ` ${name}` : ""}${schemes.size > 1 && l.code_scheme ? `（${schemeName(l)}）` : ""}`;
      }
    }
  }
  const keys = Object.keys(net).filter((k) => Math.abs(net[k]) > 1e-9).sort();
  if (!keys.length) { chart("diff-chart", null); return; }
  const only = schemes.size === 1 ? doc.layers[0] : null;
  chart("diff-chart", {
    title: { text: t("netChange"), subtext: only ? schemeName(only) : "", textStyle: { fontSize: 12 }, subtextStyle: { fontSize: 11 }, itemGap: 2 },
    grid: { left: 140, right: 30, top: 44, bottom: 20 },
    tooltip: { trigger: "item", formatter: (p) => `${esc(p.name)}<br>${fmt(p.value, 4)} ${t("ha")}` },
    xAxis: { type: "value", splitNumber: 3, axisLabel: { fontSize: 10, hideOverlap: true, formatter: compactAxis(keys.map((k) => net[k])) } },
    yAxis: { type: "category", inverse: true, data: keys.map((k) => labels[k]), axisLabel: { fontSize: 10, width: 130, overflow: "truncate" } },
    series: [{ type: "bar", data: keys.map((k) => ({ value: net[k], itemStyle: { color: net[k] >= 0 ? "#2e7d32" : "#c62828" } })) }],
  });
}

function showTab(name) {
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  Object.values(state.charts).forEach((c) => c.resize());
}

async function main() {
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", state.lang);
    applyText();
  });
  $("#as-of").value = today();
  state.asOf = today();
  $("#as-of").addEventListener("change", (e) => setAsOf(e.target.value));
  $("#review-run").addEventListener("click", runReview);
  document.querySelectorAll('input[name="review-source"]').forEach((r) => r.addEventListener("change", () => {
    $("#upload-fields").hidden = reviewSource() !== "upload";
  }));
  $("#diff-plan").addEventListener("change", fillVersions);
  $("#diff-run").addEventListener("click", runDiff);
  $("#balance-run").addEventListener("click", runBalance);
  $("#sign-out").addEventListener("click", signOut);
  applyText();
  status(t("loading"));
  const me = loadMe().catch(() => {});
  setInterval(() => checkSession(true), SESSION_POLL_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) checkSession(); });
  await me;
  try {
    state.config = await getJSON("/ui/config.json");
  } catch (err) {
    status(err.message);
    return;
  }
  buildMap();
  applyText();
  loadPlans();
  state.map.once("idle", () => { status(""); document.body.dataset.ready = "1"; });
}

main();
