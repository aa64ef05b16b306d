/* guotu approval pages (审批, 多审合一): what the list, intake, case and statistics pages share.
 * The header (navigation, who is signed in, language, sign-out), the language (``?lang=`` in
 * the address wins and is remembered, else the one the other pages chose), requests to the
 * app's own API (the session's CSRF token on a change; a 401 goes to the sign-in page and
 * comes back; a password to change first goes to the password page), and the Chinese and
 * English names of procedures, stages, outcomes, opinions, departments and clocks.
 * Plain JavaScript; loaded before each page's own script. */
"use strict";

const COMMON_TEXT = {
  zh: {
    lang: "English", oneMap: "一张图", navList: "审批案件", navNew: "窗口受理", navStats: "审批统计", signOut: "退出登录",
    loading: "加载中…", none: "（无）", workingDays: "个工作日",
    left: "剩余 {n} 个工作日", late: "超期 {n} 个工作日", lateDone: "超期办结", dueOn: "到期日 {d}", provisional: "暂定",
    provisionalHint: "该日期所在年份的节假日安排尚未发布，到期日按规则推算，可能调整。",
    paused: "补正中", pausedHint: "补正期间计时暂停", overdue: "已超期", closed: "已办结", open: "办理中",
    used: "已用 {u}/时限 {l} 个工作日",
    roles: { clerk: "窗口受理人员", reviewer: "审查人员", approver: "审批人员", viewer: "查看人员" },
    opinions: { agree: "同意", conditional: "有条件同意", disagree: "不同意" },
    outcomes: {
      intake: { done: "予以受理", supplement: "要求补正" },
      task: { done: "办结", rejected: "终止办理" },
      supplementTask: { done: "补正完成，重新审查", rejected: "终止办理" },
      decision: { approved: "准予许可", conditional: "附条件许可", rejected: "不予许可" },
      automatic: { compliant: "合规", conditional: "有条件合规", non_compliant: "不合规", rejected: "超出许可" },
      co_review: { approved: "同意", conditional: "有条件同意", rejected: "不同意" },
      any: { done: "办结", approved: "通过", conditional: "附条件通过", rejected: "不通过", supplement: "补正", compliant: "合规", non_compliant: "不合规" },
    },
    severity: { error: "不符合", warning: "提示", info: "说明" },
    stale: "案件已被他人办理，请刷新后重新办理。",
  },
  en: {
    lang: "中文", oneMap: "One map", navList: "Cases", navNew: "Intake", navStats: "Statistics", signOut: "Sign out",
    loading: "Loading…", none: "(none)", workingDays: "working days",
    left: "{n} working days left", late: "{n} working days overdue", lateDone: "closed late", dueOn: "due {d}", provisional: "provisional",
    provisionalHint: "The holiday arrangement of that year is not published yet: the date follows the rules and may move.",
    paused: "Supplementing", pausedHint: "the clock stops while materials are supplemented", overdue: "Overdue", closed: "Closed", open: "Open",
    used: "{u} of {l} working days",
    roles: { clerk: "window clerk", reviewer: "reviewer", approver: "approver", viewer: "viewer" },
    opinions: { agree: "Agree", conditional: "Agree with conditions", disagree: "Disagree" },
    outcomes: {
      intake: { done: "Accept", supplement: "Ask for materials" },
      task: { done: "Done", rejected: "End the case" },
      supplementTask: { done: "Supplemented: review again", rejected: "End the case" },
      decision: { approved: "Grant", conditional: "Grant with conditions", rejected: "Refuse" },
      automatic: { compliant: "Compliant", conditional: "Compliant with notes", non_compliant: "Not compliant", rejected: "Exceeds the permit" },
      co_review: { approved: "Agreed", conditional: "Agreed with conditions", rejected: "Disagreed" },
      any: { done: "Done", approved: "Approved", conditional: "Approved with conditions", rejected: "Rejected", supplement: "Supplement", compliant: "Compliant", non_compliant: "Not compliant" },
    },
    severity: { error: "error", warning: "warning", info: "note" },
    stale: "Someone acted on the case meanwhile: reload it and act again.",
  },
};

/** What every approval page knows: the language, who is signed in, the procedures, and the
 * department names learnt so far (``/auth/me`` and the cases read; kept for the session). */
const ui = {
  lang: "zh", me: null, text: { zh: { ...COMMON_TEXT.zh }, en: { ...COMMON_TEXT.en } },
  procedures: null, names: {}, render: () => {}, page: "",
};

