// The class at work: a card per student with their robot, lesson, last run,
// hand-ins and current code (read-only), fetched every few seconds while the
// class page is open. A card is redrawn only when what it shows has changed,
// and its code box only when the code has: a teacher's scrolling, selection
// and focus survive the updates. The filter and the order (classroom-filter.js)
// hide and move the cards, never rebuild them.

import { api } from "./api.js";
import { $, h } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { t } from "./i18n.js";
import { clock, openHandin, openProjector, runError, runSummary, updateProjector } from "./classroom-show.js";
import { arrange, handinSummary, showCount, wireFilter } from "./classroom-filter.js";
import { cls, enc } from "./classroom-store.js";
import { state } from "./store.js";

// Milliseconds between two looks at the class (longer while the tab is hidden).
const EVERY_MS = 2500;
const HIDDEN_MS = 15000;

const poll = { timer: 0, turn: 0, roster: "", onRows: () => {} };
const cards = new Map(); // student id -> {card, meta, code, key}

function handinButtons(row) {
  return row.handins.slice(0, 3).map((x) => h("button", {
    type: "button", class: "small handin-open", dataset: { focusKey: `handin-${x.id}`, handin: x.id },
    "aria-label": t("work.handinLabel", { name: row.name, lesson: lessonTitle(x.lesson_id), score: formatScore(x.score), when: clock(x.created) }),
    onclick: () => openHandin(x.id),
  }, `${formatScore(x.score)} · ${clock(x.created, true)}`));
}

function metaOf(row) {
  const { mine, best } = handinSummary(row);
  const error = runError(row.last_run);
  return h("dl", { class: "work-meta" },
    h("dt", {}, t("results.lesson")),
    h("dd", { class: "work-lesson" }, row.lesson_id ? lessonTitle(row.lesson_id) : t("card.none")),
    h("dt", {}, t("work.saved")),
    h("dd", { class: "work-saved" }, row.saved ? clock(row.saved) : t("work.notSaved")),
    h("dt", {}, t("work.lastRun")),
    h("dd", { class: "work-run" }, ...runSummary(row.last_run), error ? h("p", { class: "run-error" }, error) : null),
    h("dt", {}, t("work.handins")),
    h("dd", { class: "work-handins" },
      row.handins.length
        ? [h("span", { class: "handin-best" }, t("work.best", { score: formatScore(best), n: mine.length })), " ", ...handinButtons(row)]
        : h("span", { class: "muted" }, t("work.noHandin"))));
}

function headOf(row) {
  return h("div", { class: "work-head" },
    h("h3", { class: "work-name", id: `work-name-${row.student_id}` }, row.name),
    row.devices.length
      ? row.devices.map((d) => h("span", { class: "pill robot" }, d))
      : h("span", { class: "pill off" }, t("work.noRobot")),
    row.pin ? null : h("span", { class: "pill nopin" }, t("work.noPin")));
}

function newCard(row) {
  const code = h("pre", {
    class: "work-code", tabindex: "0", "aria-label": t("work.codeOf", { name: row.name }),
  });
  const card = h("article", { class: "work-card", dataset: { student: row.student_id }, "aria-labelledby": `work-name-${row.student_id}` },
    h("div", { class: "work-top" }), code,
    h("div", { class: "work-actions" }, h("button", {
      type: "button", class: "small project", dataset: { focusKey: "project" },
      "aria-label": t("work.projectOne", { name: row.name }),
      onclick: () => openProjector("student", row.student_id),
    }, t("work.project"))));
  return { card, code, key: "", codeText: null, lang: "" };
}

