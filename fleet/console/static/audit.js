// The audit log page (who did what, when) and the teacher's own API tokens.

import { api, fail } from "./api.js";
import { $, changed, h, toast } from "./dom.js";
import { lessonTitle } from "./format.js";
import { locale, t } from "./i18n.js";
import { state } from "./store.js";

// Actions the console records; anything else is shown by its name.
const ACTIONS = ["push", "push-model", "stop", "release", "cancel", "preview", "purge", "setup", "token", "revoke-token", "camera-panel"];
const audit = { rows: [], tokens: [], loaded: 0 };

function actionName(action) {
  const key = `audit.a.${action}`;
  const text = t(key);
  return text === key ? action : text;
}

// One line a teacher can read: "line-follower to 3 robots", "camera of robot-01 on", ...
function describe(entry) {
  const d = entry.detail || {};
  const devices = Array.isArray(d.devices) ? d.devices : [];
  switch (entry.action) {
    case "push":
      return t("audit.d.push", { lesson: lessonTitle(d.lesson_id), n: devices.length, robots: devices.join(", ") });
    case "push-model":
      return t("audit.d.pushModel", { model: d.model, n: devices.length, robots: devices.join(", ") });
    case "stop":
    case "release":
      return t("audit.d.epoch", { epoch: d.epoch });
    case "cancel":
      return t("audit.d.cancel", { job: d.job });
    case "preview":
      return t(d.on ? "audit.d.previewOn" : "audit.d.previewOff", { robot: d.device });
    case "camera-panel":
      return t(d.on ? "audit.d.cameraOn" : "audit.d.cameraOff", { roster: d.roster });
    case "purge":
      return t("audit.d.purge", { roster: d.roster, students: d.students, results: d.results });
    case "token":
      return t("audit.d.token", { name: d.name });
    case "revoke-token":
      return t("audit.d.revokeToken", { id: d.id });
    default:
      return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
  }
}

async function loadAudit() {
  try {
    const action = $("#audit-action").value;
    const [rows, tokens] = await Promise.all([
      api("GET", `/audit?limit=500${action ? `&action=${encodeURIComponent(action)}` : ""}`),
      api("GET", "/tokens"),
    ]);
    audit.rows = rows;
    audit.tokens = tokens;
    audit.loaded += 1;
    renderAudit();
  } catch (error) { fail(error); }
}

function fillActions() {
  const select = $("#audit-action");
  const current = select.value;
  select.replaceChildren(h("option", { value: "" }, t("results.any")),
    ...ACTIONS.map((a) => h("option", { value: a }, actionName(a))));
  select.value = current;
}

function tokenItem(tok) {
  const login = tok.name === "login";
  const made = new Date(tok.created * 1000).toLocaleString(locale());
  const label = login
    ? (tok.current ? t("tokens.thisLogin") : t("tokens.login"))
    : tok.name;
  return h("li", { dataset: { token: tok.id } },
    h("span", { class: "token-name" }, label),
    h("span", { class: "muted" }, tok.expires
      ? t("tokens.until", { made, until: new Date(tok.expires * 1000).toLocaleString(locale()) })
      : t("tokens.made", { made })),
    tok.current ? null : h("button", {
      type: "button", class: "small revoke",
      "aria-label": t("tokens.revokeOne", { name: label }),
      onclick: () => revoke(tok),
    }, t("tokens.revoke")));
}

export function renderAudit() {
  if (state.page !== "audit") return;
  if (!changed("audit", audit.loaded)) return;
  fillActions();
  $("#audit-table tbody").replaceChildren(...audit.rows.map((e) => h("tr", { dataset: { action: e.action } },
    h("td", { class: "nowrap" }, new Date(e.ts * 1000).toLocaleString(locale())),
    h("td", {}, e.who),
    h("td", {}, h("span", { class: `audit-action a-${e.action}` }, actionName(e.action))),
    h("td", { class: "detail" }, describe(e)))));
  $("#audit-empty").hidden = audit.rows.length > 0;
  $("#token-list").replaceChildren(...(audit.tokens.length
    ? audit.tokens.map(tokenItem)
    : [h("li", { class: "muted" }, t("tokens.none"))]));
}

async function revoke(tok) {
  try {
    await api("DELETE", `/tokens/${encodeURIComponent(tok.id)}`);
    toast(t("tokens.revoked", { name: tok.name === "login" ? t("tokens.login") : tok.name }), "good");
  } catch (error) { fail(error); }
  loadAudit();
}

async function makeToken(event) {
  event.preventDefault();
  const name = $("#token-name").value.trim();
  if (!name) { toast(t("tokens.needName"), "bad"); $("#token-name").focus(); return; }
  try {
    const made = await api("POST", "/tokens", { name });
    $("#token-value").textContent = made.token;
    $("#token-new").hidden = false;
    $("#token-name").value = "";
    toast(t("tokens.made1", { name }), "good");
  } catch (error) { fail(error); }
  loadAudit();
}

function hideNewToken() {
  $("#token-new").hidden = true;
  $("#token-value").textContent = "";
}

// A page was chosen: the audit page loads; any other hides a new token (it is shown once).
export function auditRoute(page) {
  if (page === "audit") loadAudit();
  else hideNewToken();
}

export function leaveAudit() {
  audit.rows = [];
  audit.tokens = [];
  hideNewToken();
}

export function wireAudit() {
  $("#audit-action").addEventListener("change", loadAudit);
  $("#audit-filters").addEventListener("submit", (e) => { e.preventDefault(); loadAudit(); });
  $("#token-form").addEventListener("submit", makeToken);
}