const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => [...document.querySelectorAll(sel)];
const t = (key) => ui.text[ui.lang][key] ?? ui.text.zh[key] ?? key;
const fill = (text, values) => String(text).replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
const fmt = (n, d = 2) => (n == null ? "—" : Number(n).toLocaleString(ui.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: d }));
/** Today in the browser's time zone, as YYYY-MM-DD. */
const today = () => { const d = new Date(); return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10); };
/** A recorded moment as the server keeps it (its local time), to the second. */
const when = (iso) => (iso ? String(iso).slice(0, 19).replace("T", " ") : "—");

/** A file's size in B, KB or MB. */
const fileSize = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${fmt(n / 1024, 1)} KB` : `${fmt(n / 1048576, 1)} MB`);

/** Add a page's own texts. */
function addText(text) {
  Object.assign(ui.text.zh, text.zh);
  Object.assign(ui.text.en, text.en);
}

function chooseLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked === "en" || asked === "zh") localStorage.setItem("guotu.lang", asked);
  ui.lang = (asked || localStorage.getItem("guotu.lang")) === "en" ? "en" : "zh";
}

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

/** ``url`` with ``lang`` set: the server answers (errors too) in the page's language. */
function withLang(url) {
  const u = new URL(url, location.href);
  if (u.origin !== location.origin) return url;
  u.searchParams.set("lang", ui.lang);
  return u.pathname + u.search;
}

const here = () => location.pathname + location.search;
const signInPage = () => `/ui/login?${new URLSearchParams({ next: here() })}`;
const passwordPage = () => `/ui/password?${new URLSearchParams({ next: here() })}`;

/** A request to the app: JSON ``body`` or a multipart ``form``; a change carries the CSRF
 * token. Throws an Error with ``status`` and the server's message (in the page's language). */
async function api(url, { method = "GET", body, form } = {}) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  if (form !== undefined) options.body = form;
  if (method !== "GET") {
    const token = cookie("guotu_csrf") || ui.me?.csrf_token;
    if (token) headers["X-CSRF-Token"] = token;
  }
  const r = await fetch(withLang(url), options);
  const doc = await r.json().catch(() => ({}));
  if (r.status === 401) location.assign(signInPage());
  if (doc.code === "password-change-required") location.replace(passwordPage());
  if (!r.ok) {
    const err = new Error(doc.message || `${r.status} ${r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return doc;
}

/** A message above the page (``ok`` green, else red); empty hides it. */
function message(text, ok = true) {
  const el = $("#message");
  el.hidden = !text;
  el.textContent = text || "";
  el.className = `message ${ok ? "ok" : "error"}`;
}

// -- names ---------------------------------------------------------------------------------

const NAMES_KEY = "guotu.cases.departments";

function loadNames() {
  try { ui.names = JSON.parse(sessionStorage.getItem(NAMES_KEY) || "{}"); } catch (err) { ui.names = {}; }
}

/** Learn department names from a case (its co-review departments and who gave opinions). */
function learnNames(view) {
  for (const d of view.stage?.departments || []) ui.names[d.id] = d.name;
  for (const e of view.events || []) if (e.department && e.department_name) ui.names[e.department] = e.department_name;
  sessionStorage.setItem(NAMES_KEY, JSON.stringify(ui.names));
}

const deptName = (id) => ui.names[id] || id;

/** Who a case waits for (``dept:zhujian``, ``role:clerk@guihua``), as a person reads it. */
function waitingLabel(w) {
  if (w.startsWith("dept:")) return deptName(w.slice(5));
  const [role, dept] = w.replace(/^role:/, "").split("@");
  const roleText = t("roles")[role] || role;
  if (!dept || dept === "*") return roleText;
  return ui.lang === "zh" ? `${deptName(dept)}（${roleText}）` : `${deptName(dept)} (${roleText})`;
}

async function loadProcedures() {
  if (!ui.procedures) ui.procedures = (await api("/cases/procedures.json")).procedures;
  return ui.procedures;
}

const procedureOf = (id) => (ui.procedures || []).find((p) => p.id === id);

function procedureName(id, fallback) {
  const p = procedureOf(id);
  if (!p) return fallback?.name_zh && ui.lang === "zh" ? fallback.name_zh : (fallback?.name_en || id);
  return ui.lang === "zh" ? p.name_zh : p.name_en;
}

function stageOf(procedure, stageId) {
  return procedureOf(procedure)?.stages.find((s) => s.id === stageId);
}

