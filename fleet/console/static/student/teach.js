// The Teach panel: show your own robot examples, train a model, try it, put it on the robot.
// The pictures are taken and kept on the robot; this page only shows small copies of them,
// which the console keeps in memory (GET /api/v1/student/teach/pictures/...), never on disk.

import { $, h, toast } from "../dom.js";
import { api, readEvents } from "./api.js";
import { lang, pick, t } from "./i18n.js";
import { work } from "./code.js";

const HOLD_MS = 450; // press longer than this: a burst
const BURST = 5; // pictures a held button takes each second
// The signs of "Teach your robot" and "Drive by your own signs": quick labels with their names.
const SIGNS = {
  stop: { en: "stop", zh: "停车" },
  left: { en: "left", zh: "左转" },
  right: { en: "right", zh: "右转" },
};

const teach = { view: null, abort: null, started: 0, trying: false };

const send = (path, body) => api("POST", `/student/teach${path}`, body)
  .catch((error) => toast(error.message, "bad", 6000));

function labelName(label) {
  return label.zh !== label.en && lang.now === "zh" ? label.zh : pick(label);
}

// ---- the parts of the panel ---------------------------------------------------

function showWhere() {
  const key = $("#teach-where-pick").value === "console" ? "teach.where.console" : "teach.where";
  $("#teach-where").textContent = t(key, { device: work.me.device || "?" });
  $("#teach-name").placeholder = t("teach.add.placeholder");
}

function showCards(state) {
  const cards = (state && state.cards) || [];
  $("#teach-cards").hidden = !cards.length;
  if (!cards.length) return;
  $("#teach-card-list").replaceChildren(
    ...cards.map((c) => h("button", {
      type: "button", class: `card-btn ${state.card === c ? "held" : ""}`,
      "data-card": c, onclick: () => send("/card", { card: c }),
    }, SIGNS[c] ? pick(SIGNS[c]) : c)),
    h("button", { type: "button", class: "plain", onclick: () => send("/card", { card: null }) },
      t("teach.card.down")));
}

// A press takes one picture; a held button takes a burst now and another each second. The
// panel is drawn again as pictures come, so the hold lives here, not in the button, and any
// pointerup on the page ends it.
const hold = { label: null, burst: false, timer: 0, every: 0 };

function release() {
  clearTimeout(hold.timer);
  clearInterval(hold.every);
  if (hold.label && !hold.burst) send("/capture", { label: hold.label, count: 1 });
  hold.label = null;
  hold.burst = false;
}

function captureButton(label) {
  const button = h("button", { type: "button", class: "primary shoot", "data-label": label.id },
    t("teach.shoot"));
  button.addEventListener("pointerdown", () => {
    release();
    hold.label = label.id;
    hold.timer = setTimeout(() => {
      hold.burst = true;
      send("/capture", { label: label.id, count: BURST });
      hold.every = setInterval(() => send("/capture", { label: label.id, count: BURST }), 1000);
    }, HOLD_MS);
  });
  button.addEventListener("pointerup", release);
  return button;
}

