// A robot's log, streamed into a dialog while it is open.

import { readEvents } from "./api.js";
import { $, h } from "./dom.js";
import { t } from "./i18n.js";

let control = null; // AbortController of the log's stream
let opener = null; // what had focus before the dialog

export function openLog(device) {
  const dialog = $("#log-dialog");
  const box = $("#log-lines");
  $("#log-title").textContent = t("log.title", { name: device });
  box.replaceChildren(h("p", { class: "muted" }, t("log.empty")));
  if (control) control.abort();
  const mine = new AbortController();
  control = mine;
  let job;
  let empty = true;
  readEvents(`/api/v1/devices/${encodeURIComponent(device)}/log/events`, mine.signal, (event, lines) => {
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
  opener = document.activeElement;
  dialog.show(); // not modal: STOP ALL stays usable
  $("#log-close").focus();
}

function closeLog() {
  if (control) control.abort();
  control = null;
  if (opener && document.body.contains(opener)) opener.focus();
  opener = null;
}

export function wireLog() {
  $("#log-dialog").addEventListener("close", closeLog);
  $("#log-close").addEventListener("click", () => $("#log-dialog").close());
  $("#log-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#log-dialog").close(); });
}
