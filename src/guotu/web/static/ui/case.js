/* guotu case page (审批案件): one case as of now or as of a moment (``?as_of=``, a view of
 * the past with no action), over GET /cases/{id}.json: its header, the site on the one map
 * (as of the application date, what the automatic review read), each stage with its clock
 * (已用/时限 working days, 到期日, 暂定, 超期, 补正中), the automatic review's findings or the
 * 规划核实 comparison, the departments' opinions with their conditions, the materials and the
 * issued document with its verification link, the record, and the actions the user may take
 * now (case_actions.js). */
"use strict";

addText({
  zh: {
    title: "审批", pageTitle: "审批案件 · 国土空间规划一张图", caseId: "案件编号", applicant: "申请人", procedure: "流程",
    location: "位置", applicationDate: "申请日期", siteArea: "用地面积", m2: "平方米", state: "状态", waitingFor: "待办理人",
    review: "规划符合性自动审查", opinionsTitle: "部门意见", files: "材料与文书", timeline: "办理环节", events: "办理记录",
    history: "查看历史", historyShow: "查看该时刻的状态", historyBanner: "历史状态（截至 {t}）：以下是该时刻的案件，不能办理。",
    backToNow: "返回当前状态", at: "时间", who: "办理人", what: "事项", note: "说明", uploadTitle: "提交材料", material: "材料",
    file: "文件", upload: "上传", noId: "缺少案件编号。", notReviewed: "尚未进行自动审查。", noOpinions: "尚无部门意见。",
    noFiles: "尚无材料。", awaiting: "待出具意见", rules: "{r} 条规则，{e} 项不符合，{w} 项提示，{s} 条未适用",
    rulePack: "规则包 {p}（{v}），一张图截至 {d}", dataVersions: "所用数据版本", suggestion: "建议", area: "涉及面积 {a} 平方米",
    noFinding: "未发现不符合项。", indicator: "指标", permitted: "许可值", measured: "实测值", tolerance: "允许误差", result: "结论",
    passed: "符合", failed: "超出", surveyMissing: "未提交竣工测量成果。", unreadable: "竣工测量成果无法读取：{m}",
    conditions: "条件", document: "决定文书", serial: "文书编号", download: "下载", verify: "核验页面",
    uploadedBy: "提交人", size: "大小", kinds: { outcome: "办理结论", opinion: "会审意见", pause: "要求补正", resume: "补正完成", note: "备注", review: "自动审查", issued: "核发文书", file: "提交材料" },
    entered: "进入 {t}", leftAt: "办结 {t}", closedIn: "已办结（{s}）", system: "系统",
  },
  en: {
    title: "Approvals", pageTitle: "Approval case · One map", caseId: "Case", applicant: "Applicant", procedure: "Procedure",
    location: "Location", applicationDate: "Application date", siteArea: "Site area", m2: "m²", state: "State", waitingFor: "Waiting for",
    review: "Automatic compliance review", opinionsTitle: "Departments' opinions", files: "Materials and documents", timeline: "Stages", events: "Record",
    history: "History", historyShow: "Show the case as it stood then", historyBanner: "As it stood on {t}: a view of the past, nothing can be done here.",
    backToNow: "Back to now", at: "Time", who: "By", what: "What", note: "Remarks", uploadTitle: "Hand in a material", material: "Material",
    file: "File", upload: "Upload", noId: "No case number given.", notReviewed: "Not reviewed yet.", noOpinions: "No opinion yet.",
    noFiles: "No material yet.", awaiting: "opinion awaited", rules: "{r} rules, {e} errors, {w} warnings, {s} not applicable",
    rulePack: "Rule pack {p} ({v}), one map as of {d}", dataVersions: "Data versions", suggestion: "Suggestion", area: "{a} m² concerned",
    noFinding: "No finding.", indicator: "Indicator", permitted: "Permitted", measured: "Measured", tolerance: "Tolerance", result: "Result",
    passed: "complies", failed: "exceeds", surveyMissing: "No as-built survey handed in.", unreadable: "The as-built survey cannot be read: {m}",
    conditions: "Conditions", document: "Decision document", serial: "Number", download: "Download", verify: "Verification page",
    uploadedBy: "By", size: "Size", kinds: { outcome: "Outcome", opinion: "Opinion", pause: "Materials asked", resume: "Materials complete", note: "Note", review: "Automatic review", issued: "Document issued", file: "Material handed in" },
    entered: "entered {t}", leftAt: "left {t}", closedIn: "Closed ({s})", system: "system",
  },
});

const page = { id: "", asOf: "", view: null, map: null, cfg: null };

