// causalmmm graph workshop: the page talks to the local server; every check is computed there.
"use strict";

const $ = (sel) => document.querySelector(sel);
let state = null;     // the server's last payload
let selected = null;  // {kind: "node", name} | {kind: "edge", source, target}
let testsWanted = 0;  // the graph version whose tests the page waits for

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  let data;
  try { data = await response.json(); } catch (e) { data = { error: `the workshop server answered ${response.status}` }; }
  if (!response.ok) throw new Error(data.error || `error ${response.status}`);
  return data;
}

function flash(text, kind) {
  const box = $("#message");
  box.textContent = text || "";
  box.className = kind;
}

async function send(path, body) {
  try {
    const data = await api("POST", path, body);
    show(data);
    return true;
  } catch (err) {
    flash(err.message, "error");
    return false;
  }
}

const edit = (op, fields) => send("/api/edit", { op, ...fields });

function show(data) {
  state = data;
  render();
  flash(data.message, "ok");
  loadTests();
}

// ------------------------------------------------------------------ render
function options(select, values, current, blank) {
  select.replaceChildren();
  if (blank !== undefined) select.append(el("option", { value: "", text: blank }));
  for (const v of values) select.append(el("option", { value: v, text: v }));
  select.value = current === undefined || current === null ? "" : String(current);
}

function render() {
  const g = state.graph;
  const names = Object.keys(g.nodes);
  $("#graph-name").textContent = g.name;
  $("#undo").disabled = !state.can_undo;
  $("#redo").disabled = !state.can_redo;
  if (!$("#save-path").value) $("#save-path").value = state.save_path;
  const problem = $("#problem");
  problem.hidden = !state.problem;
  problem.textContent = state.problem ? `Not a complete model graph yet: ${state.problem}` : "";

  const role = $("#new-node-role");
  if (!role.options.length) options(role, state.choices.roles, "mediator");
  const from = $("#edge-from"), to = $("#edge-to");
  const keepFrom = from.value, keepTo = to.value;
  options(from, names, names.includes(keepFrom) ? keepFrom : names[0]);
  options(to, names, names.includes(keepTo) ? keepTo : names[names.length - 1]);

  if (selected && selected.kind === "node" && !(selected.name in g.nodes)) selected = null;
  if (selected && selected.kind === "edge" && !findEdge(selected.source, selected.target)) selected = null;

  renderLists(g);
  renderDrawing();
  renderInspector();
  renderIdentification(state.identification);
}

function findEdge(source, target) {
  return state.graph.edges.find((e) => e.from === source && e.to === target);
}

function resolved(source, target) {
  return state.edges_resolved.find((e) => e.from === source && e.to === target) || {};
}

function isSelected(kind, a, b) {
  if (!selected || selected.kind !== kind) return false;
  return kind === "node" ? selected.name === a : selected.source === a && selected.target === b;
}

function renderLists(g) {
  const nodes = $("#node-list");
  nodes.replaceChildren();
  for (const [name, attrs] of Object.entries(g.nodes)) {
    const meta = attrs.role + (attrs.observed === false ? ", latent" : "");
    nodes.append(el("li", {},
      el("button", { class: isSelected("node", name) ? "node-item selected" : "node-item", "data-node": name, text: name, onclick: () => select({ kind: "node", name }) }),
      el("span", { class: "meta", text: ` ${meta}` })));
  }
  const edges = $("#edge-list");
  edges.replaceChildren();
  for (const e of g.edges) {
    const meta = Object.entries(e).filter(([k]) => k !== "from" && k !== "to").map(([k, v]) => `${k}=${v}`).join(", ");
    edges.append(el("li", {},
      el("button", { class: isSelected("edge", e.from, e.to) ? "edge-item selected" : "edge-item", "data-edge": `${e.from}->${e.to}`, text: `${e.from} \u2192 ${e.to}`, onclick: () => select({ kind: "edge", source: e.from, target: e.to }) }),
      el("span", { class: "meta", text: meta ? ` ${meta}` : "" })));
  }
}

