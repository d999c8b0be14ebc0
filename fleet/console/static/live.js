// Live parts of the teacher console: a robot's camera preview and one job's log.
// The preview is off until the teacher opens it for one robot; the pictures
// live only in this page (an <img> data URL, replaced by the next one) and the
// console's memory; closing the dialog turns the preview off on the robot.
"use strict";

(() => {
  const { $, h, t, api, readEvents, fail, state, lessonTitle, formatScore } = window.RC;
  const enc = encodeURIComponent;

  // ---- camera preview -----------------------------------------------------

  const preview = {
    device: "", // the robot being watched ("" when none)
    control: null, // AbortController of its event stream
    until: 0, // when the console stops it (Unix seconds)
    state: "", // the last state shown
    clock: 0, // the countdown's timer
    opener: null, // what had focus before the dialog
  };

  function showMessage(text) {
    $("#preview-message").textContent = text;
    $("#preview-message").hidden = !text;
    // the status line says it for screen readers; on screen the message in the frame is enough
    $("#preview-status").classList.toggle("sr-only", Boolean(text));
  }

  function setStatus(text) {
    // only when it changes: a screen reader should not hear every picture
    if ($("#preview-status").textContent !== text) $("#preview-status").textContent = text;
  }

  function tick() {
    const left = Math.max(0, Math.round(preview.until - Date.now() / 1000));
    const mm = Math.floor(left / 60);
    const ss = String(left % 60).padStart(2, "0");
    $("#preview-clock").textContent = preview.until && preview.state !== "off"
      ? t("preview.left", { time: `${mm}:${ss}` }) : "";
  }

  function onPreview(event, data) {
    const img = $("#preview-img");
    if (event === "off" || data.state === "off") {
      preview.state = "off";
      img.hidden = true;
      img.removeAttribute("src");
      $("#preview-dialog").dataset.state = "off";
      showMessage(t("preview.ended"));
      setStatus(t("preview.ended"));
      $("#preview-again").textContent = t("preview.restart");
      tick();
      return;
    }
    preview.until = data.until || preview.until;
    preview.state = data.state;
    $("#preview-dialog").dataset.state = data.state;
    if (data.state === "frame") {
      img.src = `data:image/jpeg;base64,${data.jpeg}`;
      img.dataset.seq = String(data.seq);
      img.width = data.width || 160;
      img.height = data.height || 120;
      const at = new Date(data.ts * 1000).toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en");
      img.alt = t("preview.alt", { name: preview.device, time: at });
      img.hidden = false;
      showMessage("");
      setStatus(data.source === "program" ? t("preview.program") : t("preview.robot"));
    } else {
      // no picture: say why, and show no stale one
      img.hidden = true;
      img.removeAttribute("src");
      const text = data.state === "error"
        ? t("preview.error", { detail: data.detail || "" })
        : t(`preview.${data.state}`);
      showMessage(text);
      setStatus(text);
    }
    tick();
  }

  function follow(device) {
    if (preview.control) preview.control.abort();
    const control = new AbortController();
    preview.control = control;
    readEvents(`/api/v1/devices/${enc(device)}/preview/events`, control.signal, onPreview)
      .catch(() => { if (!control.signal.aborted) onPreview("off", {}); });
  }

  async function turnOn(device) {
    const answer = await api("POST", `/devices/${enc(device)}/preview`, { on: true });
    preview.until = answer.until;
    preview.state = "waiting";
    $("#preview-dialog").dataset.state = "waiting";
    $("#preview-again").textContent = t("preview.again");
    showMessage(t("preview.waiting"));
    setStatus(t("preview.waiting"));
    follow(device);
    tick();
  }

  async function openPreview(device) {
    const dialog = $("#preview-dialog");
    if (preview.device && preview.device !== device) await stopPreview(false);
    preview.device = device;
    $("#preview-title").textContent = t("preview.title", { name: device });
    $("#preview-img").hidden = true;
    try {
      await turnOn(device);
    } catch (error) {
      preview.device = "";
      fail(error);
      return;
    }
    clearInterval(preview.clock);
    preview.clock = setInterval(tick, 1000);
    if (!dialog.open) {
      preview.opener = document.activeElement;
      dialog.show(); // not modal: STOP ALL stays usable
    }
    $("#preview-close").focus();
  }

  // Turn the preview off on the robot and forget the picture here too.
  async function stopPreview(close = true) {
    const device = preview.device;
    preview.device = "";
    if (preview.control) preview.control.abort();
    preview.control = null;
    clearInterval(preview.clock);
    const img = $("#preview-img");
    img.hidden = true;
    img.removeAttribute("src");
    if (device) {
      try {
        await api("POST", `/devices/${enc(device)}/preview`, { on: false });
      } catch (error) { if (error.status !== 401) fail(error); } // logged out: it runs out by itself
    }
    if (close && $("#preview-dialog").open) $("#preview-dialog").close();
  }

  function again() {
    if (!preview.device) return;
    turnOn(preview.device).catch(fail);
  }

  // ---- one job: what the student sees, and its output ------------------------

  const job = { control: null, id: "", opener: null, row: null, full: null };

  function jobTitle() {
    const r = job.row;
    if (r) $("#job-title").textContent = t("job.title", { lesson: lessonTitle(r.lesson_id), name: r.student || r.device });
  }

  // The same lines `roboclass lesson run` prints for the student.
  function studentView(result) {
    if (!result) return t("job.noResult");
    const lines = [];
    const seconds = typeof result.seconds === "number" ? `, ${result.seconds.toFixed(1)} s` : "";
    if (result.score !== undefined || result.run_status) {
      lines.push(`${result.status || "?"}  ${t("job.score", { score: formatScore(result.score) })}  (${result.run_status || "?"}${seconds})`);
    } else {
      lines.push(String(result.status || "?"));
    }
    for (const item of result.rubric || []) {
      const title = (item.title && (item.title[state.lang] || item.title.en)) || item.id;
      lines.push(`  ${item.passed ? "✓" : "✗"} ${title}  (${item.points})`);
    }
    const feedback = result.feedback || {};
    const said = feedback[state.lang] || feedback.en;
    if (said) lines.push(said);
    if (result.error) lines.push(result.error);
    else if (result.reason) lines.push(result.reason);
    return lines.join("\n");
  }

  function addLines(box, lines, first) {
    const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
    if (first) box.replaceChildren();
    for (const line of lines) box.append(h("div", { class: `log-line ${line.stream}` }, line.line));
    if (atEnd) box.scrollTop = box.scrollHeight;
  }

  // result: a row of /results (job, device, lesson_id, result, ...) or just {job, device, lesson_id}.
  async function openJob(result) {
    const dialog = $("#job-dialog");
    if (job.control) job.control.abort();
    const control = new AbortController();
    job.control = control;
    job.id = result.job;
    job.row = result;
    jobTitle();
    $("#job-meta").textContent = t("job.meta", { job: result.job, robot: result.device });
    let full = result.result;
    if (!full) { // opened from a card: the result, if there is one yet
      try {
        const rows = await api("GET", `/results?device=${enc(result.device)}`);
        const row = rows.find((r) => r.job === result.job);
        full = row && row.result;
      } catch (error) { fail(error); }
    }
    job.full = full;
    $("#job-student").textContent = studentView(full);
    const box = $("#job-lines");
    box.replaceChildren(h("p", { class: "muted" }, t("log.empty")));
    $("#job-log-note").textContent = "";
    let kept = false;
    try {
      kept = (await api("GET", `/jobs/${enc(result.job)}/log`)).kept;
    } catch (error) { if (error.status !== 404) fail(error); }
    if (!kept && full && full.output) {
      // the console no longer holds this job's lines: the result kept the last ones
      $("#job-log-note").textContent = t("job.fromResult");
      addLines(box, full.output.split("\n").map((line) => ({ stream: "stdout", line })), true);
    }
    let first = !(full && full.output && !kept);
    readEvents(`/api/v1/jobs/${enc(result.job)}/log/events`, control.signal, (event, lines) => {
      if (event !== "lines") return;
      if (!kept && !first) { $("#job-log-note").textContent = ""; first = true; }
      addLines(box, lines, first);
      first = false;
      kept = true;
    }).catch(() => {});
    if (!dialog.open) {
      job.opener = document.activeElement;
      dialog.show(); // not modal: STOP ALL stays usable
    }
    $("#job-close").focus();
  }

  function closed(which) {
    if (which.control) which.control.abort();
    which.control = null;
    if (which.opener && document.body.contains(which.opener)) which.opener.focus();
    which.opener = null;
  }

  // ---- wiring ---------------------------------------------------------------

  document.addEventListener("DOMContentLoaded", () => {
    $("#preview-close").addEventListener("click", () => stopPreview(true));
    $("#preview-again").addEventListener("click", again);
    $("#preview-dialog").addEventListener("close", () => {
      if (preview.device) stopPreview(false);
      closed(preview);
    });
    $("#preview-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#preview-dialog").close(); });
    $("#job-close").addEventListener("click", () => $("#job-dialog").close());
    $("#job-dialog").addEventListener("close", () => closed(job));
    $("#job-dialog").addEventListener("keydown", (e) => { if (e.key === "Escape") $("#job-dialog").close(); });
  });

  window.RC.openPreview = openPreview;
  window.RC.openJob = openJob;
  window.RC.use({
    // the room says the preview ended (its 2 minutes are over) before the stream does
    room(room) {
      if (!preview.device || preview.state === "off") return;
      const d = room.devices.find((x) => x.device === preview.device);
      if (d && !d.preview) onPreview("off", {});
    },
    // the lesson's title once the library has come, and in the language chosen
    render() {
      if (!$("#job-dialog").open) return;
      jobTitle();
      const text = studentView(job.full);
      if ($("#job-student").textContent !== text) $("#job-student").textContent = text;
    },
    logout() {
      if ($("#preview-dialog").open) stopPreview(true);
      if ($("#job-dialog").open) $("#job-dialog").close();
    },
  });
})();
