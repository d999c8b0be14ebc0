// The results page: across schools by lesson and grade band (the chart), per school and per
// class (tables), for the school and grade band chosen. Pseudonymous: no names anywhere.

import { api, fail } from "./api.js";
import { BANDS, drawBands } from "./charts.js";
import { $, h } from "./dom.js";
import { num, t, when } from "./i18n.js";
import { lessonTitle } from "./library.js";
import { schoolName } from "./schools.js";
import { state } from "./store.js";

const filter = { school: "", band: "" };
let seen = null;

function query(withSchool) {
  const q = new URLSearchParams();
  if (withSchool && filter.school) q.set("school", filter.school);
  if (filter.band) q.set("grade_band", filter.band);
  const text = q.toString();
  return text ? `?${text}` : "";
}

function fillFilters() {
  const schools = (state.overview && state.overview.schools) || [];
  $("#filter-school").replaceChildren(h("option", { value: "" }, t("results.allSchools")),
    ...schools.map((s) => h("option", { value: s.id }, s.name)));
  $("#filter-school").value = filter.school;
  $("#filter-band").replaceChildren(h("option", { value: "" }, t("results.allBands")),
    ...BANDS.map((b) => h("option", { value: b }, t(`band.${b}`))));
  $("#filter-band").value = filter.band;
}

function progressRow(p, cls) {
  return h("tr", { dataset: { school: p.school } },
    h("td", {}, schoolName(p.school)),
    cls ? h("td", {}, `${p.room} · ${p.class}`) : null,
    h("td", { class: "num" }, p.results),
    h("td", { class: "num" }, p.students),
    h("td", { class: "num" }, p.lessons),
    h("td", { class: "num" }, num(p.mean_score)),
    h("td", {}, when(p.last)));
}

function table(sel, rows, cls) {
  const head = h("tr", {}, h("th", { scope: "col" }, t("results.school")),
    cls ? h("th", { scope: "col" }, t("results.class")) : null,
    ...["results.n", "results.students", "results.lessons", "results.mean"].map((k) => h("th", { scope: "col", class: "num" }, t(k))),
    h("th", { scope: "col" }, t("results.last")));
  $(sel).replaceChildren(h("thead", {}, head),
    h("tbody", {}, rows.length ? rows.map((p) => progressRow(p, cls)) : h("tr", {}, h("td", { colspan: cls ? 7 : 6, class: "muted" }, t("results.none")))));
}

export async function loadResults() {
  if (state.page !== "results") return;
  seen = state.overview ? state.overview.results : null;
  try {
    const [lessons, schools, classes] = await Promise.all([
      api("GET", `/progress/lessons${query(true)}`),
      api("GET", `/progress/schools${query(false)}`),
      api("GET", `/progress/classes${query(true)}`),
    ]);
    fillFilters();
    drawBands(lessons, lessonTitle);
    table("#by-school", schools, false);
    table("#by-class", classes, true);
  } catch (error) { fail(error); }
}

// The overview changed: load again when new results came.
export function resultsSawOverview() {
  if (state.page === "results" && state.overview && state.overview.results !== seen) loadResults();
}

export function enterResults(params) {
  filter.school = params.get("school") || filter.school;
  loadResults();
}

export function wireResults() {
  $("#filter-school").addEventListener("change", (e) => { filter.school = e.target.value; loadResults(); });
  $("#filter-band").addEventListener("change", (e) => { filter.band = e.target.value; loadResults(); });
}
