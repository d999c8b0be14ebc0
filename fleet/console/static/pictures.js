// The 9 pictures of a picture PIN (grades 1-3): a PIN is 3 of them, written as
// 3 digits 1-9 ("372" is star, car, moon). The teacher's class sheet and the
// student's join page draw them from this one file, so it imports nothing.
//
//   PICTURES[i] = {id: 1..9, key: "sun", name: {en, zh}, draw(svgNS) -> <g>}
//   pictureIcon(3, 64)            an <svg> 64 px square, hidden from screen readers
//   pictureIcon(3, 64, "star")    the same, read out as "star"
//
// Each drawing fits a 48 x 48 box: simple shapes in distinct colours, told
// apart by shape alone too (for a child who cannot tell red from green).

const SVG = "http://www.w3.org/2000/svg";

function el(svgNS, tag, attrs) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function group(svgNS, ...children) {
  const g = el(svgNS, "g", {});
  g.append(...children);
  return g;
}

function sun(ns) {
  const rays = [];
  for (let i = 0; i < 8; i += 1) {
    const a = (i * Math.PI) / 4;
    const [c, s] = [Math.cos(a), Math.sin(a)];
    rays.push(el(ns, "line", {
      x1: 24 + 14 * c, y1: 24 + 14 * s, x2: 24 + 21 * c, y2: 24 + 21 * s,
      stroke: "#e8a400", "stroke-width": 3.5, "stroke-linecap": "round",
    }));
  }
  return group(ns, ...rays, el(ns, "circle", { cx: 24, cy: 24, r: 10, fill: "#f7c600", stroke: "#e8a400", "stroke-width": 2 }));
}

function moon(ns) {
  return group(ns, el(ns, "path", {
    d: "M30 5 A19 19 0 1 0 43 33 A15 15 0 1 1 30 5 Z", fill: "#3949ab", stroke: "#283593", "stroke-width": 1.5,
  }));
}

function star(ns) {
  const points = [];
  for (let i = 0; i < 10; i += 1) {
    const r = i % 2 ? 9 : 21;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    points.push(`${(24 + r * Math.cos(a)).toFixed(1)},${(25 + r * Math.sin(a)).toFixed(1)}`);
  }
  return group(ns, el(ns, "polygon", {
    points: points.join(" "), fill: "#f57c00", stroke: "#c25e00", "stroke-width": 1.5, "stroke-linejoin": "round",
  }));
}

function heart(ns) {
  return group(ns, el(ns, "path", {
    d: "M24 42 C10 32 4 25 4 16.5 A9.5 9.5 0 0 1 24 12.5 A9.5 9.5 0 0 1 44 16.5 C44 25 38 32 24 42 Z",
    fill: "#d81b3c", stroke: "#a3122b", "stroke-width": 1.5,
  }));
}

function tree(ns) {
  return group(ns,
    el(ns, "rect", { x: 20.5, y: 30, width: 7, height: 14, rx: 1.5, fill: "#7b4a21" }),
    el(ns, "polygon", { points: "24,3 40,22 32,22 42,34 6,34 16,22 8,22", fill: "#2e8b3e", stroke: "#1f6b2c", "stroke-width": 1.5, "stroke-linejoin": "round" }));
}

function fish(ns) {
  return group(ns,
    el(ns, "polygon", { points: "33,24 46,13 46,35", fill: "#0f9bb0", stroke: "#0b7486", "stroke-width": 1.5, "stroke-linejoin": "round" }),
    el(ns, "ellipse", { cx: 20, cy: 24, rx: 17, ry: 11, fill: "#17b3c9", stroke: "#0b7486", "stroke-width": 1.5 }),
    el(ns, "circle", { cx: 11, cy: 21, r: 2.6, fill: "#ffffff" }),
    el(ns, "circle", { cx: 11, cy: 21, r: 1.2, fill: "#0d2a33" }));
}

function car(ns) {
  return group(ns,
    el(ns, "path", { d: "M4 33 V25 Q4 22 7 22 L13 21 L18 13 Q19 12 21 12 H32 Q34 12 35 14 L39 21 L42 22 Q44 23 44 26 V33 Z", fill: "#7e3fb8", stroke: "#5c2a8a", "stroke-width": 1.5, "stroke-linejoin": "round" }),
    el(ns, "path", { d: "M17 21 L21 15 H27 V21 Z M30 21 V15 H32.5 L36 21 Z", fill: "#e6dcf5" }),
    el(ns, "circle", { cx: 13, cy: 34, r: 5, fill: "#222b36" }),
    el(ns, "circle", { cx: 35, cy: 34, r: 5, fill: "#222b36" }));
}

function flower(ns) {
  const petals = [];
  for (let i = 0; i < 5; i += 1) {
    const a = -Math.PI / 2 + (i * 2 * Math.PI) / 5;
    petals.push(el(ns, "circle", { cx: 24 + 11 * Math.cos(a), cy: 22 + 11 * Math.sin(a), r: 8, fill: "#ec4f9a", stroke: "#b8336f", "stroke-width": 1.2 }));
  }
  return group(ns,
    el(ns, "rect", { x: 22.5, y: 30, width: 3, height: 16, fill: "#2e8b3e" }),
    ...petals,
    el(ns, "circle", { cx: 24, cy: 22, r: 6, fill: "#ffd23f", stroke: "#d9a400", "stroke-width": 1.2 }));
}

function house(ns) {
  return group(ns,
    el(ns, "rect", { x: 9, y: 22, width: 30, height: 22, fill: "#c26a2b", stroke: "#8a4516", "stroke-width": 1.5 }),
    el(ns, "polygon", { points: "24,5 45,23 3,23", fill: "#8a2c12", stroke: "#5e1c0a", "stroke-width": 1.5, "stroke-linejoin": "round" }),
    el(ns, "rect", { x: 20, y: 31, width: 8, height: 13, fill: "#ffe7b3", stroke: "#8a4516", "stroke-width": 1 }));
}

export const PICTURES = [
  { id: 1, key: "sun", name: { en: "sun", zh: "太阳" }, draw: sun },
  { id: 2, key: "moon", name: { en: "moon", zh: "月亮" }, draw: moon },
  { id: 3, key: "star", name: { en: "star", zh: "星星" }, draw: star },
  { id: 4, key: "heart", name: { en: "heart", zh: "爱心" }, draw: heart },
  { id: 5, key: "tree", name: { en: "tree", zh: "树" }, draw: tree },
  { id: 6, key: "fish", name: { en: "fish", zh: "鱼" }, draw: fish },
  { id: 7, key: "car", name: { en: "car", zh: "汽车" }, draw: car },
  { id: 8, key: "flower", name: { en: "flower", zh: "花" }, draw: flower },
  { id: 9, key: "house", name: { en: "house", zh: "房子" }, draw: house },
];

// One picture as an <svg> of size x size pixels; with a label, read out by screen readers.
export function pictureIcon(id, size = 48, label = "") {
  const picture = PICTURES.find((p) => p.id === Number(id));
  if (!picture) throw new RangeError(`no picture ${id}: they are 1-9`);
  const svg = el(SVG, "svg", { viewBox: "0 0 48 48", width: size, height: size, class: `picture picture-${picture.key}` });
  svg.dataset.picture = picture.key;
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  svg.append(picture.draw(SVG));
  return svg;
}
