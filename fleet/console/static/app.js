// The teacher console: login, room (live), roster, lessons, results.
// Plain JS, no build step. It talks to the console's JSON API (/api/v1); the
// login lives in an HttpOnly cookie this script never sees (fleet/console/websecurity.py),
// and it follows the room over /api/v1/events (Server-Sent Events read with fetch).
// live.js (camera preview, a job's log) and audit.js (audit log, API tokens)
// add their parts through window.RC.
"use strict";

(() => {
  const $ = (sel) => document.querySelector(sel);
  const state = {
    lang: "en",
    user: "", // the teacher logged in ("" when nobody is)
    room: null, // the last snapshot: {estop, devices, results}
    selected: new Set(),
    library: null,
    band: "",
    results: [],
    page: "room",
    events: null, // AbortController of the event stream
    resultsSeen: -1,
    live: null, // the event stream: null before it starts, then true or false
    rosters: [], // the classes: [{roster, students, results}]
    purging: "", // the class whose purge is being confirmed
  };

  // ---- language -----------------------------------------------------------

  function pickLang() {
    const saved = localStorage.getItem("rc-lang");
    if (saved === "zh" || saved === "en") return saved;
    const prefs = navigator.languages || [navigator.language || "en"];
    return prefs.some((l) => String(l).toLowerCase().startsWith("zh")) ? "zh" : "en";
  }

  function t(key, vars) {
    const table = window.I18N[state.lang] || window.I18N.en;
    let text = table[key] ?? window.I18N.en[key] ?? key;
    if (vars) {
      for (const [name, value] of Object.entries(vars)) {
        text = text.split(`{${name}}`).join(String(value));
      }
    }
    return text;
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
  }

  // ---- small helpers ------------------------------------------------------

  // h("p", {class: "x"}, "text", child) builds DOM without innerHTML.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
      else if (name === "dataset") Object.assign(el.dataset, value);
      else el.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  let toastTimer = 0;
  function toast(message, kind) {
    const el = $("#toast");
    el.textContent = message;
    el.className = `toast ${kind || ""}`;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
  }

  class ApiError extends Error {
    constructor(status, message, retryAfter) { super(message); this.status = status; this.retryAfter = retryAfter; }
  }

  async function api(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && state.user && path !== "/logout") {
      expired(); // the login has run out or was revoked
      throw new ApiError(401, t("login.expired"));
    }
    const kind = response.headers.get("content-type") || "";
    const data = kind.includes("json") ? await response.json() : await response.text();
    if (!response.ok) {
      const detail = data && data.detail;
      throw new ApiError(response.status, typeof detail === "string" ? detail : response.statusText,
        Number(response.headers.get("retry-after")) || 60);
    }
    return data;
  }

  function fail(error) {
    toast(t("error.generic", { msg: error.message || error }), "bad");
  }

  const lessonTitle = (id) => {
    const lesson = (state.library || []).find((l) => l.id === id);
    return lesson ? lesson.title[state.lang] : id;
  };
  const formatScore = (score) => (score === null || score === undefined ? t("card.none") : String(Math.round(score)));

  // ---- login and set-up ---------------------------------------------------

  async function showLogin() {
    stopEvents();
    for (const el of ["#nav", "#stopbar", "#logout", "#conn"]) $(el).hidden = true;
    showPage("login");
    let teachers = true;
    try {
      teachers = (await api("GET", "/health")).teachers;
    } catch (error) { fail(error); }
    $("#login-form").hidden = !teachers;
    $("#setup-form").hidden = teachers;
    (teachers ? $("#login-user") : $("#setup-user")).focus();
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

  async function setup(event) {
    event.preventDefault();
    const username = $("#setup-user").value.trim();
    const password = $("#setup-pass").value;
    const error = $("#setup-error");
    error.textContent = "";
    if (!username || /[\s:]/.test(username)) { error.textContent = t("setup.name"); return; }
    if (password.length < 8) { error.textContent = t("setup.short"); return; }
    if (password !== $("#setup-pass2").value) { error.textContent = t("setup.mismatch"); return; }
    const code = $("#setup-code").value.trim();
    if (!code) { error.textContent = t("setup.needCode"); return; }
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
    $("#login-pass").value = "";
    $("#setup-pass").value = "";
    $("#setup-pass2").value = "";
    $("#setup-code").value = "";
    $("#login-error").textContent = "";
    start();
  }

  function forget() {
    state.user = "";
    state.room = null;
    plug("logout");
    showLogin();
  }

  // Log out: the console forgets the login too, so a copy of the cookie is useless.
  async function logout() {
    plug("logout"); // the camera preview goes off first, while the login still works
    if (state.user) {
      try { await api("POST", "/logout"); } catch (error) { /* it is forgotten here anyway */ }
    }
    forget();
  }

  function expired() {
    forget();
    $("#login-error").textContent = t("login.expired");
  }

  // ---- pages --------------------------------------------------------------

  const PAGES = ["login", "room", "roster", "lessons", "results", "audit"];

  function showPage(name) {
    state.page = name;
    for (const page of PAGES) $(`#page-${page}`).hidden = page !== name;
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.page === name) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function route() {
    if (!state.user) { showLogin(); return; }
    const name = location.hash.replace("#", "") || "room";
    showPage(PAGES.includes(name) && name !== "login" ? name : "room");
    if (state.page === "lessons") loadLibrary();
    if (state.page === "results") { loadClasses(); loadResults(); }
    if (state.page === "roster") loadRosters();
    plug("route", state.page);
    renderAll();
  }

  async function start() {
    for (const el of ["#nav", "#stopbar", "#logout"]) $(el).hidden = false;
    try {
      state.room = await api("GET", "/room");
    } catch (error) { if (error.status !== 401) fail(error); return; }
    startEvents();
    loadLibrary();
    route();
  }

  // ---- live events --------------------------------------------------------

  function stopEvents() {
    if (state.events) state.events.abort();
    state.events = null;
    state.live = null;
  }

  function setConnected(live) {
    state.live = live;
    const el = $("#conn");
    el.hidden = false;
    el.textContent = live ? t("conn.live") : t("conn.lost");
    el.className = `conn ${live ? "live" : "lost"}`;
  }

  // Read Server-Sent Events from path (the cookie goes along); onEvent(name, data) for each.
  async function readEvents(path, signal, onEvent, onOpen) {
    const response = await fetch(path, { signal });
    if (response.status === 401) { expired(); return false; }
    if (!response.ok || !response.body) throw new Error(response.statusText);
    if (onOpen) onOpen();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return true;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const chunk = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of chunk.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }

  async function startEvents() {
    stopEvents();
    const control = new AbortController();
    state.events = control;
    while (!control.signal.aborted && state.user) {
      try {
        const again = await readEvents("/api/v1/events", control.signal, onEvent, () => setConnected(true));
        if (again === false) return;
      } catch (error) {
        if (control.signal.aborted) return;
      }
      setConnected(false);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  function onEvent(event, data) {
    if (event !== "room") return;
    state.room = data;
    renderAll();
    plug("room", data);
    if (state.page === "results" && state.room.results !== state.resultsSeen) loadResults();
  }

  // Pages rebuild only when what they show has changed, so live updates never
  // close an open <details>, move focus or pull a button from under a click.
  const lastKeys = new Map();
  function changed(name, ...parts) {
    const key = JSON.stringify([state.lang, ...parts]);
    if (lastKeys.get(name) === key) return false;
    lastKeys.set(name, key);
    return true;
  }

  function renderAll() {
    if (!state.user || !state.room) return;
    renderStop();
    if (state.page === "room") renderRoom();
    if (state.page === "roster") renderRoster();
    if (state.page === "lessons") renderLessons();
    if (state.page === "results") renderResults();
    plug("render", state.page);
  }

  // ---- STOP ALL -----------------------------------------------------------

  function renderStop() {
    const { estop, devices } = state.room;
    const bar = $("#stopbar");
    const status = $("#stop-status");
    const online = devices.filter((d) => d.online);
    const stopped = online.filter((d) => d.estopped);
    const offline = devices.length - online.length;
    bar.classList.toggle("active", estop.active);
    $("#release").hidden = !estop.active;
    const all = estop.active && stopped.length === online.length;
    bar.classList.toggle("confirmed", all);
    bar.dataset.state = !estop.active ? "ready" : all ? "stopped" : "stopping";
    if (!estop.active) status.textContent = t("stop.ready");
    else if (all) status.textContent = t("stop.done", { n: stopped.length });
    else status.textContent = t("stop.waiting", { n: stopped.length, total: online.length });
    if (estop.active && offline > 0) status.textContent += ` ${t("stop.offline", { n: offline })}`;
  }

  async function stopAll() {
    try {
      state.room.estop = await api("POST", "/stop");
      renderStop();
      toast(t("stop.sent"), "bad");
    } catch (error) { fail(error); }
  }

  async function release() {
    try {
      state.room.estop = await api("POST", "/release");
      renderStop();
      toast(t("stop.released"));
    } catch (error) { fail(error); }
  }

  // ---- room ---------------------------------------------------------------

  function card(d) {
    const id = `sel-${d.device}`;
    const job = d.job;
    const last = d.last_result;
    const battery = d.battery_v === null ? t("card.none") : `${d.battery_v.toFixed(1)} V`;
    let health = t("card.none");
    if (d.preflight) {
      const parts = [t("health.ok", { ok: d.preflight.ok ?? 0 })];
      if (d.preflight.warn) parts.push(t("health.warn", { n: d.preflight.warn }));
      if (d.preflight.fail) parts.push(t("health.fail", { n: d.preflight.fail }));
      health = parts.join(" · ");
    }
    const classes = ["card", d.online ? "online" : "offline"];
    if (d.estopped) classes.push("stopped");
    if (state.selected.has(d.device)) classes.push("selected");
    return h("article", {
      class: classes.join(" "),
      "aria-labelledby": `name-${d.device}`,
      dataset: {
        device: d.device, online: String(d.online), estopped: String(d.estopped),
        jobStatus: job ? job.status : "",
      },
    },
    h("div", { class: "card-head" },
      h("input", {
        type: "checkbox", id, checked: state.selected.has(d.device), class: "select",
        "aria-label": t("room.select", { name: d.device }),
        onchange: (e) => { toggleSelect(d.device, e.target.checked); },
      }),
      h("label", { for: id, class: "card-name", id: `name-${d.device}` }, d.device),
      h("span", { class: `pill ${d.online ? "on" : "off"}` }, d.online ? t("card.online") : t("card.offline"))),
    d.estopped ? h("p", { class: "stopped-badge", role: "status" }, `■ ${t("card.stopped")}`) : null,
    d.preview ? h("p", { class: "preview-badge" }, `● ${t("preview.badge")}`) : null,
    h("dl", {},
      h("dt", {}, t("card.student")),
      h("dd", { class: d.student ? "" : "muted" }, d.student || t("card.unbound")),
      h("dt", {}, t("card.job")),
      h("dd", { class: "job" }, job
        ? [lessonTitle(job.lesson_id), " ", h("button", {
          type: "button", class: `linkish state s-${job.status}`, id: `job-${d.device}`,
          "aria-label": t("job.open", { status: t(`status.${job.status}`), name: d.device }),
          onclick: () => window.RC.openJob({ job: job.job, device: d.device, lesson_id: job.lesson_id }),
        }, t(`status.${job.status}`)),
          ACTIVE.has(job.status) ? h("button", {
            type: "button", class: "small cancel", id: `cancel-${d.device}`,
            "aria-label": t("card.cancelJob", { name: d.device }),
            onclick: () => cancelJob(job.job),
          }, t("card.cancel")) : null]
        : t("card.none")),
      h("dt", {}, t("card.last")),
      h("dd", { class: "last" }, last
        ? [h("strong", {}, formatScore(last.score)), " ",
          h("span", { class: last.passed ? "good" : "muted" }, last.passed ? `✓ ${t("card.passed")}` : t("card.failed"))]
        : t("card.none")),
      h("dt", {}, t("card.battery")),
      h("dd", {}, battery),
      h("dt", {}, t("card.health")),
      h("dd", {}, health)),
    h("div", { class: "card-actions" },
      h("button", {
        type: "button", class: "identify-one", id: `identify-${d.device}`, disabled: !d.online,
        "aria-label": t("room.identifyOne", { name: d.device }),
        onclick: () => identify([d.device]),
      }, t("room.identify")),
      h("button", {
        type: "button", class: "log-one", id: `log-${d.device}`,
        "aria-label": t("log.title", { name: d.device }),
        onclick: () => openLog(d.device),
      }, t("card.log")),
      h("button", {
        type: "button", class: "preview-one", id: `preview-${d.device}`, disabled: !d.online,
        "aria-pressed": String(Boolean(d.preview)),
        "aria-label": t("preview.open", { name: d.device }),
        onclick: () => window.RC.openPreview(d.device),
      }, t("card.camera"))));
  }

  // ---- a robot's log, streamed while the dialog is open --------------------

  let logControl = null;

  function openLog(device) {
    const dialog = $("#log-dialog");
    const box = $("#log-lines");
    $("#log-title").textContent = t("log.title", { name: device });
    box.replaceChildren(h("p", { class: "muted" }, t("log.empty")));
    if (logControl) logControl.abort();
    const control = new AbortController();
    logControl = control;
    let job;
    let empty = true;
    readEvents(`/api/v1/devices/${encodeURIComponent(device)}/log/events`, control.signal, (event, lines) => {
      if (event !== "lines") return;
      const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
      if (empty) { box.replaceChildren(); empty = false; }
      for (const line of lines) {
        if (line.job !== job) {
          job = line.job;
          box.append(h("div", { class: "log-job" }, job ? t("log.job", { job }) : t("log.agent")));
        }
        box.append(h("div", { class: `log-line ${line.stream}` }, line.line));
      }
      if (atEnd) box.scrollTop = box.scrollHeight;
    }).catch(() => {});
    logOpener = document.activeElement;
    dialog.show(); // not modal: STOP ALL stays usable
    $("#log-close").focus();
  }

  let logOpener = null;

  function closeLog() {
    if (logControl) logControl.abort();
    logControl = null;
    if (logOpener && document.body.contains(logOpener)) logOpener.focus();
    logOpener = null;
  }

  const cardCache = new Map(); // device -> {key, el}
  const ACTIVE = new Set(["PENDING", "QUEUED", "IN_PROGRESS"]);

  async function cancelJob(job) {
    try {
      await api("POST", `/jobs/${encodeURIComponent(job)}/cancel`);
      toast(t("card.cancelSent"));
    } catch (error) { fail(error); }
  }

  function renderRoom() {
    const { devices } = state.room;
    const known = new Set(devices.map((d) => d.device));
    for (const name of [...state.selected]) if (!known.has(name)) state.selected.delete(name);
    // Rebuild only the cards that changed, so focus and clicks survive live updates.
    const focused = document.activeElement;
    const children = devices.map((d) => {
      const key = JSON.stringify([d, state.lang, state.selected.has(d.device), Boolean(state.library)]);
      const kept = cardCache.get(d.device);
      if (kept && kept.key === key) return kept.el;
      const el = card(d);
      cardCache.set(d.device, { key, el });
      return el;
    });
    const box = $("#cards");
    children.forEach((el, i) => {
      const here = box.children[i];
      if (here === el) return;
      if (here) box.insertBefore(el, here); else box.append(el);
    });
    while (box.children.length > children.length) box.lastElementChild.remove();
    if (focused && focused !== document.activeElement && focused.id && document.getElementById(focused.id)) {
      document.getElementById(focused.id).focus();
    }
    $("#room-empty").hidden = devices.length > 0;
    const online = devices.filter((d) => d.online).length;
    $("#room-summary").textContent = t("room.summary", { online, total: devices.length });
    $("#selected-count").textContent = t("room.selected", { n: state.selected.size });
    const all = $("#select-all");
    all.checked = devices.length > 0 && state.selected.size === devices.length;
    all.indeterminate = state.selected.size > 0 && state.selected.size < devices.length;
  }

  function toggleSelect(device, on) {
    if (on) state.selected.add(device); else state.selected.delete(device);
    renderRoom();
  }

  function selectAll(on) {
    state.selected = on ? new Set(state.room.devices.map((d) => d.device)) : new Set();
    renderRoom();
  }

  async function identify(devices) {
    if (!devices.length) { toast(t("room.identifyNone")); return; }
    try {
      await Promise.all(devices.map((d) => api("POST", `/devices/${encodeURIComponent(d)}/identify`)));
      toast(devices.length === 1
        ? t("room.identifySentOne", { name: devices[0] })
        : t("room.identifySent", { n: devices.length }), "good");
    } catch (error) { fail(error); }
  }

  async function preflight(devices) {
    if (!devices.length) { toast(t("room.identifyNone")); return; }
    try {
      await Promise.all(devices.map((d) => api("POST", `/devices/${encodeURIComponent(d)}/preflight`)));
      toast(t("room.checkSent", { n: devices.length }), "good");
    } catch (error) { fail(error); }
  }

  // ---- roster -------------------------------------------------------------

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
    await api("PUT", `/devices/${encodeURIComponent(device)}/student`, body);
  }

  function renderRoster() {
    const body = $("#roster-table tbody");
    const editing = document.activeElement && document.activeElement.closest("#roster-table");
    if (editing && body.children.length === state.room.devices.length) return; // don't steal typing
    if (!changed("roster", state.room.devices.map((d) => [d.device, d.online, d.student, d.roster]))) return;
    body.replaceChildren(...state.room.devices.map((d) => {
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
    }));
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

  // ---- classes: what is kept, and deleting a class's data ------------------

  async function loadRosters() {
    try {
      state.rosters = await api("GET", "/rosters");
      renderClasses();
    } catch (error) { fail(error); }
  }

  function renderClasses() {
    const list = $("#class-list");
    if (!state.rosters.length) {
      list.replaceChildren(h("li", { class: "muted" }, t("classes.empty")));
      return;
    }
    list.replaceChildren(...state.rosters.map((r) => {
      const slug = encodeURIComponent(r.roster).replace(/%/g, "_");
      const item = h("li", { dataset: { roster: r.roster } },
        h("span", { class: "class-name" }, r.roster),
        h("span", { class: "muted" }, t("classes.counts", { students: r.students, results: r.results || 0 })),
        h("button", {
          type: "button", class: "purge-open", "aria-expanded": String(state.purging === r.roster),
          "aria-controls": `purge-${slug}`,
          onclick: () => { state.purging = state.purging === r.roster ? "" : r.roster; renderClasses(); },
        }, t("classes.purge")));
      if (state.purging !== r.roster) return item;
      // the confirmation: type the class name, then press the red button
      const typed = h("input", {
        id: `purge-name-${slug}`, class: "purge-name short", autocomplete: "off", spellcheck: "false",
      });
      const go = h("button", { type: "button", class: "danger purge-go", disabled: true }, t("classes.purgeGo"));
      typed.addEventListener("input", () => { go.disabled = typed.value.trim() !== r.roster; });
      typed.addEventListener("keydown", (e) => { if (e.key === "Enter" && !go.disabled) go.click(); });
      go.addEventListener("click", () => purge(r.roster, typed.value.trim()));
      item.append(h("div", { class: "purge-confirm", id: `purge-${slug}`, role: "group", "aria-labelledby": `purge-warn-${slug}` },
        h("p", { id: `purge-warn-${slug}` }, h("strong", {}, t("classes.warn", { roster: r.roster, students: r.students, results: r.results || 0 }))),
        h("label", { for: `purge-name-${slug}` }, t("classes.typeName", { roster: r.roster })),
        typed,
        h("div", { class: "actions" }, go,
          h("button", { type: "button", class: "purge-keep", onclick: () => { state.purging = ""; renderClasses(); } }, t("classes.keep")))));
      setTimeout(() => typed.focus(), 0);
      return item;
    }));
  }

  async function purge(roster, confirm) {
    try {
      const done = await api("POST", `/rosters/${encodeURIComponent(roster)}/purge`, { confirm });
      state.purging = "";
      toast(t("classes.purged", { roster, students: done.students, results: done.results }), "good");
    } catch (error) { fail(error); }
    loadRosters();
  }

  // ---- lessons ------------------------------------------------------------

  async function loadLibrary() {
    if (state.library) { renderLessons(); return; }
    try {
      state.library = await api("GET", "/library");
      renderAll();
      fillLessonFilter();
    } catch (error) { fail(error); }
  }

  function renderLessons() {
    if (state.page !== "lessons") return;
    const n = state.selected.size;
    if (!changed("lessons", state.band, n, Boolean(state.library))) return;
    const bands = ["", "perceive", "apply", "create"];
    $("#bands").replaceChildren(...bands.map((band) => h("button", {
      type: "button", "aria-pressed": String(state.band === band),
      onclick: () => { state.band = band; renderLessons(); $(`#bands button:nth-child(${bands.indexOf(band) + 1})`).focus(); },
    }, band ? t(`band.${band}`) : t("lessons.all"))));
    $("#lessons-target").textContent = n ? t("lessons.target", { n }) : t("lessons.noTarget");
    if (!state.library) return;
    const other = state.lang === "zh" ? "en" : "zh";
    const shown = state.library.filter((l) => !state.band || l.band === state.band);
    const list = shown.map((l) => h("article", { class: "lesson panel", dataset: { lesson: l.id } },
      h("div", { class: "lesson-head" },
        h("h2", { id: `lesson-${l.id}` }, l.title[state.lang]),
        h("span", { class: `band b-${l.band}` }, t(`band.${l.band}`))),
      h("p", { class: "other-title", lang: other === "zh" ? "zh-CN" : "en" }, l.title[other]),
      h("p", {}, l.summary[state.lang]),
      h("p", { class: "muted" }, t("lessons.meta", { from: l.grades[0], to: l.grades[1], minutes: l.minutes }),
        l.topics.length ? ` · ${l.topics.join(", ")}` : "",
        l.challenge ? ` · ${t("lessons.challenge", { metric: l.challenge.metric })}` : ""),
      h("details", {},
        h("summary", {}, t("lessons.steps", { n: l.steps.length })),
        h("ol", {}, l.steps.map((s) => h("li", {}, h("strong", {}, s.title[state.lang]), h("p", {}, s.body[state.lang]))))),
      h("div", { class: "actions" },
        h("button", {
          type: "button", class: "push-selected", disabled: n === 0,
          "aria-describedby": `lesson-${l.id}`, onclick: () => push(l, [...state.selected]),
        }, t("lessons.pushSelected", { n })),
        h("button", {
          type: "button", class: "primary push-all", "aria-describedby": `lesson-${l.id}`,
          onclick: () => push(l, null),
        }, t("lessons.pushAll")),
        l.challenge ? h("button", {
          type: "button", class: "challenge", "aria-describedby": `lesson-${l.id}`,
          onclick: () => startChallenge(l),
        }, t("lessons.startChallenge")) : null)));
    $("#lesson-list").replaceChildren(...(list.length ? list : [h("p", { class: "empty" }, t("lessons.empty"))]));
  }

  async function push(lesson, devices) {
    try {
      const body = { lesson: lesson.id };
      if (devices) body.devices = devices;
      const answer = await api("POST", "/push", body);
      toast(t("lessons.pushed", { lesson: lesson.title[state.lang], n: answer.jobs.length }), "good");
    } catch (error) { fail(error); }
  }

  // Challenge mode: the same lesson to every robot, then the live leaderboard.
  async function startChallenge(lesson) {
    await push(lesson, null);
    location.hash = "#results";
    $("#filter-lesson").value = lesson.id;
    loadResults();
  }

  // ---- results ------------------------------------------------------------

  function fillLessonFilter() {
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
  async function loadClasses() {
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

  async function loadResults() {
    try {
      state.resultsSeen = state.room ? state.room.results : -1;
      state.results = await api("GET", `/results${resultQuery()}`);
      resultsVersion += 1;
      fillLessonFilter();
      renderResults();
    } catch (error) { fail(error); }
  }

  const expanded = new Set(); // result ids whose details are open

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
      result.reason ? h("p", {}, result.reason) : null);
  }

  let resultsVersion = 0; // bumped when a new list of results arrives

  function renderResults() {
    if (state.page !== "results") return;
    if (!changed("results", resultsVersion, [...expanded], Boolean(state.library))) return;
    const attempts = new Map(); // result id -> n-th attempt of that student (or robot) at that lesson
    const tries = new Map();
    for (const r of [...state.results].sort((a, b) => a.received - b.received)) {
      const who = `${r.student || r.device}\u0000${r.lesson_id}`;
      tries.set(who, (tries.get(who) || 0) + 1);
      attempts.set(r.result_id, tries.get(who));
    }
    const rows = [...state.results].reverse();
    $("#results-table tbody").replaceChildren(...rows.flatMap((r) => {
      const feedback = (r.result && r.result.feedback) || {};
      const passed = r.result && r.result.status === "passed";
      const open = expanded.has(r.result_id);
      const row = h("tr", { dataset: { result: r.result_id } },
        h("td", { class: "nowrap" }, new Date(r.received * 1000).toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en")),
        h("td", {}, r.student || t("card.unbound")),
        h("td", { class: "nowrap" }, r.device),
        h("td", {}, lessonTitle(r.lesson_id)),
        h("td", { class: "num" }, attempts.get(r.result_id)),
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
          onclick: () => window.RC.openJob(r),
        }, t("card.log"))));
      if (!open) return [row];
      return [row, h("tr", { class: "details-row", id: `details-${r.result_id}` }, h("td", { colspan: 9 }, details(r)))];
    }));
    $("#results-empty").hidden = rows.length > 0;
    drawChart(state.results);
    drawProgress(state.results);
    drawLeaderboard(state.results);
  }

  // Students down, lessons across, the best score in each cell (coloured by score).
  function drawProgress(results) {
    const order = new Map((state.library || []).map((l, i) => [l.id, i]));
    const lessons = [...new Set(results.map((r) => r.lesson_id).filter(Boolean))]
      .sort((a, b) => (order.get(a) ?? 999) - (order.get(b) ?? 999));
    const students = [...new Set(results.map((r) => r.student || r.device))].sort();
    const best = new Map();
    for (const r of results) {
      const key = `${r.student || r.device}\u0000${r.lesson_id}`;
      const cell = best.get(key) || { score: null, n: 0, passed: false };
      cell.n += 1;
      if (typeof r.score === "number" && (cell.score === null || r.score > cell.score)) cell.score = r.score;
      if (r.result && r.result.status === "passed") cell.passed = true;
      best.set(key, cell);
    }
    $("#progress").hidden = results.length === 0;
    $("#progress-table").replaceChildren(
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("col.student")),
        lessons.map((id) => h("th", { scope: "col" }, lessonTitle(id))))),
      h("tbody", {}, students.map((student) => h("tr", {},
        h("th", { scope: "row" }, student),
        lessons.map((id) => {
          const cell = best.get(`${student}\u0000${id}`);
          if (!cell) return h("td", { class: "heat none" }, t("card.none"));
          const band = cell.score === null ? "none" : `h${Math.min(4, Math.floor(cell.score / 20))}`;
          return h("td", {
            class: `heat ${band}`,
            title: t("results.progressCell", { student, lesson: lessonTitle(id), score: formatScore(cell.score), n: cell.n }),
          }, formatScore(cell.score), cell.passed ? " ✓" : "");
        })))));
  }

  // For a challenge lesson: each student's best value of the lesson's metric, ranked.
  function drawLeaderboard(results) {
    const box = $("#leaderboard");
    const lesson = (state.library || []).find((l) => l.id === $("#filter-lesson").value);
    const challenge = lesson && lesson.challenge;
    box.hidden = !challenge;
    if (!challenge) return;
    const lower = challenge.better !== "higher";
    const best = new Map();
    for (const r of results) {
      const value = r.result && r.result.metrics && r.result.metrics[challenge.metric];
      if (r.lesson_id !== lesson.id || typeof value !== "number" || !(r.result.status === "passed")) continue;
      const who = r.student || r.device;
      const old = best.get(who);
      if (old === undefined || (lower ? value < old : value > old)) best.set(who, value);
    }
    const ranked = [...best.entries()].sort((a, b) => (lower ? a[1] - b[1] : b[1] - a[1]));
    $("#leaderboard-title").textContent = t("results.leaderboard", { lesson: lesson.title[state.lang] });
    $("#leaderboard-metric").textContent = t("results.metric", { metric: challenge.metric, better: t(`better.${challenge.better}`) });
    $("#leaderboard-list").replaceChildren(
      ...(ranked.length
        ? ranked.map(([who, value]) => h("li", {}, h("strong", {}, who), ` ${Math.round(value * 100) / 100} ${challenge.unit || ""}`))
        : [h("li", { class: "muted none" }, t("card.none"))]));
  }

  // A histogram of scores in ten bands (0-9 ... 90-100), drawn as SVG.
  function drawChart(results) {
    const scores = results.map((r) => r.score).filter((s) => typeof s === "number");
    const bins = new Array(10).fill(0);
    for (const s of scores) bins[Math.min(9, Math.max(0, Math.floor(s / 10)))] += 1;
    const mean = scores.length ? (scores.reduce((a, b) => a + b, 0) / scores.length).toFixed(0) : "—";
    const passed = results.filter((r) => r.result && r.result.status === "passed").length;
    const W = 420, H = 220, left = 34, bottom = 34, top = 12, right = 8;
    const plotW = W - left - right, plotH = H - top - bottom;
    const peak = Math.max(1, ...bins);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const make = (tag, attrs, text) => {
      const el = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (text !== undefined) el.textContent = text;
      svg.append(el);
      return el;
    };
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", t("results.chartLabel", { n: scores.length, mean }));
    svg.id = "score-chart";
    for (let i = 0; i <= 4; i += 1) { // grid lines with counts
      const value = Math.round((peak * i) / 4);
      const y = top + plotH - (plotH * value) / peak;
      make("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" });
      make("text", { x: left - 6, y: y + 4, class: "tick", "text-anchor": "end" }, String(value));
    }
    const bw = plotW / 10;
    bins.forEach((count, i) => {
      const height = (plotH * count) / peak;
      const x = left + i * bw + 3;
      const y = top + plotH - height;
      const bar = make("rect", {
        x, y, width: bw - 6, height: Math.max(height, count ? 2 : 0),
        class: i >= 6 ? "bar pass" : "bar", "data-count": count,
      });
      const title = document.createElementNS(ns, "title");
      title.textContent = `${i * 10}–${i === 9 ? 100 : i * 10 + 9}: ${count}`;
      bar.append(title);
      if (count) make("text", { x: x + (bw - 6) / 2, y: y - 3, class: "count", "text-anchor": "middle" }, String(count));
      make("text", { x: left + i * bw + bw / 2, y: H - bottom + 15, class: "tick", "text-anchor": "middle" }, String(i * 10));
    });
    make("line", { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: "axis" });
    make("text", { x: left + plotW / 2, y: H - 4, class: "label", "text-anchor": "middle" }, t("results.axisScore"));
    $("#chart").replaceChildren(svg);
    $("#stats").textContent = t("results.stats", { n: scores.length, mean, passed });
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

  // ---- wiring -------------------------------------------------------------

  function wire() {
    $("#login-form").addEventListener("submit", login);
    $("#setup-form").addEventListener("submit", setup);
    $("#logout").addEventListener("click", logout);
    $("#lang").addEventListener("change", (e) => {
      state.lang = e.target.value;
      localStorage.setItem("rc-lang", state.lang);
      $("#toast").hidden = true;
      applyLang();
      if (state.page === "results") fillLessonFilter();
      if (state.page === "roster") renderClasses();
    });
    $("#stop-all").addEventListener("click", stopAll);
    $("#release").addEventListener("click", release);
    $("#select-all").addEventListener("change", (e) => selectAll(e.target.checked));
    $("#identify-selected").addEventListener("click", () => identify([...state.selected]));
    $("#check-selected").addEventListener("click", () => preflight([...state.selected]));
    $("#roster-import").addEventListener("submit", importRoster);
    $("#roster-class").value = localStorage.getItem("rc-class") || "";
    $("#roster-class").addEventListener("change", (e) => localStorage.setItem("rc-class", e.target.value.trim()));
    $("#result-filters").addEventListener("submit", (e) => { e.preventDefault(); loadResults(); });
    for (const id of ["#filter-lesson", "#filter-status"]) $(id).addEventListener("change", loadResults);
    $("#filter-class").addEventListener("change", () => { loadClasses(); loadResults(); });
    let typing = 0;
    $("#filter-student").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(loadResults, 300); });
    $("#export-csv").addEventListener("click", () => download("results.csv", "results.csv"));
    $("#export-xapi").addEventListener("click", () => download("results.xapi", "results-xapi.json"));
    $("#log-dialog").addEventListener("close", closeLog);
    $("#log-close").addEventListener("click", () => $("#log-dialog").close());
    $("#log-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#log-dialog").close(); });
    window.addEventListener("hashchange", route);
  }

  // ---- parts in other files (live.js, audit.js) ---------------------------

  const plugins = [];
  function plug(hook, ...args) {
    for (const part of plugins) if (part[hook]) part[hook](...args);
  }
  window.RC = {
    $, h, t, api, readEvents, toast, fail, state, lessonTitle, formatScore, changed,
    use: (part) => plugins.push(part),
    openJob: () => {}, openPreview: () => {}, // live.js replaces these
  };

  // After the session check: the cookie is HttpOnly, so only the console knows it.
  async function resume() {
    try {
      state.user = (await api("GET", "/session")).username;
    } catch (error) {
      showLogin();
      return;
    }
    start();
  }

  // Deferred scripts run in order, then DOMContentLoaded: live.js and audit.js are in by then.
  document.addEventListener("DOMContentLoaded", () => {
    state.lang = pickLang();
    wire();
    applyLang();
    resume();
  });
})();