function openPathParts() {
  // nodes and edges (either direction) on the open backdoor path of every channel that is not identifiable
  const nodes = new Set(), edges = new Set();
  for (const c of state.identification.channels || []) {
    if (c.identifiable) continue;
    const path = c.open_path_nodes || [];
    path.forEach((n) => nodes.add(n));
    for (let i = 0; i + 1 < path.length; i++) {
      edges.add(`${path[i]}->${path[i + 1]}`);
      edges.add(`${path[i + 1]}->${path[i]}`);
    }
  }
  return { nodes, edges };
}

function renderDrawing() {
  const box = $("#drawing");
  box.innerHTML = state.svg;  // made by the server (Graphviz), not typed by anyone
  const hot = openPathParts();
  for (const g of box.querySelectorAll("g.node")) {
    const name = g.querySelector("title")?.textContent || "";
    if (!(name in state.graph.nodes)) continue;
    g.dataset.node = name;
    if (hot.nodes.has(name)) g.classList.add("open-path");
    if (isSelected("node", name)) g.classList.add("selected");
    g.addEventListener("click", (ev) => {
      ev.preventDefault();
      if (ev.shiftKey && selected && selected.kind === "node" && selected.name !== name) {
        edit("add_edge", { source: selected.name, target: name });
      } else {
        select({ kind: "node", name });
      }
    });
  }
  for (const g of box.querySelectorAll("g.edge")) {
    const title = g.querySelector("title")?.textContent || "";
    const [source, target] = title.split("->");
    if (!findEdge(source, target)) continue;
    g.dataset.edge = title;
    if (hot.edges.has(title)) g.classList.add("open-path");
    if (isSelected("edge", source, target)) g.classList.add("selected");
    g.addEventListener("click", (ev) => { ev.preventDefault(); select({ kind: "edge", source, target }); });
  }
}

function select(item) {
  selected = item;
  renderLists(state.graph);
  renderDrawing();
  renderInspector();
}

function row(label, control) {
  return el("div", { class: "row" }, el("label", { for: control.id, text: label }), control);
}

function renderInspector() {
  const box = $("#inspector");
  box.replaceChildren();
  if (!selected) return;
  if (selected.kind === "node") box.append(nodeInspector(selected.name));
  else box.append(edgeInspector(selected.source, selected.target));
}

function nodeInspector(name) {
  const attrs = state.graph.nodes[name];
  const nameInput = el("input", { id: "node-name", value: name });
  const roleSelect = el("select", { id: "node-role" });
  options(roleSelect, state.choices.roles, attrs.role);
  const observed = el("input", { type: "checkbox", id: "node-observed" });
  observed.checked = attrs.observed !== false;
  const trend = el("select", { id: "node-trend" });
  options(trend, ["none", "linear", "piecewise"], attrs.trend, "default (none)");
  const changepoints = el("input", { type: "number", id: "node-changepoints", min: 1, value: attrs.changepoints ?? "", placeholder: "6" });
  const seasonality = el("input", { type: "number", id: "node-seasonality", min: 0, value: attrs.seasonality ?? "", placeholder: "0" });
  const noise = el("select", { id: "node-noise" });
  options(noise, ["iid", "ar1"], attrs.noise, "default");
  const apply = () => edit("set_node", { name, attrs: {
    role: roleSelect.value, observed: observed.checked, trend: trend.value, changepoints: changepoints.value, seasonality: seasonality.value, noise: noise.value,
  } });
  return el("div", { class: "box", "data-inspect": `node ${name}` },
    el("h2", { text: `Node ${name}` }),
    el("div", { class: "row" }, el("label", { for: "node-name", text: "name" }), nameInput,
      el("button", { id: "node-rename", text: "Rename", onclick: async () => {
        const ok = await edit("rename_node", { name, new_name: nameInput.value });
        if (ok && nameInput.value.trim() in state.graph.nodes) select({ kind: "node", name: nameInput.value.trim() });
      } })),
    row("role", roleSelect),
    el("div", { class: "row" }, el("label", { for: "node-observed", text: "observed" }), observed, el("span", { class: "hint", text: "unticked = latent (no data column)" })),
    row("trend", trend), row("changepoints", changepoints), row("seasonality", seasonality), row("noise", noise),
    el("div", { class: "row" },
      el("button", { id: "node-apply", text: "Apply", onclick: apply }),
      el("button", { id: "node-remove", class: "danger", text: "Remove node", onclick: () => edit("remove_node", { name }) })));
}

