// The BIM viewer page (bim_review/viewer.py): one of the lot's converted models in three.js
// (scene.js), the side panels (panels.js), section planes and distance measurement, and shared
// viewing in the live room (sharing.js).
//
// API for other modules of the page (BCF issues, model compare): `window.bimViewer`, also handed to
// listeners of the document event "bim:ready" (event.detail) and resolved by `viewerReady`.
//   modelId()                       the model shown (BimModel id), or null
//   loadModel(id)                   show another model of the lot (Promise)
//   getViewpoint()                  the view as viewpoint JSON (bim_review/viewpoint.py: camera,
//                                   clipping_planes, selected, hidden, default_visibility, coloured;
//                                   IFC coordinates, metres, Z up)
//   setViewpoint(viewpoint)         show a viewpoint (camera, planes, selection, visibility, colours)
//   snapshot()                      Promise<Blob> of the canvas as PNG (a BCF snapshot)
//   select(ids) / selection()       the selected GlobalIds
//   colour(groups) / clearColours() groups: [{ color: "RRGGBB" | "AARRGGBB", ids: [GlobalId] }]
//   showCompare({added, changed})   added green, changed orange (ids or {id} objects); clears others
//   addPanel(title, element)        a card in the right-hand side bar, returned
//   on(event, fn)                   "select" (ids), "loaded" (model id), "camera", "planes",
//                                   "visibility", "colours"
//   classOf(guid)                   the element's IFC class (from properties.json), or null
//   pick(x, y)                      { guid, point } under a page point, or null
//   screenPointOf(guid)             { x, y } page point of an element's centre (tests, tours)
// Changes made through the API reach followers when this page presents.

import * as THREE from "three";
import { el, fmt, readJSON } from "../rooms/room.js";
import { Panels } from "./panels.js";
import { ModelView, toGl } from "./scene.js";
import { Sharing } from "./sharing.js";

const COMPARE_COLOURS = { added: "43A047", changed: "FB8C00" };

const config = readJSON("viewer-config");
const ui = readJSON("viewer-strings");
const params = new URLSearchParams(location.search);
const root = document.getElementById("bim");
const status = document.getElementById("model-status");

// ?render=batched|naive, ?copies=N and ?antialias=0|1 are the benchmark's (bench/bim_viewer.py): other
// ways of drawing, a large model, antialiasing forced off or on (by default: off on software GL).
const view = new ModelView(document.getElementById("canvas"), {
  render: params.get("render") || "instanced",
  copies: Number(params.get("copies")) || 1,
  antialias: { 0: false, 1: true }[params.get("antialias")] ?? "auto",
});
const panels = new Panels(view, ui, { onSelect: (ids, options) => select(ids, options) });
const models = new Map(config.models.map((m) => [m.id, m]));
let currentId = null;
let loading = null;
let measuring = null; // { points: [Vector3], line }

function setStatus(text, state) {
  status.textContent = text;
  root.dataset.state = state;
}

