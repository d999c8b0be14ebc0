// What the district's page knows, in one place (plain data; the modules that show a part
// of it decide when to draw it again).

export const state = {
  lang: "en", // "zh" or "en"
  user: "", // the staff member logged in ("" when nobody is)
  page: "schools", // the page shown
  overview: null, // schools, their rooms' live counts, their results (event stream)
  items: [], // the library: every lesson with its review
  titles: {}, // every lesson's title {en, zh} by id (built-in and the library's)
  challenges: [], // every challenge, newest first
  challenge: "", // the challenge whose leaderboard is shown
  board: null, // that leaderboard
};
