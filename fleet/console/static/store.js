// What the page knows, in one place. Modules import `state` and read or change
// it; none keeps a copy. Plain data only: the modules that show a part of it
// decide when to draw it again.

export const state = {
  lang: "en", // "zh" or "en"
  user: "", // the teacher logged in ("" when nobody is)
  room: null, // the last snapshot: {estop, devices, results}
  page: "room", // the page shown: login, room, class, roster, lessons, models, results or audit
  live: null, // the event stream: null before it starts, then true or false
  selected: new Set(), // the robots ticked in the room
  library: null, // the built-in lessons, once they have come
  band: "", // the band the lessons page shows ("" for all)
  results: [], // the rows of /results for the filters chosen
  resultsSeen: -1, // the room's result count when they were loaded
  resultsVersion: 0, // bumped when a new list of results arrives
  rosters: [], // the classes: [{roster, students, results}]
  purging: "", // the class whose purge is being confirmed
};
