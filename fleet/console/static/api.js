// The console's JSON API (/api/v1) and its Server-Sent Events.
// The login is an HttpOnly cookie this page never sees (fleet/console/websecurity.py);
// fetch sends it, and Sec-Fetch-Site/Origin, by itself: a same-origin request
// passes the console's cross-site check without a token.

import { toast } from "./dom.js";
import { t } from "./i18n.js";
import { readStream } from "./sse.js";
import { state } from "./store.js";

export class ApiError extends Error {
  constructor(status, message, retryAfter) { super(message); this.status = status; this.retryAfter = retryAfter; }
}

let expired = () => {};

// What to do when the console says the login has run out or was revoked.
export function whenExpired(handler) {
  expired = handler;
}

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && state.user && path !== "/logout") {
    expired();
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

// Say that something failed, in the teacher's language.
export function fail(error) {
  toast(t("error.generic", { msg: error.message || error }), "bad");
}

// Read Server-Sent Events from path (the cookie goes along); onEvent(name, data) for each.
// Resolves true when the stream ends, false when the login has ended.
export async function readEvents(path, signal, onEvent, onOpen) {
  const response = await fetch(path, { signal });
  if (response.status === 401) { expired(); return false; }
  if (!response.ok || !response.body) throw new Error(response.statusText);
  if (onOpen) onOpen();
  await readStream(response, onEvent);
  return true;
}