async function fetchJSON(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

// --- models -------------------------------------------------------------------------------------

/** A model was attached while the page was open: the list again, by the page's rules; the first
 * model is shown if there was none. */
async function refreshModels() {
  const { models: listed } = await fetchJSON(config.models_url);
  for (const entry of listed) {
    if (models.has(entry.id)) continue;
    models.set(entry.id, entry);
    config.models.push(entry);
  }
  renderModelChoices();
  if (currentId === null && config.models.length) await loadModel(config.models[0].id);
}

function renderModelChoices() {
  const select = document.getElementById("model-select");
  select.replaceChildren(...config.models.map((m) => el("option", { value: String(m.id), text: `${m.label} · ${m.schema}` })));
  if (currentId !== null) select.value = String(currentId);
  select.onchange = () => {
    loadModel(Number(select.value));
    sharing.changed();
  };
}

async function loadModel(id) {
  const model = models.get(id);
  if (!model) throw new Error(`no model ${id}`);
  if (currentId === id && loading) return loading;
  currentId = id;
  document.getElementById("model-select").value = String(id);
  const url = new URL(location.href);
  url.searchParams.set("model", String(id));
  history.replaceState(null, "", url);
  if (model.status !== "ready") {
    view.clear();
    view.renderNow();
    const why = model.status === "failed" ? `${ui.failed}${model.failure_reason}` : `${ui.not_ready}${model.stage ?? ""} ${model.percent ?? 0}%`;
    setStatus(why, model.status);
    loading = null;
    return null;
  }
  setStatus(ui.loading, "loading");
  // The picture first; the panels' data arrives alongside and fills in when it comes.
  const data = Promise.all(["tree.json", "properties.json", "quantities.json"].map((n) => fetchJSON(model.urls[n])));
  loading = (async () => {
    try {
      const result = await view.load(model.urls["model.glb"]);
      if (currentId !== id) return null;
      root.dataset.model = String(id);
      setStatus(ui.loaded, "ready");
      showStats(result);
      const [tree, properties, quantities] = await data;
      if (currentId !== id) return null;
      panels.setData({ tree, properties, quantities });
      root.dataset.panels = "ready";
      emit("loaded", id);
      return result;
    } catch (error) {
      setStatus(`${ui.load_error}${error.message}`, "error");
      throw error;
    }
  })();
  return loading;
}

function showStats(result) {
  const info = view.renderer.info.render;
  document.getElementById("stats").textContent = fmt(ui.draw_calls, { calls: info.calls, ms: "–" });
  document.getElementById("stats").dataset.calls = String(result?.drawCalls ?? info.calls);
}

// --- selection and properties --------------------------------------------------------------------

function select(ids, { fit = false } = {}) {
  view.select(ids);
  panels.showProperties(ids[0] ?? null);
  if (fit && ids.length) view.fitElements(ids);
}

view.on("click", (hit) => {
  if (measuring) return measure(hit);
  select(hit ? [hit.guid] : []);
});

// --- measurement --------------------------------------------------------------------------------

function measure(hit) {
  if (!hit) return;
  if (measuring.points.length >= 2) clearMeasure(true);
  measuring.points.push(hit.point.clone());
  const result = document.getElementById("measure-result");
  if (measuring.points.length === 2) {
    const [a, b] = measuring.points;
    const distance = a.distanceTo(b);
    const geometry = new THREE.BufferGeometry().setFromPoints([a, b]);
    measuring.line = new THREE.Line(geometry, new THREE.LineBasicMaterial({ color: 0xd81b60, depthTest: false }));
    measuring.line.renderOrder = 10;
    view.scene.add(measuring.line);
    view.requestRender();
    result.dataset.distance = distance.toFixed(3);
    result.textContent = fmt(ui.distance, { d: distance.toFixed(3) });
  } else {
    result.textContent = ui.measure_hint;
  }
}

function clearMeasure(keepOn) {
  if (measuring?.line) {
    view.scene.remove(measuring.line);
    measuring.line.geometry.dispose();
  }
  measuring = keepOn ? { points: [], line: null } : null;
  view.requestRender();
}

document.getElementById("measure").addEventListener("click", (event) => {
  const on = !measuring;
  if (on) measuring = { points: [], line: null };
  else clearMeasure(false);
  event.target.setAttribute("aria-pressed", String(on));
  const result = document.getElementById("measure-result");
  result.textContent = on ? ui.measure_hint : "";
  delete result.dataset.distance;
});

// --- section planes -----------------------------------------------------------------------------

function renderSections() {
  const box = document.getElementById("sections");
  const size = view.box.getSize(new THREE.Vector3()).length() || 1;
  box.replaceChildren(
    ...view.planes.map((plane, index) => {
      const centre = view.box.getCenter(new THREE.Vector3());
      const base = -plane.normal.dot(centre);
      const slider = el("input", {
        type: "range",
        min: String(base - size / 2),
        max: String(base + size / 2),
        step: String(size / 400),
        value: String(plane.constant),
        "aria-label": `${ui.section} ${index + 1}`,
        oninput: (event) => view.movePlane(plane, Number(event.target.value)),
      });
      return el(
        "div",
        { class: "section", dataset: { index: String(index) } },
        el("span", { text: `${ui.section} ${index + 1}` }),
        slider,
        el("button", {
          type: "button",
          class: "small",
          text: ui.flip,
          onclick: () => {
            plane.negate();
            view.movePlane(plane, plane.constant);
            renderSections();
          },
        }),
        el("button", { type: "button", class: "small", text: "×", onclick: () => view.removePlane(plane) }),
      );
    }),
  );
}

for (const axis of ["x", "y", "z"]) {
  document.getElementById(`section-${axis}`).addEventListener("click", () => view.addAxisPlane(axis));
}
document.getElementById("section-clear").addEventListener("click", () => view.clearPlanes());
view.on("planes", () => {
  if (document.getElementById("sections").childElementCount !== view.planes.length) renderSections();
});

// --- other tools --------------------------------------------------------------------------------

document.getElementById("fit").addEventListener("click", () => view.fit());
document.getElementById("xray").addEventListener("click", (event) => {
  view.setXray(!view.xray);
  event.target.setAttribute("aria-pressed", String(view.xray));
});
document.getElementById("isolate-selection").addEventListener("click", () => {
  if (view.selection.size === 0) return;
  view.isolate([...view.selection]);
  panels.syncChecks();
});
document.getElementById("show-all").addEventListener("click", () => {
  view.showAll();
  panels.syncChecks();
});
document.getElementById("search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  panels.search(document.getElementById("search").value);
});
document.getElementById("search").addEventListener("input", (event) => panels.search(event.target.value));

