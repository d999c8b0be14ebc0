// The schools page: every school, its rooms with their live counts (robots online, lessons
// running) and its results so far, as the overview's event stream brings them.

import { $, h } from "./dom.js";
import { num, t, when } from "./i18n.js";
import { state } from "./store.js";

function room(r) {
  const online = r.robots_online > 0;
  return h("li", { dataset: { room: r.room } },
    h("span", {}, r.room),
    h("span", {},
      h("span", { class: `pill ${online ? "" : "off"}`, title: t("schools.onlineHint") },
        t("schools.online", { n: r.robots_online, of: r.robots_known })),
      " ",
      h("span", { class: `pill ${r.lessons_running ? "wait" : "off"}` }, t("schools.running", { n: r.lessons_running }))));
}

function card(s) {
  const p = s.progress;
  return h("article", { class: "card", dataset: { school: s.id } },
    h("h3", {}, s.name, " ", h("span", { class: "id" }, s.id)),
    s.rooms.length ? h("ul", { class: "rooms", "aria-label": t("schools.rooms") }, s.rooms.map(room))
      : h("p", { class: "muted" }, t("schools.noRooms")),
    h("dl", {},
      h("dt", {}, t("schools.results")), h("dd", { class: "results" }, p ? p.results : 0),
      h("dt", {}, t("schools.students")), h("dd", {}, p ? p.students : 0),
      h("dt", {}, t("schools.mean")), h("dd", {}, p ? num(p.mean_score) : "—"),
      h("dt", {}, t("schools.last")), h("dd", {}, p ? when(p.last) : "—")),
    h("div", { class: "actions" },
      h("a", { href: `#results?school=${encodeURIComponent(s.id)}` }, t("schools.seeResults"))));
}

export function renderSchools() {
  const o = state.overview;
  if (state.page !== "schools" || !o) return;
  $("#schools-summary").textContent = t("schools.summary", {
    schools: o.schools.length, online: o.robots_online, running: o.lessons_running, results: o.results,
  });
  $("#schools-empty").hidden = o.schools.length > 0;
  $("#school-list").replaceChildren(...o.schools.map(card));
}

// The school's name for its id (the id when the overview has not come).
export function schoolName(id) {
  const found = state.overview && state.overview.schools.find((s) => s.id === id);
  return found ? found.name : id;
}
