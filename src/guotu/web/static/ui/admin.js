/* guotu administration page (系统管理), one part per administrator (三员分立): accounts and
 * departments (系统管理员), roles and layer grades (安全管理员), the audit log (审计管理员).
 * Each part is shown to whoever holds its permission; the server checks it again on every
 * request (/admin/*). Plain JavaScript; changes carry the session's CSRF token. */
"use strict";

const TEXT = {
  zh: {
    title: "系统管理", pageTitle: "系统管理 · 国土空间规划一张图", oneMap: "一张图", lang: "English", signOut: "退出登录",
    tabAccounts: "账号与部门", tabRoles: "角色授权", tabPolicies: "图层开放等级", tabAudit: "审计日志",
    users: "账号", username: "用户名", displayName: "姓名", department: "部门", roles: "角色", state: "状态",
    actions: "操作", newUser: "新建账号", initialPassword: "初始密码", create: "创建",
    newUserHint: "新账号没有角色，由安全管理员授权后方可使用（三员分立）。",
    departments: "部门", deptId: "编号", deptName: "名称", deptKind: "类型", regions: "辖区（行政区代码）",
    newDepartment: "新增部门", kind_internal: "内部科室", kind_external: "外部单位", add: "添加",
    grantTitle: "授予角色", user: "用户", save: "保存",
    grantHint: "系统管理员、安全管理员、审计管理员须由不同的人担任；审计管理员不能兼任可修改数据或用户的角色。",
    roleTable: "角色与权限", role: "角色", permissions: "权限",
    setGrade: "设置开放等级", layer: "图层", grade: "开放等级", readDepartments: "可查看的部门",
    gradeHint: "公开：任何人可看；内部：登录用户可看（指定部门时仅限这些部门）；受限：仅指定的部门或角色可看。",
    layerRole: "类型", readBy: "可查看",
    actor: "操作人", action: "操作", since: "起始日期", until: "截止日期", search: "查询", exportCsv: "导出 CSV",
    time: "时间", address: "地址", object: "对象", reason: "说明", more: "更多", allActions: "（全部）",
    none: "（无）", noRoles: "（无角色）", everyone: "（不限）", noEntries: "没有符合条件的记录。",
    disable: "停用", enable: "启用", unlock: "解锁",
    states: { active: "正常", locked: "已锁定", disabled: "已停用" },
    done: { disable: "已停用账号 {u}。", enable: "已启用账号 {u}。", unlock: "已解锁账号 {u}。" },
    created: "已创建账号 {u}。", deptCreated: "已添加部门 {d}。", granted: "已更新 {u} 的角色：{r}。",
    policySet: "已将图层 {l} 设为“{g}”。",
    timedOut: "登录已超时，请重新登录", signInAgain: "登录",
    off: "本服务器未启用登录（auth = none），没有账号可管理。",
    denied: "您的账号没有管理权限：系统管理需要系统管理员、安全管理员或审计管理员角色。",
    perms: { read: "查看", export: "导出", edit: "编辑", review: "审查", approve: "审批", manage_department: "部门管理",
      manage_accounts: "账号管理", configure: "系统配置", grant: "授权", set_policy: "访问策略设置", read_audit: "审计查阅" },
    actionNames: { sign_in: "登录", sign_in_failed: "登录失败", sign_out: "退出登录", session_ended: "会话结束",
      create_user: "创建账号", grant: "授予角色", enable_user: "启用账号", disable_user: "停用账号", unlock: "解锁账号",
      lock: "锁定账号", set_password: "修改密码", create_department: "新增部门", update_department: "修改部门",
      set_layer_policy: "设置图层策略", create_token: "创建令牌", revoke_token: "撤销令牌", write_layer: "写入图层",
      export: "导出", read_restricted: "查看受限图层" },
  },
  en: {
    title: "Administration", pageTitle: "Administration · One map", oneMap: "One map", lang: "中文", signOut: "Sign out",
    tabAccounts: "Accounts", tabRoles: "Roles", tabPolicies: "Layer grades", tabAudit: "Audit log",
    users: "Accounts", username: "User name", displayName: "Name", department: "Department", roles: "Roles", state: "State",
    actions: "Actions", newUser: "New account", initialPassword: "Initial password", create: "Create",
    newUserHint: "A new account has no role until the security administrator grants one (separation of duties).",
    departments: "Departments", deptId: "Id", deptName: "Name", deptKind: "Kind", regions: "Regions (行政区 codes)",
    newDepartment: "New department", kind_internal: "Internal", kind_external: "External", add: "Add",
    grantTitle: "Grant roles", user: "User", save: "Save",
    grantHint: "The system, security and audit administrators must be three people; the audit administrator holds no role that changes data or users.",
    roleTable: "Roles and permissions", role: "Role", permissions: "Permissions",
    setGrade: "Set an open grade", layer: "Layer", grade: "Open grade", readDepartments: "Departments that may read",
    gradeHint: "Public: anyone; internal: signed-in users (only the departments named, if any); restricted: only the departments or roles named.",
    layerRole: "Kind", readBy: "Readable by",
    actor: "Actor", action: "Action", since: "From", until: "To", search: "Search", exportCsv: "Export CSV",
    time: "Time", address: "Address", object: "Object", reason: "Reason", more: "More", allActions: "(all)",
    none: "(none)", noRoles: "(no role)", everyone: "(not limited)", noEntries: "No entry matches.",
    disable: "Disable", enable: "Enable", unlock: "Unlock",
    states: { active: "active", locked: "locked", disabled: "disabled" },
    done: { disable: "Account {u} disabled.", enable: "Account {u} enabled.", unlock: "Account {u} unlocked." },
    created: "Account {u} created.", deptCreated: "Department {d} added.", granted: "Roles of {u}: {r}.",
    policySet: "Layer {l} is now {g}.",
    timedOut: "Your session timed out: sign in again", signInAgain: "Sign in",
    off: "This server has no sign-in (auth = none): there are no accounts to manage.",
    denied: "Your account cannot administer: this needs the system, security or audit administrator role.",
    perms: { read: "read", export: "export", edit: "edit", review: "review", approve: "approve", manage_department: "manage department",
      manage_accounts: "manage accounts", configure: "configure", grant: "grant roles", set_policy: "set access policies", read_audit: "read the audit log" },
    actionNames: {},
  },
};
/** Each part of the page and the permission it needs. */
const PARTS = { accounts: "manage_accounts", roles: "grant", policies: "set_policy", audit: "read_audit" };
const state = {
  lang: localStorage.getItem("guotu.lang") === "en" ? "en" : "zh", me: null, tab: null,
  accounts: null, roles: null, policies: null, audit: [], auditNext: null, expired: false,
};