// --- viewpoints ---------------------------------------------------------------------------------

function getViewpoint() {
  const all = view.guids();
  const hidden = all.filter((g) => view.hidden.has(g));
  // The shorter list: hidden ones, or (everything hidden by default) the ones shown.
  const inverted = hidden.length > all.length / 2;
  return {
    camera: view.cameraJSON(),
    clipping_planes: view.planesJSON(),
    selected: [...view.selection],
    hidden: inverted ? all.filter((g) => !view.hidden.has(g)) : hidden,
    default_visibility: !inverted,
    coloured: view.colourGroups(),
  };
}

function setViewpoint(vp) {
  if (vp.camera) view.setCameraJSON(vp.camera);
  view.setPlanesJSON(vp.clipping_planes ?? []);
  const listed = new Set(vp.hidden ?? []);
  const all = view.guids();
  const defaultVisible = vp.default_visibility !== false;
  view.setHidden(
    all.filter((g) => (defaultVisible ? listed.has(g) : !listed.has(g))),
    true,
  );
  view.setHidden(
    all.filter((g) => (defaultVisible ? !listed.has(g) : listed.has(g))),
    false,
  );
  view.colour(vp.coloured ?? []);
  select(vp.selected ?? []);
  panels.syncChecks();
  renderSections();
}

// --- shared viewing -----------------------------------------------------------------------------

const sharing = new Sharing({
  config,
  ui,
  current: () => (currentId === null ? null : { model: currentId, viewpoint: getViewpoint() }),
  show: async (model, viewpoint) => {
    if (model !== currentId || loading === null) await loadModel(model);
    else await loading;
    setViewpoint(viewpoint);
  },
  onAttached: () => refreshModels().catch((error) => setStatus(`${ui.load_error}${error.message}`, "error")),
  onProgress(data) {
    const model = models.get(data.model);
    if (!model) return;
    const wasReady = model.status === "ready";
    Object.assign(model, { status: data.status, stage: data.stage, percent: data.percent, failure_reason: data.reason ?? "" });
    if (data.model !== currentId) return;
    if (data.status === "ready" && !wasReady) loadModel(currentId).catch(() => {});
    else if (data.status !== "ready") loadModel(currentId);
  },
});
for (const event of ["camera", "planes", "visibility", "colours", "select"]) view.on(event, () => sharing.changed());
view.on("xray", () => sharing.changed());
// Moving the view oneself while following stops following (the button brings it back).
view.on("pointerdown", () => {
  if (sharing.following && sharing.presenter) sharing.setFollowing(false);
});

// --- the API ------------------------------------------------------------------------------------

const listeners = new Map();
function emit(event, ...args) {
  for (const fn of listeners.get(event) ?? []) fn(...args);
}

const api = {
  modelId: () => currentId,
  loadModel,
  getViewpoint,
  setViewpoint,
  snapshot: () => view.snapshot(),
  select: (ids) => select(ids),
  selection: () => [...view.selection],
  colour: (groups) => view.colour(groups),
  clearColours: () => view.colour([]),
  showCompare({ added = [], changed = [] } = {}) {
    const ids = (list) => list.map((x) => (typeof x === "string" ? x : x.id));
    view.colour([
      { color: COMPARE_COLOURS.added, ids: ids(added) },
      { color: COMPARE_COLOURS.changed, ids: ids(changed) },
    ]);
  },
  addPanel(title, element) {
    const card = el("section", { class: "card" }, el("h2", { text: title }), element);
    document.getElementById("side-right").append(card);
    return card;
  },
  on(event, fn) {
    if (["select", "camera", "planes", "visibility", "colours"].includes(event)) view.on(event, fn);
    else {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(fn);
    }
  },
  classOf: (guid) => panels.properties[guid]?.class ?? null,
  pick: (x, y) => view.pick(x, y),
  screenPointOf: (guid) => view.screenPointOf(guid),
  // For the benchmark and the browser tests.
  view,
  sharing,
  toGl,
};
window.bimViewer = api;
let resolveReady;
export const viewerReady = new Promise((resolve) => (resolveReady = resolve));

// --- start --------------------------------------------------------------------------------------

renderModelChoices();
if (config.models.length === 0) setStatus(ui.no_models, "empty");
else {
  const wanted = Number(params.get("model"));
  const first = models.has(wanted) ? wanted : (config.models.find((m) => m.status === "ready") ?? config.models[0]).id;
  loadModel(first).catch(() => {});
}
sharing.start();
resolveReady(api);
document.dispatchEvent(new CustomEvent("bim:ready", { detail: api }));
