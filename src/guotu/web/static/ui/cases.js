/* guotu approval cases (审批案件): the signed-in user's lists, 待办 (waiting for them), 已办
 * (they acted on), 督办 (overdue) and 全部, with their counts; each row's procedure, stage,
 * who must act and its clock (剩余/超期 working days). A click opens the case. The window's
 * clerks get the 窗口受理 button. Over GET /cases.json and GET /cases/{id}.json. */
"use strict";

addText({
  zh: {
    title: "审批", pageTitle: "审批案件 · 国土空间规划一张图", boxTodo: "待办", boxDone: "已办", boxOverdue: "督办", boxAll: "全部",
    intake: "窗口受理", caseId: "案件编号", project: "项目", applicant: "申请人", procedure: "流程", stage: "当前环节",
    waiting: "待办理人", deadline: "期限", listHint: "期限按工作日计（节假日与调休已扣除）；补正期间计时暂停。",
    emptyBox: { todo: "没有待办案件。", done: "没有已办案件。", overdue: "没有超期案件。", all: "还没有审批案件。" },
    system: "系统自动办理",
  },
  en: {
    title: "Approvals", pageTitle: "Approval cases · One map", boxTodo: "To do", boxDone: "Done", boxOverdue: "Overdue", boxAll: "All",
    intake: "Intake", caseId: "Case", project: "Project", applicant: "Applicant", procedure: "Procedure", stage: "Stage",
    waiting: "Waiting for", deadline: "Deadline", listHint: "Deadlines count working days (holidays excluded); the clock stops while materials are supplemented.",
    emptyBox: { todo: "Nothing to do.", done: "No case you acted on.", overdue: "No overdue case.", all: "No case yet." },
    system: "the system",
  },
});

const BOXES = ["todo", "done", "overdue", "all"];
/** How many rows of a list have their clock read (one request each), two at a time. */
const CLOCKS_READ = 50;
const list = { box: "todo", rows: {}, clocks: {}, reading: new Set() };

function chooseBox() {
  const asked = new URLSearchParams(location.search).get("box");
  list.box = BOXES.includes(asked) ? asked : "todo";
}

async function loadLists() {
  await loadProcedures();
  const docs = await Promise.all(BOXES.map((b) => api(`/cases.json?box=${b}&limit=1000`)));
  BOXES.forEach((b, i) => { list.rows[b] = docs[i].cases; });
}

function deadlineCell(s) {
  if (s.closed) return `<span class="badge closed">${esc(t("closed"))}</span>`;
  const parts = [];
  const known = list.clocks[s.case_id];
  const clock = known && known.events === s.events ? known.clock : null;
  if (s.paused) parts.push(`<span class="badge paused" data-testid="paused-badge">${esc(t("paused"))}</span>`);
  if (clock && !s.paused) {
    const c = clockText(clock);
    parts.push(`<span class="clock-${c.cls}" data-testid="clock">${esc(c.text)}</span>`);
    if (clock.provisional) parts.push(`<span class="badge provisional" title="${esc(t("provisionalHint"))}">${esc(t("provisional"))}</span>`);
  } else if (!s.paused && s.due_on && s.due_on < today()) {
    parts.push(`<span class="clock-late" data-testid="clock">${esc(t("overdue"))}</span>`);
  }
  if (s.due_on) parts.push(`<div class="hint">${esc(fill(t("dueOn"), { d: s.due_on }))}</div>`);
  return parts.join(" ");
}

function row(s) {
  const waiting = s.closed ? "" : (s.waiting.length ? s.waiting.map(waitingLabel).join(ui.lang === "zh" ? "、" : ", ") : t("system"));
  const stage = s.closed ? `${stageName(s.workflow, s.stage)}` : stageName(s.workflow, s.stage);
  return `<tr data-testid="case-row" data-case-id="${esc(s.case_id)}">
    <td><a href="/ui/cases/case?id=${encodeURIComponent(s.case_id)}">${esc(s.case_id)}</a></td>
    <td>${esc(s.project)}</td><td>${esc(s.applicant)}</td><td>${esc(procedureName(s.workflow))}</td>
    <td data-testid="stage">${esc(stage)}</td><td data-testid="waiting">${esc(waiting)}</td><td>${deadlineCell(s)}</td></tr>`;
}

function render() {
  for (const b of BOXES) {
    const n = list.rows[b];
    const el = $(`[data-count="${b}"]`);
    el.textContent = n ? String(n.length) : "";
  }
  $$("#boxes button").forEach((b) => b.classList.toggle("active", b.dataset.box === list.box));
  const rows = list.rows[list.box];
  $("#intake").hidden = !ui.me?.user?.roles?.some((r) => r.id === "clerk");
  if (!rows) { $("#rows").innerHTML = ""; return; }
  $("#rows").innerHTML = rows.length ? rows.map(row).join("")
    : `<tr><td colspan="7" class="empty" data-testid="empty">${esc(t("emptyBox")[list.box])}</td></tr>`;
}

/** Read the clocks (and the department names) of the open rows shown, two at a time. */
async function readClocks() {
  const wanted = (list.rows[list.box] || []).filter((s) => !s.closed && !s.paused).slice(0, CLOCKS_READ)
    .filter((s) => list.clocks[s.case_id]?.events !== s.events && !list.reading.has(s.case_id));
  const worker = async () => {
    for (let s = wanted.shift(); s; s = wanted.shift()) {
      list.reading.add(s.case_id);
      try {
        const view = await api(`/cases/${encodeURIComponent(s.case_id)}.json`);
        learnNames(view);
        list.clocks[s.case_id] = { events: view.events_count, clock: view.stages[view.stages.length - 1]?.clock };
      } catch (err) {
        list.clocks[s.case_id] = { events: s.events, clock: null };
      } finally {
        list.reading.delete(s.case_id);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  render();
}

function showBox(box) {
  list.box = box;
  const u = new URL(location.href);
  u.searchParams.set("box", box);
  history.replaceState(null, "", u.pathname + u.search);
  render();
  readClocks();
}

async function init() {
  chooseBox();
  $$("#boxes button").forEach((b) => b.addEventListener("click", () => showBox(b.dataset.box)));
  $("#rows").addEventListener("click", (e) => {
    const tr = e.target.closest("tr[data-case-id]");
    if (tr && !e.target.closest("a")) location.assign(`/ui/cases/case?id=${encodeURIComponent(tr.dataset.caseId)}`);
  });
  await loadLists();
  render();
  await readClocks();
}

startPage("list", init, render);
