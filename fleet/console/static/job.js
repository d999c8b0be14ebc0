// One job in a dialog: what the student sees (the same lines `roboclass lesson
// run` prints), and the program's output, streamed while the dialog is open.

import { api, fail, readEvents } from "./api.js";
import { $, h } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

const enc = encodeURIComponent;

const job = { control: null, id: "", opener: null, row: null, full: null };

function jobTitle() {
  const r = job.row;
  if (r) $("#job-title").textContent = t("job.title", { lesson: lessonTitle(r.lesson_id), name: r.student || r.device });
}

function studentView(result) {
  if (!result) return t("job.noResult");
  const lines = [];
  const seconds = typeof result.seconds === "number" ? `, ${result.seconds.toFixed(1)} s` : "";
  if (result.score !== undefined || result.run_status) {
    lines.push(`${result.status || "?"}  ${t("job.score", { score: formatScore(result.score) })}  (${result.run_status || "?"}${seconds})`);
  } else {
    lines.push(String(result.status || "?"));
  }
  for (const item of result.rubric || []) {
    const title = (item.title && (item.title[state.lang] || item.title.en)) || item.id;
    lines.push(`  ${item.passed ? "✓" : "✗"} ${title}  (${item.points})`);
  }
  const feedback = result.feedback || {};
  const said = feedback[state.lang] || feedback.en;
  if (said) lines.push(said);
  if (result.error) lines.push(result.error);
  else if (result.reason) lines.push(result.reason);
  return lines.join("\n");
}

function addLines(box, lines, first) {
  const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
  if (first) box.replaceChildren();
  for (const line of lines) box.append(h("div", { class: `log-line ${line.stream}` }, line.line));
  if (atEnd) box.scrollTop = box.scrollHeight;
}

// The job's result: the row's own, or (opened from a card) the one stored, if any yet.
async function fullResult(result) {
  if (result.result) return result.result;
  try {
    const rows = await api("GET", `/results?device=${enc(result.device)}`);
    const row = rows.find((r) => r.job === result.job);
    return row && row.result;
  } catch (error) { fail(error); }
  return undefined;
}

// The lines the console still holds stream in; else the last ones the result kept.
async function followOutput(result, full, signal) {
  const box = $("#job-lines");
  box.replaceChildren(h("p", { class: "muted" }, t("log.empty")));
  $("#job-log-note").textContent = "";
  let kept = false;
  try {
    kept = (await api("GET", `/jobs/${enc(result.job)}/log`)).kept;
  } catch (error) { if (error.status !== 404) fail(error); }
  if (!kept && full && full.output) {
    $("#job-log-note").textContent = t("job.fromResult");
    addLines(box, full.output.split("\n").map((line) => ({ stream: "stdout", line })), true);
  }
  let first = !(full && full.output && !kept);
  readEvents(`/api/v1/jobs/${enc(result.job)}/log/events`, signal, (event, lines) => {
    if (event !== "lines") return;
    if (!kept && !first) { $("#job-log-note").textContent = ""; first = true; }
    addLines(box, lines, first);
    first = false;
    kept = true;
  }).catch(() => {});
}

// result: a row of /results (job, device, lesson_id, result, ...) or just {job, device, lesson_id}.
export async function openJob(result) {
  const dialog = $("#job-dialog");
  if (job.control) job.control.abort();
  const control = new AbortController();
  job.control = control;
  job.id = result.job;
  job.row = result;
  jobTitle();
  $("#job-meta").textContent = t("job.meta", { job: result.job, robot: result.device });
  job.full = await fullResult(result);
  $("#job-student").textContent = studentView(job.full);
  await followOutput(result, job.full, control.signal);
  if (!dialog.open) {
    job.opener = document.activeElement;
    dialog.show(); // not modal: STOP ALL stays usable
  }
  $("#job-close").focus();
}

// The lesson's title once the library has come, and in the language chosen.
export function renderJob() {
  if (!$("#job-dialog").open) return;
  jobTitle();
  const text = studentView(job.full);
  if ($("#job-student").textContent !== text) $("#job-student").textContent = text;
}

export function leaveJob() {
  if ($("#job-dialog").open) $("#job-dialog").close();
}

export function wireJob() {
  $("#job-close").addEventListener("click", () => $("#job-dialog").close());
  $("#job-dialog").addEventListener("close", () => {
    if (job.control) job.control.abort();
    job.control = null;
    if (job.opener && document.body.contains(job.opener)) job.opener.focus();
    job.opener = null;
  });
  $("#job-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#job-dialog").close(); });
}
