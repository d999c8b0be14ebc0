// Completions for the student API, from the JSON that lessons.apiref.api_reference makes
// out of the packages' own signatures and docstrings:
//   robot.        -> the kit's parts and the robot's methods
//   robot.drive.  -> the part's methods, with their signatures and help
//   Classifier(   -> its parameters, with the signature and help
//   from vision import C  -> the names the package exports

import { syntaxTree } from "@codemirror/language";
import { globalCompletion, localCompletionSource } from "@codemirror/lang-python";

const WORD = /^\w*$/;

function docText(doc, lang) {
  if (!doc) return "";
  return (lang === "zh" && doc.zh) || doc.en || "";
}

function infoNode(title, doc, lang) {
  return () => {
    const box = document.createElement("div");
    const sig = document.createElement("div");
    sig.className = "cm-rc-info-signature";
    sig.textContent = title;
    box.appendChild(sig);
    const text = docText(doc, lang);
    if (text) {
      const p = document.createElement("div");
      p.textContent = text;
      box.appendChild(p);
    }
    return box;
  };
}

const KIND_TYPE = { part: "property", property: "property", method: "method" };

function memberOption(member, owner, lang) {
  const isCall = member.kind === "method";
  const detail = isCall ? member.signature : member.type || member.annotation || "";
  return {
    label: member.name,
    type: KIND_TYPE[member.kind] || "property",
    detail,
    info: infoNode(`${owner}.${member.name}${isCall ? member.signature : detail ? `: ${detail}` : ""}`, member.doc, lang),
    boost: member.kind === "part" ? 2 : 0,
  };
}

function nameOption(ref, name, lang) {
  const cls = ref.classes[name];
  if (cls) return { label: name, type: "class", detail: cls.signature, info: infoNode(name + cls.signature, cls.doc, lang) };
  const fn = ref.functions[name];
  if (fn) return { label: name, type: "function", detail: fn.signature, info: infoNode(name + fn.signature, fn.doc, lang) };
  return { label: name, type: "constant" };
}