const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key];
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
/** A form's field by name (``form.id``, ``form.name`` and ``form.action`` are the form's own). */
const field = (form, name) => form.elements.namedItem(name);
const fill = (text, values) => text.replace(/\{(\w)\}/g, (_, k) => values[k] ?? "");

function withLang(url) {
  const u = new URL(url, location.origin);
  u.searchParams.set("lang", state.lang);
  return u.pathname + u.search;
}

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

/** A JSON request to the server; a change carries the CSRF token. A 401 means the session
 * timed out: the page says so and links to the sign-in page. */
async function api(url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const options = { method, headers, credentials: "same-origin" };
  if (body !== undefined) { headers["Content-Type"] = "application/json"; options.body = JSON.stringify(body); }
  if (method !== "GET") {
    const token = cookie("guotu_csrf") || state.me?.csrf_token;
    if (token) headers["X-CSRF-Token"] = token;
  }
  const r = await fetch(withLang(url), options);
  const doc = await r.json().catch(() => ({}));
  if (r.status === 401 && state.me) { state.expired = true; renderSession(); }
  if (!r.ok) {
    const err = new Error(doc.message || `${r.status} ${r.statusText}`);
    err.status = r.status;
    throw err;
  }
  return doc;
}

function message(text, ok = true) {
  const el = $("#message");
  el.hidden = !text;
  el.textContent = text || "";
  el.className = `message ${ok ? "ok" : "error"}`;
}

function renderSession() {
  const banner = $("#session-expired");
  banner.hidden = !state.expired;
  banner.querySelector("span").textContent = t("timedOut");
  banner.querySelector("a").textContent = t("signInAgain");
  if (state.expired) { $("#sign-out").hidden = true; $("#user").textContent = ""; }
}

function roleName(id) {
  const roles = (state.accounts || state.roles || state.policies || {}).roles || [];
  const r = roles.find((x) => x.id === id);
  return r ? (state.lang === "zh" ? r.name_zh : r.name_en) : id;
}

const roleNames = (ids) => (ids.length ? ids.map(roleName).join(state.lang === "zh" ? "、" : ", ") : t("noRoles"));

// -- accounts and departments (系统管理员) -----------------------------------------------------