const stageNameOf = (v, s) => stageName(v.procedure.id, s.stage || s.id, s.name_zh);
/** The stage an outcome event closed (the stay it ended), for its label. */
function stageOfEvent(v, e) {
  const stay = v.stages.find((s) => s.left === e.at && s.outcome === e.value);
  const def = stay ? stageOf(v.procedure.id, stay.stage) : null;
  return def || (stay ? { kind: stay.kind } : null);
}

function stateText(v) {
  if (v.closed) return { cls: "closed", text: fill(t("closedIn"), { s: stageNameOf(v, v.stage) }) };
  if (v.paused) return { cls: "paused", text: t("paused") };
  return { cls: "open", text: `${t("open")} · ${stageNameOf(v, v.stage)}` };
}

/** Who the case waits for. The answer's ``waiting`` is the case's status now, so a view of
 * the past works it out from the stage it was in then (as the engine does). */
function waitingOf(v) {
  if (!page.asOf) return v.waiting;
  const stage = v.stage;
  if (v.closed || ["automatic", "end"].includes(stage.kind)) return [];
  if (stage.kind === "co_review") {
    const left = stage.departments.map((d) => d.id).filter((d) => !(d in v.opinions));
    const parallel = stageOf(v.procedure.id, stage.id)?.parallel ?? true;
    return (parallel ? left : left.slice(0, 1)).map((d) => `dept:${d}`);
  }
  return [`role:${stage.role || "clerk"}@${stage.department || "*"}`];
}

function renderHead(v) {
  const st = stateText(v);
  const kv = (label, value, id = "") => `<span class="kv"${id ? ` data-testid="${id}"` : ""}><span>${esc(t(label))}</span>${esc(value)}</span>`;
  const who = waitingOf(v);
  const waiting = who.length ? kv("waitingFor", who.map(waitingLabel).join(ui.lang === "zh" ? "、" : ", "), "case-waiting") : "";
  $("#case-head").innerHTML = `<h2 data-testid="case-project">${esc(v.project)}</h2>
    ${kv("caseId", v.id, "case-id")}${kv("applicant", v.applicant)}${kv("procedure", procedureName(v.procedure.id, v.procedure))}
    ${v.location ? kv("location", v.location) : ""}${kv("applicationDate", v.application_date)}
    ${kv("siteArea", `${fmt(v.site_area_m2, 0)} ${t("m2")}`)}
    <span class="kv"><span>${esc(t("state"))}</span><span class="state ${st.cls}" data-testid="case-state" data-stage="${esc(v.stage.id)}">${esc(st.text)}</span></span>${waiting}`;
}

function renderTimeline(v) {
  $("#timeline").innerHTML = v.stages.map((s, i) => {
    const current = i === v.stages.length - 1 && !v.closed;
    const c = s.clock;
    const ct = clockText(c);
    const cls = [current ? "current" : "", ct.cls === "late" ? "late" : "", c?.state === "paused" ? "paused" : ""].join(" ");
    const def = stageOf(v.procedure.id, s.stage) || { kind: s.kind };
    const clock = c ? `<div class="meta" data-testid="stage-clock">${esc(fill(t("used"), { u: c.used, l: c.limit }))}
      ${c.due ? ` · ${esc(fill(t("dueOn"), { d: c.due }))}` : ""}${c.provisional ? ` <span class="badge provisional" title="${esc(t("provisionalHint"))}">${esc(t("provisional"))}</span>` : ""}
      ${ct.text ? ` <span class="clock-${ct.cls}">${esc(ct.text)}</span>` : ""}${c.state === "paused" ? ` <span class="hint">（${esc(t("pausedHint"))}）</span>` : ""}</div>` : "";
    return `<li class="${cls.trim()}" data-testid="stage" data-stage="${esc(s.stage)}">
      <span class="stage-name">${esc(stageNameOf(v, s))}</span>${s.outcome ? ` → <b>${esc(outcomeLabel(def, s.outcome))}</b>` : ""}
      <div class="meta">${esc(fill(t("entered"), { t: when(s.entered) }))}${s.left ? ` · ${esc(fill(t("leftAt"), { t: when(s.left) }))}` : ""}</div>${clock}</li>`;
  }).join("");
}

