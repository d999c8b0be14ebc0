// Bundle each entry and its npm packages into ONE minified ES module for the console:
// src/editor.js -> fleet/console/static/vendor/editor.js (CodeMirror, the Python editor),
// src/blocks.js -> fleet/console/static/vendor/blocks.js (Blockly, the blocks), with
// Blockly's media in vendor/blockly-media/. Run by `make frontend` after `npm ci`.
//
// Each bundle's first line names every package in it with its version from
// package-lock.json and the lock's sha256 (tests/unit/test_frontend_bundle.py checks
// both); its last comment carries the packages' licences. LICENSES.md is written from
// the same data.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, readdirSync, copyFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const vendor = join(here, "..", "fleet", "console", "static", "vendor");
const lockText = readFileSync(join(here, "package-lock.json"));
const lock = JSON.parse(lockText);
const lockSha = createHash("sha256").update(lockText).digest("hex");

// what the bundles are made of besides the packages: build.mjs, src/*.js and the block
// names (lessons/blocks.json), by name and bytes
const sourceHash = createHash("sha256");
const sources = ["build.mjs", ...readdirSync(join(here, "src")).sort().map((f) => `src/${f}`), "../lessons/blocks.json"];
for (const name of sources) {
  sourceHash.update(`${name}\0`).update(readFileSync(join(here, name))).update("\0");
}
const sourceSha = sourceHash.digest("hex");
const esbuildVersion = lock.packages["node_modules/esbuild"].version;
const isCopyright = (line) => /^\s*copyright\b/i.test(line);

async function bundle(entry, title) {
const out = join(vendor, `${entry}.js`);
const result = await esbuild.build({
  entryPoints: [join(here, "src", `${entry}.js`)],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  legalComments: "none",
  charset: "utf8",
  metafile: true,
  write: false,
  logLevel: "warning",
});

// the packages whose files went into the bundle, each with the version the lock pins
const names = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m) names.add(m[1]);
}
const packages = [...names].sort().map((name) => {
  const locked = lock.packages[`node_modules/${name}`];
  const installed = JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8"));
  if (!locked || locked.version !== installed.version) {
    throw new Error(`${name}: node_modules has ${installed.version}, package-lock.json ${locked?.version}: run npm ci`);
  }
  const folder = join(here, "node_modules", name);
  const licenceFile = readdirSync(folder).find((f) => /^(licen[cs]e|copying)/i.test(f));
  const licenceText = licenceFile ? readFileSync(join(folder, licenceFile), "utf8").trim() : "";
  return { name, version: locked.version, license: locked.license || installed.license, licenceText };
});

const header =
  `/*! RoboClass ${title} (frontend/src/${entry}.js, make frontend): ` +
  packages.map((p) => `${p.name}@${p.version}`).join(" ") +
  ` | package-lock.json sha256 ${lockSha} | sources sha256 ${sourceSha}` +
  ` | esbuild@${esbuildVersion} | licences at the end */`;

// the licences: one copy of each distinct text, naming the packages it covers
const byText = new Map();
for (const p of packages) {
  const key = p.licenceText.split("\n").filter((l) => !isCopyright(l)).join(" ").replace(/\s+/g, " ").trim();
  if (!byText.has(key)) byText.set(key, { copyrights: [], packages: [], text: p.licenceText });
  const entry = byText.get(key);
  entry.packages.push(`${p.name}@${p.version} (${p.license})`);
  for (const line of p.licenceText.split("\n")) {
    if (isCopyright(line) && !entry.copyrights.includes(line.trim())) entry.copyrights.push(line.trim());
  }
}
const footer = [...byText.values()]
  .map((e) => `${e.packages.join(", ")}:\n${e.copyrights.join("\n")}\n\n${e.text.split("\n").filter((l) => !isCopyright(l)).join("\n").trim()}`)
  .join("\n\n----\n\n")
  .replaceAll("*/", "* /");

const code = new TextDecoder().decode(result.outputFiles[0].contents).trim();
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${header}\n${code}\n/*! Licences of the bundled packages:\n\n${footer}\n*/\n`);
console.log(`wrote ${out}: ${(code.length / 1024).toFixed(1)} KiB, ${packages.length} packages`);
return packages;
}

const editorPackages = await bundle("editor", "editor");
const blocksPackages = await bundle("blocks", "blocks");

// Blockly's pictures and cursors, served by the console (the bundle's `media` option)
const media = join(vendor, "blockly-media");
rmSync(media, { recursive: true, force: true });
mkdirSync(media, { recursive: true });
for (const name of readdirSync(join(here, "node_modules", "blockly", "media")).sort()) {
  if (!/\.(mp3|wav|ogg)$/.test(name)) copyFileSync(join(here, "node_modules", "blockly", "media", name), join(media, name));
}

const row = (p) => `| ${p.name} | ${p.version} | ${p.license} |`;
const table = editorPackages.map(row).join("\n");
const blocksTable = blocksPackages.map(row).join("\n");
const dev = Object.entries(lock.packages)
  .filter(([path, p]) => path && p.dev && !p.optional)
  .map(([path, p]) => `| ${path.replace(/^node_modules\//, "")} | ${p.version} | ${p.license} |`)
  .join("\n");
writeFileSync(
  join(here, "LICENSES.md"),
  `# Third-party front-end packages

Written by \`make frontend\` (frontend/build.mjs) from package-lock.json (sha256
\`${lockSha}\`). Every package below is bundled into the file named above its
table; each bundle's last comment carries their licence texts and copyright lines.

\`fleet/console/static/vendor/editor.js\`:

| Package | Version | Licence |
|---|---|---|
${table}

\`fleet/console/static/vendor/blocks.js\` (and Blockly's pictures in
\`fleet/console/static/vendor/blockly-media/\`):

| Package | Version | Licence |
|---|---|---|
${blocksTable}

Used only to build the bundle, never shipped:

| Package | Version | Licence |
|---|---|---|
${dev}
`,
);
