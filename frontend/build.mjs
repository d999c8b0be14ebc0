// Bundle src/editor.js and its npm packages into ONE minified ES module for the console:
// fleet/console/static/vendor/editor.js. Run by `make frontend` after `npm ci`.
//
// Its first line names every bundled package with its version from package-lock.json and
// the lock's sha256 (tests/unit/test_frontend_bundle.py checks both); its last comment
// carries the packages' licences. LICENSES.md is written from the same data.

import { createHash } from "node:crypto";
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "fleet", "console", "static", "vendor", "editor.js");
const lockText = readFileSync(join(here, "package-lock.json"));
const lock = JSON.parse(lockText);
const lockSha = createHash("sha256").update(lockText).digest("hex");

// what the bundle is made of besides the packages: build.mjs and src/*.js, by name and bytes
const sourceHash = createHash("sha256");
for (const name of ["build.mjs", ...readdirSync(join(here, "src")).sort().map((f) => `src/${f}`)]) {
  sourceHash.update(`${name}\0`).update(readFileSync(join(here, name))).update("\0");
}
const sourceSha = sourceHash.digest("hex");

const result = await esbuild.build({
  entryPoints: [join(here, "src", "editor.js")],
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

const esbuildVersion = lock.packages["node_modules/esbuild"].version;
const header =
  `/*! RoboClass editor (frontend/src/editor.js, make frontend): ` +
  packages.map((p) => `${p.name}@${p.version}`).join(" ") +
  ` | package-lock.json sha256 ${lockSha} | sources sha256 ${sourceSha}` +
  ` | esbuild@${esbuildVersion} | licences at the end */`;

// the licences: one copy of each distinct text, naming the packages it covers
const isCopyright = (line) => /^\s*copyright\b/i.test(line);
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

const table = packages.map((p) => `| ${p.name} | ${p.version} | ${p.license} |`).join("\n");
const dev = Object.entries(lock.packages)
  .filter(([path, p]) => path && p.dev && !p.optional)
  .map(([path, p]) => `| ${path.replace(/^node_modules\//, "")} | ${p.version} | ${p.license} |`)
  .join("\n");
writeFileSync(
  join(here, "LICENSES.md"),
  `# Third-party front-end packages

Written by \`make frontend\` (frontend/build.mjs) from package-lock.json (sha256
\`${lockSha}\`). Every package below is bundled into
\`fleet/console/static/vendor/editor.js\`, whose last comment carries their
licence texts and copyright lines.

| Package | Version | Licence |
|---|---|---|
${table}

Used only to build the bundle, never shipped:

| Package | Version | Licence |
|---|---|---|
${dev}
`,
);
console.log(`wrote ${out}: ${(code.length / 1024).toFixed(1)} KiB, ${packages.length} packages`);