// which class each name holds: `with Robot() as bot:`, `sign = Classifier(...)`, else the defaults
function variableTypes(ref, text) {
  const types = { ...ref.variables };
  for (const m of text.matchAll(/\bwith\s+([A-Za-z_]\w*)\s*\(.*?\)\s+as\s+([A-Za-z_]\w*)/g)) {
    if (ref.classes[m[1]]) types[m[2]] = m[1];
  }
  for (const m of text.matchAll(/^[ \t]*([A-Za-z_]\w*)\s*=\s*([A-Za-z_]\w*)\s*\(/gm)) {
    if (ref.classes[m[2]]) types[m[1]] = m[2];
  }
  return types;
}

function resolve(ref, chain, text) {
  const [first, ...rest] = chain.split(".");
  let type = ref.classes[first] ? first : variableTypes(ref, text)[first];
  for (const name of rest) {
    const member = type && ref.classes[type].members.find((m) => m.name === name);
    type = member && member.type && ref.classes[member.type] ? member.type : null;
  }
  return type || null;
}

function callee(ref, chain, text) {
  const dot = chain.lastIndexOf(".");
  if (dot < 0) {
    if (ref.classes[chain]) return { title: chain, ...ref.classes[chain] };
    if (ref.functions[chain]) return { title: chain, ...ref.functions[chain] };
    return null;
  }
  const owner = resolve(ref, chain.slice(0, dot), text);
  const name = chain.slice(dot + 1);
  const member = owner && ref.classes[owner].members.find((m) => m.name === name && m.kind === "method");
  return member ? { title: `${owner}.${name}`, ...member } : null;
}

// The editor's one completion source: after `robot.`, `from vision import`, `Classifier(`
// only the API's own names; elsewhere those names together with Python's (keywords,
// built-ins, the program's own variables). `holder.ref` may change (setCompletions).
export function completionSource(holder, lang) {
  const api = apiCompletions(holder, lang);
  return (context) => {
    const ours = api(context);
    if (ours && ours.exclusive) return ours.result;
    const results = [ours && ours.result, localCompletionSource(context), globalCompletion(context)];
    const found = results.filter((r) => r && r.options.length);
    if (!found.length) return null;
    const from = Math.min(...found.map((r) => r.from));
    const seen = new Set();
    const options = [];
    for (const r of found) {
      if (r.from !== from) continue;
      for (const option of r.options) {
        if (!seen.has(option.label)) { seen.add(option.label); options.push(option); }
      }
    }
    return { from, options, validFor: WORD };
  };
}

function apiCompletions(holder, lang) {
  const only = (result) => result && { exclusive: true, result };
  return (context) => {
    const ref = holder.ref;
    if (!ref || !ref.classes) return null;
    const { state, pos } = context;
    const node = syntaxTree(state).resolveInner(pos, -1);
    if (/Comment|String/.test(node.name)) return null;
    const line = state.doc.lineAt(pos);
    const before = line.text.slice(0, pos - line.from);
    const word = /\w*$/.exec(before)[0];
    const from = pos - word.length;

    let m = /^\s*from\s+(\w+)\s+import\s+.*$/.exec(before);
    if (m) {
      const module = ref.modules[m[1]];
      return only(module ? { from, options: module.names.map((n) => nameOption(ref, n, lang)), validFor: WORD } : null)
        || { exclusive: true, result: null };
    }
    m = /^\s*(?:from|import)\s+\w*$/.exec(before);
    if (m) {
      const options = Object.entries(ref.modules).map(([name, mod]) => ({
        label: name, type: "namespace", info: infoNode(name, mod.doc, lang),
      }));
      return only({ from, options, validFor: WORD });
    }
    const text = state.doc.toString();
    m = /([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\.\w*$/.exec(before);
    if (m) {
      if (ref.modules[m[1]]) {
        return only({ from, options: ref.modules[m[1]].names.map((n) => nameOption(ref, n, lang)), validFor: WORD });
      }
      const type = resolve(ref, m[1], text);
      // an unknown object's attributes: nothing is better than Python's built-ins
      if (!type) return { exclusive: true, result: null };
      const members = ref.classes[type].members.filter((mem) => !mem.deprecated);
      return only({ from, options: members.map((mem) => memberOption(mem, m[1], lang)), validFor: WORD });
    }
    m = /([A-Za-z_][\w.]*)\(([^()]*)$/.exec(before);
    if (m && !/=\s*\w*$/.test(m[2]) && /(^|,)\s*\w*$/.test(m[2])) {
      const target = callee(ref, m[1], text);
      if (!target || !target.params || !target.params.length) return null;
      const options = target.params.map((p, i) => ({
        label: `${p}=`, type: "variable", detail: target.signature, boost: -i, // in the signature's order
        info: infoNode(target.title + target.signature, target.doc, lang),
      }));
      return only({ from, options, validFor: WORD });
    }
    if (!word && !context.explicit) return null;
    const seen = new Set();
    const options = [];
    for (const [name, type] of Object.entries(variableTypes(ref, text))) {
      seen.add(name);
      options.push({ label: name, type: "variable", detail: type, info: infoNode(`${name}: ${type}`, ref.classes[type]?.doc, lang) });
    }
    for (const module of Object.values(ref.modules)) {
      for (const name of module.names) {
        if (!seen.has(name)) { seen.add(name); options.push(nameOption(ref, name, lang)); }
      }
    }
    return { exclusive: false, result: { from, options, validFor: WORD } };
  };
}

// What a name under the mouse is: its signature and help (`robot.drive.forward`, `Classifier`).
export function describeAt(holder, lang, state, pos) {
  const ref = holder.ref;
  if (!ref || !ref.classes) return null;
  const line = state.doc.lineAt(pos);
  const at = pos - line.from;
  for (const m of line.text.matchAll(/[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*/g)) {
    if (at < m.index || at > m.index + m[0].length) continue;
    // the chain up to the end of the word under the mouse
    const end = m[0].indexOf(".", at - m.index);
    const chain = end < 0 ? m[0] : m[0].slice(0, end);
    const from = line.from + m.index + chain.lastIndexOf(".") + 1;
    const to = line.from + m.index + chain.length;
    const text = state.doc.toString();
    const dot = chain.lastIndexOf(".");
    if (dot < 0) {
      const found = ref.classes[chain] || ref.functions[chain];
      if (found) return { from, to, dom: infoNode(chain + found.signature, found.doc, lang)() };
      const type = variableTypes(ref, text)[chain];
      return type ? { from, to, dom: infoNode(`${chain}: ${type}`, ref.classes[type].doc, lang)() } : null;
    }
    const owner = resolve(ref, chain.slice(0, dot), text);
    const member = owner && ref.classes[owner].members.find((mem) => mem.name === chain.slice(dot + 1));
    if (!member) return null;
    const option = memberOption(member, chain.slice(0, dot), lang);
    return { from, to, dom: option.info() };
  }
  return null;
}
