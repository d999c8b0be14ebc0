// What the class page knows (classroom*.js): the class shown, its open
// period, the class at work and the last PIN sheet. Plain data, like store.js.

export const cls = {
  roster: "", // the class shown ("" before the classes have come)
  rosters: [], // every class: [{roster, students, results}]
  periods: [], // the open periods of every class, newest first
  qr: { period: "", url: "" }, // the blob: URL of the shown period's QR code
  rows: [], // the class at work: GET /rosters/{roster}/work
  sheet: null, // the PINs just set: [{student, student_id, kind, pin}] (shown once, never kept)
  sheetPeriod: null, // the period the sheet's cards name (its code and address)
};

// The open period of a class (one at most), else null.
export function periodOf(roster) {
  const now = Date.now() / 1000;
  return cls.periods.find((p) => p.roster === roster && !p.ended && p.ends > now) || null;
}

// The address a student types: the join address without the code in it.
export function joinAddress(period) {
  return period.join_url.split("?")[0];
}

export const enc = encodeURIComponent;
