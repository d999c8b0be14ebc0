// The roster: which student uses which robot, a pasted class list, and the
// classes with their data (deleting a class's data at the end of a course).

import { api, fail } from "./api.js";
import { $, changed, h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

const enc = encodeURIComponent;

// The class typed above the table; else the robot's current class; else the console's default.
function classFor(device) {
  const typed = $("#roster-class").value.trim();
  if (typed) return typed;
  const d = state.room.devices.find((x) => x.device === device);
  return (d && d.roster) || null;
}

async function bind(device, student) {
  const body = { student: student || null };
  const roster = student ? classFor(device) : null;
  if (roster) body.roster = roster;
  await api("PUT", `/devices/${enc(device)}/student`, body);
}

function rosterRow(d) {
  const input = h("input", {
    id: `student-${d.device}`, value: d.student || "", autocomplete: "off",
    "aria-label": t("roster.studentFor", { robot: d.device }),
  });
  const save = async () => {
    try {
      await bind(d.device, input.value.trim());
      toast(input.value.trim()
        ? t("roster.saved", { robot: d.device, student: input.value.trim() })
        : t("roster.cleared", { robot: d.device }), "good");
      loadRosters();
    } catch (error) { fail(error); }
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") save(); });
  return h("tr", { dataset: { device: d.device } },
    h("th", { scope: "row" }, d.device),
    h("td", {}, h("span", { class: `pill ${d.online ? "on" : "off"}` }, d.online ? t("card.online") : t("card.offline"))),
    h("td", { class: d.roster ? "" : "muted" }, d.roster || t("card.none")),
    h("td", {}, input),
    h("td", {}, h("button", { type: "button", onclick: save }, t("roster.save"))));
}

export function renderRoster() {
  const body = $("#roster-table tbody");
  const editing = document.activeElement && document.activeElement.closest("#roster-table");
  if (editing && body.children.length === state.room.devices.length) return; // don't steal typing
  if (!changed("roster", state.room.devices.map((d) => [d.device, d.online, d.student, d.roster]))) return;
  body.replaceChildren(...state.room.devices.map(rosterRow));
}

async function importRoster(event) {
  event.preventDefault();
  const lines = $("#roster-csv").value.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  const pairs = [];
  for (const [i, line] of lines.entries()) {
    const parts = line.split(/[,，\t]/).map((p) => p.trim());
    if (parts.length < 2 || !parts[0] || !parts[1]) { toast(t("roster.badLine", { n: i + 1 }), "bad"); return; }
    pairs.push(parts);
  }
  try {
    for (const [robot, student] of pairs) await bind(robot, student);
    toast(t("roster.imported", { n: pairs.length }), "good");
    $("#roster-csv").value = "";
  } catch (error) { fail(error); }
  loadRosters();
}

// ---- classes: what is kept, and deleting a class's data --------------------

export async function loadRosters() {
  try {
    state.rosters = await api("GET", "/rosters");
    renderClasses();
  } catch (error) { fail(error); }
}

// The confirmation: type the class name, then press the red button.
function purgeConfirm(r, slug) {
  const typed = h("input", {
    id: `purge-name-${slug}`, class: "purge-name short", autocomplete: "off", spellcheck: "false",
  });
  const go = h("button", { type: "button", class: "danger purge-go", disabled: true }, t("classes.purgeGo"));
  typed.addEventListener("input", () => { go.disabled = typed.value.trim() !== r.roster; });
  typed.addEventListener("keydown", (e) => { if (e.key === "Enter" && !go.disabled) go.click(); });
  go.addEventListener("click", () => purge(r.roster, typed.value.trim()));
  setTimeout(() => typed.focus(), 0);
  return h("div", { class: "purge-confirm", id: `purge-${slug}`, role: "group", "aria-labelledby": `purge-warn-${slug}` },
    h("p", { id: `purge-warn-${slug}` }, h("strong", {}, t("classes.warn", { roster: r.roster, students: r.students, results: r.results || 0 }))),
    h("label", { for: `purge-name-${slug}` }, t("classes.typeName", { roster: r.roster })),
    typed,
    h("div", { class: "actions" }, go,
      h("button", { type: "button", class: "purge-keep", onclick: () => { state.purging = ""; renderClasses(); } }, t("classes.keep"))));
}

export function renderClasses() {
  const list = $("#class-list");
  if (!state.rosters.length) {
    list.replaceChildren(h("li", { class: "muted" }, t("classes.empty")));
    return;
  }
  list.replaceChildren(...state.rosters.map((r) => {
    const slug = enc(r.roster).replace(/%/g, "_");
    const item = h("li", { dataset: { roster: r.roster } },
      h("span", { class: "class-name" }, r.roster),
      h("span", { class: "muted" }, t("classes.counts", { students: r.students, results: r.results || 0 })),
      h("button", {
        type: "button", class: "purge-open", "aria-expanded": String(state.purging === r.roster),
        "aria-controls": `purge-${slug}`,
        onclick: () => { state.purging = state.purging === r.roster ? "" : r.roster; renderClasses(); },
      }, t("classes.purge")));
    if (state.purging === r.roster) item.append(purgeConfirm(r, slug));
    return item;
  }));
}

async function purge(roster, confirm) {
  try {
    const done = await api("POST", `/rosters/${enc(roster)}/purge`, { confirm });
    state.purging = "";
    toast(t("classes.purged", { roster, students: done.students, results: done.results }), "good");
  } catch (error) { fail(error); }
  loadRosters();
}

export function wireRoster() {
  $("#roster-import").addEventListener("submit", importRoster);
  $("#roster-class").value = localStorage.getItem("rc-class") || "";
  $("#roster-class").addEventListener("change", (e) => localStorage.setItem("rc-class", e.target.value.trim()));
}