// Redraw one card's words if they changed; its code box only if the code did.
function fillCard(entry, row) {
  const { code: text, ...rest } = row;
  const key = JSON.stringify([state.lang, Boolean(state.library), rest]);
  if (entry.key !== key) {
    const focused = entry.card.contains(document.activeElement) ? document.activeElement.dataset.focusKey : "";
    entry.card.querySelector(".work-top").replaceChildren(headOf(row), metaOf(row));
    if (entry.lang !== state.lang) {
      entry.code.setAttribute("aria-label", t("work.codeOf", { name: row.name }));
      const project = entry.card.querySelector(".project");
      project.textContent = t("work.project");
      project.setAttribute("aria-label", t("work.projectOne", { name: row.name }));
      entry.lang = state.lang;
    }
    entry.card.classList.toggle("has-error", Boolean(runError(row.last_run)));
    entry.key = key;
    if (focused) {
      const again = entry.card.querySelector(`[data-focus-key="${focused}"]`);
      if (again) again.focus();
    }
  }
  const shown = text === null ? t("work.noCode") : text;
  if (entry.codeText !== shown) {
    entry.code.textContent = shown;
    entry.code.classList.toggle("empty-code", text === null);
    entry.codeText = shown;
  }
}

// Put the cards in this order, moving only those out of place (the focus stays where it was).
function placeCards(grid, wanted) {
  if (wanted.every((card, i) => grid.children[i] === card)) return;
  const focused = grid.contains(document.activeElement) ? document.activeElement : null;
  wanted.forEach((card, i) => {
    if (grid.children[i] !== card) grid.insertBefore(card, grid.children[i] || null);
  });
  if (focused && focused !== document.activeElement) focused.focus({ preventScroll: true });
}

export function renderWork() {
  const grid = $("#work-grid");
  const showCode = localStorage.getItem("rc-class-code") !== "hide";
  grid.classList.toggle("no-code", !showCode);
  $("#work-code-toggle").setAttribute("aria-pressed", String(showCode));
  const ids = cls.rows.map((r) => r.student_id);
  for (const [id, entry] of cards) {
    if (!ids.includes(id)) { entry.card.remove(); cards.delete(id); }
  }
  for (const row of cls.rows) {
    if (!cards.has(row.student_id)) cards.set(row.student_id, newCard(row));
    fillCard(cards.get(row.student_id), row);
  }
  const { order, shown } = arrange(cls.rows);
  for (const row of order) cards.get(row.student_id).card.hidden = !shown.has(row.student_id);
  placeCards(grid, order.map((row) => cards.get(row.student_id).card));
  showCount(shown.size, cls.rows.length);
  $("#work-empty").hidden = cls.rows.length > 0 || !cls.roster;
  updateProjector();
}

async function look() {
  if (state.page !== "class" || !state.user) return; // the page was left, or the login ended
  const turn = poll.turn;
  const roster = poll.roster;
  try {
    const rows = await api("GET", `/rosters/${enc(roster)}/work`);
    if (turn !== poll.turn) return; // another class was chosen meanwhile
    cls.rows = rows;
    $("#work-status").textContent = t("work.updated", { time: clock(Date.now() / 1000) });
    $("#work-status").classList.remove("error");
    renderWork();
    poll.onRows();
  } catch (error) {
    if (turn !== poll.turn) return;
    if (error.status === 401) return; // the login ended: the login page is shown
    $("#work-status").textContent = t("work.unreached", { msg: error.message });
    $("#work-status").classList.add("error");
  }
  poll.timer = setTimeout(look, document.hidden ? HIDDEN_MS : EVERY_MS);
}

// Look at a class now, then every few seconds until stopWork(). onRows: after each look.
export function startWork(roster, onRows) {
  stopWork();
  if (roster !== poll.roster) {
    for (const entry of cards.values()) entry.card.remove();
    cards.clear();
    cls.rows = [];
  }
  poll.roster = roster;
  poll.onRows = onRows || (() => {});
  if (roster) look();
}

export function stopWork() {
  clearTimeout(poll.timer);
  poll.turn += 1;
}

// Look again now (after PINs were set, say), keeping the rhythm.
export function lookNow() {
  if (!poll.roster) return;
  stopWork();
  look();
}

// The controls above the grid: which cards, in which order, and "Show their code"
// (a class of 30 fits on one screen without the code boxes).
export function wireWork() {
  wireFilter(renderWork);
  $("#work-code-toggle").addEventListener("click", () => {
    const shown = localStorage.getItem("rc-class-code") !== "hide";
    localStorage.setItem("rc-class-code", shown ? "hide" : "show");
    renderWork();
  });
}
