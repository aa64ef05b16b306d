/* guotu administration page (系统管理), one part per administrator (三员分立): accounts,
 * passwords and departments (系统管理员), roles and layer access policies (安全管理员), the
 * audit log (审计管理员).
 * Each part is shown to whoever holds its permission; the server checks it again on every
 * request (/admin/*). Plain JavaScript; changes carry the session's CSRF token. */
"use strict";

const TEXT = {
  zh: {
    title: "系统管理", pageTitle: "系统管理 · 国土空间规划一张图", oneMap: "一张图", lang: "English", signOut: "退出登录",
    tabAccounts: "账号与部门", tabRoles: "角色授权", tabPolicies: "图层访问策略", tabAudit: "审计日志",
    users: "账号", username: "用户名", displayName: "姓名", department: "部门", roles: "角色", state: "状态",
    actions: "操作", newUser: "新建账号", initialPassword: "初始密码", create: "创建",
    newUserHint: "新账号没有角色，由安全管理员授权后方可使用（三员分立）。",
    departments: "部门", deptId: "编号", deptName: "名称", deptKind: "类型", regions: "辖区（行政区代码）",
    newDepartment: "新增部门", kind_internal: "内部科室", kind_external: "外部单位", add: "添加",
    source: "登录方式", sources: { local: "本地", ldap: "目录（LDAP）", oidc: "统一认证" },
    resetTitle: "重置密码", resetHow: "新密码", resetGenerate: "生成临时密码（只显示一次）", resetType: "输入新密码",
    newPassword: "新密码", newPasswordAgain: "再输入一次", reset: "重置", cancel: "取消", resetPassword: "重置密码",
    resetHint: "密码至少 8 位，含小写字母、大写字母、数字、其他符号中的至少 3 类，且不含用户名。重置后该账号已登录的会话全部结束；请当面或通过安全渠道把新密码告知本人。目录（LDAP）和统一认证账号的密码不在本系统保管，不能在此重置。",
    tempPasswordIs: "临时密码（只显示这一次，本系统不保存明文）：", tempPasswordDone: "已记下，关闭",
    passwordReset: "已重置账号 {u} 的密码。", passwordResetShown: "已重置账号 {u} 的密码，临时密码见下方（只显示这一次）。",
    editDepartment: "修改部门", edit: "修改", deptActive: "在用", deptStates: { true: "在用", false: "已停用" },
    regionsHint: "辖区填行政区代码的前缀（乡镇如 370999101），多个用逗号或空格分隔，留空为全域。图层策略设了“行政区字段”时，本部门人员在该图层只能看到辖区内的要素。",
    deptChanged: "已修改部门 {d}。", deptUnchanged: "部门 {d} 没有变化。",
    grantTitle: "授予角色", user: "用户", save: "保存",
    grantHint: "系统管理员、安全管理员、审计管理员须由不同的人担任；审计管理员不能兼任可修改数据或用户的角色。",
    roleTable: "角色与权限", role: "角色", permissions: "权限",
    policiesTitle: "图层访问策略", editPolicy: "编辑访问策略", layer: "图层", grade: "开放等级",
    gradeHint: "公开：任何人可看；内部：登录用户可看（名单中指定了角色或部门时仅限他们）；受限：仅名单中的角色或部门可看。导出、编辑另需相应名单（未指定时按角色权限）。隐藏字段只向所列角色和部门显示（都不选则无人可见）。行政区字段：设了辖区的部门（如乡镇）只能看到代码以其辖区开头的要素。保存即替换该图层的整个策略；可为尚未导入的图层预先设置。",
    layerRole: "类型", readBy: "可查看", exportBy: "可导出", editBy: "可编辑", hiddenFields: "隐藏字段（可见者）",
    regionField: "行政区字段", addHidden: "添加隐藏字段", field: "字段", remove: "删除", newLayerName: "图层名（尚未导入）",
    otherLayer: "其他图层（尚未导入）…", notImported: "尚未导入", unknownDept: "（不存在）",
    anyone: "任何人（含未登录）", nobody: "无人", byRole: "有此权限的用户", noLayerName: "请填写图层名。",
    actor: "操作人", action: "操作", since: "起始日期", until: "截止日期", search: "查询", exportCsv: "导出 CSV",
    time: "时间", address: "地址", object: "对象", reason: "说明", more: "更多", allActions: "（全部）",
    none: "（无）", noRoles: "（无角色）", everyone: "（不限）", noEntries: "没有符合条件的记录。",
    disable: "停用", enable: "启用", unlock: "解锁",
    states: { active: "正常", locked: "已锁定", disabled: "已停用" },
    done: { disable: "已停用账号 {u}。", enable: "已启用账号 {u}。", unlock: "已解锁账号 {u}。" },
    created: "已创建账号 {u}。", deptCreated: "已添加部门 {d}。", granted: "已更新 {u} 的角色：{r}。",
    policySet: "已保存图层 {l} 的访问策略（{g}）。",
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
    tabAccounts: "Accounts", tabRoles: "Roles", tabPolicies: "Layer policies", tabAudit: "Audit log",
    users: "Accounts", username: "User name", displayName: "Name", department: "Department", roles: "Roles", state: "State",
    actions: "Actions", newUser: "New account", initialPassword: "Initial password", create: "Create",
    newUserHint: "A new account has no role until the security administrator grants one (separation of duties).",
    departments: "Departments", deptId: "Id", deptName: "Name", deptKind: "Kind", regions: "Regions (行政区 codes)",
    newDepartment: "New department", kind_internal: "Internal", kind_external: "External", add: "Add",
    source: "Signs in", sources: { local: "local", ldap: "directory (LDAP)", oidc: "OIDC" },
    resetTitle: "Reset the password", resetHow: "New password", resetGenerate: "Generate a temporary password (shown once)", resetType: "Type a new password",
    newPassword: "New password", newPasswordAgain: "Type it again", reset: "Reset", cancel: "Cancel", resetPassword: "Reset password",
    resetHint: "At least 8 characters of at least 3 kinds (lower case, upper case, digits, others), without the user name. The account's sessions end; tell the person the new password in person or through a safe channel. Directory (LDAP) and OIDC accounts keep their passwords elsewhere and cannot be reset here.",
    tempPasswordIs: "Temporary password (shown this once; guotu keeps no clear text):", tempPasswordDone: "Noted, close",
    passwordReset: "Password of {u} reset.", passwordResetShown: "Password of {u} reset; the temporary password is below (shown once).",
    editDepartment: "Change department", edit: "Change", deptActive: "In use", deptStates: { true: "in use", false: "not in use" },
    regionsHint: "Regions are 行政区 code prefixes (a town: 370999101), separated by commas or blanks; empty for the whole area. On a layer whose policy has a region field, the department's users see only their regions' features.",
    deptChanged: "Department {d} changed.", deptUnchanged: "Department {d} is unchanged.",
    grantTitle: "Grant roles", user: "User", save: "Save",
    grantHint: "The system, security and audit administrators must be three people; the audit administrator holds no role that changes data or users.",
    roleTable: "Roles and permissions", role: "Role", permissions: "Permissions",
    policiesTitle: "Layer access policies", editPolicy: "Edit an access policy", layer: "Layer", grade: "Open grade",
    gradeHint: "Public: anyone; internal: signed-in users (only the roles or departments named, if any); restricted: only the roles or departments named. Export and edit follow their own lists (the roles' permissions when none). A hidden field is shown only to the roles and departments ticked (nobody, when none). Region field: a department with regions (a town) sees only the features whose code starts with one of them. Saving replaces the layer's whole policy; a layer not yet imported may have one.",
    layerRole: "Kind", readBy: "Read", exportBy: "Export", editBy: "Edit", hiddenFields: "Hidden fields (who sees them)",
    regionField: "Region field", addHidden: "Add a hidden field", field: "Field", remove: "Remove", newLayerName: "Layer name (not yet imported)",
    otherLayer: "Another layer (not yet imported)…", notImported: "not yet imported", unknownDept: " (unknown)",
    anyone: "anyone (signed in or not)", nobody: "nobody", byRole: "users whose roles allow it", noLayerName: "Give the layer's name.",
    actor: "Actor", action: "Action", since: "From", until: "To", search: "Search", exportCsv: "Export CSV",
    time: "Time", address: "Address", object: "Object", reason: "Reason", more: "More", allActions: "(all)",
    none: "(none)", noRoles: "(no role)", everyone: "(not limited)", noEntries: "No entry matches.",
    disable: "Disable", enable: "Enable", unlock: "Unlock",
    states: { active: "active", locked: "locked", disabled: "disabled" },
    done: { disable: "Account {u} disabled.", enable: "Account {u} enabled.", unlock: "Account {u} unlocked." },
    created: "Account {u} created.", deptCreated: "Department {d} added.", granted: "Roles of {u}: {r}.",
    policySet: "Access policy of layer {l} saved ({g}).",
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
  resetUser: null, editDept: null, hidden: [], policyNew: false,
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

/** The department rows' buttons and state, and the edit form's select. */
function renderDepartments(doc) {
  $("#departments").innerHTML = doc.departments.map((d) => `<tr data-testid="department-row" data-dept="${esc(d.id)}"><td>${esc(d.id)}</td><td>${esc(d.name)}</td>
    <td>${esc(t(`kind_${d.kind}`))}</td><td data-testid="dept-regions-cell">${esc(d.regions.join("、") || t("everyone"))}</td>
    <td>${esc(t("deptStates")[d.active])}</td>
    <td><button type="button" data-dept="${esc(d.id)}" data-testid="edit-dept-${esc(d.id)}">${esc(t("edit"))}</button></td></tr>`).join("");
}

function renderAccounts() {
  const doc = state.accounts;
  if (!doc) return;
  const self = state.me.user.username.toLowerCase();
  const adminRoles = new Set(doc.roles.filter((r) => r.admin).map((r) => r.id));
  $("#users").innerHTML = doc.users.map((u) => {
    const buttons = [];
    const other = u.username.toLowerCase() !== self;
    // not an administrator's password (三员分立: the server refuses it too), nor a directory's
    if (u.active && other) buttons.push("disable");
    if (!u.active) buttons.push("enable");
    if (u.locked) buttons.push("unlock");
    if (u.source === "local" && other && !u.roles.some((r) => adminRoles.has(r))) buttons.push("resetPassword");
    return `<tr data-testid="user-row" data-username="${esc(u.username)}"><td>${esc(u.username)}</td><td>${esc(u.display_name)}</td>
      <td>${esc(u.department?.name || t("none"))}</td><td>${esc(roleNames(u.roles))}</td><td>${esc(t("sources")[u.source] || u.source)}</td>
      <td class="state-${u.state}" data-testid="user-state">${esc(t("states")[u.state])}</td>
      <td>${buttons.map((b) => `<button type="button" data-action="${b}" data-username="${esc(u.username)}" data-testid="${b === "resetPassword" ? "reset" : b}-${esc(u.username)}">${t(b)}</button>`).join("")}</td></tr>`;
  }).join("");
  renderDepartments(doc);
  const select = $("#new-user-department");
  const chosen = select.value;
  select.innerHTML = `<option value="">${esc(t("none"))}</option>`
    + doc.departments.map((d) => `<option value="${esc(d.id)}">${esc(d.name)}</option>`).join("");
  select.value = chosen;
  if (state.resetUser) showResetWho();
}

async function loadAccounts() {
  state.accounts = await api("/admin/accounts.json");
  renderAccounts();
}

async function accountAction(event) {
  const button = event.target.closest("button[data-action]");
  if (!button) return;
  const { action, username } = button.dataset;
  if (action === "resetPassword") { openReset(username); return; }
  try {
    await api(`/admin/users/${encodeURIComponent(username)}/${action}`, { method: "POST" });
    await loadAccounts();
    message(fill(t("done")[action], { u: username }));
  } catch (err) {
    message(err.message, false);
  }
}

// -- password reset (系统管理员): a temporary password shown once, or one typed twice --------

function showResetWho() {
  const u = state.accounts.users.find((x) => x.username === state.resetUser);
  $("#reset-who").textContent = u ? `${u.display_name}（${u.username}）` : state.resetUser;
}

/** The typed-password fields are in use only when "type a new password" is chosen. */
function resetHowChanged() {
  const form = $("#reset-password");
  const typed = form.querySelector("input[name=how]:checked").value === "type";
  ["password", "password_again"].forEach((n) => { field(form, n).disabled = !typed; });
}

function closeTemporary() {
  $("#temp-password-text").textContent = "";
  $("#temp-password").hidden = true;
}

function openReset(username) {
  const form = $("#reset-password");
  form.reset();
  closeTemporary();
  state.resetUser = username;
  showResetWho();
  resetHowChanged();
  form.hidden = false;
  form.scrollIntoView({ block: "nearest" });
}

function closeReset() {
  $("#reset-password").reset();
  $("#reset-password").hidden = true;
  state.resetUser = null;
}

async function resetPassword(event) {
  event.preventDefault();
  const form = event.target;
  const username = state.resetUser;
  if (!username) return;
  const body = form.querySelector("input[name=how]:checked").value === "generate"
    ? { generate: true }
    : { password: field(form, "password").value, password_again: field(form, "password_again").value };
  try {
    const doc = await api(`/admin/users/${encodeURIComponent(username)}/password`, { method: "POST", body });
    closeReset();
    if (doc.password) {
      $("#temp-password-text").textContent = doc.password;
      $("#temp-password").hidden = false;
    }
    await loadAccounts();
    message(fill(t(doc.password ? "passwordResetShown" : "passwordReset"), { u: username }));
  } catch (err) {
    message(err.message, false);
  }
}

// -- departments (系统管理员) ---------------------------------------------------------------------

const splitRegions = (text) => text.split(/[\s,，、;；]+/).filter(Boolean);

function openDepartment(event) {
  const button = event.target.closest("button[data-dept]");
  if (!button) return;
  const d = state.accounts.departments.find((x) => x.id === button.dataset.dept);
  if (!d) return;
  const form = $("#edit-department");
  state.editDept = d.id;
  $("#edit-dept-id").textContent = d.id;
  field(form, "name").value = d.name;
  field(form, "kind").value = d.kind;
  field(form, "regions").value = d.regions.join(", ");
  field(form, "active").checked = d.active;
  form.hidden = false;
  form.scrollIntoView({ block: "nearest" });
}

function closeDepartment() {
  $("#edit-department").hidden = true;
  state.editDept = null;
}

async function saveDepartment(event) {
  event.preventDefault();
  const form = event.target;
  const id = state.editDept;
  if (!id) return;
  const body = {
    name: field(form, "name").value.trim(), kind: field(form, "kind").value,
    regions: splitRegions(field(form, "regions").value), active: field(form, "active").checked,
  };
  try {
    const doc = await api(`/admin/departments/${encodeURIComponent(id)}`, { method: "PUT", body });
    closeDepartment();
    await loadAccounts();
    message(fill(t(doc.changed ? "deptChanged" : "deptUnchanged"), { d: doc.department.name }));
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
    regions: splitRegions(field(form, "regions").value),
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

// -- layer access policies (安全管理员) -------------------------------------------------------------

const ACTIONS = ["read", "export", "edit"];
const NEW_LAYER = "";  // the layer select's value for a layer not yet imported
const sep = () => (state.lang === "zh" ? "、" : ", ");

function gradeName(id) {
  const g = state.policies.grades.find((x) => x.id === id);
  return g ? (state.lang === "zh" ? g.name_zh : g.name_en) : id;
}

function deptName(id) {
  const d = state.policies.departments.find((x) => x.id === id);
  return d ? d.name : `${id}${t("unknownDept")}`;
}

const whoNames = (named) => [...named.roles.map(roleName), ...named.departments.map(deptName)];

/** Who a list lets do its action, read as the server's decision reads an empty one. */
function whoText(layer, action) {
  const names = whoNames(layer.lists[action]);
  if (names.length) return names.join(sep());
  if (layer.grade === "restricted") return t("nobody");
  if (layer.grade === "public" && action === "read") return t("anyone");
  return t("byRole");
}

/** Check boxes for the roles and departments a list may name (``prefix``: their test ids);
 * an administrator role or an unknown department is offered only when already named. */
function whoChecks(prefix, named) {
  const doc = state.policies;
  const roles = new Set(named.roles);
  const depts = new Set(named.departments);
  const box = (kind, id, label, on) => `<label><input type="checkbox" data-kind="${kind}" value="${esc(id)}"
    data-testid="${esc(prefix)}-${kind}-${esc(id)}" ${on ? "checked" : ""}> ${esc(label)}</label>`;
  const roleBoxes = doc.roles.filter((r) => !r.admin || roles.has(r.id))
    .map((r) => box("role", r.id, state.lang === "zh" ? r.name_zh : r.name_en, roles.has(r.id)));
  const known = doc.departments.map((d) => d.id);
  const deptBoxes = [...known, ...[...depts].filter((d) => !known.includes(d))]
    .map((d) => box("dept", d, deptName(d), depts.has(d)));
  return `<div class="checks"><span class="group">${esc(t("roles"))}</span>${roleBoxes.join("")}</div>
    <div class="checks"><span class="group">${esc(t("departments"))}</span>${deptBoxes.join("") || esc(t("none"))}</div>`;
}

function readWho(el) {
  const pick = (kind) => [...el.querySelectorAll(`input[data-kind=${kind}]:checked`)].map((i) => i.value);
  return { roles: pick("role"), departments: pick("dept") };
}

/** The layer the form edits: one of the list, or a blank policy for a layer not yet imported. */
function policyInForm() {
  const chosen = $("#policy-layer").value;
  const found = state.policies.layers.find((l) => l.layer === chosen);
  if (found) return found;
  const blank = { roles: [], departments: [] };
  return { layer: "", imported: false, columns: [], grade: "internal", region_field: null, hidden_fields: {},
    lists: { read: blank, export: blank, edit: blank } };
}

/** The hidden-field rows as the form holds them now (typed names are kept on a redraw). */
function readHidden() {
  return [...document.querySelectorAll("#policy-hidden .hidden-row")].map((row) => ({
    field: row.querySelector("input[data-role=field]").value, ...readWho(row),
  }));
}

function renderHidden() {
  $("#policy-hidden").innerHTML = state.hidden.map((h, i) => `<div class="hidden-row" data-testid="policy-hidden-row">
    <label><span>${esc(t("field"))}</span> <input data-role="field" list="policy-columns" maxlength="100" value="${esc(h.field)}"
      data-testid="policy-hidden-field-${i}"></label>
    ${whoChecks(`policy-hidden-${i}`, h)}
    <button type="button" data-remove="${i}" data-testid="policy-hidden-remove-${i}">${esc(t("remove"))}</button></div>`).join("");
}

function fillPolicyForm() {
  const layer = policyInForm();
  state.policyNew = $("#policy-layer").value === NEW_LAYER;
  $("#policy-new-layer-label").hidden = !state.policyNew;
  $("#policy-grade").value = layer.grade;
  ACTIONS.forEach((a) => { $(`#policy-${a}`).innerHTML = whoChecks(`policy-${a}`, layer.lists[a]); });
  state.hidden = Object.entries(layer.hidden_fields).map(([f, named]) => ({ field: f, ...named }));
  renderHidden();
  $("#policy-region").value = layer.region_field || "";
  $("#policy-columns").innerHTML = layer.columns.map((c) => `<option value="${esc(c)}"></option>`).join("");
}

function renderPolicies() {
  const doc = state.policies;
  if (!doc) return;
  const select = $("#policy-layer");
  const chosen = select.value;
  const kind = (l) => (l.imported ? (state.lang === "zh" ? l.role_zh : l.role_en) : t("notImported"));
  select.innerHTML = doc.layers.map((l) => `<option value="${esc(l.layer)}">${esc(l.layer)} ${esc(kind(l))}</option>`).join("")
    + `<option value="${NEW_LAYER}" data-testid="policy-other-layer">${esc(t("otherLayer"))}</option>`;
  if (state.policyNew || !doc.layers.length) select.value = NEW_LAYER;
  else select.value = doc.layers.some((l) => l.layer === chosen) ? chosen : doc.layers[0].layer;
  $("#policy-grade").innerHTML = doc.grades.map((g) => `<option value="${esc(g.id)}">${esc(state.lang === "zh" ? g.name_zh : g.name_en)}</option>`).join("");
  fillPolicyForm();
  $("#policies").innerHTML = doc.layers.map((l) => {
    const hidden = Object.entries(l.hidden_fields).map(([f, named]) => {
      const who = whoNames(named);
      return state.lang === "zh" ? `${f}（${who.join("、") || t("nobody")}）` : `${f} (${who.join(", ") || t("nobody")})`;
    });
    return `<tr data-testid="policy-row" data-layer="${esc(l.layer)}"><td>${esc(l.layer)}</td><td>${esc(kind(l))}</td>
      <td class="grade-${esc(l.grade)}" data-testid="policy-grade-cell">${esc(gradeName(l.grade))}</td>
      ${ACTIONS.map((a) => `<td data-testid="policy-${a}-cell">${esc(whoText(l, a))}</td>`).join("")}
      <td data-testid="policy-hidden-cell">${esc(hidden.join(sep()) || "—")}</td>
      <td data-testid="policy-region-cell">${esc(l.region_field || "—")}</td>
      <td><button type="button" data-layer="${esc(l.layer)}" data-testid="policy-edit-${esc(l.layer)}">${esc(t("edit"))}</button></td></tr>`;
  }).join("");
}

/** Draw the policies again in the page's language, keeping what the form holds unsaved. */
function redrawPolicies() {
  const draft = {
    grade: $("#policy-grade").value, region: $("#policy-region").value, hidden: readHidden(),
    lists: Object.fromEntries(ACTIONS.map((a) => [a, readWho($(`#policy-${a}`))])),
  };
  renderPolicies();
  $("#policy-grade").value = draft.grade;
  $("#policy-region").value = draft.region;
  ACTIONS.forEach((a) => { $(`#policy-${a}`).innerHTML = whoChecks(`policy-${a}`, draft.lists[a]); });
  state.hidden = draft.hidden;
  renderHidden();
}

async function loadPolicies() {
  state.policies = await api("/admin/policies.json");
  renderPolicies();
}

function editPolicyOf(event) {
  const button = event.target.closest("button[data-layer]");
  if (!button) return;
  $("#policy-layer").value = button.dataset.layer;
  fillPolicyForm();
  $("#policy").scrollIntoView({ block: "nearest" });
}

function hiddenClick(event) {
  const button = event.target.closest("button[data-remove]");
  if (!button) return;
  state.hidden = readHidden().filter((_, i) => i !== Number(button.dataset.remove));
  renderHidden();
}

function addHidden() {
  state.hidden = [...readHidden(), { field: "", roles: [], departments: [] }];
  renderHidden();
  const inputs = document.querySelectorAll("#policy-hidden input[data-role=field]");
  inputs[inputs.length - 1].focus();
}

async function setPolicy(event) {
  event.preventDefault();
  const isNew = $("#policy-layer").value === NEW_LAYER;
  const layer = isNew ? $("#policy-new-layer").value.trim() : $("#policy-layer").value;
  if (!layer) { message(t("noLayerName"), false); return; }
  const rows = readHidden().filter((h) => h.field.trim() || h.roles.length || h.departments.length);
  const body = {
    grade: $("#policy-grade").value,
    lists: Object.fromEntries(ACTIONS.map((a) => [a, readWho($(`#policy-${a}`))])),
    hidden_fields: Object.fromEntries(rows.map((h) => [h.field.trim(), { roles: h.roles, departments: h.departments }])),
    region_field: $("#policy-region").value.trim() || null,
  };
  try {
    const doc = await api(`/admin/policies/${encodeURIComponent(layer)}`, { method: "PUT", body });
    state.policies = await api("/admin/policies.json");
    $("#policy-new-layer").value = "";
    state.policyNew = false;
    renderPolicies();
    $("#policy-layer").value = layer;
    fillPolicyForm();
    message([fill(t("policySet"), { l: layer, g: gradeName(body.grade) }), ...doc.notes].join(" "));
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
  closeTemporary();  // shown once: not kept on the page once the administrator moves on
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
  if (state.policies) redrawPolicies();
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
  $("#policies").addEventListener("click", editPolicyOf);
  $("#policy-hidden").addEventListener("click", hiddenClick);
  $("#policy-add-hidden").addEventListener("click", addHidden);
  $("#reset-password").addEventListener("submit", resetPassword);
  $("#reset-password").addEventListener("change", (e) => { if (e.target.name === "how") resetHowChanged(); });
  $("#reset-cancel").addEventListener("click", closeReset);
  $("#temp-password-done").addEventListener("click", closeTemporary);
  $("#departments").addEventListener("click", openDepartment);
  $("#edit-department").addEventListener("submit", saveDepartment);
  $("#edit-dept-cancel").addEventListener("click", closeDepartment);
  $("#audit-search").addEventListener("submit", (e) => searchAudit(e));
  $("#audit-more").addEventListener("click", () => searchAudit(null, true));
  $("#sign-out").addEventListener("click", signOut);
  applyText();
  const r = await fetch(withLang("/auth/me"), { headers: { Accept: "application/json" } });
  if (r.status === 401) { location.replace(`/ui/login?${new URLSearchParams({ next: "/ui/admin" })}`); return; }
  const me = await r.json().catch(() => ({}));
  if (r.ok && me.via === "session" && me.password_change) {  // changed before anything else
    location.replace(`/ui/password?${new URLSearchParams({ next: "/ui/admin" })}`);
    return;
  }
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