function showLabels(view) {
  const state = view.state || {};
  const labels = state.labels || [];
  const enough = state.min_per_label || 3;
  const have = new Set(view.pictures || []);
  $("#teach-labels").replaceChildren(...labels.map((label) => {
    const n = label.pictures.length;
    const ok = n >= enough;
    return h("div", { class: "teach-label", "data-label": label.id },
      h("div", { class: "row" },
        h("strong", { class: "label-name" }, labelName(label)),
        h("span", { class: `count ${ok ? "ok" : "few"}`, "data-count": n },
          ok ? t("teach.count.ok", { n }) : t("teach.count.few", { n, need: enough })),
        captureButton(label),
        h("button", { type: "button", class: "plain small", onclick: () => rename(label) },
          t("teach.rename")),
        h("button", { type: "button", class: "plain small", onclick: () => removeLabel(label) },
          t("teach.label.delete"))),
      h("div", { class: "gallery" }, ...label.pictures.map((p) => h("figure", { class: "thumb" },
        have.has(p) ? h("img", { src: `/api/v1/student/teach/pictures/${p}`, alt: labelName(label) })
          : h("span", { class: "muted" }, "…"),
        h("button", { type: "button", class: "x", "aria-label": t("teach.picture.delete"),
          onclick: () => api("DELETE", `/student/teach/pictures/${p}`).catch(() => {}) }, "×")))));
  }));
  const known = new Set(labels.map((l) => l.id));
  $("#teach-quick").replaceChildren(...Object.entries(SIGNS).filter(([id]) => !known.has(id))
    .map(([id, names]) => h("button", { type: "button", class: "plain small",
      onclick: () => send("/labels", { id, name: pick(names) }) }, `+ ${pick(names)}`)));
  const ready = labels.length >= 2 && labels.every((l) => l.pictures.length >= enough);
  $("#teach-train").disabled = !ready || state.busy === "train";
  $("#teach-ready").textContent = ready ? t("teach.ready") : t("teach.notready", { need: enough });
}

async function rename(label) {
  const name = prompt(t("teach.rename.ask"), labelName(label));
  if (name && name.trim()) await send("/labels", { id: label.id, name: name.trim() });
}

async function removeLabel(label) {
  if (!confirm(t("teach.label.delete.ask", { name: labelName(label) }))) return;
  await api("DELETE", `/student/teach/labels/${label.id}`).catch((e) => toast(e.message, "bad"));
}

function showProgress(view) {
  const progress = view.progress;
  const bar = $("#teach-progress");
  const busy = view.state && view.state.busy === "train";
  bar.hidden = !progress && !busy;
  if (progress) {
    const share = progress.stage === "features" ? progress.done * 0.9
      : progress.stage === "head" ? 0.9 + progress.done * 0.1 : progress.done;
    bar.value = Math.round(share * 100);
  }
  $("#teach-stage").textContent = progress && (busy || progress.done < 1)
    ? t(`teach.stage.${progress.stage}`) : "";
}

function confusionTable(result, names) {
  const order = result.order;
  const head = h("tr", {}, h("th", { class: "corner" }, t("teach.matrix.corner")),
    ...order.map((id) => h("th", { scope: "col" }, names[id] || id)));
  const rows = result.confusion.map((row, i) => h("tr", {},
    h("th", { scope: "row" }, names[order[i]] || order[i]),
    ...row.map((n, j) => h("td", { class: i === j ? "right" : n ? "wrong" : "" }, String(n)))));
  return h("table", { class: "matrix", id: "teach-matrix" },
    h("caption", {}, t("teach.matrix.caption")), h("thead", {}, head), h("tbody", {}, ...rows));
}

function showResult(view) {
  const result = view.result;
  const box = $("#teach-result");
  box.hidden = !result;
  if (!result) return;
  const names = Object.fromEntries(((view.state && view.state.labels) || [])
    .map((l) => [l.id, labelName(l)]));
  const pct = Math.round(result.accuracy * 100);
  const seconds = result.seconds ? result.seconds.total.toFixed(1) : "?";
  const mistakes = result.mistakes || [];
  box.replaceChildren(
    h("p", { class: "accuracy", id: "teach-accuracy", "data-accuracy": pct },
      t("teach.accuracy", { pct, n: result.checked_on })),
    h("p", { class: "muted", id: "teach-time" }, t("teach.took", { seconds, n: result.trained_on })),
    confusionTable(result, names),
    h("h3", {}, mistakes.length ? t("teach.mistakes") : t("teach.nomistakes")),
    h("div", { class: "gallery mistakes" }, ...mistakes.map((m) => h("figure", { class: "thumb" },
      h("img", { src: `/api/v1/student/teach/pictures/${m.picture}`, alt: "" }),
      h("figcaption", {}, t("teach.mistake", { truth: names[m.truth] || m.truth,
        said: names[m.said] || m.said }))))));
}

