// hypersweep dashboard: the pages are drawn here from the JSON API. Every value that came from a user goes in
// with textContent (never innerHTML), so a parameter value such as "<script>" shows as text.
"use strict";

const args = JSON.parse(document.body.dataset.args || "{}");
const main = document.getElementById("main");

function shown(value) {  // what a cell shows: numbers to 6 significant digits (sorting uses the value itself)
  return typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ": " + response.status);
  return response.json();
}

// --- the list of studies -----------------------------------------------------------------------------------
async function indexPage() {
  document.getElementById("title").textContent = "studies";
  const table = el("table", {id: "studies"});
  const head = el("tr");
  for (const name of ["study", "direction", "trials", "best"]) head.appendChild(el("th", {}, name));
  table.appendChild(head);
  main.appendChild(table);
  async function draw() {
    const data = await getJSON("/api/studies");
    while (table.rows.length > 1) table.deleteRow(1);
    for (const s of data.studies) {
      const row = el("tr", {"class": "study"});
      const link = el("a", {href: "/study/" + s.id}, s.name);
      const cell = el("td"); cell.appendChild(link); row.appendChild(cell);
      row.appendChild(el("td", {}, s.direction));
      row.appendChild(el("td", {}, s.n_trials));
      row.appendChild(el("td", {}, s.best === null ? "" : s.best));
      table.appendChild(row);
    }
  }
  await draw();
  setInterval(draw, 2000);
}

// --- one study -------------------------------------------------------------------------------------------
const PLOTS = ["history", "intermediate", "parallel", "contour", "slice", "importances", "edf", "timeline",
               "brackets", "pareto", "hypervolume"];

