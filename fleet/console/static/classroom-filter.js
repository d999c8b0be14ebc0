// Finding a student in a class of 40: which cards the class view shows (everyone,
// who needs help, who has not started, who has or has not handed in), in which
// order (name, needs help first, best score, latest activity), and a name to
// find. The choices stay with this browser; the cards are never rebuilt for them:
// classroom-work.js hides and moves the cards it has.

import { $ } from "./dom.js";
import { locale, t } from "./i18n.js";
import { runError } from "./classroom-show.js";

export const SHOWS = ["all", "help", "idle", "handed", "unhanded"];
export const SORTS = ["name", "help", "score", "recent"];
const SHOW_KEY = "rc-class-show";
const SORT_KEY = "rc-class-sort";
const FIND_KEY = "rc-class-find"; // for this tab only (sessionStorage): a name typed yesterday hides nobody today
// A run that went wrong: the runner's statuses and a robot job's (as classroom-show.js names them).
const BAD_RUNS = ["error", "crashed", "timeout", "time-up", "failed", "FAILED", "TIMED_OUT", "REJECTED"];

function pick(value, allowed) {
  return allowed.includes(value) ? value : allowed[0];
}

// The teacher's choices, as this browser kept them.
export const view = {
  show: pick(localStorage.getItem(SHOW_KEY), SHOWS),
  sort: pick(localStorage.getItem(SORT_KEY), SORTS),
  find: sessionStorage.getItem(FIND_KEY) || "",
};

// The hand-ins of the row's lesson (all, when the student has no lesson yet): best score, count.
export function handinSummary(row) {
  const mine = row.lesson_id ? row.handins.filter((x) => x.lesson_id === row.lesson_id) : row.handins;
  const scores = mine.map((x) => x.score).filter((s) => typeof s === "number");
  return { mine, best: scores.length ? Math.max(...scores) : null };
}

export function needsHelp(row) {
  return Boolean(runError(row.last_run)) || BAD_RUNS.includes(String(row.last_run?.status || ""));
}

function notStarted(row) {
  return row.code === null && !row.saved && !row.last_run;
}

// The newest of their save, their last run and their hand-ins (seconds; 0: nothing yet).
function latest(row) {
  return Math.max(row.saved || 0, row.last_run?.when || 0, ...row.handins.map((x) => x.created || 0));
}

const TESTS = {
  all: () => true,
  help: needsHelp,
  idle: notStarted,
  handed: (row) => handinSummary(row).mine.length > 0,
  unhanded: (row) => handinSummary(row).mine.length === 0,
};

// Higher first; a student without one (null) after those with one.
function highFirst(a, b) {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return b - a;
}

const KEYS = {
  name: () => 0,
  help: (a, b) => Number(needsHelp(b)) - Number(needsHelp(a)),
  score: (a, b) => highFirst(handinSummary(a).best, handinSummary(b).best),
  recent: (a, b) => highFirst(latest(a) || null, latest(b) || null),
};

// The rows in the chosen order (by name within a tie), and the ids of those shown.
export function arrange(rows) {
  const lang = locale();
  const byName = (a, b) => a.name.localeCompare(b.name, lang) || a.student_id.localeCompare(b.student_id);
  const first = KEYS[view.sort];
  const order = [...rows].sort((a, b) => first(a, b) || byName(a, b));
  const find = view.find.trim().toLocaleLowerCase();
  const test = TESTS[view.show];
  const shown = new Set(order.filter((r) => test(r) && (!find || r.name.toLocaleLowerCase().includes(find)))
    .map((r) => r.student_id));
  return { order, shown };
}

export function filtered() {
  return view.show !== "all" || view.find.trim() !== "";
}

// "12 of 38 shown" while a choice hides someone; the empty state instead when it hides everyone.
export function showCount(shown, total) {
  const count = $("#work-count");
  const text = filtered() && shown < total && shown > 0 ? t("work.count", { shown, total }) : "";
  if (count.textContent !== text) count.textContent = text;
  count.hidden = !text;
  $("#work-none").hidden = !(total > 0 && shown === 0);
}

// The controls above the grid; changed() redraws the view.
export function wireFilter(changed) {
  const show = $("#work-show");
  const sort = $("#work-sort");
  const find = $("#work-find");
  show.value = view.show;
  sort.value = view.sort;
  find.value = view.find;
  show.addEventListener("change", () => {
    view.show = pick(show.value, SHOWS);
    localStorage.setItem(SHOW_KEY, view.show);
    changed();
  });
  sort.addEventListener("change", () => {
    view.sort = pick(sort.value, SORTS);
    localStorage.setItem(SORT_KEY, view.sort);
    changed();
  });
  find.addEventListener("input", () => {
    view.find = find.value;
    sessionStorage.setItem(FIND_KEY, view.find);
    changed();
  });
  $("#work-clear").addEventListener("click", () => {
    view.show = "all";
    view.find = "";
    show.value = "all";
    find.value = "";
    localStorage.setItem(SHOW_KEY, "all");
    sessionStorage.removeItem(FIND_KEY);
    changed();
    show.focus(); // the button is hidden now: focus stays in the controls
  });
}
