/* guotu window intake (窗口受理, 一窗受理): the procedure, applicant, project, location,
 * application date, planned indicators and 公开; the site drawn on the one map (click the
 * corners, double-click or 完成绘制 to close) or read from a GeoJSON file in lon/lat; the
 * materials the procedure's first stage asks for. POST /cases registers the case (and, with
 * 予以受理, the automatic review runs at once); each chosen file then goes to
 * POST /cases/{id}/files, and the page opens the new case. */
"use strict";

addText({
  zh: {
    title: "审批", pageTitle: "窗口受理 · 国土空间规划一张图", heading: "窗口受理（一窗受理）", procedure: "审批事项（流程）",
    applicant: "申请人", project: "项目名称", location: "项目位置", contact: "联系人及电话", applicationDate: "申请日期",
    indicators: "规划指标（拟建）", YDYHFLDM: "用地用海分类代码", RJL: "容积率", JZMD: "建筑密度（%）", LDL: "绿地率（%）",
    JZXG: "建筑限高（米）", TXJL: "建筑退线距离（米）", codeExample: "如 0701", site: "用地范围",
    siteHint: "在右侧地图上依次点击用地范围的各拐点，双击或点击“完成绘制”闭合；也可上传 GeoJSON 文件（经纬度坐标）。",
    siteFile: "上传 GeoJSON", materials: "申请材料", materialsHint: "材料在案件登记后逐一上传；未选择文件的材料可稍后在案件页面补交。",
    public: "公开（核发的文书可在核验页面查看内容）", accept: "材料齐全，予以受理（受理后立即进行规划符合性自动审查）",
    submit: "登记并受理", drawClose: "完成绘制", drawUndo: "撤销上一点", drawClear: "清除", drawHint: "单击加点，双击闭合。",
    noSite: "尚未确定用地范围。", drawing: "正在绘制：已点 {n} 个拐点（至少 3 个）。", siteReady: "用地范围已确定：{n} 个拐点。",
    siteFromFile: "用地范围取自文件 {f}。", needSite: "请先在地图上绘制用地范围，或上传 GeoJSON 文件。",
    needFields: "请填写申请人和项目名称。", badFile: "文件 {f} 不是含面要素的 GeoJSON。", notLonLat: "文件 {f} 的坐标不是经纬度：请转换为 WGS 84（EPSG:4326）后再上传。",
    optional: "（可选）", types: "格式：{t}", submitting: "正在登记…", uploading: "正在上传材料 {m}…",
    uploadsFailed: "案件 {id} 已登记，但以下材料未能上传：{list}。请在案件页面补交。", openCase: "打开案件",
    noProcedure: "没有可受理的审批事项。", notClerk: "您的账号没有窗口受理人员角色，不能登记案件。",
  },
  en: {
    title: "Approvals", pageTitle: "Intake · One map", heading: "Intake at the window", procedure: "Procedure",
    applicant: "Applicant", project: "Project", location: "Location", contact: "Contact", applicationDate: "Application date",
    indicators: "Planned indicators", YDYHFLDM: "Land-use class code", RJL: "Floor area ratio", JZMD: "Building density (%)", LDL: "Green ratio (%)",
    JZXG: "Height limit (m)", TXJL: "Setback (m)", codeExample: "e.g. 0701", site: "Site",
    siteHint: "Click the site's corners on the map, then double-click or press Close to close it; or upload a GeoJSON file (lon/lat).",
    siteFile: "Upload GeoJSON", materials: "Materials", materialsHint: "Files are uploaded once the case is registered; a material without a file can be handed in later on the case page.",
    public: "Public (the verification page shows the issued document's content)", accept: "Materials complete: accept (the automatic compliance review runs at once)",
    submit: "Register and accept", drawClose: "Close", drawUndo: "Undo last point", drawClear: "Clear", drawHint: "Click to add a point, double-click to close.",
    noSite: "No site yet.", drawing: "Drawing: {n} corners (at least 3).", siteReady: "Site drawn: {n} corners.",
    siteFromFile: "Site read from {f}.", needSite: "Draw the site on the map or upload a GeoJSON file first.",
    needFields: "Give the applicant and the project.", badFile: "{f} is not a GeoJSON file with a polygon.", notLonLat: "The coordinates of {f} are not longitude/latitude: convert them to WGS 84 (EPSG:4326) first.",
    optional: " (optional)", types: "format: {t}", submitting: "Registering…", uploading: "Uploading {m}…",
    uploadsFailed: "Case {id} is registered, but these materials were not uploaded: {list}. Hand them in on the case page.", openCase: "Open the case",
    noProcedure: "No procedure to take in.", notClerk: "Your account has no window clerk role: it cannot register cases.",
  },
});

