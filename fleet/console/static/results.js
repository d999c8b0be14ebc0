// The results: the filters (class, lesson, student, status), the table with
// each result's details, the charts beside it, and the CSV and xAPI exports.

import { api, fail } from "./api.js";
import { openHandin } from "./classroom-show.js";
import { drawChart, drawLeaderboard, drawProgress } from "./charts.js";
import { $, changed, h, toast } from "./dom.js";
import { formatScore, lessonTitle } from "./format.js";
import { locale, t } from "./i18n.js";
import { openJob } from "./job.js";
import { state } from "./store.js";

const expanded = new Set(); // result ids whose details are open

export function fillLessonFilter() {
  const select = $("#filter-lesson");
  const current = select.value;
  const ids = new Set((state.library || []).map((l) => l.id));
  for (const r of state.results) if (r.lesson_id) ids.add(r.lesson_id);
  select.replaceChildren(h("option", { value: "" }, t("results.any")),
    ...[...ids].map((id) => h("option", { value: id }, lessonTitle(id))));
  select.value = current;
}

function resultQuery() {
  const params = new URLSearchParams();
  const lesson = $("#filter-lesson").value;
  const student = $("#filter-student").value.trim();
  const status = $("#filter-status").value;
  const roster = $("#filter-class").value;
  if (roster) params.set("roster", roster);
  if (lesson) params.set("lesson", lesson);
  if (student) params.set("student", student);
  if (status) params.set("status", status);
  const text = params.toString();
  return text ? `?${text}` : "";
}

// The class filter, and the student names offered for the class chosen.
export async function loadClasses() {
  try {
    const [rosters, students] = await Promise.all([
      api("GET", "/rosters"),
      api("GET", `/students${$("#filter-class").value ? `?roster=${encodeURIComponent($("#filter-class").value)}` : ""}`),
    ]);
    const select = $("#filter-class");
    const current = select.value;
    select.replaceChildren(h("option", { value: "" }, t("results.any")),
      ...rosters.map((r) => h("option", { value: r.roster }, r.roster)));
    select.value = rosters.some((r) => r.roster === current) ? current : "";
    const names = [...new Set(students.map((s) => s.name))].sort();
    $("#student-names").replaceChildren(...names.map((name) => h("option", { value: name })));
  } catch (error) { fail(error); }
}

export async function loadResults() {
  try {
    state.resultsSeen = state.room ? state.room.results : -1;
    state.results = await api("GET", `/results${resultQuery()}`);
    state.resultsVersion += 1;
    fillLessonFilter();
    renderResults();
  } catch (error) { fail(error); }
}

function details(r) {
  const result = r.result || {};
  const rubric = result.rubric || [];
  const metrics = Object.entries(result.metrics || {});
  return h("div", { class: "details" },
    rubric.length ? h("div", {}, h("strong", {}, t("results.rubric")),
      h("ul", { class: "rubric" }, rubric.map((item) => h("li", { class: item.passed ? "good" : "" },
        `${item.passed ? "✓" : "✗"} ${item.title[state.lang] || item.title.en} (${item.points})`)))) : null,
    metrics.length ? h("div", {}, h("strong", {}, t("results.metrics")),
      h("ul", { class: "metrics" }, metrics.map(([k, v]) => h("li", {}, `${k}: ${typeof v === "number" ? Math.round(v * 1000) / 1000 : JSON.stringify(v)}`)))) : null,
    result.reason ? h("p", {}, result.reason) : null,
    r.handin ? h("button", { type: "button", class: "small handin-open", onclick: () => openHandin(r.handin) },
      t("results.code")) : null);
}

// result id -> the n-th attempt of that student (or robot) at that lesson
function attemptNumbers(results) {
  const attempts = new Map();
  const tries = new Map();
  for (const r of [...results].sort((a, b) => a.received - b.received)) {
    const who = `${r.student || r.device}\u0000${r.lesson_id}`;
    tries.set(who, (tries.get(who) || 0) + 1);
    attempts.set(r.result_id, tries.get(who));
  }
  return attempts;
}

function resultRows(r, attempt) {
  const feedback = (r.result && r.result.feedback) || {};
  const passed = r.result && r.result.status === "passed";
  const open = expanded.has(r.result_id);
  const row = h("tr", { dataset: { result: r.result_id } },
    h("td", { class: "nowrap" }, new Date(r.received * 1000).toLocaleTimeString(locale())),
    h("td", {}, r.student || t("card.unbound")),
    h("td", { class: "nowrap" }, r.device),
    h("td", {}, lessonTitle(r.lesson_id)),
    h("td", { class: "num" }, attempt),
    h("td", {}, h("span", { class: `state s-${r.status}` }, t(`status.${r.status}`))),
    h("td", { class: "num nowrap" }, h("strong", {}, formatScore(r.score)), passed ? h("span", { class: "good" }, " ✓") : null),
    h("td", { class: "feedback" }, feedback[state.lang] || feedback.en || (r.result && r.result.reason) || ""),
    h("td", { class: "nowrap" }, h("button", {
      type: "button", class: "small", "aria-expanded": String(open),
      "aria-controls": `details-${r.result_id}`,
      onclick: () => { if (open) expanded.delete(r.result_id); else expanded.add(r.result_id); renderResults(); },
    }, t("results.details")), " ", h("button", {
      type: "button", class: "small job-open",
      "aria-label": t("job.openResult", { who: r.student || r.device, lesson: lessonTitle(r.lesson_id) }),
      onclick: () => openJob(r),
    }, t("card.log"))));
  if (!open) return [row];
  return [row, h("tr", { class: "details-row", id: `details-${r.result_id}` }, h("td", { colspan: 9 }, details(r)))];
}

export function renderResults() {
  if (state.page !== "results") return;
  if (!changed("results", state.resultsVersion, [...expanded], Boolean(state.library))) return;
  const attempts = attemptNumbers(state.results);
  const rows = [...state.results].reverse();
  $("#results-table tbody").replaceChildren(...rows.flatMap((r) => resultRows(r, attempts.get(r.result_id))));
  $("#results-empty").hidden = rows.length > 0;
  drawChart(state.results);
  drawProgress(state.results);
  drawLeaderboard(state.results, $("#filter-lesson").value);
}

async function download(path, filename) {
  try {
    const response = await fetch(`/api/v1/${path}${resultQuery()}`);
    if (!response.ok) throw new Error(response.statusText);
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    toast(t("results.exported", { file: filename }), "good");
  } catch (error) { fail(error); }
}

export function wireResults() {
  $("#result-filters").addEventListener("submit", (e) => { e.preventDefault(); loadResults(); });
  for (const id of ["#filter-lesson", "#filter-status"]) $(id).addEventListener("change", loadResults);
  $("#filter-class").addEventListener("change", () => { loadClasses(); loadResults(); });
  let typing = 0;
  $("#filter-student").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(loadResults, 300); });
  $("#export-csv").addEventListener("click", () => download("results.csv", "results.csv"));
  $("#export-xapi").addEventListener("click", () => download("results.xapi", "results-xapi.json"));
}
