// The class page: pick a class, start its period (the join code shown large,
// the address and the QR code, for the board or the projector), change the
// period's lesson or end it; set the students' PINs (classroom-pins.js); and
// watch the class at work (classroom-work.js, classroom-show.js).
//
//   classroom-store.js  what this page knows      classroom-show.js  projector, one hand-in
//   classroom-work.js   the class at work (poll)   classroom-pins.js  PINs, the class sheet
//   pictures.js         the 9 pictures of a picture PIN (shared with the student's page)
//   classroom-camera.js the class's camera switch

import { api, fail } from "./api.js";
import { $, changed, h, toast } from "./dom.js";
import { lessonTitle } from "./format.js";
import { locale, t } from "./i18n.js";
import { loadLibrary } from "./lessons.js";
import { loadCamera, renderCamera, wireCamera } from "./classroom-camera.js";
import { hideSheet, renderPins, renderSheet, wirePins } from "./classroom-pins.js";
import { closeProjector, openProjector, relabelShow, wireShow } from "./classroom-show.js";
import { cls, enc, joinAddress, periodOf } from "./classroom-store.js";
import { renderWork, startWork, stopWork, wireWork } from "./classroom-work.js";
import { state } from "./store.js";

const CLASS_KEY = "rc-class-view";

function lessonOptions(select, chosen) {
  const lessons = state.library || [];
  const ids = lessons.map((l) => l.id);
  if (chosen && !ids.includes(chosen)) ids.push(chosen);
  select.replaceChildren(h("option", { value: "" }, t("period.noLesson")),
    ...ids.map((id) => h("option", { value: id }, lessonTitle(id))));
  select.value = chosen || "";
}

// The QR code needs the teacher's cookie: fetched, then shown from a blob: URL.
async function loadQr(period) {
  if (cls.qr.period === period.id && cls.qr.url) return;
  const response = await fetch(`/api/v1/periods/${enc(period.id)}/qr.svg`);
  if (!response.ok) throw new Error(response.statusText);
  let svg = await response.text();
  // segno's inline SVG has no namespace (it is made for HTML): an <img> needs one
  if (!/^<svg[^>]*\sxmlns=/.test(svg)) svg = svg.replace(/^<svg\b/, '<svg xmlns="http://www.w3.org/2000/svg"');
  const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
  if (cls.qr.url) URL.revokeObjectURL(cls.qr.url);
  cls.qr = { period: period.id, url };
}

function renderClassPick() {
  const select = $("#class-pick");
  const names = cls.rosters.map((r) => r.roster);
  if (!changed("class-pick", cls.rosters, cls.periods, cls.roster)) return;
  select.replaceChildren(...names.map((name) => h("option", { value: name },
    periodOf(name) ? `${name} · ${t("period.open")}` : name)));
  select.value = cls.roster;
  select.disabled = names.length === 0;
  $("#class-none").hidden = names.length > 0;
  $("#class-body").hidden = names.length === 0;
  const r = cls.rosters.find((x) => x.roster === cls.roster);
  $("#class-summary").textContent = r ? t("classes.counts", { students: r.students, results: r.results || 0 }) : "";
}

function renderOthers() {
  const others = cls.periods.filter((p) => p.roster !== cls.roster);
  $("#period-others").replaceChildren(...(others.length ? [
    h("h3", {}, t("period.others")),
    h("ul", { class: "period-list" }, others.map((p) => h("li", {},
      h("span", { class: "class-name" }, p.roster), " ",
      h("code", {}, p.code), " ",
      h("span", { class: "muted" }, t("period.until", { time: until(p) })), " ",
      h("button", { type: "button", class: "small", onclick: () => chooseClass(p.roster) }, t("period.goto", { roster: p.roster }))))),
  ] : []));
}

function until(period) {
  return new Date(period.ends * 1000).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" });
}

// The period panel: the form to start one, or the open period's board.
function renderPeriod() {
  const period = periodOf(cls.roster);
  if (!changed("class-period", cls.roster, cls.periods, cls.qr, Boolean(state.library), Boolean(period))) return;
  $("#period-form").hidden = Boolean(period);
  $("#period-board").hidden = !period;
  if (!period) {
    const select = $("#period-lesson");
    const keep = select.value;
    lessonOptions(select, keep);
  } else {
    $("#period-code").textContent = period.code;
    $("#period-code").setAttribute("aria-label", t("period.codeSpelt", { code: [...period.code].join(" ") }));
    $("#period-address").textContent = joinAddress(period);
    $("#period-ends").textContent = t("period.ends", { time: until(period), lesson: period.lesson_id ? lessonTitle(period.lesson_id) : t("period.noLesson") });
    // a lesson the teacher picked and has not applied yet stays picked when this redraws
    const change = $("#period-change");
    if (document.activeElement !== change) lessonOptions(change, change.dataset.picked ? change.value : period.lesson_id);
    const img = $("#period-qr");
    img.alt = t("period.qrAlt", { code: period.code });
    if (cls.qr.period === period.id && img.getAttribute("src") !== cls.qr.url) img.src = cls.qr.url;
  }
  renderOthers();
}