const NUMBERS = ["RJL", "JZMD", "LDL", "JZXG", "TXJL"];
/** Pixels within which a click counts as the previous point (a double click's clicks) or the first. */
const SNAP_PX = 8;
const draw = { map: null, points: [], site: null, file: "" };

function fillProcedures() {
  const select = $("#procedure");
  const chosen = select.value;
  const takeIn = ui.procedures.filter((p) => {
    const first = p.stages.find((s) => s.id === p.start);
    return !first?.role || first.role === "clerk";
  });
  select.innerHTML = takeIn.map((p) => `<option value="${esc(p.id)}">${esc(ui.lang === "zh" ? p.name_zh : p.name_en)}</option>`).join("");
  if (chosen) select.value = chosen;
  if (!takeIn.length) message(t("noProcedure"), false);
}

function renderMaterials() {
  const p = procedureOf($("#procedure").value);
  const first = p?.stages.find((s) => s.id === p.start);
  const kept = {};
  $$("#materials input[type=file]").forEach((i) => { if (i.files.length) kept[i.dataset.material] = i; });
  $("#materials").innerHTML = (first?.materials || []).map((m, i) => `<li data-testid="material">
    <label><span>${esc(m.name_zh)}</span>${m.required === false ? `<span class="hint">${esc(t("optional"))}</span>` : '<span class="required">*</span>'}
    <span class="types">${esc(fill(t("types"), { t: m.types.join("、") }))}</span><br>
    <input type="file" data-material="${esc(m.name_zh)}" data-testid="material-file-${i}" accept="${esc(m.types.map((x) => `.${x}`).join(","))}"></label></li>`).join("");
  // a file already chosen for a material of the same name stays chosen
  $$("#materials input[type=file]").forEach((i) => { if (kept[i.dataset.material]) i.replaceWith(kept[i.dataset.material]); });
}

function renderSite() {
  const n = draw.site ? draw.site.coordinates[0].length - 1 : draw.points.length;
  let text = t("noSite");
  if (draw.site && draw.file) text = fill(t("siteFromFile"), { f: draw.file });
  else if (draw.site) text = fill(t("siteReady"), { n });
  else if (n) text = fill(t("drawing"), { n });
  $("#site-state").textContent = text;
  $("#site-state").dataset.state = draw.site ? "ready" : n ? "drawing" : "none";
}

function render() {
  if (ui.procedures) { fillProcedures(); renderMaterials(); }
  renderSite();
}

// -- drawing the site ----------------------------------------------------------------------

function drawDraft() {
  if (!draw.map) return;
  const pts = draw.points;
  const features = pts.map((c) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: c } }));
  if (pts.length > 1) features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: pts } });
  draw.map.getSource("draft").setData({ type: "FeatureCollection", features });
  showSite(draw.map, draw.site, false);
  renderSite();
}

function near(a, b) {
  const pa = draw.map.project(a);
  const pb = draw.map.project(b);
  return Math.hypot(pa.x - pb.x, pa.y - pb.y) <= SNAP_PX;
}

function closeDrawing() {
  if (draw.site || draw.points.length < 3) return;
  draw.site = { type: "Polygon", coordinates: [[...draw.points, draw.points[0]]] };
  draw.points = [];
  draw.file = "";
  drawDraft();
}

function clickMap(e) {
  if (draw.site) return;  // cleared first, then drawn again
  const c = [e.lngLat.lng, e.lngLat.lat];
  const pts = draw.points;
  if (pts.length && near(pts[pts.length - 1], c)) return;  // the second click of a double click
  if (pts.length >= 3 && near(pts[0], c)) { closeDrawing(); return; }
  pts.push(c);
  drawDraft();
}

function clearDrawing() {
  draw.points = [];
  draw.site = null;
  draw.file = "";
  $("#site-file").value = "";
  drawDraft();
}

