// The district's JSON API (/api/v1) and its Server-Sent Events. The login is an HttpOnly
// cookie this page never sees; fetch sends it, and Sec-Fetch-Site, by itself.

import { toast } from "./dom.js";
import { t } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let expired = () => {};

// What to do when the district says the login has run out.
export function whenExpired(handler) { expired = handler; }

export async function api(method, path, body, type) {
  const headers = {};
  let payload = body;
  if (body !== undefined && !type) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  if (type) headers["Content-Type"] = type;
  const response = await fetch(`/api/v1${path}`, { method, headers, body: payload });
  if (response.status === 401 && path !== "/login" && path !== "/me") { expired(); throw new ApiError(401, t("login.expired")); }
  const kind = response.headers.get("content-type") || "";
  const data = kind.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const detail = data && data.detail;
    throw new ApiError(response.status, typeof detail === "string" ? detail : response.statusText);
  }
  return data;
}

export function fail(error) { toast(t("error", { msg: error.message || error }), "bad", 8000); }

// Read the Server-Sent Events of path: onEvent(name, data) for each, until the stream ends.
async function readOnce(path, signal, onEvent) {
  const response = await fetch(`/api/v1${path}`, { signal });
  if (response.status === 401) { expired(); return false; }
  if (!response.ok || !response.body) throw new Error(response.statusText);
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

// Follow path's events until signal aborts: a stream that ends (the district ends each
// after a minute) is opened again; onState(true/false) says whether it is live.
export async function follow(path, signal, onEvent, onState) {
  while (!signal.aborted) {
    try {
      onState(true);
      if (!(await readOnce(path, signal, onEvent))) return;
    } catch (error) {
      if (signal.aborted) return;
      onState(false);
      await new Promise((resolve) => { setTimeout(resolve, 2000); });
    }
  }
}
