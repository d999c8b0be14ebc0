// New robots on the room page: claim an unclaimed robot with the code it shows,
// and revoke an enrolled one. Self-contained (its own zh/en words and API
// calls), so it rides along with app.js without touching it.
"use strict";

(() => {
  const WORDS = {
    en: {
      title: "New robots",
      intro: "A robot that has never been set up shows a claim code (on its screen or label, or as blinks and beeps). Type it here to add the robot to this room.",
      none: "No unclaimed robot found on the network. Switch one on, wait a few seconds, or add it by its address.",
      code: "Claim code",
      name: "Name",
      claim: "Claim",
      byAddress: "Add by address (the Wi-Fi blocks discovery)",
      robotId: "Robot id (rc-…)",
      address: "Address (host:port)",
      claimed: "{name} is in the room now.",
      wrong: "Wrong claim code: look at the robot again.",
      manage: "Robots of this room",
      revoke: "Revoke",
      rename: "Rename",
      renameAsk: "New name for {name} (letters, digits, - _ .). The robot must be on:",
      renamed: "{name} is now {to}.",
      revokeAsk: "Revoking {name} locks it out for good (it has to be claimed again). Type its name to confirm:",
      revoked: "{name} is revoked: the broker refuses it.",
      move: "Move to another room",
      moveAsk: "{name} will forget this room and show a new claim code; claim it with that code on the other room's console. Type its name to confirm:",
      moved: "{name} has left this room: claim it on the other room's console with the code it shows now.",
      disabled: "This console cannot add robots: start it with the classroom's folder (roboclass console serve --broker-folder DIR/console).",
      failed: "Could not do it: {msg}",
    },
    zh: {
      title: "新机器人",
      intro: "从未设置过的机器人会显示一个认领码（在屏幕或标签上，或用灯光和蜂鸣声表示）。在这里输入认领码，把机器人加入本教室。",
      none: "网络上没有找到未认领的机器人。请打开机器人电源，稍等几秒，或按地址添加。",
      code: "认领码",
      name: "名称",
      claim: "认领",
      byAddress: "按地址添加（Wi-Fi 屏蔽了自动发现）",
      robotId: "机器人编号（rc-…）",
      address: "地址（主机:端口）",
      claimed: "{name} 已加入本教室。",
      wrong: "认领码不对：请再看一下机器人。",
      manage: "本教室的机器人",
      revoke: "吊销",
      rename: "改名",
      renameAsk: "{name} 的新名称（字母、数字、- _ .）。机器人必须开着：",
      renamed: "{name} 已改名为 {to}。",
      revokeAsk: "吊销 {name} 后它将被永久拒绝（需要重新认领）。请输入它的名称确认：",
      revoked: "{name} 已吊销：服务器会拒绝它。",
      move: "移到其他教室",
      moveAsk: "{name} 将忘记本教室并显示新的认领码；请在另一间教室的控制台用该认领码认领它。请输入它的名称确认：",
      moved: "{name} 已离开本教室：请在另一间教室的控制台用它现在显示的认领码认领。",
      disabled: "此控制台不能添加机器人：请用教室的文件夹启动它（roboclass console serve --broker-folder DIR/console）。",
      failed: "操作失败：{msg}",
    },
  };
  const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/;
  let timer = 0;
  let last = "";

  const $ = (sel) => document.querySelector(sel);
  const lang = () => (document.documentElement.lang.startsWith("zh") ? "zh" : "en");
  function w(key, vars) {
    let text = WORDS[lang()][key] ?? WORDS.en[key];
    for (const [k, v] of Object.entries(vars || {})) text = text.split(`{${k}}`).join(String(v));
    return text;
  }
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  function say(text, kind) {
    const el = $("#toast");
    if (!el) return;
    el.textContent = text;
    el.className = `toast ${kind || ""}`;
    el.hidden = false;
    setTimeout(() => { el.hidden = true; }, 5000);
  }

  // The console's API: the login cookie, or the bearer token an older page kept.
  async function api(method, path, body) {
    const headers = {};
    const token = sessionStorage.getItem("rc-token");
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`/api/v1${path}`, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = (response.headers.get("content-type") || "").includes("json") ? await response.json() : null;
    if (!response.ok) {
      const error = new Error((data && typeof data.detail === "string" && data.detail) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  async function claim(robot, code, name, address) {
    try {
      await api("POST", "/enrol/claim", { robot, code, name, ...(address ? { address } : {}) });
      say(w("claimed", { name }), "good");
      last = "";
      refresh();
    } catch (error) {
      say(error.status === 403 ? w("wrong") : w("failed", { msg: error.message }), "bad");
    }
  }

  async function revoke(device) {
    const typed = window.prompt(w("revokeAsk", { name: device }));
    if (typed === null) return;
    try {
      await api("POST", `/devices/${encodeURIComponent(device)}/revoke`, { confirm: typed });
      say(w("revoked", { name: device }), "good");
      last = "";
      refresh();
    } catch (error) {
      say(w("failed", { msg: error.message }), "bad");
    }
  }

  async function move(device) {
    const typed = window.prompt(w("moveAsk", { name: device }));
    if (typed === null) return;
    try {
      await api("POST", `/devices/${encodeURIComponent(device)}/move`, { confirm: typed });
      say(w("moved", { name: device }), "good");
      last = "";
      refresh();
    } catch (error) {
      say(w("failed", { msg: error.message }), "bad");
    }
  }

  async function rename(device) {
    const to = (window.prompt(w("renameAsk", { name: device })) || "").trim();
    if (!to || to === device) return;
    try {
      await api("POST", `/devices/${encodeURIComponent(device)}/rename`, { name: to });
      say(w("renamed", { name: device, to }), "good");
      last = "";
      refresh();
    } catch (error) {
      say(w("failed", { msg: error.message }), "bad");
    }
  }

  function claimForm(robot, suggested, withAddress) {
    const fields = {
      robot: h("input", { name: "robot", required: true, placeholder: "rc-…", "aria-label": w("robotId"), value: robot || "" }),
      address: h("input", { name: "address", required: true, placeholder: "192.168.1.23:8764", "aria-label": w("address") }),
      code: h("input", { name: "code", required: true, inputmode: "numeric", autocomplete: "off", placeholder: "1234-5678", "aria-label": w("code") }),
      name: h("input", { name: "name", required: true, pattern: NAME_RE.source, placeholder: "robot-07", "aria-label": w("name"),
        value: NAME_RE.test(suggested || "") ? suggested : "" }),
    };
    const form = h("form", { class: "enrol-claim", onsubmit: (event) => {
      event.preventDefault();
      claim(fields.robot.value.trim(), fields.code.value, fields.name.value.trim(),
        withAddress ? fields.address.value.trim() : null);
    } },
    withAddress ? [fields.robot, fields.address] : [],
    fields.code, fields.name, h("button", { type: "submit", class: "primary" }, w("claim")));
    return form;
  }

  function render(state, devices) {
    const panel = $("#enrol");
    const key = JSON.stringify([lang(), state.enabled, devices.map((d) => d.device),
      state.robots.map((r) => [r.robot, r.hostname, r.address])]);
    if (key === last) return; // nothing new: keep what the teacher is typing
    if (panel.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    last = key;
    panel.replaceChildren(
      h("h2", { id: "enrol-title" }, w("title")),
      h("p", { class: "muted" }, state.enabled ? w("intro") : w("disabled")),
    );
    if (!state.enabled) return;
    const robots = state.robots.map((r) => h("li", { class: "enrol-robot", "data-robot": r.robot },
      h("strong", {}, r.robot), " ", h("span", { class: "muted" }, `${r.hostname || ""} ${r.address}`),
      claimForm(r.robot, r.hostname, false)));
    panel.append(
      robots.length ? h("ul", { class: "enrol-list" }, robots) : h("p", { class: "empty" }, w("none")),
      h("details", {}, h("summary", {}, w("byAddress")), claimForm("", "", true)),
      h("h3", {}, w("manage")),
      h("ul", { class: "enrol-devices" }, devices.map((d) => h("li", { "data-device": d.device },
        h("span", {}, d.device), " ",
        h("button", { type: "button", class: "rename", onclick: () => rename(d.device) }, w("rename")), " ",
        h("button", { type: "button", class: "move", onclick: () => move(d.device) }, w("move")), " ",
        h("button", { type: "button", class: "danger revoke", onclick: () => revoke(d.device) }, w("revoke"))))),
    );
  }

  async function refresh() {
    const panel = $("#enrol");
    const room = $("#page-room");
    if (!panel || !room || room.hidden) return;
    try {
      const state = await api("GET", "/enrol");
      panel.hidden = false;
      render(state, state.devices.map((device) => ({ device })));
    } catch (error) {
      panel.hidden = true; // logged out, or the console is gone: app.js says so
    }
  }

  function start() {
    refresh();
    clearInterval(timer);
    timer = setInterval(refresh, 3000);
    new MutationObserver(() => { last = ""; refresh(); })
      .observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
