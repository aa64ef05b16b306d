/* guotu password page (修改密码): the signed-in user's current password and the new one typed
 * twice, to POST /auth/password (JSON, with the session's CSRF token in X-CSRF-Token); then on
 * to ``next`` (a path of this site only) or the one map. GET /auth/me says why a change is due
 * (``password_change``: ``initial``, an administrator's password, or ``expired``): until it is
 * made the server answers nothing else, so the page offers no way back, only signing out.
 * Nobody signed in: to the sign-in page, which comes back here. A directory (LDAP) or 统一认证
 * account's password is changed there, not here. Chinese first, English with the button. */
"use strict";

const TEXT = {
  zh: {
    title: "国土空间规划一张图", heading: "修改密码", pageTitle: "修改密码 · 国土空间规划一张图",
    current: "当前密码", new: "新密码", again: "再次输入新密码", submit: "修改密码", saving: "正在修改…",
    rules: "新密码至少 8 位，含小写字母、大写字母、数字、其他符号中的至少 3 类，不含用户名，且不能与当前密码相同。",
    initial: "首次登录请修改初始密码：管理员设置的密码须由本人修改后才能使用本系统。",
    // the server's PasswordRules.max_age_days
    expired: "密码已超过 90 天未修改，请修改后继续使用本系统。",
    missing: "请填写当前密码和两次新密码。", differ: "两次输入的新密码不一致。",
    done: "密码已修改，正在进入系统…", network: "无法连接服务器，请稍后重试。",
    back: "返回", signOut: "退出登录", lang: "English",
    off: "本服务器未启用登录，无需修改密码。",
    ldap: "您的账号通过目录服务器（LDAP）登录，密码请在目录中修改。",
    oidc: "您的账号通过统一身份认证平台登录，密码请在该平台修改。",
  },
  en: {
    title: "Territorial spatial planning one map", heading: "Change password", pageTitle: "Change password · Territorial spatial planning one map",
    current: "Current password", new: "New password", again: "New password again", submit: "Change password", saving: "Changing…",
    rules: "At least 8 characters of at least 3 kinds (lower case, upper case, digits, others), without the user name, and not the current password.",
    initial: "First sign-in: change the initial password an administrator set before using the system.",
    expired: "Your password has not been changed for more than 90 days: change it to go on.",
    missing: "Type the current password and the new one twice.", differ: "The two new passwords differ.",
    done: "Password changed; going on…", network: "The server cannot be reached; try again later.",
    back: "Back", signOut: "Sign out", lang: "中文",
    off: "This server has no sign-in: there is no password to change.",
    ldap: "Your account signs in through the directory (LDAP): change the password there.",
    oidc: "Your account signs in through the unified identity platform: change the password there.",
  },
};
const state = { lang: localStorage.getItem("guotu.lang") === "en" ? "en" : "zh", me: null, message: "" };
const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key];

/** Where to go once the password is changed: ``next`` when it is a path of this site (not
 * ``//host`` or ``/\host``, which a browser reads as another site), else the one map. */
function nextPage() {
  const wanted = new URLSearchParams(location.search).get("next") || "";
  if (!wanted.startsWith("/") || wanted.startsWith("//") || wanted.startsWith("/\\")) return "/ui/";
  try {
    const u = new URL(wanted, location.origin);
    if (u.origin !== location.origin || /^\/ui\/(login|password)/.test(u.pathname)) return "/ui/";
    return u.pathname + u.search + u.hash;
  } catch (err) {
    return "/ui/";
  }
}

function cookie(name) {
  const found = document.cookie.split("; ").find((c) => c.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

function applyText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("pageTitle");
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = t("lang");
  const why = state.me?.password_change;
  $("#reason").hidden = !why;
  $("#reason").textContent = why ? t(why) : "";
  if (state.message) $("#message").textContent = t(state.message);
}

function showError(text) {
  $("#error").textContent = text;
  $("#error").hidden = !text;
}

/** A page with no form: why (``key`` of TEXT), and the way back. */
function showMessage(key) {
  state.message = key;
  $("#message").textContent = t(key);
  $("#message").hidden = false;
  $("#change").hidden = true;
}

async function change(event) {
  event.preventDefault();
  const current = $("#current").value;
  const fresh = $("#new").value;
  const again = $("#again").value;
  if (!current || !fresh || !again) { showError(t("missing")); return; }
  if (fresh !== again) { showError(t("differ")); return; }
  showError("");
  $("#submit").disabled = true;
  $("#submit").textContent = t("saving");
  try {
    const r = await fetch(`/auth/password?lang=${state.lang}`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": cookie("guotu_csrf") || state.me.csrf_token || "",
      },
      body: JSON.stringify({ current_password: current, new_password: fresh, new_password_again: again }),
      credentials: "same-origin",
    });
    const body = await r.json().catch(() => ({}));
    if (r.ok) {
      $("#change").querySelectorAll("input").forEach((el) => { el.value = ""; });
      $("#done").textContent = t("done");
      $("#done").hidden = false;
      setTimeout(() => location.replace(nextPage()), 600);
      return;
    }
    if (r.status === 401) {  // the session ended (locked after wrong passwords, or timed out)
      location.replace(`/ui/login?${new URLSearchParams({ next: nextPage() })}`);
      return;
    }
    if (body.field === "current_password") { $("#current").value = ""; $("#current").focus(); }
    showError(body.message || `${r.status} ${r.statusText}`);
  } catch (err) {
    showError(t("network"));
  } finally {
    $("#submit").disabled = false;
    $("#submit").textContent = t("submit");
  }
}

async function signOut() {
  try {
    await fetch("/auth/sign-out", {
      method: "POST",
      headers: { "X-CSRF-Token": cookie("guotu_csrf") || state.me?.csrf_token || "" },
      credentials: "same-origin",
    });
  } finally {
    location.assign("/ui/login?reason=signed_out");
  }
}

/** Who is signed in (GET /auth/me), and what the page offers them. */
async function load() {
  const r = await fetch(`/auth/me?lang=${state.lang}`, { headers: { Accept: "application/json" } });
  if (r.status === 401) {
    location.replace(`/ui/login?${new URLSearchParams({ next: location.pathname + location.search })}`);
    return false;
  }
  const me = await r.json().catch(() => ({}));
  if (!r.ok) { $("#message").textContent = me.message || `${r.status}`; $("#message").hidden = false; return true; }
  state.me = me;
  $("#back").href = nextPage();
  if (me.via === "local") { showMessage("off"); $("#back").hidden = false; return true; }
  $("#user").textContent = `${me.user.display_name}${me.user.department ? ` · ${me.user.department.name}` : ""}`;
  $("#sign-out").hidden = false;
  if (me.user.source !== "local") {
    showMessage(me.user.source === "oidc" ? "oidc" : "ldap");
    $("#back").hidden = false;
    return true;
  }
  $("#change").hidden = false;
  $("#back").hidden = Boolean(me.password_change);  // nothing else answers until it is changed
  applyText();
  $("#current").focus();
  return true;
}

async function main() {
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", state.lang);
    applyText();
  });
  $("#change").addEventListener("submit", change);
  $("#sign-out").addEventListener("click", signOut);
  applyText();
  try {
    if (!(await load())) return;
  } catch (err) {
    $("#message").textContent = t("network");
    $("#message").hidden = false;
  }
  document.body.dataset.ready = "1";
}

main();
