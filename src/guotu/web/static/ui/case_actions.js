/* guotu case page: the action panel. It offers only what the case's ``may`` allows the user
 * now: the stage's outcomes (予以受理, 办结, 准予许可 …), the department's co-review opinion
 * (同意 / 有条件同意 / 不同意 with its conditions, one a line), 补正 (what is missing) and
 * 补正完成; and the upload of a material. Each action sends ``expected`` (the events the
 * page saw): a case someone else acted on meanwhile answers 409 and the page says so. */
"use strict";

addText({
  zh: {
    act: "办理", actStage: "当前环节：{s}", outcomeNote: "办理意见（可选）", outcomeConditions: "附加条件（每行一条，附条件许可时填写）",
    opinionTitle: "本部门会审意见（{d}）", opinionConditions: "条件或理由（每行一条；有条件同意、不同意时必填）", opinionNote: "说明（可选）",
    submitOpinion: "提交意见", pauseTitle: "要求补正", pauseNote: "需补正的全部内容（一次告知）", pause: "要求补正（暂停计时）",
    resumeTitle: "恢复计时", resume: "材料已补齐（恢复计时）", resumeHint: "申请人补齐材料后点击，计时从暂停处继续。",
    acted: "已办理：{a}。", uploaded: "已上传材料：{m}。", reload: "刷新案件", chooseOpinion: "请选择意见。",
    chooseFile: "请选择要上传的文件。",
    amendTitle: "修改申请内容（按申请人补正）", amendHint: "修改后的规划指标；受理时的记录保留不变，修改另行记录。",
    amendNote: "修改了什么（必填）", amend: "保存修改", amended: "修改申请内容",
  },
  en: {
    act: "Act", actStage: "Stage: {s}", outcomeNote: "Remarks (optional)", outcomeConditions: "Conditions (one a line, for a grant with conditions)",
    opinionTitle: "Your department's opinion ({d})", opinionConditions: "Conditions or reasons (one a line; needed unless you agree)", opinionNote: "Remarks (optional)",
    submitOpinion: "Give the opinion", pauseTitle: "Ask for materials", pauseNote: "Everything to be supplemented (said at once)", pause: "Ask for materials (stop the clock)",
    resumeTitle: "Restart the clock", resume: "Materials handed in (restart the clock)", resumeHint: "Press once the applicant has handed everything in; the clock goes on where it stopped.",
    acted: "Recorded: {a}.", uploaded: "Material uploaded: {m}.", reload: "Reload the case", chooseOpinion: "Choose an opinion.",
    chooseFile: "Choose a file to upload.",
    amendTitle: "Correct the application (as supplemented)", amendHint: "The corrected planned indicators; the record at intake is kept, the correction is recorded apart.",
    amendNote: "What was corrected (required)", amend: "Save the correction", amended: "Correct the application",
  },
});

const lines = (text) => text.split(/\r?\n/).map((s) => s.trim()).filter(Boolean);

/** The action panel for ``view`` (hidden in a view of the past, or when nothing may be done). */
function renderActions(view, history) {
  const box = $("#actions");
  const may = history || view.closed ? [] : view.may;
  box.hidden = !may.length;
  if (!may.length) { box.innerHTML = ""; return; }
  const stage = view.stage;
  const parts = [`<h2>${esc(t("act"))}</h2><p class="hint">${esc(fill(t("actStage"), { s: stageName(view.procedure.id, stage.id, stage.name_zh) }))}</p>`];
  if (may.includes("outcome")) {
    const conditional = stage.outcomes.includes("conditional");
    parts.push(`<form data-kind="outcome" data-testid="outcome-form">
      <label class="field"><span>${esc(t("outcomeNote"))}</span><textarea name="note" rows="2" maxlength="2000" data-testid="outcome-note"></textarea></label>
      ${conditional ? `<label class="field"><span>${esc(t("outcomeConditions"))}</span><textarea name="conditions" rows="2" data-testid="outcome-conditions"></textarea></label>` : ""}
      <div class="buttons">${stage.outcomes.map((o) => `<button type="submit" value="${esc(o)}" data-testid="outcome-${esc(o)}">${esc(outcomeLabel(stage, o))}</button>`).join("")}</div></form>`);
  }
  if (may.includes("opinion")) {
    const dept = ui.me?.user?.department?.name || "";
    parts.push(`<form data-kind="opinion" data-testid="opinion-form"><h3>${esc(fill(t("opinionTitle"), { d: dept }))}</h3>
      <div class="radios">${["agree", "conditional", "disagree"].map((v) => `<label><input type="radio" name="value" value="${v}" data-testid="opinion-${v}"> ${esc(t("opinions")[v])}</label>`).join("")}</div>
      <label class="field"><span>${esc(t("opinionConditions"))}</span><textarea name="conditions" rows="3" data-testid="opinion-conditions"></textarea></label>
      <label class="field"><span>${esc(t("opinionNote"))}</span><textarea name="note" rows="2" maxlength="2000" data-testid="opinion-note"></textarea></label>
      <div class="buttons"><button type="submit" data-testid="opinion-submit">${esc(t("submitOpinion"))}</button></div></form>`);
  }
  if (may.includes("pause")) {
    parts.push(`<form data-kind="pause" data-testid="pause-form"><h3>${esc(t("pauseTitle"))}</h3>
      <label class="field"><span>${esc(t("pauseNote"))}</span><textarea name="note" rows="2" maxlength="2000" data-testid="pause-note"></textarea></label>
      <div class="buttons"><button type="submit" data-testid="pause-submit">${esc(t("pause"))}</button></div></form>`);
  }
  if (may.includes("resume")) {
    parts.push(`<form data-kind="resume" data-testid="resume-form"><h3>${esc(t("resumeTitle"))}</h3><p class="hint">${esc(t("resumeHint"))}</p>
      <div class="buttons"><button type="submit" data-testid="resume-submit">${esc(t("resume"))}</button></div></form>`);
  }
  if (may.includes("amend")) {
    const keys = ["YDYHFLDM", "RJL", "JZMD", "LDL", "JZXG"];
    const shown = view.indicators || {};
    parts.push(`<form data-kind="amend" data-testid="amend-form"><h3>${esc(t("amendTitle"))}</h3><p class="hint">${esc(t("amendHint"))}</p>
      <div class="indicators">${keys.map((k) => `<label class="field"><span>${esc(k)}</span><input name="ind-${k}" value="${esc(shown[k] ?? "")}" maxlength="20" data-testid="amend-${k}"></label>`).join("")}</div>
      <label class="field"><span>${esc(t("amendNote"))}</span><textarea name="note" rows="2" maxlength="2000" data-testid="amend-note"></textarea></label>
      <div class="buttons"><button type="submit" data-testid="amend-submit">${esc(t("amend"))}</button></div></form>`);
  }
  box.innerHTML = parts.join("");
}

