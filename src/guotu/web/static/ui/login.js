/* guotu sign-in page (登录): user name and password to POST /auth/sign-in (JSON); on success
 * back to the page the user came from (``next``, a path of this site only) or the one map.
 * A refusal shows the server's one sentence, which never says whether the name or the password
 * was wrong; a lockout or too many attempts show the server's message as it is. A user whose
 * password must be changed first (``password_change`` of GET /auth/me: an initial password an
 * administrator set, or an expired one) goes to /ui/password, and from there on to ``next``.
 * With ``auth = oidc`` (GET /auth/methods says so) a "统一身份认证登录" link goes to
 * /auth/oidc/start with the same ``next``; a unified sign-in that did not succeed comes back
 * here with ``?error=oidc_…``, said in the page's language (never the provider's text). */
"use strict";

const TEXT = {
  zh: {
    title: "国土空间规划一张图", heading: "用户登录", username: "用户名", password: "密码", submit: "登录",
    signingIn: "登录中…", lang: "English", pageTitle: "登录 · 国土空间规划一张图",
    hint: "连续多次输错密码，账号将被暂时锁定；忘记密码请联系系统管理员。",
    refused: "用户名或密码不正确，或账号暂不可用。", missing: "请填写用户名和密码。",
    network: "无法连接服务器，请稍后重试。", timedOut: "登录已超时，请重新登录。", signedOut: "您已退出登录。",
    off: "本服务器未启用登录，正在返回地图…",
    oidc: "统一身份认证登录", or: "或使用本系统账号登录",
    oidc_failed: "统一身份认证登录未成功，或账号暂不可用。请重新登录或联系系统管理员。",
    oidc_expired: "登录已过期或无效，请重新点击“统一身份认证登录”。",
    oidc_denied: "统一身份认证平台未完成登录（已取消或被拒绝）。",
    oidc_unavailable: "统一身份认证平台暂时无法访问，请稍后重试或使用本系统账号登录。",
    oidc_off: "本服务器未启用统一身份认证登录，请使用本系统账号登录。",
  },
  en: {
    title: "Territorial spatial planning one map", heading: "Sign in", username: "User name", password: "Password", submit: "Sign in",
    signingIn: "Signing in…", lang: "中文", pageTitle: "Sign in · Territorial spatial planning one map",
    hint: "After repeated wrong passwords the account is locked for a while; ask the system administrator if you forgot yours.",
    refused: "The user name or password is wrong, or the account cannot be used now.", missing: "Enter the user name and the password.",
    network: "The server cannot be reached; try again later.", timedOut: "Your session timed out: sign in again.", signedOut: "You have signed out.",
    off: "This server has no sign-in; back to the map…",
    oidc: "Sign in with unified identity", or: "or sign in with an account of this system",
    oidc_failed: "The unified identity sign-in did not succeed, or the account cannot be used now. Try again or ask the system administrator.",
    oidc_expired: "The sign-in expired or is not valid: click “Sign in with unified identity” again.",
    oidc_denied: "The unified identity platform did not sign you in (cancelled or refused).",
    oidc_unavailable: "The unified identity platform cannot be reached; try again later or sign in with an account of this system.",
    oidc_off: "This server does not sign in with unified identity; use an account of this system.",
  },
};
const state = { lang: localStorage.getItem("guotu.lang") === "en" ? "en" : "zh" };
const $ = (sel) => document.querySelector(sel);
const t = (key) => TEXT[state.lang][key];

/** Where to go after signing in: ``next`` when it is a path of this site (not ``//host`` or
 * ``/\host``, which a browser reads as another site), else the one map. */
function nextPage() {
  const wanted = new URLSearchParams(location.search).get("next") || "";
  if (!wanted.startsWith("/") || wanted.startsWith("//") || wanted.startsWith("/\\")) return "/ui/";
  try {
    const u = new URL(wanted, location.origin);
    if (u.origin !== location.origin || u.pathname.startsWith("/ui/login")) return "/ui/";
    return u.pathname + u.search + u.hash;
  } catch (err) {
    return "/ui/";
  }
}

/** The page that changes the password, going on to ``next`` once it is changed. */
function passwordPage() {
  return `/ui/password?${new URLSearchParams({ next: nextPage() })}`;
}

/** Whether the user just signed in must change their password before anything else
 * (GET /auth/me: ``password_change`` is ``initial`` or ``expired``). */
async function changeFirst() {
  try {
    const r = await fetch("/auth/me", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    return r.ok && Boolean((await r.json()).password_change);
  } catch (err) {
    return false;  // the next page asks again
  }
}

function applyText() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = t("pageTitle");
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("#lang").textContent = t("lang");
  const why = new URLSearchParams(location.search).get("reason");
  const notice = { timeout: "timedOut", signed_out: "signedOut" }[why];
  $("#notice").hidden = !notice;
  $("#notice").textContent = notice ? t(notice) : "";
  const failed = new URLSearchParams(location.search).get("error") || "";
  if (/^oidc_[a-z]+$/.test(failed) && TEXT.zh[failed]) showError(t(failed));
}

/** Show the unified identity link when the server signs in through it (GET /auth/methods). */
async function offerUnifiedSignIn() {
  try {
    const r = await fetch("/auth/methods", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const methods = r.ok ? await r.json() : {};
    if (!methods.oidc) return;
    $("#oidc-start").href = `/auth/oidc/start?${new URLSearchParams({ next: nextPage() })}`;
    $("#oidc").hidden = false;
  } catch (err) {
    // no answer: the password form still works
  }
}

function showError(text) {
  $("#error").textContent = text;
  $("#error").hidden = !text;
}

async function signIn(event) {
  event.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) { showError(t("missing")); return; }
  showError("");
  $("#submit").disabled = true;
  $("#submit").textContent = t("signingIn");
  try {
    const r = await fetch(`/auth/sign-in?lang=${state.lang}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password }),
      credentials: "same-origin",
    });
    if (r.ok) { location.replace(await changeFirst() ? passwordPage() : nextPage()); return; }
    const body = await r.json().catch(() => ({}));
    $("#password").value = "";
    if (r.status === 400 && body.field === "auth") {  // auth = none: nobody signs in
      showError(t("off"));
      setTimeout(() => location.replace(nextPage()), 1500);
      return;
    }
    // 401 is the server's one sentence for every refusal; 429/503 say why, as the server does
    showError(r.status === 401 ? t("refused") : (body.message || `${r.status} ${r.statusText}`));
    $("#password").focus();
  } catch (err) {
    showError(t("network"));
  } finally {
    $("#submit").disabled = false;
    $("#submit").textContent = t("submit");
  }
}

function main() {
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("guotu.lang", state.lang);
    applyText();
  });
  $("#sign-in").addEventListener("submit", signIn);
  applyText();
  offerUnifiedSignIn().finally(() => { document.body.dataset.ready = "1"; });
}

main();
