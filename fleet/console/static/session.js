// Logging in and out: the first-run set-up (an account made with the code the
// console printed on its own screen), the login form, the end of a login, and
// picking up a login this browser already has (the cookie is HttpOnly, so
// only the console knows it).

import { api, fail, whenExpired } from "./api.js";
import { leaveAudit } from "./audit.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { leaveJob } from "./job.js";
import { stopEvents } from "./live.js";
import { showPage } from "./pages.js";
import { leavePreview } from "./preview.js";
import { state } from "./store.js";

let start = () => {}; // what follows a login: main.js's start()

export async function showLogin() {
  stopEvents();
  for (const el of ["#nav", "#stopbar", "#logout", "#conn"]) $(el).hidden = true;
  showPage("login");
  let teachers = true;
  try {
    teachers = (await api("GET", "/health")).teachers;
  } catch (error) { fail(error); }
  $("#login-form").hidden = !teachers;
  $("#setup-form").hidden = teachers;
  // the first field takes the focus, unless the teacher is already typing in the form
  // (taken after the answer came, it would put the password into the name field)
  const form = teachers ? $("#login-form") : $("#setup-form");
  if (!form.contains(document.activeElement)) (teachers ? $("#login-user") : $("#setup-user")).focus();
}

async function login(event) {
  event.preventDefault();
  const username = $("#login-user").value.trim();
  const password = $("#login-pass").value;
  const error = $("#login-error");
  error.textContent = "";
  if (!username || !password) { error.textContent = t("login.missing"); return; }
  try {
    const data = await api("POST", "/login", { username, password, session: "cookie" });
    loggedIn(data.username);
  } catch (err) {
    if (err.status === 401) error.textContent = t("login.wrong");
    else if (err.status === 429) error.textContent = t("login.tooMany", { s: err.retryAfter });
    else error.textContent = t("error.generic", { msg: err.message });
  }
}

// What is wrong with the set-up form, or "" when it may be sent.
function setupProblem(username, password) {
  if (!username || /[\s:]/.test(username)) return t("setup.name");
  if (password.length < 8) return t("setup.short");
  if (password !== $("#setup-pass2").value) return t("setup.mismatch");
  if (!$("#setup-code").value.trim()) return t("setup.needCode");
  return "";
}

async function setup(event) {
  event.preventDefault();
  const username = $("#setup-user").value.trim();
  const password = $("#setup-pass").value;
  const error = $("#setup-error");
  error.textContent = setupProblem(username, password);
  if (error.textContent) return;
  const code = $("#setup-code").value.trim();
  try {
    const data = await api("POST", "/setup", { username, password, code, session: "cookie" });
    loggedIn(data.username);
  } catch (err) {
    if (err.status === 409) error.textContent = t("setup.taken");
    else if (err.status === 403) error.textContent = t("setup.badCode");
    else if (err.status === 429) error.textContent = t("login.tooMany", { s: err.retryAfter });
    else error.textContent = t("error.generic", { msg: err.message });
    if (err.status === 409) showLogin();
  }
}

function loggedIn(user) {
  state.user = user;
  for (const el of ["#login-pass", "#setup-pass", "#setup-pass2", "#setup-code"]) $(el).value = "";
  $("#login-error").textContent = "";
  start();
}

// The parts that hold something of the teacher's let go of it.
function leave() {
  leavePreview();
  leaveJob();
  leaveAudit();
}

function forget() {
  state.user = "";
  state.room = null;
  leave();
  showLogin();
}

// Log out: the console forgets the login too, so a copy of the cookie is useless.
async function logout() {
  leave(); // the camera preview goes off first, while the login still works
  if (state.user) {
    try { await api("POST", "/logout"); } catch (error) { /* it is forgotten here anyway */ }
  }
  forget();
}

function expired() {
  forget();
  $("#login-error").textContent = t("login.expired");
}

// The login this browser has, if the console still knows it; else the login page.
export async function resume() {
  try {
    state.user = (await api("GET", "/session")).username;
  } catch (error) {
    showLogin();
    return;
  }
  start();
}

// afterLogin: what to do once a teacher is in (load the room, follow it, show the page).
export function wireSession(afterLogin) {
  start = afterLogin;
  whenExpired(expired);
  $("#login-form").addEventListener("submit", login);
  $("#setup-form").addEventListener("submit", setup);
  $("#logout").addEventListener("click", logout);
}
