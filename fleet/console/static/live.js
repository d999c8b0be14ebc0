// The room, live: /api/v1/events sends the room's snapshot whenever the console
// sees a change (Server-Sent Events read with fetch); the badge in the top bar
// says whether the stream is up. It reconnects every 2 s while the teacher is in.

import { readEvents } from "./api.js";
import { $ } from "./dom.js";
import { t } from "./i18n.js";
import { state } from "./store.js";

let control = null; // AbortController of the event stream

export function stopEvents() {
  if (control) control.abort();
  control = null;
  state.live = null;
}

export function setConnected(live) {
  state.live = live;
  const el = $("#conn");
  el.hidden = false;
  el.textContent = live ? t("conn.live") : t("conn.lost");
  el.className = `conn ${live ? "live" : "lost"}`;
}

// Follow the room: onRoom(snapshot) for every snapshot the console sends.
export async function startEvents(onRoom) {
  stopEvents();
  const mine = new AbortController();
  control = mine;
  const onEvent = (event, data) => { if (event === "room") onRoom(data); };
  while (!mine.signal.aborted && state.user) {
    try {
      const again = await readEvents("/api/v1/events", mine.signal, onEvent, () => setConnected(true));
      if (again === false) return;
    } catch (error) {
      if (mine.signal.aborted) return;
    }
    setConnected(false);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
