// The teacher console: the page's one script. ES modules, no build step; each
// part of the page is a module, and this one wires them together. The imports
// point one way (main.js at the top, store.js at the bottom):
//
//   main.js      wiring: which page, drawing after a change, the language
//   session.js   first-run set-up, login, logout, picking up a login
//   live.js      the room's event stream          room.js     cards, STOP ALL
//   roster.js    students and classes             lessons.js  library, push, challenge
//   classroom.js a class period's code, PINs, the class at work (classroom-*.js, pictures.js)
//   results.js   table, filters, export           charts.js   histogram, progress, leaderboard
//   log.js       a robot's log                    job.js      one job's result and output
//   preview.js   a robot's camera                 audit.js    audit log, API tokens
//   models.js    the model shelf: push a model to robots, add one
//   enrol.js     new robots: claim, rename, move, revoke
//   api.js       the console's JSON API and its events    pages.js   one page at a time
//   i18n.js      t() over i18n-en.js and i18n-zh.js        format.js  lesson titles, scores
//   dom.js       h(), toast(), changed()                   store.js   what the page knows

import { api, fail } from "./api.js";
import { auditRoute, renderAudit, wireAudit } from "./audit.js";
import { enterClassroom, leaveClassroom, renderClassroom, wireClassroom } from "./classroom.js";
import { $ } from "./dom.js";
import { relabelEnrol, startEnrol } from "./enrol.js";
import { pickLang, t } from "./i18n.js";
import { renderJob, wireJob } from "./job.js";
import { loadModels, renderModels, wireModels } from "./models.js";
import { loadLibrary as fetchLibrary, renderLessons } from "./lessons.js";
import { setConnected, startEvents } from "./live.js";
import { wireLog } from "./log.js";
import { PAGES, showPage } from "./pages.js";
import { previewSawRoom, wirePreview } from "./preview.js";
import { fillLessonFilter, loadClasses, loadResults, renderResults, wireResults } from "./results.js";
import { renderRoom, renderStop, wireRoom } from "./room.js";
import { loadRosters, renderClasses, renderRoster, wireRoster } from "./roster.js";
import { resume, showLogin, wireSession } from "./session.js";
import { state } from "./store.js";

// Draw what the room snapshot changed: the STOP bar, the page shown, the open job.
function renderAll() {
  if (!state.user || !state.room) return;
  renderStop();
  if (state.page === "room") renderRoom();
  if (state.page === "roster") renderRoster();
  if (state.page === "class") renderClassroom();
  if (state.page === "lessons") renderLessons();
  if (state.page === "models") renderModels();
  if (state.page === "results") renderResults();
  renderJob();
  renderAudit();
}

function loadLibrary() {
  fetchLibrary().then((arrived) => {
    if (!arrived) return;
    renderAll();
    fillLessonFilter();
  });
}

function applyLang() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `RoboClass · ${t("app.console")}`;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAria));
  }
  $("#lang").value = state.lang;
  if (state.live !== null) setConnected(state.live);
  renderAll();
  relabelEnrol();
}

function route() {
  if (!state.user) { showLogin(); return; }
  const name = location.hash.replace("#", "") || "room";
  showPage(PAGES.includes(name) && name !== "login" ? name : "room");
  if (state.page === "lessons") loadLibrary();
  if (state.page === "results") { loadClasses(); loadResults(); }
  if (state.page === "roster") loadRosters();
  if (state.page === "models") loadModels();
  if (state.page === "class") enterClassroom(); else leaveClassroom();
  auditRoute(state.page);
  renderAll();
}

function onRoom(room) {
  state.room = room;
  renderAll();
  previewSawRoom(room);
  if (state.page === "results" && state.room.results !== state.resultsSeen) loadResults();
}

// A teacher is in: the room, then its live updates, the library and the page asked for.
async function start() {
  for (const el of ["#nav", "#stopbar", "#logout"]) $(el).hidden = false;
  try {
    state.room = await api("GET", "/room");
  } catch (error) { if (error.status !== 401) fail(error); return; }
  startEvents(onRoom);
  loadLibrary();
  route();
}

function chooseLang(lang) {
  state.lang = lang;
  localStorage.setItem("rc-lang", state.lang);
  $("#toast").hidden = true;
  applyLang();
  if (state.page === "results") fillLessonFilter();
  if (state.page === "roster") renderClasses();
}

function wire() {
  wireSession(start);
  wireRoom();
  wireRoster();
  wireClassroom();
  wireResults();
  wireLog();
  wireJob();
  wirePreview();
  wireAudit();
  wireModels();
  $("#lang").addEventListener("change", (e) => chooseLang(e.target.value));
  window.addEventListener("hashchange", route);
}

// A module runs once the page is parsed: every element is there.
state.lang = pickLang();
wire();
applyLang();
resume();
startEnrol();