function edgeInspector(source, target) {
  const e = findEdge(source, target);
  const def = resolved(source, target);
  const sign = el("select", { id: "edge-sign" });
  options(sign, state.choices.signs, e.sign, `default (${def.sign})`);
  const lag = el("input", { type: "number", id: "edge-lag", min: 0, value: e.lag ?? "", placeholder: String(def.lag) });
  const adstock = el("select", { id: "edge-adstock" });
  options(adstock, state.choices.adstocks, e.adstock, `default (${def.adstock})`);
  const saturation = el("select", { id: "edge-saturation" });
  options(saturation, state.choices.saturations, e.saturation, `default (${def.saturation})`);
  const lmax = el("input", { type: "number", id: "edge-lmax", min: 1, value: e.l_max ?? "", placeholder: String(def.l_max) });
  const modulator = el("select", { id: "edge-modulator" });
  const others = state.graph.edges.filter((x) => x.to === target && x.from !== source).map((x) => x.from);
  options(modulator, others, e.modulator, "none");
  const apply = () => edit("set_edge", { source, target, attrs: {
    sign: sign.value, lag: lag.value, adstock: adstock.value, saturation: saturation.value, l_max: lmax.value, modulator: modulator.value,
  } });
  return el("div", { class: "box", "data-inspect": `edge ${source}->${target}` },
    el("h2", { text: `Edge ${source} \u2192 ${target}` }),
    row("sign", sign), row("lag", lag), row("adstock", adstock), row("saturation", saturation), row("l_max", lmax), row("modulator", modulator),
    el("div", { class: "row" },
      el("button", { id: "edge-apply", text: "Apply", onclick: apply }),
      el("button", { id: "edge-remove", class: "danger", text: "Remove edge", onclick: () => edit("remove_edge", { source, target }) })));
}

function renderIdentification(ident) {
  const box = $("#identification");
  box.replaceChildren();
  $("#outcome-name").textContent = ident.outcome || "the outcome";
  if (ident.problem) box.append(el("p", { class: "muted", text: ident.problem }));
  for (const c of ident.channels || []) {
    const card = el("div", { class: c.identifiable ? "channel identifiable" : "channel not-identifiable", "data-channel": c.treatment });
    const verdict = c.identifiable ? `identifiable (${c.criterion})` : "not identifiable";
    card.append(el("h3", {}, `${c.treatment}: `, el("span", { class: "verdict", text: verdict })));
    if (c.adjustment_set) card.append(el("p", { text: `adjust for: ${c.adjustment_set.length ? c.adjustment_set.join(", ") : "nothing"}` }));
    if (c.frontdoor_set && c.criterion === "frontdoor") card.append(el("p", { text: `front-door through: ${c.frontdoor_set.join(", ")}` }));
    if (c.mediators.length) card.append(el("p", { text: `mediators (do not control for them): ${c.mediators.join(", ")}` }));
    if (!c.identifiable && c.open_path) card.append(el("p", {}, "open backdoor path (red in the drawing): ", el("code", { class: "open-path", text: c.open_path })));
    card.append(el("p", { class: "why", text: `why: ${c.reason}` }));
    const list = el("ul", { class: "experiments" });
    for (const x of c.experiments_that_identify) list.append(el("li", { text: x }));
    if (c.identifiable) {
      card.append(el("details", {}, el("summary", { text: "experiments that would check it" }), list));
    } else {
      card.append(el("p", { class: "experiments-title", text: "Experiments that would identify it:" }), list);
    }
    box.append(card);
  }
}

