// RoboClass's blocks: their look (big, an icon, few words) and the Python each one
// writes over the student API (from hardware import Robot, robot.drive.forward(0.5)).
// Every name in lessons/blocks.json is a block (or a small group) here; the build and
// tests/unit/test_frontend_bundle.py check that the two lists agree.

import * as Blockly from "blockly/core";
import { Order } from "blockly/python";

import NAMES from "../../lessons/blocks.json";
import { ICONS, WORDS } from "./blockwords.js";

export const BLOCK_NAMES = Object.keys(NAMES.blocks);

const HUE = { start: 45, move: 210, loops: 120, logic: 200, numbers: 230, sensors: 30, lights: 300, vision: 0, say: 160 };
const icon = (name) => ({ type: "field_image", src: ICONS[name], width: 30, height: 30, alt: "" });
const num = (name) => ({ type: "input_value", name, check: "Number" });
const words = (lang) => WORDS[lang] || WORDS.en;

// -- the blocks' shapes, in one language ---------------------------------------------

// Every word is a reference to Blockly.Msg (RC_...), set for the language in use: the
// blocks are defined once and read their words when they are drawn.
function definitions() {
  const w = new Proxy({}, { get: (_, key) => `%{BKY_RC_${String(key)}}` });
  const dir = (a, b) => ({ type: "field_dropdown", name: "DIR", options: [[w[a], a.toLowerCase()], [w[b], b.toLowerCase()]] });
  const colours = { type: "field_dropdown", name: "COLOUR",
    options: ["RED", "YELLOW", "GREEN", "BLUE", "PURPLE", "WHITE"].map((c) => [w[c], c.toLowerCase()]) };
  const statement = (type, message, args, hue) => ({
    type, message0: w[message], args0: args, previousStatement: null, nextStatement: null, colour: hue,
  });
  const value = (type, message, args, output, hue) => ({ type, message0: w[message], args0: args, output, colour: hue });
  return [
    { type: "start", message0: w.START, args0: [icon("flag")], message1: "%1", args1: [{ type: "input_statement", name: "DO" }],
      colour: HUE.start },
    statement("drive", "DRIVE", [icon("car"), dir("FORWARD", "BACKWARD")], HUE.move),
    statement("drive_seconds", "DRIVE_SECONDS", [icon("car"), dir("FORWARD", "BACKWARD"), num("SECONDS")], HUE.move),
    statement("drive_cm", "DRIVE_CM", [icon("ruler"), dir("FORWARD", "BACKWARD"), num("CM")], HUE.move),
    statement("turn_degrees", "TURN_DEGREES", [icon("turn"), dir("LEFT", "RIGHT"), num("DEGREES")], HUE.move),
    statement("turn_seconds", "TURN_SECONDS", [icon("turn"), dir("LEFT", "RIGHT"), num("SECONDS")], HUE.move),
    statement("stop", "STOP", [icon("stop")], HUE.move),
    statement("wait", "WAIT", [icon("clock"), num("SECONDS")], HUE.loops),
    { type: "forever", message0: w.FOREVER, args0: [icon("loop"), { type: "input_dummy" }, { type: "input_statement", name: "DO" }],
      previousStatement: null, colour: HUE.loops },
    value("distance", "DISTANCE", [icon("wave")], "Number", HUE.sensors),
    value("line", "LINE", [icon("line"), { type: "field_dropdown", name: "SIDE",
      options: [[w.LEFT, "left"], [w.CENTRE, "centre"], [w.RIGHT, "right"]] }], "Boolean", HUE.sensors),
    value("colour_under", "COLOUR_UNDER", [icon("eye")], "String", HUE.sensors),
    value("button", "BUTTON", [icon("button")], "Boolean", HUE.sensors),
    statement("light", "LIGHT", [icon("bulb"), { type: "field_dropdown", name: "ON", options: [[w.ON, "on"], [w.OFF, "off"]] }], HUE.lights),
    statement("light_colour", "LIGHT_COLOUR", [icon("bulb"), { ...colours, options: colours.options.concat([[w.OFF, "off"]]) }], HUE.lights),
    statement("note", "NOTE", [icon("note"), { type: "field_dropdown", name: "NOTE",
      options: ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5"].map((n) => [n, n]) }, num("SECONDS")], HUE.lights),
    statement("tune", "TUNE", [icon("note"), { type: "field_dropdown", name: "TUNE",
      options: [[w.TUNE_HAPPY, "happy"], [w.TUNE_SCALE, "scale"], [w.TUNE_TWINKLE, "twinkle"]] }], HUE.lights),
    statement("quiet", "QUIET", [icon("note")], HUE.lights),
    value("sign", "SIGN", [icon("sign")], "String", HUE.vision),
    value("colour_seen", "COLOUR_SEEN", [icon("eye"), colours], "Boolean", HUE.vision),
    value("marker", "MARKER", [icon("marker")], "Number", HUE.vision),
    value("my_model", "MY_MODEL", [icon("brain"), { type: "field_input", name: "MODEL", text: "my-model" }], "String", HUE.vision),
    statement("say", "SAY", [icon("speech"), { type: "input_value", name: "WHAT" }], HUE.say),
    statement("report", "REPORT", [icon("flagcheck"), { type: "field_input", name: "NAME", text: "colour" },
      { type: "input_value", name: "VALUE" }], HUE.say),
  ];
}

let defined = false;

/** The blocks, with the words of `lang` (blocks drawn from now on use them). */
export function defineBlocks(lang) {
  for (const [key, text] of Object.entries(words(lang))) Blockly.Msg[`RC_${key}`] = text;
  if (!defined) Blockly.common.defineBlocksWithJsonArray(definitions());
  defined = true;
}

// -- the toolbox: the named blocks, grouped, each as it comes out of the toolbox -----

const n = (value) => ({ shadow: { type: "math_number", fields: { NUM: value } } });
const TOOLBOX = {
  start: ["start", HUE.start, [{ type: "start" }]],
  drive: ["move", HUE.move, [{ type: "drive" }]],
  drive_seconds: ["move", HUE.move, [{ type: "drive_seconds", inputs: { SECONDS: n(1) } }]],
  drive_cm: ["move", HUE.move, [{ type: "drive_cm", inputs: { CM: n(20) } }]],
  turn_degrees: ["move", HUE.move, [{ type: "turn_degrees", inputs: { DEGREES: n(90) } }]],
  turn_seconds: ["move", HUE.move, [{ type: "turn_seconds", inputs: { SECONDS: n(1) } }]],
  stop: ["move", HUE.move, [{ type: "stop" }]],
  wait: ["loops", HUE.loops, [{ type: "wait", inputs: { SECONDS: n(1) } }]],
  repeat: ["loops", HUE.loops, [{ type: "controls_repeat_ext", inputs: { TIMES: n(4) } }]],
  forever: ["loops", HUE.loops, [{ type: "forever" }]],
  repeat_until: ["loops", HUE.loops, [{ type: "controls_whileUntil", fields: { MODE: "UNTIL" } }]],
  if: ["logic", HUE.logic, [{ type: "controls_if" }]],
  if_else: ["logic", HUE.logic, [{ type: "controls_if", extraState: { hasElse: true } }]],
  compare: ["logic", HUE.logic, [{ type: "logic_compare", fields: { OP: "LT" }, inputs: { A: n(0), B: n(20) } }]],
  logic: ["logic", HUE.logic, [{ type: "logic_operation" }, { type: "logic_negate" }]],
  number: ["numbers", HUE.numbers, [{ type: "math_number", fields: { NUM: 1 } }]],
  arithmetic: ["numbers", HUE.numbers, [{ type: "math_arithmetic", inputs: { A: n(1), B: n(1) } }]],
  text: ["numbers", HUE.numbers, [{ type: "text", fields: { TEXT: "" } }]],
  variables: ["variables", 330, "VARIABLE"],
  distance: ["sensors", HUE.sensors, [{ type: "distance" }]],
  line: ["sensors", HUE.sensors, [{ type: "line" }]],
  colour_under: ["sensors", HUE.sensors, [{ type: "colour_under" }]],
  button: ["sensors", HUE.sensors, [{ type: "button" }]],
  light: ["lights", HUE.lights, [{ type: "light" }]],
  light_colour: ["lights", HUE.lights, [{ type: "light_colour" }]],
  note: ["lights", HUE.lights, [{ type: "note", inputs: { SECONDS: n(0.5) } }]],
  tune: ["lights", HUE.lights, [{ type: "tune" }]],
  quiet: ["lights", HUE.lights, [{ type: "quiet" }]],
  sign: ["vision", HUE.vision, [{ type: "sign" }]],
  colour_seen: ["vision", HUE.vision, [{ type: "colour_seen" }]],
  marker: ["vision", HUE.vision, [{ type: "marker" }]],
  my_model: ["vision", HUE.vision, [{ type: "my_model" }]],
  say: ["say", HUE.say, [{ type: "say", inputs: { WHAT: { shadow: { type: "text", fields: { TEXT: "hello" } } } } }]],
  report: ["say", HUE.say, [{ type: "report", inputs: { VALUE: { shadow: { type: "text", fields: { TEXT: "" } } } } }]],
};
const GROUPS = {
  en: { start: "Start", move: "Move", loops: "Loops", logic: "Logic", numbers: "Numbers", variables: "Variables",
    sensors: "Sensors", lights: "Lights & sound", vision: "Seeing", say: "Say" },
  zh: { start: "开始", move: "运动", loops: "循环", logic: "判断", numbers: "数字", variables: "变量",
    sensors: "传感器", lights: "灯光和声音", vision: "看", say: "说" },
};

/** Blockly's toolbox (categories, in the list's order) offering exactly `names` (all if none). */
export function toolboxOf(names, lang) {
  const wanted = names && names.length ? names : BLOCK_NAMES;
  const unknown = wanted.filter((name) => !TOOLBOX[name]);
  if (unknown.length) throw new Error(`unknown blocks: ${unknown.join(", ")}`);
  const groups = new Map();
  for (const name of wanted) {
    const [group, colour, blocks] = TOOLBOX[name];
    if (!groups.has(group)) groups.set(group, { colour, blocks: [], custom: null });
    if (blocks === "VARIABLE") groups.get(group).custom = "VARIABLE";
    else groups.get(group).blocks.push(...blocks.map((b) => ({ kind: "block", ...b })));
  }
  const label = GROUPS[lang] || GROUPS.en;
  return {
    kind: "categoryToolbox",
    contents: [...groups.entries()].map(([group, { colour, blocks, custom }]) => ({
      kind: "category", name: label[group], colour: String(colour), toolboxitemid: group,
      ...(custom ? { custom } : { contents: blocks }),
    })),
  };
}

// -- the Python they write -------------------------------------------------------------

const TUNES = {
  happy: ["C4", "E4", "G4", "C5"],
  scale: ["C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5"],
  twinkle: ["C4", "C4", "G4", "G4", "A4", "A4", "G4"],
};
const RGB = { red: "(1, 0, 0)", yellow: "(1, 1, 0)", green: "(0, 1, 0)", blue: "(0, 0, 1)", purple: "(1, 0, 1)", white: "(1, 1, 1)" };
const CM_PER_S = 10; // drive_cm: robot.drive.set_speed(0.1) is 10 cm each second
const DEG_PER_S = 45; // turn_degrees: robot.drive.set_speed(0, 45) turns 45 degrees each second

function needTime(g) { g.definitions_.import_time = "import time"; }

// (lines indented by two spaces a level: provideFunction_ makes each two the generator's INDENT)
function helper(g, name, lines) {
  return g.provideFunction_(name, lines.map((l) => l.replaceAll("NAME", g.FUNCTION_NAME_PLACEHOLDER_)));
}

export function definePython(g) {
  const f = g.forBlock;
  const arg = (block, name, fallback = "0") => g.valueToCode(block, name, Order.MULTIPLICATIVE) || fallback;
  f.start = (block) => {
    g.definitions_.import_robot = "from hardware import Robot";
    const body = g.statementToCode(block, "DO") || `${g.INDENT}pass\n`;
    return `with Robot() as robot:\n${body}`;
  };
  f.drive = (block) => `robot.drive.${block.getFieldValue("DIR") === "backward" ? "backward" : "forward"}(0.4)\n`;
  f.drive_seconds = (block) => {
    needTime(g);
    const way = block.getFieldValue("DIR") === "backward" ? "backward" : "forward";
    return `robot.drive.${way}(0.5)\ntime.sleep(${arg(block, "SECONDS", "1")})\nrobot.drive.stop()\n`;
  };
  f.drive_cm = (block) => {
    needTime(g);
    const sign = block.getFieldValue("DIR") === "backward" ? "-" : "";
    return `robot.drive.set_speed(${sign}0.1)  # ${CM_PER_S} cm each second\n`
      + `time.sleep(${arg(block, "CM", "10")} / ${CM_PER_S})\nrobot.drive.stop()\n`;
  };
  f.turn_degrees = (block) => {
    needTime(g);
    const sign = block.getFieldValue("DIR") === "right" ? "-" : "";
    return `robot.drive.set_speed(0, ${sign}${DEG_PER_S})  # ${DEG_PER_S} degrees each second, ${block.getFieldValue("DIR")}\n`
      + `time.sleep(${arg(block, "DEGREES", "90")} / ${DEG_PER_S})\nrobot.drive.stop()\n`;
  };
  f.turn_seconds = (block) => {
    needTime(g);
    const way = block.getFieldValue("DIR") === "right" ? "right" : "left";
    return `robot.drive.${way}(0.3)\ntime.sleep(${arg(block, "SECONDS", "1")})\nrobot.drive.stop()\n`;
  };
  f.stop = () => "robot.drive.stop()\n";
  f.wait = (block) => { needTime(g); return `time.sleep(${arg(block, "SECONDS", "1")})\n`; };
  f.forever = (block) => {
    needTime(g);
    const body = g.statementToCode(block, "DO");
    return `while True:\n${body}${g.INDENT}time.sleep(0.01)\n`;
  };
  f.distance = () => ["robot.distance.cm", Order.MEMBER];
  f.line = (block) => {
    const name = helper(g, "line_under", [
      "def NAME(robot, side):",
      '  """True if the line is under the robot\'s left, centre or right."""',
      "  position = robot.line.position  # -1 (far left) .. 1 (far right), None: no line",
      "  if position is None:",
      "    return False",
      '  if side == "left":',
      "    return position < -0.3",
      '  if side == "right":',
      "    return position > 0.3",
      "  return -0.3 <= position <= 0.3",
    ]);
    return [`${name}(robot, "${block.getFieldValue("SIDE")}")`, Order.FUNCTION_CALL];
  };
  f.colour_under = () => {
    const name = helper(g, "colour_under", [
      "def NAME(robot):",
      '  """The colour of the floor just in front of the robot: red, yellow, blue, green or floor."""',
      "  blue, green, red = robot.camera.read()[200, 160]  # one dot, as blue, green, red",
      "  if red > 150 and green > 150 and blue < 100:",
      '    return "yellow"',
      "  if red > 150 and green < 100 and blue < 100:",
      '    return "red"',
      "  if blue > 150 and red < 100:",
      '    return "blue"',
      "  if green > 100 and red < 100 and blue < 100:",
      '    return "green"',
      '  return "floor"',
    ]);
    return [`${name}(robot)`, Order.FUNCTION_CALL];
  };
  f.button = () => ["robot.button.is_pressed", Order.MEMBER];
  f.light = (block) => `robot.led.${block.getFieldValue("ON") === "on" ? "on" : "off"}()\n`;
  f.light_colour = (block) => {
    const colour = block.getFieldValue("COLOUR");
    return colour === "off" ? "robot.rgb.off()\n" : `robot.rgb.color = ${RGB[colour] || RGB.white}  # ${colour}\n`;
  };
  f.note = (block) => {
    needTime(g);
    return `robot.buzzer.play("${block.getFieldValue("NOTE")}")\ntime.sleep(${arg(block, "SECONDS", "0.5")})\n`;
  };
  f.tune = (block) => {
    needTime(g);
    const notes = TUNES[block.getFieldValue("TUNE")] || TUNES.happy;
    return `for note in [${notes.map((x) => `"${x}"`).join(", ")}]:\n${g.INDENT}robot.buzzer.play(note)\n`
      + `${g.INDENT}time.sleep(0.3)\nrobot.buzzer.stop()\n`;
  };
  f.quiet = () => "robot.buzzer.stop()\n";
  f.sign = () => {
    g.definitions_.import_signs = "from vision import SignReader";
    g.definitions_.sign_reader = "signs = SignReader()  # the traffic-sign model";
    const name = helper(g, "sign_seen", [
      "def NAME(robot):",
      '  """The label of the biggest sign the camera sees, or "none"."""',
      "  seen = signs(robot.camera.read())",
      '  return max(seen, key=lambda s: s.box.h).label if seen else "none"',
    ]);
    return [`${name}(robot)`, Order.FUNCTION_CALL];
  };
  f.colour_seen = (block) => {
    g.definitions_.import_blobs = "from vision import find_blobs";
    return [`bool(find_blobs(robot.camera.read(), "${block.getFieldValue("COLOUR")}", min_area=300))`, Order.FUNCTION_CALL];
  };
  f.marker = () => {
    g.definitions_.import_aruco = "from vision import ArucoReader";
    g.definitions_.aruco_reader = "markers = ArucoReader()";
    const name = helper(g, "marker_seen", [
      "def NAME(robot):",
      '  """The number of the marker the camera sees, or -1."""',
      "  seen = markers(robot.camera.read())",
      "  return seen[0].id if seen else -1",
    ]);
    return [`${name}(robot)`, Order.FUNCTION_CALL];
  };
  f.my_model = (block) => {
    g.definitions_.import_classifier = "from vision import Classifier";
    const model = String(block.getFieldValue("MODEL")).replace(/[^a-z0-9-]/g, "") || "my-model";
    const variable = `model_${model.replaceAll("-", "_")}`;
    g.definitions_[`model_${model}`] = `${variable} = Classifier("${model}")  # the model you taught`;
    return [`${variable}(robot.camera.read()).label`, Order.MEMBER];
  };
  f.say = (block) => `print(${g.valueToCode(block, "WHAT", Order.NONE) || '""'})\n`;
  f.report = (block) => {
    g.definitions_.import_report = "from lessons import report";
    const name = String(block.getFieldValue("NAME")).replace(/"/g, "");
    return `report("${name}", ${g.valueToCode(block, "VALUE", Order.NONE) || '""'})\n`;
  };
}
