// The class page's large views: "show on the projector" (one student's code and
// last run, or the period's code and QR code, over the whole page below the
// STOP bar; Esc closes it) and one hand-in in a side panel (the exact code, its
// SHA-256 and the result it earned).

import { api, fail } from "./api.js";
import { $, h } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { locale, t } from "./i18n.js";
import { cls, enc, joinAddress, periodOf } from "./classroom-store.js";
import { state } from "./store.js";

const shown = { kind: "", student: "", opener: null, key: "" }; // kind: "student" or "code"
const handin = { opener: null, doc: null, match: null };

// A time of today as the teacher's language writes it (with seconds unless short).
export function clock(seconds, short = false) {
  if (!seconds) return t("card.none");
  const parts = short ? { hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  return new Date(seconds * 1000).toLocaleTimeString(locale(), parts);
}

const PLACES = ["sim", "robot"];
// A run's status: the runner's (lessons/grading.py RunStatus), a grade's, or a robot job's.
const RUN_STATES = ["running", "finished", "error", "crashed", "timeout", "time-up", "stopped", "passed", "failed"];
const JOB_STATES = ["PENDING", "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED"];

function runState(status) {
  if (RUN_STATES.includes(status)) return t(`run.${status.replace("-", "")}`);
  if (JOB_STATES.includes(status)) return t(`status.${status}`);
  return status;
}

// A run's place and status as pills; the run may be null (none yet).
export function runSummary(run) {
  if (!run) return [h("span", { class: "muted" }, t("work.noRun"))];
  const place = String(run.place || run.where || "");
  const status = String(run.status || "");
  const when = run.when || run.ended || run.started || run.ts;
  return [
    place ? h("span", { class: `place p-${place}` }, PLACES.includes(place) ? t(`place.${place}`) : place) : null,
    status ? h("span", { class: `run-state r-${status}` }, runState(status)) : null,
    when ? h("span", { class: "muted" }, clock(when)) : null,
  ];
}

export function runError(run) {
  return run && run.error ? String(run.error) : "";
}

// ---- the projector --------------------------------------------------------

function placeBelowStopBar() {
  const bar = document.querySelector(".sticky");
  $("#projector").style.top = `${bar ? bar.offsetHeight : 0}px`;
}

// The "last run" line of the large view (what replaceChildren takes: no nulls).
function runLine(row) {
  const error = runError(row.last_run);
  return [h("strong", {}, t("work.lastRun")), " ", ...runSummary(row.last_run),
    error ? h("p", { class: "run-error" }, error) : null].filter(Boolean);
}

function studentBody(row) {
  const pre = h("pre", { class: "projector-code", id: "projector-code", tabindex: "0", "aria-label": t("work.codeOf", { name: row.name }) });
  pre.textContent = row.code || t("work.noCode");
  return [
    h("div", { class: "projector-run", id: "projector-run" }, runLine(row)),
    pre,
  ];
}

function codeBody(period) {
  return [h("div", { class: "projector-board" },
    h("div", { class: "board-text" },
      h("p", { class: "board-label" }, t("period.codeLabel")),
      h("p", { class: "class-code huge", id: "projector-class-code" }, period.code),
      h("p", { class: "board-label" }, t("period.address")),
      h("p", { class: "join-address" }, joinAddress(period))),
    cls.qr.period === period.id && cls.qr.url
      ? h("img", { class: "qr huge", src: cls.qr.url, alt: t("period.qrAlt", { code: period.code }) })
      : null)];
}

function drawProjector() {
  if (shown.kind === "student") {
    const row = cls.rows.find((r) => r.student_id === shown.student);
    if (!row) { closeProjector(); return; }
    $("#projector-title").textContent = `${row.name} · ${row.lesson_id ? lessonTitle(row.lesson_id) : t("card.none")}`;
    $("#projector-body").replaceChildren(...studentBody(row));
  } else {
    const period = periodOf(cls.roster);
    if (!period) { closeProjector(); return; }
    $("#projector-title").textContent = t("period.joinTitle", { roster: period.roster });
    $("#projector-body").replaceChildren(...codeBody(period));
  }
}

// Open the large view: ("student", id) or ("code").
export function openProjector(kind, student = "") {
  shown.kind = kind;
  shown.student = student;
  shown.opener = document.activeElement;
  shown.key = JSON.stringify([state.lang, periodOf(cls.roster), cls.qr]);
  placeBelowStopBar();
  drawProjector();
  $("#projector").hidden = false;
  $("#main").inert = true; // the page behind is out of reach; the STOP bar above is not
  $("#projector-close").focus();
}

// After a poll: the student shown gets their newest code and run (their code's
// scroll position is kept when it has not changed).
export function updateProjector() {
  if ($("#projector").hidden) return;
  if (shown.kind !== "student") {
    const period = periodOf(cls.roster);
    const key = JSON.stringify([state.lang, period, cls.qr]);
    if (key !== shown.key) { shown.key = key; drawProjector(); }
    return;
  }
  const row = cls.rows.find((r) => r.student_id === shown.student);
  if (!row) { closeProjector(); return; }
  const pre = $("#projector-code");
  const code = row.code || t("work.noCode");
  if (pre && pre.textContent !== code) pre.textContent = code;
  $("#projector-run").replaceChildren(...runLine(row));
  $("#projector-title").textContent = `${row.name} · ${row.lesson_id ? lessonTitle(row.lesson_id) : t("card.none")}`;
}

export function closeProjector() {
  if ($("#projector").hidden) return;
  $("#projector").hidden = true;
  $("#main").inert = false;
  shown.kind = "";
  const opener = shown.opener;
  shown.opener = null;
  if (opener && document.body.contains(opener)) opener.focus();
}

export function projectorOpen() {
  return !$("#projector").hidden;
}

// The language changed: draw the open views again.
export function relabelShow() {
  if (!$("#projector").hidden) drawProjector();
  if ($("#handin-dialog").open && handin.doc) drawHandin(handin.doc, handin.match);
}

// ---- one hand-in ----------------------------------------------------------

async function sha256(text) {
  if (!(globalThis.crypto && crypto.subtle)) return ""; // only in a secure context (HTTPS, localhost)
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function resultPart(result) {
  if (!result) return [h("p", { class: "muted" }, t("handin.waiting"))];
  const feedback = result.feedback || {};
  const said = feedback[state.lang] || feedback.en;
  return [
    h("p", { class: "handin-score" }, t("handin.score", { score: formatScore(result.score) }),
      result.status === "passed" ? h("span", { class: "good" }, ` ✓ ${t("card.passed")}`) : null),
    (result.rubric || []).length ? h("ul", { class: "rubric" }, result.rubric.map((item) => h("li", { class: item.passed ? "good" : "" },
      `${item.passed ? "✓" : "✗"} ${(item.title && (item.title[state.lang] || item.title.en)) || item.id} (${item.points})`))) : null,
    said ? h("p", { class: "handin-feedback" }, said) : null,
    result.error || result.reason ? h("p", { class: "run-error" }, String(result.error || result.reason)) : null,
  ];
}

function drawHandin(doc, match) {
  handin.doc = doc;
  handin.match = match;
  const row = cls.rows.find((r) => r.student_id === doc.student_id);
  $("#handin-title").textContent = t("handin.title", { name: row ? row.name : doc.student_id, lesson: lessonTitle(doc.lesson_id) });
  const code = h("pre", { class: "student-view handin-code", tabindex: "0", "aria-label": t("handin.code") });
  code.textContent = doc.code;
  $("#handin-body").replaceChildren(
    h("p", { class: "muted" }, t("handin.meta", { when: new Date(doc.created * 1000).toLocaleString(locale()), place: t(`place.${doc.place}`) })),
    ...resultPart(doc.result).filter(Boolean),
    h("h3", {}, t("handin.code")),
    h("p", { class: "handin-sha" }, "SHA-256 ", h("code", { id: "handin-sha" }, doc.code_sha256),
      match === true ? h("span", { class: "good" }, ` ✓ ${t("handin.shaOk")}`) : null,
      match === false ? h("span", { class: "error" }, ` ✗ ${t("handin.shaBad")}`) : null),
    code);
}

export async function openHandin(id) {
  const dialog = $("#handin-dialog");
  try {
    const doc = await api("GET", `/handins/${enc(id)}`);
    const sum = await sha256(doc.code);
    drawHandin(doc, sum ? sum === doc.code_sha256 : null);
  } catch (error) { fail(error); return; }
  if (!dialog.open) {
    handin.opener = document.activeElement;
    dialog.show(); // not modal: STOP ALL stays usable
  }
  $("#handin-close").focus();
}

export function wireShow() {
  $("#projector-close").addEventListener("click", closeProjector);
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !$("#projector").hidden) { e.preventDefault(); closeProjector(); }
  });
  // the STOP bar grows when it says more (robots stopping): the large view stays below it
  new ResizeObserver(() => { if (!$("#projector").hidden) placeBelowStopBar(); }).observe(document.querySelector(".sticky"));
  $("#handin-close").addEventListener("click", () => $("#handin-dialog").close());
  $("#handin-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#handin-dialog").close(); });
  $("#handin-dialog").addEventListener("close", () => {
    if (handin.opener && document.body.contains(handin.opener)) handin.opener.focus();
    handin.opener = null;
    handin.doc = null;
  });
}