// ------------------------------------------------------------------- tests
async function loadTests() {
  const box = $("#tests");
  if (!state.has_data) {
    box.replaceChildren(el("p", { class: "muted", text: "Start the workshop with --data CSV to test the graph's implied independences against the data." }));
    return;
  }
  testsWanted = state.version;
  box.replaceChildren(el("p", { class: "muted", text: "testing\u2026" }));
  let result;
  try { result = await api("GET", "/api/tests"); } catch (err) { box.replaceChildren(el("p", { class: "error", text: err.message })); return; }
  if (result.version !== testsWanted) return;  // the graph changed meanwhile: a newer request follows
  if (!result.ok) { box.replaceChildren(el("p", { class: "muted", text: result.problem })); return; }
  const table = el("table", {}, el("tr", {}, el("th", { text: "implied" }), el("th", { text: "adj. p" }), el("th", { text: "verdict" })));
  for (const i of result.implications) {
    const given = i.given.length ? ` | ${i.given.join(", ")}` : "";
    const p = i.p_adjusted === null ? "" : Number(i.p_adjusted).toPrecision(2);
    table.append(el("tr", { class: i.verdict }, el("td", { text: `${i.x} \u27c2 ${i.y}${given}` }), el("td", { text: p }), el("td", { class: i.verdict, text: i.verdict })));
  }
  const head = result.passed ? `consistent: all ${result.n_tested} tested implications hold` : `${result.n_failures} of ${result.n_tested} implications are contradicted by the data`;
  box.replaceChildren(el("div", { class: "tests", "data-passed": String(result.passed) }, el("p", { class: result.passed ? "consistent" : "violated", text: head }), table));
}

// ----------------------------------------------------------------- wiring
function wire() {
  $("#add-node-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("#new-node-name").value.trim();
    const ok = await edit("add_node", { name, role: $("#new-node-role").value, observed: $("#new-node-observed").checked });
    if (ok) { $("#new-node-name").value = ""; $("#new-node-name").focus(); }
  });
  $("#add-edge-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    edit("add_edge", { source: $("#edge-from").value, target: $("#edge-to").value });
  });
  $("#undo").addEventListener("click", () => send("/api/undo", {}));
  $("#redo").addEventListener("click", () => send("/api/redo", {}));
  $("#save").addEventListener("click", async () => {
    try {
      const result = await api("POST", "/api/save", { path: $("#save-path").value });
      flash(result.message, "ok saved");
    } catch (err) { flash(err.message, "error"); }
  });
  $("#dagitty-export").addEventListener("click", async () => {
    try { $("#dagitty-text").value = (await api("GET", "/api/dagitty")).text; flash("the graph in DAGitty syntax is below the drawing", "ok"); }
    catch (err) { flash(err.message, "error"); }
  });
  $("#dagitty-import").addEventListener("click", () => send("/api/dagitty", { text: $("#dagitty-text").value }));
  $("#clear-graph").addEventListener("click", () => edit("replace", { graph: { name: state.graph.name, nodes: {}, edges: [] }, summary: "started an empty graph (Undo brings it back)" }));
  document.addEventListener("keydown", (ev) => {
    if (!(ev.ctrlKey || ev.metaKey) || ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName)) return;
    const key = ev.key.toLowerCase();
    if (key === "z" && !ev.shiftKey) { ev.preventDefault(); send("/api/undo", {}); }
    else if ((key === "z" && ev.shiftKey) || key === "y") { ev.preventDefault(); send("/api/redo", {}); }
  });
}

wire();
api("GET", "/api/state").then(show, (err) => flash(err.message, "error"));
