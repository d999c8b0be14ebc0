// The console's JSON API for the student's page. The session is an HttpOnly cookie
// (rc_student) this page never sees; fetch sends it by itself.

import { readStream } from "../sse.js";

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

let signedOut = () => {};

// What to do when the console says this student is no longer signed in.
export function whenSignedOut(handler) { signedOut = handler; }

export async function api(method, path, body) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const kind = response.headers.get("content-type") || "";
  const data = kind.includes("json") ? await response.json() : await response.text();
  if (response.status === 401 && path.startsWith("/student/")) signedOut();
  if (!response.ok) {
    const detail = data && data.detail;
    const message = typeof detail === "string" ? detail
      : Array.isArray(detail) ? detail.map((d) => d.msg).join("; ") : response.statusText;
    throw new ApiError(response.status, message);
  }
  return data;
}

// Read Server-Sent Events from path; onEvent(name, data) for each; ends with the stream.
export async function readEvents(path, signal, onEvent) {
  const response = await fetch(path, { signal });
  if (!response.ok || !response.body) throw new ApiError(response.status, response.statusText);
  await readStream(response, onEvent);
}