/** The first polygon of a GeoJSON document (a geometry, a feature or a collection). */
function polygonOf(doc) {
  if (!doc || typeof doc !== "object") return null;
  if (doc.type === "Polygon" || doc.type === "MultiPolygon") return { type: doc.type, coordinates: doc.coordinates };
  if (doc.type === "Feature") return polygonOf(doc.geometry);
  if (doc.type === "FeatureCollection") return (doc.features || []).map(polygonOf).find(Boolean) || null;
  if (doc.type === "GeometryCollection") return (doc.geometries || []).map(polygonOf).find(Boolean) || null;
  return null;
}

async function readSiteFile() {
  const file = $("#site-file").files[0];
  if (!file) return;
  let geometry = null;
  try { geometry = polygonOf(JSON.parse(await file.text())); } catch (err) { geometry = null; }
  if (!geometry) { message(fill(t("badFile"), { f: file.name }), false); return; }
  const [[w, s], [e, n]] = geometryBounds(geometry);
  if (!(w >= -180 && e <= 180 && s >= -90 && n <= 90)) { message(fill(t("notLonLat"), { f: file.name }), false); return; }
  message("");
  draw.points = [];
  draw.site = geometry;
  draw.file = file.name;
  drawDraft();
  showSite(draw.map, geometry, true);
}

// -- registering the case ------------------------------------------------------------------

function intakeBody(form) {
  const field = (name) => form.elements.namedItem(name);
  const indicators = {};
  const code = field("YDYHFLDM").value.trim();
  if (code) indicators.YDYHFLDM = code;
  for (const k of NUMBERS) { const v = field(k).value.trim(); if (v !== "") indicators[k] = Number(v); }
  return {
    procedure: field("procedure").value, applicant: field("applicant").value.trim(), project: field("project").value.trim(),
    location: field("location").value.trim(), contact: field("contact").value.trim(), application_date: field("application_date").value,
    indicators, site: draw.site, public: field("public").checked, accept: field("accept").checked,
  };
}

async function submit(e) {
  e.preventDefault();
  const form = e.target;
  const body = intakeBody(form);
  if (!body.applicant || !body.project) { message(t("needFields"), false); return; }
  if (!body.site) { message(t("needSite"), false); return; }
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  message(t("submitting"));
  try {
    const view = await api("/cases", { method: "POST", body });
    const failed = [];
    for (const input of $$("#materials input[type=file]")) {
      if (!input.files.length) continue;
      message(fill(t("uploading"), { m: input.dataset.material }));
      const data = new FormData();
      data.append("material", input.dataset.material);
      data.append("file", input.files[0]);
      try {
        await api(`/cases/${encodeURIComponent(view.id)}/files`, { method: "POST", form: data });
      } catch (err) {
        failed.push(`${input.dataset.material}（${err.message}）`);
      }
    }
    const page = `/ui/cases/case?id=${encodeURIComponent(view.id)}`;
    if (!failed.length) { location.assign(page); return; }
    message(fill(t("uploadsFailed"), { id: view.id, list: failed.join(ui.lang === "zh" ? "；" : "; ") }), false);
    $("#message").insertAdjacentHTML("beforeend", ` <a href="${esc(page)}" data-testid="open-case">${esc(t("openCase"))}</a>`);
  } catch (err) {
    message(err.message, false);
    button.disabled = false;
  }
}

async function init() {
  const form = $("#intake-form");
  form.elements.namedItem("application_date").value = today();
  form.addEventListener("submit", submit);
  $("#procedure").addEventListener("change", renderMaterials);
  $("#site-file").addEventListener("change", readSiteFile);
  $("#draw-close").addEventListener("click", closeDrawing);
  $("#draw-undo").addEventListener("click", () => { if (!draw.site) { draw.points.pop(); drawDraft(); } });
  $("#draw-clear").addEventListener("click", clearDrawing);
  const [cfg] = await Promise.all([api("/ui/config.json"), loadProcedures()]);
  render();
  if (ui.me?.via === "session" && !ui.me.user.roles.some((r) => r.id === "clerk")) {
    message(t("notClerk"), false);
    form.querySelector("[type=submit]").disabled = true;
  }
  draw.map = await caseMap("map", cfg);
  draw.map.doubleClickZoom.disable();
  draw.map.on("click", clickMap);
  draw.map.on("dblclick", (e) => { e.preventDefault(); closeDrawing(); });
  if (draw.site) drawDraft();
}

startPage("new", init, render);