let drawnLang = "";

// Draw what changed (each part keeps what it drew last: a select in use is not rebuilt).
export function renderClassroom() {
  if (state.page !== "class") return;
  renderClassPick();
  renderPeriod();
  renderPins();
  renderSheet();
  renderWork();
  if (drawnLang !== state.lang) { relabelShow(); renderCamera(); }
  drawnLang = state.lang;
}

let periodsAt = 0; // when the open periods were last asked for (ms)

async function loadPeriods() {
  periodsAt = Date.now();
  cls.periods = await api("GET", "/periods");
  const period = periodOf(cls.roster);
  if (period) {
    try { await loadQr(period); } catch (error) { fail(error); }
  }
}

function chooseClass(roster) {
  if (roster !== cls.roster) hideSheet(); // a sheet names one class's PINs
  cls.roster = roster;
  localStorage.setItem(CLASS_KEY, roster);
  closeProjector();
  renderClassroom();
  const period = periodOf(roster);
  if (period) loadQr(period).then(renderPeriod, fail);
  startWork(roster, afterLook);
  loadCamera(roster);
}

// After each look at the class: the PIN controls, and now and then the open periods
// (another teacher's tab may have started or ended one; one may have run out).
function afterLook() {
  renderPins();
  if (Date.now() - periodsAt < 30000) { renderClassroom(); return; }
  loadPeriods().then(renderClassroom, () => {});
}

// The page is shown: the classes, the open periods, the lessons, then the class at work.
export async function enterClassroom() {
  try {
    [cls.rosters] = await Promise.all([api("GET", "/rosters"), loadLibrary()]);
    await loadPeriods();
  } catch (error) { fail(error); return; }
  if (state.page !== "class") return;
  const names = cls.rosters.map((r) => r.roster);
  const saved = localStorage.getItem(CLASS_KEY) || localStorage.getItem("rc-class") || "";
  const open = cls.periods.find((p) => names.includes(p.roster));
  let pick = names.includes(cls.roster) ? cls.roster : "";
  if (!pick) pick = names.includes(saved) ? saved : (open ? open.roster : names[0] || "");
  chooseClass(pick);
}

export function leaveClassroom() {
  stopWork();
  closeProjector();
}

async function startPeriod(event) {
  event.preventDefault();
  const minutes = Number($("#period-minutes").value);
  if (!(minutes >= 5 && minutes <= 720)) { toast(t("period.badMinutes"), "bad"); $("#period-minutes").focus(); return; }
  try {
    const lesson = $("#period-lesson").value || null;
    await api("POST", "/periods", { roster: cls.roster, lesson_id: lesson, minutes });
    await loadPeriods();
    toast(t("period.started", { roster: cls.roster }), "good");
    renderClassroom();
    if (cls.sheet) renderSheet();
    $("#period-code").focus();
  } catch (error) { fail(error); }
}

async function changeLesson() {
  const period = periodOf(cls.roster);
  if (!period) return;
  const lesson = $("#period-change").value || null;
  try {
    await api("PUT", `/periods/${enc(period.id)}/lesson`, { lesson_id: lesson });
    delete $("#period-change").dataset.picked;
    await loadPeriods();
    renderPeriod();
    toast(t("period.changed", { lesson: lesson ? lessonTitle(lesson) : t("period.noLesson") }), "good");
  } catch (error) { fail(error); }
}

function showEndConfirm(open) {
  $("#period-end-confirm").hidden = !open;
  $("#period-end").setAttribute("aria-expanded", String(open));
  (open ? $("#period-end-go") : $("#period-end")).focus();
}

async function endPeriod() {
  const period = periodOf(cls.roster);
  if (!period) return;
  try {
    await api("POST", `/periods/${enc(period.id)}/end`);
    $("#period-end-confirm").hidden = true;
    $("#period-end").setAttribute("aria-expanded", "false");
    await loadPeriods();
    toast(t("period.ended", { roster: cls.roster }), "good");
    closeProjector();
    renderClassroom();
    $("#period-start").focus();
  } catch (error) { fail(error); }
}

export function wireClassroom() {
  $("#class-pick").addEventListener("change", (e) => chooseClass(e.target.value));
  $("#period-form").addEventListener("submit", startPeriod);
  $("#period-change-go").addEventListener("click", changeLesson);
  $("#period-change").addEventListener("change", (e) => { e.target.dataset.picked = "yes"; });
  $("#period-show").addEventListener("click", () => openProjector("code"));
  $("#period-end").addEventListener("click", () => showEndConfirm($("#period-end-confirm").hidden));
  $("#period-end-keep").addEventListener("click", () => showEndConfirm(false));
  $("#period-end-go").addEventListener("click", endPeriod);
  wirePins();
  wireCamera();
  wireShow();
  wireWork();
}
