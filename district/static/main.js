// The district's pages: the one script. ES modules, no build step; each page is a module
// and this one wires them together (main.js at the top, store.js at the bottom):
//
//   schools.js    schools, rooms, live counts     results.js   by lesson and band, per school/class
//   library.js    publish, review, published      challenges.js start, list, live leaderboard
//   charts.js     the results chart (SVG)         api.js       JSON API and event streams
//   i18n.js       t() over i18n-en.js, i18n-zh.js dom.js       h(), toast()   store.js  what it knows

import { api, fail, follow, whenExpired } from "./api.js";
import { leaveChallenges, loadChallenges, renderChallenges, wireChallenges } from "./challenges.js";
import { $ } from "./dom.js";
import { pickLang, t } from "./i18n.js";
import { loadLibrary, renderLibrary, wireLibrary } from "./library.js";
import { enterResults, loadResults, resultsSawOverview, wireResults } from "./results.js";
import { renderSchools } from "./schools.js";
import { state } from "./store.js";

const PAGES = ["login", "schools", "results", "library", "challenges"];
let overview = null;

function showPage(name) {
  state.page = name;
  for (const page of PAGES) $(`#page-${page}`).hidden = page !== name;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

function renderAll() {
  renderSchools();
  renderLibrary();
  renderChallenges();
}

function applyLang() {
  document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
  document.title = `RoboClass · ${t("app.name")}`;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
  $("#lang").value = state.lang;
  $("#toast").hidden = true;
  if (state.user) { setLive(state.live); renderAll(); loadResults(); }
}

function setLive(live) {
  state.live = live;
  $("#conn").hidden = live === undefined;
  $("#conn").className = `conn ${live ? "live" : "lost"}`;
  $("#conn").textContent = t(live ? "conn.live" : "conn.lost");
}

function route() {
  $("#toast").hidden = true;
  if (!state.user) { showPage("login"); $("#login-user").focus(); return; }
  const [name, query] = (location.hash.replace("#", "") || "schools").split("?");
  showPage(PAGES.includes(name) && name !== "login" ? name : "schools");
  if (state.page !== "challenges") leaveChallenges();
  if (state.page === "results") enterResults(new URLSearchParams(query || ""));
  if (state.page === "library") loadLibrary();
  if (state.page === "challenges") loadLibrary().then(loadChallenges);
  renderAll();
}

function start(user) {
  state.user = user;
  for (const el of ["#nav", "#logout"]) $(el).hidden = false;
  overview = new AbortController();
  follow("/overview/events", overview.signal, (name, data) => {
    if (name !== "overview") return;
    state.overview = data;
    renderSchools();
    resultsSawOverview();
  }, setLive);
  loadLibrary().then(() => { if (state.page === "results") loadResults(); }); // lesson titles
  route();
}

function stop() {
  state.user = "";
  if (overview) overview.abort();
  leaveChallenges();
  for (const el of ["#nav", "#logout", "#conn"]) $(el).hidden = true;
  route();
}

function wire() {
  $("#login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const username = $("#login-user").value.trim(), password = $("#login-pass").value;
    $("#login-error").textContent = "";
    if (!username || !password) { $("#login-error").textContent = t("login.missing"); return; }
    try {
      await api("POST", "/login", { username, password, session: "cookie" });
      $("#login-pass").value = "";
      start(username);
    } catch (error) { $("#login-error").textContent = error.status === 401 ? t("login.wrong") : error.message; }
  });
  $("#logout").addEventListener("click", async () => {
    try { await api("POST", "/logout"); } catch (error) { if (error.status !== 401) fail(error); }
    stop();
  });
  $("#lang").addEventListener("change", (e) => {
    state.lang = e.target.value;
    localStorage.setItem("rc-district-lang", state.lang);
    applyLang();
  });
  window.addEventListener("hashchange", route);
  whenExpired(stop);
  wireResults();
  wireLibrary();
  wireChallenges();
}

state.lang = pickLang();
wire();
applyLang();
api("GET", "/me").then((me) => start(me.username), () => route());