function showTry(view) {
  const tried = view.try;
  const busy = view.state && view.state.busy;
  teach.trying = busy === "try";
  $("#teach-try").textContent = teach.trying ? t("teach.try.off") : t("teach.try.on");
  // (trained on the console: the robot tries it once it is on the robot, else it says to wait)
  $("#teach-try").disabled = !view.result && !teach.trying;
  const overlay = $("#teach-says");
  overlay.hidden = !(teach.trying && tried);
  if (teach.trying && tried) {
    const names = Object.fromEntries(((view.state && view.state.labels) || [])
      .map((l) => [l.id, labelName(l)]));
    overlay.textContent = t("teach.says", { label: names[tried.label] || tried.label,
      pct: Math.round(tried.score * 100) });
    overlay.dataset.label = tried.label;
    if (tried.jpeg) $("#teach-camera").src = `data:image/jpeg;base64,${tried.jpeg}`;
  }
  $("#teach-deploy").disabled = !view.result;
}

function showDeployed(view) {
  const done = view.deployed;
  $("#teach-deployed").hidden = !done;
  if (done) $("#teach-deployed").textContent = t("teach.deployed", { name: done.model });
}

function showError(view) {
  const error = view.error;
  if (!error || error.n === teach.lastError) return;
  teach.lastError = error.n;
  toast(lang.now === "zh" ? error.zh : error.en, "bad", 7000);
}

function render() {
  const view = teach.view;
  if (!view) return;
  showWhere();
  showCards(view.state);
  showLabels(view);
  showProgress(view);
  showResult(view);
  showTry(view);
  showDeployed(view);
  showError(view);
}

// ---- opening and closing ------------------------------------------------------

function onEvent(name, data) {
  if (name === "camera") {
    if (!teach.trying) $("#teach-camera").src = `data:image/jpeg;base64,${data.jpeg}`;
  } else if (name === "view") {
    teach.view = data;
    render();
  }
}

async function open() {
  if (!work.me.device) { toast(t("run.norobot"), "bad"); return; }
  $("#teach").hidden = false;
  $("#teach").scrollIntoView({ behavior: "smooth" });
  showWhere();
  await send("/open");
  if (teach.abort) teach.abort.abort();
  teach.abort = new AbortController();
  readEvents("/api/v1/student/teach/events", teach.abort.signal, onEvent)
    .catch((error) => { if (error.name !== "AbortError") toast(error.message, "bad"); });
}

async function close() {
  if (teach.abort) teach.abort.abort();
  teach.abort = null;
  $("#teach").hidden = true;
  await send("/close");
}

// Wire the panel (once, when the workspace opens).
export function setupTeach() {
  window.addEventListener("pointerup", () => { if (hold.label) release(); });
  window.addEventListener("pointercancel", () => { if (hold.label) release(); });
  $("#teach-open").onclick = open;
  $("#teach-close").onclick = close;
  $("#teach-add").onsubmit = async (e) => {
    e.preventDefault();
    const name = $("#teach-name").value.trim();
    if (!name) return;
    await send("/labels", { name });
    $("#teach-name").value = "";
  };
  $("#teach-train").onclick = () => {
    teach.started = Date.now();
    send("/train", { where: $("#teach-where-pick").value });
  };
  $("#teach-where-pick").onchange = showWhere;
  $("#teach-try").onclick = () => send("/try", { on: !teach.trying });
  $("#teach-deploy-form").onsubmit = (e) => {
    e.preventDefault();
    const name = $("#teach-model").value.trim();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) { toast(t("teach.model.bad"), "bad", 6000); return; }
    send("/deploy", { name });
  };
}

// The language changed: the panel's words again.
export function relabelTeach() {
  if (!$("#teach").hidden) render();
}