function stageName(procedure, stageId, nameZh) {
  const s = stageOf(procedure, stageId);
  if (!s) return nameZh || stageId;
  return ui.lang === "zh" ? s.name_zh : s.name_en;
}

/** An outcome's name in a stage (``kind`` intake, task, decision …): 予以受理, 办结, 准予许可 … */
function outcomeLabel(stage, value) {
  const table = t("outcomes");
  const outcomes = Array.isArray(stage?.outcomes) ? stage.outcomes : Object.keys(stage?.outcomes || {});
  // a task that may also end the case is the 补正 of materials (its "done": materials complete)
  const group = stage?.kind === "task" && outcomes.includes("rejected") ? table.supplementTask : (table[stage?.kind] || table.any);
  return group[value] || table.any[value] || value;
}

/** A stage's clock as a short text and a class (``ok``, ``warn``, ``late``, ``paused``). */
function clockText(clock) {
  if (!clock) return { text: "", cls: "" };
  if (clock.state === "paused") return { text: t("paused"), cls: "paused" };
  const lateBy = clock.used - clock.limit;
  if (clock.state === "done") return clock.late ? { text: t("lateDone"), cls: "late" } : { text: "", cls: "ok" };
  if (clock.state === "overdue" || lateBy > 0) return { text: fill(t("late"), { n: lateBy }), cls: "late" };
  return { text: fill(t("left"), { n: clock.limit - clock.used }), cls: clock.state === "warning" ? "warn" : "ok" };
}

// -- the header and the start of a page ----------------------------------------------------

function renderHeader() {
  const me = ui.me;
  const clerk = Boolean(me?.user?.roles?.some((r) => r.id === "clerk"));
  $("#top").innerHTML = `<h1>${esc(t("title"))}</h1>
    <nav class="case-nav">
      <a href="/ui/cases" data-testid="nav-list"${ui.page === "list" ? ' class="here"' : ""}>${esc(t("navList"))}</a>
      ${clerk ? `<a href="/ui/cases/new" data-testid="nav-new"${ui.page === "new" ? ' class="here"' : ""}>${esc(t("navNew"))}</a>` : ""}
      <a href="/ui/cases/stats" data-testid="nav-stats"${ui.page === "stats" ? ' class="here"' : ""}>${esc(t("navStats"))}</a>
      <a href="/ui/" data-testid="nav-map">${esc(t("oneMap"))}</a>
    </nav>
    <span class="user" data-testid="user">${me?.user ? esc(`${me.user.display_name}${me.user.department ? ` · ${me.user.department.name}` : ""}`) : ""}</span>
    <button type="button" id="lang" data-testid="lang">${esc(t("lang"))}</button>
    ${me?.via === "session" ? `<button type="button" id="sign-out" data-testid="sign-out">${esc(t("signOut"))}</button>` : ""}`;
  $("#lang").addEventListener("click", () => {
    ui.lang = ui.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", ui.lang);
    const u = new URL(location.href);
    if (u.searchParams.has("lang")) { u.searchParams.set("lang", ui.lang); history.replaceState(null, "", u.pathname + u.search); }
    applyText();
  });
  $("#sign-out")?.addEventListener("click", signOut);
}

function applyText() {
  document.documentElement.lang = ui.lang === "zh" ? "zh-CN" : "en";
  document.title = t("pageTitle");
  $$("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $$("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  renderHeader();
  ui.render();
}

async function signOut() {
  try {
    await fetch(withLang("/auth/sign-out"), { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": cookie("guotu_csrf") } });
  } finally {
    location.assign("/ui/login?reason=signed_out");
  }
}

/** Start a page: the language, who is signed in (else to the sign-in page), then ``init``;
 * ``render`` draws the page again (on a change of language). ``body[data-ready]`` is set
 * once the page has drawn what it loaded. */
async function startPage(page, init, render) {
  ui.page = page;
  ui.render = render;
  chooseLang();
  loadNames();
  applyText();
  const r = await fetch(withLang("/auth/me"), { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (r.status === 401) { location.replace(signInPage()); return; }
  const me = await r.json().catch(() => ({}));
  if (r.ok && me.via === "session" && me.password_change) { location.replace(passwordPage()); return; }
  if (r.ok) {
    ui.me = me;
    if (me.user?.department) ui.names[me.user.department.id] = me.user.department.name;
  }
  renderHeader();
  try {
    await init();
  } catch (err) {
    message(err.message, false);
  }
  ui.render();
  document.body.dataset.ready = "1";
}
