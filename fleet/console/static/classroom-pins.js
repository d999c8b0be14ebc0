// Students' PINs: new ones for the whole class or one student (4-6 digits, or
// 3 of 9 pictures for grades 1-3). The console keeps only their hashes, so the
// answer is the one time they are seen: the class sheet, one card per student
// (name, the address, today's class code, the PIN), printed with the page's
// print style sheet and never kept by the page once hidden.

import { api, fail } from "./api.js";
import { $, changed, h, toast } from "./dom.js";
import { t } from "./i18n.js";
import { PICTURES, pictureIcon } from "./pictures.js";
import { lookNow } from "./classroom-work.js";
import { cls, enc, joinAddress, periodOf } from "./classroom-store.js";
import { state } from "./store.js";

const PIN = { digits: /^[0-9]{4,6}$/, pictures: /^[1-9]{3}$/ };

function kind() {
  const picked = document.querySelector("input[name=pin-kind]:checked");
  return picked ? picked.value : "digits";
}

// The student list and the controls that depend on the kind of PIN.
export function renderPins() {
  const select = $("#pin-student");
  const names = cls.rows.map((r) => r.name);
  const have = [...select.options].map((o) => o.value);
  if (have.join("\n") !== names.join("\n")) {
    const current = select.value;
    select.replaceChildren(...names.map((name) => h("option", { value: name }, name)));
    if (names.includes(current)) select.value = current;
  }
  const none = names.length === 0;
  for (const id of ["#pins-all", "#pins-one", "#pin-student", "#pin-own"]) $(id).disabled = none;
  $("#pin-length").disabled = kind() === "pictures";
  renderLegend();
  $("#pin-own").placeholder = kind() === "pictures" ? "372" : "4821";
  const without = cls.rows.filter((r) => !r.pin).length;
  $("#pins-missing").textContent = without > 1 ? t("pins.missing", { n: without }) : without ? t("pins.missingOne") : "";
}

// The 9 pictures and their numbers, to choose a picture PIN by hand ("372").
function renderLegend() {
  const legend = $("#pin-legend");
  legend.hidden = kind() !== "pictures";
  if (legend.hidden || !changed("pin-legend")) return;
  legend.replaceChildren(...PICTURES.map((p) => h("li", { value: p.id },
    pictureIcon(p.id, 32), h("span", {}, `${p.id} ${p.name[state.lang]}`))));
}

function pinPart(row) {
  if (row.kind !== "pictures") return h("span", { class: "pin-digits" }, row.pin);
  return h("span", { class: "pin-pictures", role: "img", "aria-label": t("sheet.pictures", { names: pictureNames(row.pin) }) },
    [...row.pin].map((d) => h("span", { class: "pin-picture" }, pictureIcon(d, 60),
      h("span", { class: "pin-picture-name" }, PICTURES[Number(d) - 1].name[state.lang]))));
}

function pictureNames(pin) {
  return [...pin].map((d) => PICTURES[Number(d) - 1].name[state.lang]).join(", ");
}

function sheetCard(row, period) {
  return h("article", { class: "pin-card", dataset: { student: row.student_id } },
    h("h3", { class: "pin-name" }, row.student),
    h("ol", { class: "pin-steps" },
      h("li", {}, t("sheet.open"), " ", h("strong", { class: "pin-address" }, period ? joinAddress(period) : t("sheet.blank"))),
      h("li", {}, t("sheet.code"), " ", period
        ? h("strong", { class: "pin-code" }, period.code)
        : h("span", { class: "pin-blank" }, t("sheet.blank"))),
      h("li", {}, t("sheet.name")),
      h("li", { class: "pin-line" }, t(row.kind === "pictures" ? "sheet.pinPictures" : "sheet.pin"), " ", pinPart(row))),
    period && cls.qr.period === period.id && cls.qr.url
      ? h("img", { class: "qr pin-qr", src: cls.qr.url, alt: t("period.qrAlt", { code: period.code }), width: 96, height: 96 })
      : null);
}

export function renderSheet() {
  const sheet = $("#pin-sheet");
  if (!cls.sheet) { sheet.hidden = true; $("#sheet-cards").replaceChildren(); return; }
  const period = cls.sheetPeriod && periodOf(cls.sheetPeriod.roster) ? periodOf(cls.sheetPeriod.roster) : null;
  if (!changed("class-sheet", cls.sheet, period, cls.qr) && !sheet.hidden) return;
  $("#sheet-title").textContent = t("sheet.title", { roster: cls.roster, n: cls.sheet.length });
  $("#sheet-code-note").textContent = period ? t("sheet.codeNote", { code: period.code }) : t("sheet.noPeriod");
  $("#sheet-cards").replaceChildren(...cls.sheet.map((row) => sheetCard(row, period)));
  sheet.hidden = false;
}

export function hideSheet() {
  cls.sheet = null; // the PINs are gone from the page too
  cls.sheetPeriod = null;
  renderSheet();
}

async function setPins(students, pin) {
  const error = $("#pins-error");
  error.textContent = "";
  const body = { kind: kind() };
  if (body.kind === "digits") body.length = Number($("#pin-length").value);
  if (students) body.students = students;
  if (pin) {
    if (!PIN[body.kind].test(pin)) { error.textContent = t(`pins.bad.${body.kind}`); $("#pin-own").focus(); return; }
    body.pin = pin;
  }
  try {
    cls.sheet = await api("POST", `/rosters/${enc(cls.roster)}/pins`, body);
    cls.sheetPeriod = periodOf(cls.roster);
    $("#pin-own").value = "";
    $("#pins-confirm").hidden = true;
    $("#pins-all").setAttribute("aria-expanded", "false");
    renderSheet();
    toast(cls.sheet.length === 1 ? t("pins.doneOne") : t("pins.done", { n: cls.sheet.length }), "good");
    $("#sheet-title").focus();
    lookNow();
  } catch (err) { fail(err); }
}

export function wirePins() {
  for (const radio of document.querySelectorAll("input[name=pin-kind]")) radio.addEventListener("change", renderPins);
  $("#pins-all").addEventListener("click", () => {
    const open = $("#pins-confirm").hidden;
    $("#pins-confirm").hidden = !open;
    $("#pins-all").setAttribute("aria-expanded", String(open));
    if (open) $("#pins-all-go").focus();
  });
  $("#pins-all-keep").addEventListener("click", () => {
    $("#pins-confirm").hidden = true;
    $("#pins-all").setAttribute("aria-expanded", "false");
    $("#pins-all").focus();
  });
  $("#pins-all-go").addEventListener("click", () => setPins(null, ""));
  $("#pins-one").addEventListener("click", () => setPins([$("#pin-student").value], $("#pin-own").value.trim()));
  $("#pin-own").addEventListener("keydown", (e) => { if (e.key === "Enter") $("#pins-one").click(); });
  $("#sheet-print").addEventListener("click", () => window.print());
  $("#sheet-close").addEventListener("click", () => { hideSheet(); $("#pins-all").focus(); });
}