function renderAccounts() {
  const doc = state.accounts;
  if (!doc) return;
  const self = state.me.user.username.toLowerCase();
  $("#users").innerHTML = doc.users.map((u) => {
    const buttons = [];
    if (u.active && u.username.toLowerCase() !== self) buttons.push("disable");
    if (!u.active) buttons.push("enable");
    if (u.locked) buttons.push("unlock");
    return `<tr data-testid="user-row" data-username="${esc(u.username)}"><td>${esc(u.username)}</td><td>${esc(u.display_name)}</td>
      <td>${esc(u.department?.name || t("none"))}</td><td>${esc(roleNames(u.roles))}</td>
      <td class="state-${u.state}" data-testid="user-state">${esc(t("states")[u.state])}</td>
      <td>${buttons.map((b) => `<button type="button" data-action="${b}" data-username="${esc(u.username)}" data-testid="${b}-${esc(u.username)}">${t(b)}</button>`).join("")}</td></tr>`;
  }).join("");
  $("#departments").innerHTML = doc.departments.map((d) => `<tr data-testid="department-row"><td>${esc(d.id)}</td><td>${esc(d.name)}</td>
    <td>${esc(t(`kind_${d.kind}`))}</td><td>${esc(d.regions.join("、") || t("everyone"))}</td></tr>`).join("");
  const select = $("#new-user-department");
  const chosen = select.value;
  select.innerHTML = `<option value="">${esc(t("none"))}</option>`
    + doc.departments.map((d) => `<option value="${esc(d.id)}">${esc(d.name)}</option>`).join("");
  select.value = chosen;
}

async function loadAccounts() {
  state.accounts = await api("/admin/accounts.json");
  renderAccounts();
}

async function accountAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, username } = button.dataset;
  try {
    await api(`/admin/users/${encodeURIComponent(username)}/${action}`, { method: "POST" });
    await loadAccounts();
    message(fill(t("done")[action], { u: username }));
  } catch (err) {
    message(err.message, false);
  }
}

async function createUser(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    username: field(form, "username").value.trim(), display_name: field(form, "display_name").value.trim(),
    department: field(form, "department").value || null, password: field(form, "password").value,
  };
  try {
    await api("/admin/users", { method: "POST", body });
    form.reset();
    await loadAccounts();
    message(fill(t("created"), { u: body.username }));
  } catch (err) {
    message(err.message, false);
  }
}

async function createDepartment(event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    id: field(form, "id").value.trim(), name: field(form, "name").value.trim(), kind: field(form, "kind").value,
    regions: field(form, "regions").value.split(/[\s,，、;；]+/).filter(Boolean),
  };
  try {
    await api("/admin/departments", { method: "POST", body });
    form.reset();
    await loadAccounts();
    message(fill(t("deptCreated"), { d: body.name }));
  } catch (err) {
    message(err.message, false);
  }
}

// -- roles (安全管理员) ---------------------------------------------------------------------------

function fillGrantRoles() {
  const user = state.roles.users.find((u) => u.username === $("#grant-user").value);
  const held = new Set(user ? user.roles : []);
  $("#grant-roles").innerHTML = state.roles.roles.map((r) => `<label><input type="checkbox" value="${esc(r.id)}"
    data-testid="grant-role-${esc(r.id)}" ${held.has(r.id) ? "checked" : ""}> ${esc(state.lang === "zh" ? r.name_zh : r.name_en)}</label>`).join("");
}

function renderRoles() {
  const doc = state.roles;
  if (!doc) return;
  const select = $("#grant-user");
  const chosen = select.value;
  const self = state.me.user.username.toLowerCase();
  const others = doc.users.filter((u) => u.username.toLowerCase() !== self);
  select.innerHTML = others.map((u) => `<option value="${esc(u.username)}">${esc(u.display_name)}（${esc(u.username)}）</option>`).join("");
  if (others.some((u) => u.username === chosen)) select.value = chosen;
  fillGrantRoles();
  $("#role-users").innerHTML = doc.users.map((u) => `<tr data-testid="role-row" data-username="${esc(u.username)}"><td>${esc(u.username)}</td>
    <td>${esc(u.display_name)}</td><td>${esc(u.department?.name || t("none"))}</td>
    <td data-testid="user-roles">${esc(roleNames(u.roles))}</td></tr>`).join("");
  const perms = t("perms");
  $("#role-table").innerHTML = doc.roles.map((r) => `<tr><td>${esc(state.lang === "zh" ? r.name_zh : r.name_en)}</td>
    <td>${esc(r.permissions.map((p) => perms[p] || p).join(state.lang === "zh" ? "、" : ", "))}</td></tr>`).join("");
}