function renderFindings(d) {
  if (d.action === "verify_as_built") {
    if (d.missing) return `<p class="failed">${esc(t("surveyMissing"))}</p>`;
    if (d.unreadable) return `<p class="failed">${esc(fill(t("unreadable"), { m: d.unreadable }))}</p>`;
    const rows = (d.items || []).map((i) => `<tr data-testid="asbuilt-item"><td>${esc(ui.lang === "zh" ? i.name_zh : i.name_en)}</td>
      <td class="num">${esc(fmt(i.permitted))} ${esc(i.unit || "")}</td><td class="num">${esc(fmt(i.measured))} ${esc(i.unit || "")}</td>
      <td class="num">${esc(fmt(i.tolerance))}</td><td class="${i.passed ? "passed" : "failed"}" title="${esc(i.message_zh || "")}">${esc(t(i.passed ? "passed" : "failed"))}</td></tr>`);
    return `<table class="grid" data-testid="asbuilt"><thead><tr><th>${esc(t("indicator"))}</th><th>${esc(t("permitted"))}</th><th>${esc(t("measured"))}</th>
      <th>${esc(t("tolerance"))}</th><th>${esc(t("result"))}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  }
  const findings = d.findings || [];
  const head = `<p class="hint">${esc(fill(t("rules"), { r: d.rules ?? 0, e: d.errors ?? 0, w: d.warnings ?? 0, s: d.skipped ?? 0 }))}<br>
    ${esc(fill(t("rulePack"), { p: d.rule_pack || "", v: d.rule_pack_version || "", d: d.as_of || "" }))}</p>`;
  const versions = Object.entries(d.data_versions || {}).map(([k, val]) => `<li>${esc(k)}：${esc(val)}</li>`).join("");
  const list = findings.length ? `<ul class="findings" data-testid="findings">${findings.map((f) => `<li data-testid="finding">
      <span class="sev sev-${esc(f.severity)}">${esc(t("severity")[f.severity] || f.severity)}</span> ${esc(ui.lang === "zh" ? f.message_zh : (f.message_en || f.message_zh))}
      ${f.area_m2 != null ? `<span class="hint">（${esc(fill(t("area"), { a: fmt(f.area_m2) }))}）</span>` : ""}
      ${f.suggestion_zh && ui.lang === "zh" ? `<div class="hint">${esc(t("suggestion"))}：${esc(f.suggestion_zh)}</div>` : ""}</li>`).join("")}</ul>`
    : `<p class="passed">${esc(t("noFinding"))}</p>`;
  return head + list + (versions ? `<details><summary class="hint">${esc(t("dataVersions"))}</summary><ul class="hint">${versions}</ul></details>` : "");
}

function renderReview(v) {
  const reviews = v.events.filter((e) => e.kind === "review").reverse();
  $("#review").innerHTML = reviews.length ? reviews.map((e, i) => {
    const def = stageOfEvent(v, e) || { kind: "automatic" };
    const ok = e.value === "compliant";
    return `<div class="opinion"${i ? ' data-earlier="1"' : ""} data-testid="review-run">
      <b class="${ok ? "passed" : "failed"}" data-testid="review-outcome" data-value="${esc(e.value)}">${esc(outcomeLabel({ kind: def.kind || "automatic" }, e.value))}</b>
      <span class="hint">${esc(when(e.at))}</span>${renderFindings(e.detail || {})}</div>`;
  }).join("") : `<p class="hint">${esc(t("notReviewed"))}</p>`;
}

function renderOpinions(v) {
  const given = v.events.filter((e) => e.kind === "opinion");
  const html = given.map((e) => {
    const conditions = e.detail?.conditions || [];
    return `<div class="opinion" data-testid="opinion" data-department="${esc(e.department)}">
      <b>${esc(e.department_name || deptName(e.department))}</b>：<span data-testid="opinion-value">${esc(t("opinions")[e.value] || e.value)}</span>
      <span class="hint">${esc(e.actor)} · ${esc(when(e.at))}</span>
      ${conditions.length ? `<div>${esc(t("conditions"))}：<ul>${conditions.map((c) => `<li data-testid="condition">${esc(c)}</li>`).join("")}</ul></div>` : ""}
      ${e.note ? `<div class="hint">${esc(e.note)}</div>` : ""}</div>`;
  });
  if (!v.closed && v.stage.kind === "co_review") {
    for (const d of v.stage.departments) {
      if (!(d.id in v.opinions)) html.push(`<div class="opinion" data-testid="opinion-awaited"><b>${esc(d.name)}</b>：<span class="hint">${esc(t("awaiting"))}</span></div>`);
    }
  }
  $("#opinions").innerHTML = html.length ? html.join("") : `<p class="hint">${esc(t("noOpinions"))}</p>`;
}

function renderFiles(v) {
  const link = (f) => `/cases/${encodeURIComponent(v.id)}/files/${f.n}`;
  const issued = v.events.filter((e) => e.kind === "issued").map((e) => {
    const doc = v.files.find((f) => f.material === "决定文书" && f.filename.startsWith(e.detail?.serial || "\u0000"));
    return `<div class="opinion" data-testid="document"><b>${esc(t("document"))}</b>：${esc(e.note || e.detail?.title || "")}
      · ${esc(t("serial"))} <span data-testid="document-serial">${esc(e.detail?.serial || "")}</span>
      ${doc ? ` · <a href="${esc(link(doc))}" data-testid="document-download">${esc(t("download"))}</a>` : ""}
      · <a href="/verify/${encodeURIComponent(e.value)}" target="_blank" rel="noopener" data-testid="verify-link">${esc(t("verify"))}</a></div>`;
  });
  const rows = v.files.map((f) => `<tr data-testid="file"><td>${f.n}</td><td>${esc(f.material)}</td>
    <td><a href="${esc(link(f))}">${esc(f.filename)}</a></td><td class="num">${esc(fileSize(f.size))}</td><td>${esc(f.uploaded_by)}</td></tr>`);
  $("#files").innerHTML = issued.join("") + (rows.length ? `<table class="grid"><thead><tr><th>#</th><th>${esc(t("material"))}</th><th>${esc(t("file"))}</th>
    <th>${esc(t("size"))}</th><th>${esc(t("uploadedBy"))}</th></tr></thead><tbody>${rows.join("")}</tbody></table>` : `<p class="hint">${esc(t("noFiles"))}</p>`);
}

function eventWhat(v, e) {
  const kind = t("kinds")[e.kind] || e.kind;
  if (e.kind === "outcome") return `${kind}：${outcomeLabel(stageOfEvent(v, e), e.value)}`;
  if (e.kind === "review") return `${kind}：${outcomeLabel({ kind: "automatic" }, e.value)}`;
  if (e.kind === "opinion") return `${kind}：${t("opinions")[e.value] || e.value}`;
  if (e.kind === "issued") return `${kind}：${e.detail?.serial || ""}`;
  return kind;
}

function renderEvents(v) {
  $("#events").innerHTML = v.events.map((e) => {
    const by = e.actor === "system" ? t("system") : `${e.actor}${e.department ? `（${e.department_name || deptName(e.department)}）` : ""}`;
    const conditions = e.detail?.conditions?.length ? `（${t("conditions")}：${e.detail.conditions.join("；")}）` : "";
    return `<tr data-testid="event" data-kind="${esc(e.kind)}"><td class="at">${esc(when(e.at))}</td><td>${esc(by)}</td><td>${esc(eventWhat(v, e))}</td><td>${esc(e.note)}${esc(conditions)}</td></tr>`;
  }).join("");
}

function renderHistory(v) {
  const banner = $("#history-banner");
  banner.hidden = !page.asOf;
  $("#history-text").textContent = page.asOf ? fill(t("historyBanner"), { t: when(v?.as_of || page.asOf) }) : "";
  $("#history-now").href = `/ui/cases/case?id=${encodeURIComponent(page.id)}`;
  const input = $("#history").elements.namedItem("as_of");
  if (!input.value && v) input.value = v.as_of.slice(0, 19);
}

function render() {
  const v = page.view;
  renderHistory(v);
  if (!v) return;
  renderHead(v);
  renderTimeline(v);
  renderReview(v);
  renderOpinions(v);
  renderFiles(v);
  renderEvents(v);
  renderActions(v, Boolean(page.asOf));
  renderUpload(v, Boolean(page.asOf));
}

function show(view) {
  page.view = view;
  learnNames(view);
  render();
  if (page.map) showSite(page.map, view.site, false);
}

async function reload() {
  const q = page.asOf ? `?as_of=${encodeURIComponent(page.asOf)}` : "";
  show(await api(`/cases/${encodeURIComponent(page.id)}.json${q}`));
}

async function init() {
  const params = new URLSearchParams(location.search);
  page.id = params.get("id") || "";
  page.asOf = params.get("as_of") || "";
  $("#actions").addEventListener("submit", (e) => sendAction(e, page.view, show));
  $("#upload").addEventListener("submit", (e) => sendUpload(e, page.view, reload));
  $("#history").addEventListener("submit", (e) => {
    e.preventDefault();
    const at = e.target.elements.namedItem("as_of").value;
    if (at) location.assign(`/ui/cases/case?${new URLSearchParams({ id: page.id, as_of: at })}`);
  });
  if (!page.id) { message(t("noId"), false); return; }
  const [cfg] = await Promise.all([api("/ui/config.json"), loadProcedures(), reload()]);
  page.cfg = cfg;
  page.map = await caseMap("map", cfg, { asOf: page.view.application_date });
  showSite(page.map, page.view.site, true);
}

startPage("case", init, render);