/** What the form ``form`` (of ``kind``) records, submitted by ``button``; null when incomplete. */
function actionOf(form, button, view) {
  const kind = form.dataset.kind;
  const field = (name) => form.elements.namedItem(name);
  const body = { kind, value: "", note: field("note")?.value.trim() || "", conditions: [], expected: view.events_count };
  let label = "";
  if (kind === "outcome") {
    body.value = button.value;
    if (field("conditions")) body.conditions = lines(field("conditions").value);
    label = outcomeLabel(view.stage, body.value);
  } else if (kind === "opinion") {
    body.value = form.querySelector("input[name=value]:checked")?.value || "";
    if (!body.value) { message(t("chooseOpinion"), false); return null; }
    body.conditions = lines(field("conditions").value);
    label = t("opinions")[body.value];
  } else if (kind === "amend") {
    body.indicators = {};
    const before = view.indicators || {};
    for (const input of form.querySelectorAll("input[name^=ind-]")) {
      const key = input.name.slice(4), value = input.value.trim();
      if (value === String(before[key] ?? "")) continue;
      body.indicators[key] = value === "" ? null : (/^-?\d+(\.\d+)?$/.test(value) && key !== "YDYHFLDM" ? Number(value) : value);
    }
    label = t("amended");
  } else {
    label = kind === "pause" ? t("pause") : t("resume");
  }
  return { body, label };
}

/** Send an action; ``show`` draws the case it answers (or, on 409, the page offers a reload). */
async function sendAction(e, view, show) {
  e.preventDefault();
  const form = e.target;
  const action = actionOf(form, e.submitter || form.querySelector("[type=submit]"), view);
  if (!action) return;
  form.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  try {
    const next = await api(`/cases/${encodeURIComponent(view.id)}/events`, { method: "POST", body: action.body });
    show(next);
    message(fill(t("acted"), { a: action.label }));
  } catch (err) {
    form.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    message(err.message, false);
    if (err.status === 409) {
      $("#message").insertAdjacentHTML("beforeend", ` <button type="button" id="reload" data-testid="reload">${esc(t("reload"))}</button>`);
      $("#reload").addEventListener("click", () => location.reload());
    }
  }
}

/** The upload form: the materials the procedure lists (and the as-built survey), when the
 * user may hand one in (the window, or the stage's actor: the same rule as 补正). */
function renderUpload(view, history) {
  const form = $("#upload");
  const allowed = !history && !view.closed && (view.may.includes("pause") || view.may.includes("resume"));
  form.hidden = !allowed;
  if (!allowed) return;
  const names = [];
  for (const s of procedureOf(view.procedure.id)?.stages || []) for (const m of s.materials) if (!names.includes(m.name_zh)) names.push(m.name_zh);
  if (view.procedure.id.includes("completion") && !names.includes("竣工测量成果数据")) names.push("竣工测量成果数据");
  const select = form.elements.namedItem("material");
  const chosen = select.value;
  select.innerHTML = names.map((n) => `<option value="${esc(n)}">${esc(n)}</option>`).join("");
  if (names.includes(chosen)) select.value = chosen;
}

async function sendUpload(e, view, reload) {
  e.preventDefault();
  const form = e.target;
  const input = form.elements.namedItem("file");
  if (!input.files.length) { message(t("chooseFile"), false); return; }
  const data = new FormData();
  const material = form.elements.namedItem("material").value;
  data.append("material", material);
  data.append("file", input.files[0]);
  try {
    await api(`/cases/${encodeURIComponent(view.id)}/files`, { method: "POST", form: data });
    input.value = "";
    await reload();
    message(fill(t("uploaded"), { m: material }));
  } catch (err) {
    message(err.message, false);
  }
}