async function loadRoles() {
  state.roles = await api("/admin/roles.json");
  renderRoles();
}

async function grant(event) {
  event.preventDefault();
  const username = $("#grant-user").value;
  if (!username) return;
  const roles = [...document.querySelectorAll("#grant-roles input:checked")].map((i) => i.value);
  try {
    const doc = await api(`/admin/users/${encodeURIComponent(username)}/roles`, { method: "PUT", body: { roles } });
    await loadRoles();
    message(fill(t("granted"), { u: username, r: roleNames(doc.user.roles) }));
  } catch (err) {
    message(err.message, false);
    fillGrantRoles();
  }
}

// -- layer grades (安全管理员) ---------------------------------------------------------------------

function gradeName(id) {
  const g = state.policies.grades.find((x) => x.id === id);
  return g ? (state.lang === "zh" ? g.name_zh : g.name_en) : id;
}

function fillPolicyForm() {
  const doc = state.policies;
  const layer = doc.layers.find((l) => l.layer === $("#policy-layer").value);
  if (!layer) return;
  $("#policy-grade").value = layer.grade;
  const named = new Set(layer.read_departments);
  $("#policy-departments").innerHTML = doc.departments.map((d) => `<label><input type="checkbox" value="${esc(d.id)}"
    data-testid="policy-dept-${esc(d.id)}" ${named.has(d.id) ? "checked" : ""}> ${esc(d.name)}</label>`).join("") || esc(t("none"));
}

function renderPolicies() {
  const doc = state.policies;
  if (!doc) return;
  const select = $("#policy-layer");
  const chosen = select.value;
  const kind = (l) => (state.lang === "zh" ? l.role_zh : l.role_en);
  select.innerHTML = doc.layers.map((l) => `<option value="${esc(l.layer)}">${esc(l.layer)} ${esc(kind(l))}</option>`).join("");
  if (doc.layers.some((l) => l.layer === chosen)) select.value = chosen;
  $("#policy-grade").innerHTML = doc.grades.map((g) => `<option value="${esc(g.id)}">${esc(state.lang === "zh" ? g.name_zh : g.name_en)}</option>`).join("");
  fillPolicyForm();
  const depts = Object.fromEntries(doc.departments.map((d) => [d.id, d.name]));
  const sep = state.lang === "zh" ? "、" : ", ";
  $("#policies").innerHTML = doc.layers.map((l) => {
    const who = [...l.read_departments.map((d) => depts[d] || d), ...l.read_roles.map(roleName)];
    return `<tr data-testid="policy-row" data-layer="${esc(l.layer)}"><td>${esc(l.layer)}</td><td>${esc(kind(l))}</td>
      <td class="grade-${esc(l.grade)}" data-testid="policy-grade-cell">${esc(gradeName(l.grade))}</td><td>${esc(who.join(sep) || t("everyone"))}</td></tr>`;
  }).join("");
}

async function loadPolicies() {
  state.policies = await api("/admin/policies.json");
  renderPolicies();
}

async function setPolicy(event) {
  event.preventDefault();
  const layer = $("#policy-layer").value;
  const body = {
    grade: $("#policy-grade").value,
    read_departments: [...document.querySelectorAll("#policy-departments input:checked")].map((i) => i.value),
  };
  try {
    await api(`/admin/policies/${encodeURIComponent(layer)}`, { method: "PUT", body });
    await loadPolicies();
    message(fill(t("policySet"), { l: layer, g: gradeName(body.grade) }));
  } catch (err) {
    message(err.message, false);
  }
}

// -- the audit log (审计管理员) ---------------------------------------------------------------------

/** The search's filters as query parameters; dates are the browser's days, sent as UTC times. */
function auditParams() {
  const form = $("#audit-search");
  const params = new URLSearchParams();
  const [actor, action, since, until] = ["actor", "action", "since", "until"].map((n) => field(form, n).value.trim());
  if (actor) params.set("actor", actor);
  if (action) params.set("action", action);
  if (since) params.set("since", new Date(`${since}T00:00:00`).toISOString());
  if (until) {
    const end = new Date(`${until}T00:00:00`);
    end.setDate(end.getDate() + 1);  // the end day is included
    params.set("until", end.toISOString());
  }
  return params;
}

function localTime(at) {
  const d = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(at) ? at : `${at}Z`);
  return Number.isNaN(d.getTime()) ? at : d.toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour12: false });
}