async function studyPage() {
  const id = args.study;
  document.getElementById("title").textContent = args.name;
  const trials = new Map();
  const PAGE = 100;
  let cursor = 0, params = [], sortKey = "number", sortDesc = false, shownRows = PAGE;

  const controls = el("div", {"class": "controls"});
  const filter = el("input", {id: "filter", placeholder: "filter rows", type: "search"});
  const stateSelect = el("select", {id: "state-filter"});
  for (const s of ["all states", "complete", "pruned", "failed", "running", "paused", "waiting"]) {
    stateSelect.appendChild(el("option", {value: s === "all states" ? "" : s}, s));
  }
  const count = el("span", {id: "count"});
  controls.append(filter, stateSelect, count);
  const columns = el("div", {"class": "columns"});
  const tableBox = el("div", {"class": "table-box"});
  const table = el("table", {id: "trials"});
  const more = el("button", {id: "more", hidden: ""}, "more rows");
  more.addEventListener("click", () => { shownRows += PAGE; drawTable(); });
  tableBox.append(table, more);
  table.addEventListener("click", (event) => {  // one listener for every row
    const row = event.target.closest("tr.trial");
    if (row) showTrial(Number(row.dataset.number));
  });
  const plotsBox = el("div");
  const plotSelect = el("select", {id: "plot-kind"});
  for (const kind of PLOTS) plotSelect.appendChild(el("option", {value: kind}, kind));
  const plotDiv = el("div", {id: "plot", "class": "plot"});
  const detail = el("div", {id: "detail"});
  plotsBox.append(plotSelect, plotDiv, detail);
  columns.append(tableBox, plotsBox);
  main.append(controls, columns);

  function columnsOf() {
    return ["number", "state", "value", ...params.map((p) => "p:" + p), "duration", "steps", "fail_reason"];
  }
  function cellValue(t, key) {
    if (key.startsWith("p:")) return t.params[key.slice(2)];
    return t[key];
  }
  function drawTable() {
    const keys = columnsOf();
    table.textContent = "";
    const head = el("tr");
    for (const key of keys) {
      const th = el("th", {"data-key": key}, key.startsWith("p:") ? key.slice(2) : key);
      if (key === sortKey) th.className = sortDesc ? "sorted-desc" : "sorted-asc";
      th.addEventListener("click", () => {
        sortDesc = key === sortKey ? !sortDesc : false;
        sortKey = key;
        drawTable();
      });
      head.appendChild(th);
    }
    table.appendChild(head);
    const text = filter.value.trim().toLowerCase();
    const state = stateSelect.value;
    let rows = [...trials.values()].filter((t) => (!state || t.state === state) &&
      (!text || keys.some((k) => String(cellValue(t, k) ?? "").toLowerCase().includes(text))));
    rows.sort((a, b) => {
      const x = cellValue(a, sortKey), y = cellValue(b, sortKey);
      const order = x === y ? 0 : (x === null || x === undefined) ? 1 : (y === null || y === undefined) ? -1 :
        (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
      return sortDesc ? -order : order;
    });
    const body = document.createDocumentFragment();  // one insertion, and only the rows shown
    for (const t of rows.slice(0, shownRows)) {
      const tr = el("tr", {"class": "trial", "data-number": t.number});
      for (const key of keys) {
        const td = el("td", {}, shown(cellValue(t, key)) ?? "");
        if (key === "state") td.className = "state-" + t.state;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    table.appendChild(body);
    more.hidden = rows.length <= shownRows;
    count.textContent = (rows.length > shownRows ? `first ${shownRows} of ` : "") + rows.length +
      (rows.length === trials.size ? " trials" : ` of ${trials.size} trials`);
  }
  async function drawPlot() {
    const figure = await getJSON(`/api/studies/${id}/plots/${plotSelect.value}`);
    Plotly.react(plotDiv, figure.data, figure.layout, {responsive: true});
    plotDiv.dataset.kind = plotSelect.value;
  }
  async function showTrial(number) {
    const t = await getJSON(`/api/studies/${id}/trials/${number}`);
    detail.textContent = "";
    detail.appendChild(el("h3", {}, "trial " + t.number + " (" + t.state + ")"));
    const curve = el("div", {"class": "plot", id: "trial-curve"});
    detail.appendChild(curve);
    Plotly.react(curve, [{x: t.intermediate.step, y: t.intermediate.value, mode: "lines+markers"}],
                 {title: "intermediate values", height: 300});
    for (const part of ["params", "user_attrs", "metadata", "system_attrs"]) {
      detail.appendChild(el("h4", {}, part));
      detail.appendChild(el("pre", {}, JSON.stringify(t[part], null, 1)));
    }
    if (t.fail_reason) { detail.appendChild(el("h4", {}, "failure")); detail.appendChild(el("pre", {}, t.fail_reason)); }
    detail.appendChild(el("h4", {}, "checkpoints and artifacts"));
    const list = el("ul", {id: "artifacts"});
    for (const a of t.artifacts) list.appendChild(el("li", {}, `${a.name} (${a.kind}, step ${a.step}, ${a.size} bytes)`));
    detail.appendChild(list);
  }
  async function poll(initial) {
    const data = await getJSON(`/api/studies/${id}/trials?since=${cursor}`);
    params = data.params;
    cursor = data.cursor;
    for (const row of data.trials) {  // rows come as lists (fields in data.fields): half the bytes of objects
      const t = {};
      data.fields.forEach((field, i) => { t[field] = row[i]; });
      t.params = Object.fromEntries(params.map((p, i) => [p, row[data.fields.indexOf("params")][i]]));
      trials.set(t.number, t);
    }
    if (data.trials.length && !initial) {
      drawTable();
      if (plotSelect.value === "history" || plotSelect.value === "intermediate") await drawPlot();
    }
  }
  filter.addEventListener("input", () => { shownRows = PAGE; drawTable(); });
  stateSelect.addEventListener("change", () => { shownRows = PAGE; drawTable(); });
  plotSelect.addEventListener("change", drawPlot);
  const plotFirst = drawPlot();  // the figure and the trials are fetched side by side
  await poll(true);
  drawTable();
  await plotFirst;
  setInterval(() => poll(false).catch(() => {}), 1000);
}

if (document.body.dataset.page === "study") studyPage(); else indexPage();