function renderAudit() {
  const names = t("actionNames");
  $("#audit").innerHTML = state.audit.length ? state.audit.map((e) => `<tr data-testid="audit-row"><td title="${esc(e.at)} UTC">${esc(localTime(e.at))}</td>
    <td>${esc(e.actor)}</td><td>${esc(e.department)}</td><td>${esc(e.address)}</td>
    <td title="${esc(e.action)}">${esc(names[e.action] || e.action)}</td><td>${esc(e.object)}</td>
    <td class="detail" title="${esc(Object.keys(e.detail || {}).length ? JSON.stringify(e.detail) : "")}">${esc(e.reason)}</td></tr>`).join("") : `<tr><td colspan="7" class="hint">${esc(t("noEntries"))}</td></tr>`;
  $("#audit-more").hidden = state.auditNext == null;
  const action = $("#audit-action");
  const chosen = action.value;
  action.innerHTML = `<option value="">${esc(t("allActions"))}</option>`
    + Object.keys(TEXT.zh.actionNames).map((a) => `<option value="${a}">${esc(names[a] || a)}</option>`).join("");
  action.value = chosen;
}

async function searchAudit(event, more = false) {
  if (event) event.preventDefault();
  const params = auditParams();
  $("#audit-csv").href = `/admin/audit.csv?${params}`;
  if (more && state.auditNext != null) params.set("before_id", state.auditNext);
  params.set("limit", "100");
  try {
    const doc = await api(`/admin/audit.json?${params}`);
    state.audit = more ? [...state.audit, ...doc.entries] : doc.entries;
    state.auditNext = doc.next_before_id;
    renderAudit();
  } catch (err) {
    message(err.message, false);
  }
}

// -- the page ------------------------------------------------------------------------------------

const LOADERS = { accounts: loadAccounts, roles: loadRoles, policies: loadPolicies, audit: () => searchAudit() };

async function showTab(name) {
  state.tab = name;
  document.querySelectorAll(".tabs button").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((s) => { s.hidden = s.id !== `tab-${name}`; });
  message("");
  try {
    await LOADERS[name]();
  } catch (err) {
    message(err.message, false);
  }
}

function applyText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("pageTitle");
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = t("lang");
  renderSession();
  renderAccounts();
  renderRoles();
  if (state.policies) renderPolicies();
  renderAudit();
}

async function signOut() {
  try {
    await fetch(withLang("/auth/sign-out"), { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": cookie("guotu_csrf") } });
  } finally {
    location.assign("/ui/login?reason=signed_out");
  }
}

async function main() {
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", state.lang);
    applyText();
  });
  document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
  $("#users").addEventListener("click", accountAction);
  $("#new-user").addEventListener("submit", createUser);
  $("#new-department").addEventListener("submit", createDepartment);
  $("#grant").addEventListener("submit", grant);
  $("#grant-user").addEventListener("change", fillGrantRoles);
  $("#policy").addEventListener("submit", setPolicy);
  $("#policy-layer").addEventListener("change", fillPolicyForm);
  $("#audit-search").addEventListener("submit", (e) => searchAudit(e));
  $("#audit-more").addEventListener("click", () => searchAudit(null, true));
  $("#sign-out").addEventListener("click", signOut);
  applyText();
  const r = await fetch(withLang("/auth/me"), { headers: { Accept: "application/json" } });
  if (r.status === 401) { location.replace(`/ui/login?${new URLSearchParams({ next: "/ui/admin" })}`); return; }
  const me = await r.json().catch(() => ({}));
  const denied = $("#denied");
  if (!r.ok || me.via === "local") {
    if (r.ok) denied.dataset.i18n = "off";
    denied.textContent = r.ok ? t("off") : (me.message || `${r.status}`);
    denied.hidden = false;
    document.body.dataset.ready = "1";
    return;
  }
  state.me = me;
  $("#user").textContent = `${me.user.display_name}${me.user.department ? ` · ${me.user.department.name}` : ""}`;
  $("#sign-out").hidden = false;
  const parts = Object.keys(PARTS).filter((p) => me.user.permissions.includes(PARTS[p]));
  if (!parts.length) {
    denied.dataset.i18n = "denied";
    denied.textContent = t("denied");
    denied.hidden = false;
    document.body.dataset.ready = "1";
    return;
  }
  $("#tabs").hidden = false;
  parts.forEach((p) => { document.querySelector(`.tabs button[data-tab="${p}"]`).hidden = false; });
  await showTab(parts[0]);
  document.body.dataset.ready = "1";
}

main();
