// The 3D view of one converted model (bim_review/outputs.py): loading the meshopt GLB, batching it,
// and everything that changes the picture — camera, visibility, colours, X-ray, section planes,
// picking. Knows nothing of the page or the room.
//
// Drawing: the GLB has one node per product (named by its GlobalId) and shares a mesh between nodes
// that repeat the same geometry. Drawn as loaded, that is one draw call per product and material.
// Here (``render: "instanced"``, the viewer's way):
// - a geometry repeated at least INSTANCE_MIN times is one THREE.InstancedMesh: uploaded once, one
//   matrix and colour per product in vertex attributes (hidden: a zero matrix);
// - the rest is merged per kind of material (opaque, glass) into one mesh in model coordinates with a
//   colour per vertex; each product keeps its index range (hidden: left out of the index, rebuilt
//   before the next frame) and its vertex range (colour);
// so the whole model is a few draw calls and the shaders do no more per vertex than the loader's.
// ``render: "batched"`` (one THREE.BatchedMesh per kind of material: two draw calls, but matrices and
// colours read from textures per vertex, which software GL pays for) and ``"naive"`` (the loader's
// scene) stay for the benchmark's comparison, with the same renderer settings; ``copies: n`` repeats
// the model n × n times side by side, the benchmark's stand-in for a large one.
//
// Frames: IFC and BCF are Z up, glTF is Y up. Viewpoints are given in IFC coordinates (metres, Z up):
// ifc (x, y, z) = gl (x, -z, y).

import * as THREE from "three";
import { OrbitControls } from "three/addons/controls/OrbitControls.js";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { MeshoptDecoder } from "three/addons/libs/meshopt_decoder.module.js";

const GUID = /^[0-9A-Za-z_$]{22}$/;
const SELECTED = new THREE.Color(0x1e88e5);
const XRAY_OPACITY = 0.12;
const GLASS_OPACITY = 0.35;
const DRAG_PIXELS = 4;
// A geometry drawn at least this often is instanced (one draw call per material of it); below, its
// copies are merged: a draw call per repeated window costs more than drawing the copies merged.
const INSTANCE_MIN = 16;
const HIDDEN_MATRIX = new THREE.Matrix4().makeScale(0, 0, 0);
const SOFTWARE_GL = /swiftshader|llvmpipe|softpipe|software/i;

export function toGl(v) {
  return new THREE.Vector3(v[0], v[2], -v[1]);
}

export function toIfc(v) {
  return [round(v.x), round(-v.z), round(v.y)];
}

function round(x) {
  return Math.round(x * 1e6) / 1e6;
}

/** The name of the WebGL renderer this browser gives pages, from a throwaway context. */
function rendererName() {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return "";
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  const name = String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? "");
  gl.getExtension("WEBGL_lose_context")?.loseContext();
  return name;
}

/** "RRGGBB" or "AARRGGBB" (BCF) → a THREE.Color (alpha ignored). */
export function colourOf(hex) {
  return new THREE.Color(`#${hex.length === 8 ? hex.slice(2) : hex}`);
}

function guidOf(object) {
  for (let node = object; node; node = node.parent) if (GUID.test(node.name)) return node.name;
  return null;
}

/** The geometry with plain float positions and an index, as BatchedMesh wants every one alike. */
function plainGeometry(source) {
  const position = source.getAttribute("position");
  const positions = new Float32Array(position.count * 3);
  for (let i = 0; i < position.count; i++) {
    positions[3 * i] = position.getX(i);
    positions[3 * i + 1] = position.getY(i);
    positions[3 * i + 2] = position.getZ(i);
  }
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
  const index = source.getIndex();
  const indices = new Uint32Array(index ? index.count : position.count);
  for (let i = 0; i < indices.length; i++) indices[i] = index ? index.getX(i) : i;
  geometry.setIndex(new THREE.BufferAttribute(indices, 1));
  return geometry;
}

function surfaceMaterial(transparent, vertexColors = false) {
  return new THREE.MeshLambertMaterial({
    color: 0xffffff,
    side: THREE.DoubleSide,
    flatShading: true,
    vertexColors,
    transparent,
    opacity: transparent ? GLASS_OPACITY : 1,
    depthWrite: !transparent,
  });
}

/** Every drawn primitive of the loaded scene: { guid, mesh, colour, glass }. */
function partsOf(scene) {
  const parts = [];
  scene.traverse((mesh) => {
    if (!mesh.isMesh) return;
    const guid = guidOf(mesh);
    if (!guid) return;
    const material = Array.isArray(mesh.material) ? mesh.material[0] : mesh.material;
    parts.push({ guid, mesh, colour: material.color.clone(), glass: material.transparent || material.opacity < 1 });
  });
  return parts;
}

/** One mesh of many products' geometry in model coordinates, a colour per vertex, and per product
 * its ranges so that hiding (the index) and colouring (the colours) stay per product. */
class MergedParts {
  constructor(parts, glass) {
    let vertices = 0;
    let indices = 0;
    for (const part of parts) {
      const geometry = part.mesh.geometry;
      vertices += geometry.getAttribute("position").count;
      indices += geometry.getIndex() ? geometry.getIndex().count : geometry.getAttribute("position").count;
    }
    const positions = new Float32Array(vertices * 3);
    const colours = new Uint8Array(vertices * 3);
    this.index = new Uint32Array(indices);
    this.ranges = []; // per part: { guid, first, count (indices), vertex, vertices, box }
    const point = new THREE.Vector3();
    let v = 0;
    let i = 0;
    for (const part of parts) {
      const geometry = part.mesh.geometry;
      const position = geometry.getAttribute("position");
      const index = geometry.getIndex();
      const box = new THREE.Box3();
      for (let k = 0; k < position.count; k++) {
        point.fromBufferAttribute(position, k).applyMatrix4(part.mesh.matrixWorld);
        point.toArray(positions, 3 * (v + k));
        box.expandByPoint(point);
      }
      const count = index ? index.count : position.count;
      for (let k = 0; k < count; k++) this.index[i + k] = v + (index ? index.getX(k) : k);
      this.ranges.push({ guid: part.guid, first: i, count, vertex: v, vertices: position.count, box });
      v += position.count;
      i += count;
    }
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute("position", new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute("color", new THREE.BufferAttribute(colours, 3, true));
    geometry.setIndex(new THREE.BufferAttribute(this.index, 1));
    geometry.computeBoundingBox();
    geometry.computeBoundingSphere();
    this.mesh = new THREE.Mesh(geometry, surfaceMaterial(glass, true));
    this.mesh.userData.kind = glass ? "glass" : "opaque";
    this.mesh.userData.merged = this;
    this.hidden = new Set(); // range numbers
    this.layout = this.ranges.map((r, n) => n); // range numbers in the current index's order
    this.dirty = false;
  }

  setColour(n, colour) {
    const range = this.ranges[n];
    const colours = this.mesh.geometry.getAttribute("color");
    for (let k = range.vertex; k < range.vertex + range.vertices; k++) colours.setXYZ(k, colour.r, colour.g, colour.b);
    colours.needsUpdate = true;
  }

  setVisible(n, visible) {
    if (visible) this.hidden.delete(n);
    else this.hidden.add(n);
    this.dirty = true;
  }

  /** The index of the visible ranges; run once before a frame, however many changed. */
  update() {
    if (!this.dirty) return;
    this.dirty = false;
    this.layout = this.ranges.map((r, n) => n).filter((n) => !this.hidden.has(n));
    let total = 0;
    for (const n of this.layout) total += this.ranges[n].count;
    const index = total === this.index.length ? this.index : new Uint32Array(total);
    if (index !== this.index) {
      let at = 0;
      for (const n of this.layout) {
        const r = this.ranges[n];
        index.set(this.index.subarray(r.first, r.first + r.count), at);
        at += r.count;
      }
    }
    this.mesh.geometry.setIndex(new THREE.BufferAttribute(index, 1));
    this.starts = null;
  }

  /** The product a hit triangle (index of the current index buffer) belongs to. */
  guidAt(faceIndex) {
    if (!this.starts) {
      let at = 0;
      this.starts = this.layout.map((n) => {
        const start = at;
        at += this.ranges[n].count;
        return start;
      });
    }
    const target = faceIndex * 3;
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= target) low = mid;
      else high = mid - 1;
    }
    return this.ranges[this.layout[low]]?.guid ?? null;
  }
}

export class ModelView {
  constructor(canvas, { render = "instanced", copies = 1, antialias = "auto" } = {}) {
    this.canvas = canvas;
    this.mode = ["instanced", "batched", "naive"].includes(render) ? render : "instanced";
    this.copies = Math.max(1, Math.min(copies, 40));
    // The same renderer whatever the way of drawing, so the benchmark compares like with like.
    // Multisampling costs software GL 3-4x per frame (bench/bim_viewer.py): off there, on elsewhere.
    this.gpu = rendererName();
    this.antialias = antialias === "auto" ? !SOFTWARE_GL.test(this.gpu) : Boolean(antialias);
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: this.antialias, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio || 1, 2));
    this.renderer.setClearColor(0xf4f6f8);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(45, 1, 0.05, 2000);
    this.camera.position.set(20, 15, 20);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x8d8d8d, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(0.5, 1, 0.8);
    this.scene.add(sun);
    this.controls = new OrbitControls(this.camera, canvas);
    this.controls.addEventListener("change", () => {
      this.requestRender();
      this.emit("camera");
    });
    this.root = new THREE.Group();
    this.scene.add(this.root);
    this.listeners = new Map();
    // GlobalId -> [{ colour, box, and one of: instanced, id | merged, n | batch, id | mesh }]
    this.items = new Map();
    this.merged = []; // MergedParts, updated before each frame
    this.selection = new Set();
    this.hidden = new Set();
    this.colours = new Map(); // GlobalId -> THREE.Color override (viewpoints, compare)
    this.planes = []; // THREE.Plane, kept side: normal · p + constant >= 0
    this.xray = false;
    this.box = new THREE.Box3();
    this.frame = 0;
    this.renders = 0;
    this.firstPictureAt = null;
    this.resize();
    new ResizeObserver(() => this.resize()).observe(canvas.parentElement);
    this.wirePointer();
  }

  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
  }

  emit(event, ...args) {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }

  // --- loading ----------------------------------------------------------------------------------

  async load(url) {
    const loader = new GLTFLoader().setMeshoptDecoder(MeshoptDecoder);
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const gltf = await loader.parseAsync(await response.arrayBuffer(), "");
    this.clear();
    const scene = this.copies > 1 ? this.repeated(gltf.scene) : gltf.scene;
    scene.updateMatrixWorld(true);
    if (this.mode === "naive") this.keepAsLoaded(scene);
    else if (this.mode === "batched") this.batch(scene);
    else this.instance(scene);
    this.box.setFromObject(this.root);
    if (this.box.isEmpty()) this.box.set(new THREE.Vector3(-1, -1, -1), new THREE.Vector3(1, 1, 1));
    this.fit();
    this.renderNow();
    return { elements: this.items.size, drawCalls: this.renderer.info.render.calls };
  }

  /** The model n × n times on a grid; the copies share geometry and materials, as instances do. */
  repeated(model) {
    const size = new THREE.Box3().setFromObject(model).getSize(new THREE.Vector3());
    const group = new THREE.Group();
    for (let i = 0; i < this.copies; i++) {
      for (let j = 0; j < this.copies; j++) {
        const copy = model.clone();
        copy.position.set(i * size.x * 1.2, 0, j * size.z * 1.2);
        group.add(copy);
      }
    }
    return group;
  }

  clear() {
    for (const child of [...this.root.children]) {
      this.root.remove(child);
      child.traverse((o) => {
        if (o.geometry) o.geometry.dispose();
        if (o.material) o.material.dispose?.();
        if (o.dispose && o.isBatchedMesh) o.dispose();
      });
    }
    this.items.clear();
    this.merged = [];
    this.selection.clear();
    this.hidden.clear();
    this.colours.clear();
    this.planes = [];
    this.renderer.clippingPlanes = this.planes;
  }

  keepAsLoaded(scene) {
    scene.traverse((mesh) => {
      if (!mesh.isMesh) return;
      const guid = guidOf(mesh);
      if (!guid) return;
      const source = Array.isArray(mesh.material) ? mesh.material[0] : mesh.material;
      mesh.material = surfaceMaterial(source.transparent || source.opacity < 1);
      mesh.material.color.copy(source.color);
      mesh.userData.guid = guid;
      this.itemsOf(guid).push({ mesh, colour: source.color.clone() });
    });
    this.root.add(scene);
  }

  instance(scene) {
    const parts = partsOf(scene);
    const uses = new Map(); // geometry uuid -> parts drawing it
    for (const part of parts) {
      const key = `${part.mesh.geometry.uuid}/${part.glass ? "glass" : "opaque"}`;
      if (!uses.has(key)) uses.set(key, []);
      uses.get(key).push(part);
    }
    const single = { opaque: [], glass: [] };
    for (const list of uses.values()) {
      if (list.length < INSTANCE_MIN) {
        for (const part of list) single[part.glass ? "glass" : "opaque"].push(part);
        continue;
      }
      const geometry = plainGeometry(list[0].mesh.geometry);
      geometry.computeBoundingBox();
      const glass = list[0].glass;
      const mesh = new THREE.InstancedMesh(geometry, surfaceMaterial(glass), list.length);
      mesh.userData.kind = glass ? "glass" : "opaque";
      mesh.userData.guids = [];
      mesh.userData.matrices = [];
      list.forEach((part, id) => {
        mesh.setMatrixAt(id, part.mesh.matrixWorld);
        mesh.setColorAt(id, part.colour);
        mesh.userData.guids[id] = part.guid;
        mesh.userData.matrices[id] = part.mesh.matrixWorld.clone();
        const box = geometry.boundingBox.clone().applyMatrix4(part.mesh.matrixWorld);
        this.itemsOf(part.guid).push({ instanced: mesh, id, colour: part.colour, box });
      });
      mesh.computeBoundingBox();
      mesh.computeBoundingSphere();
      this.root.add(mesh);
    }
    for (const [kind, list] of Object.entries(single)) {
      if (list.length === 0) continue;
      const merged = new MergedParts(list, kind === "glass");
      merged.ranges.forEach((range, n) => {
        merged.setColour(n, list[n].colour);
        this.itemsOf(range.guid).push({ merged, n, colour: list[n].colour, box: range.box });
      });
      this.merged.push(merged);
      this.root.add(merged.mesh);
    }
  }

  batch(scene) {
    const parts = { opaque: [], glass: [] };
    scene.traverse((mesh) => {
      if (!mesh.isMesh) return;
      const guid = guidOf(mesh);
      if (!guid) return;
      const material = Array.isArray(mesh.material) ? mesh.material[0] : mesh.material;
      const glass = material.transparent || material.opacity < 1;
      parts[glass ? "glass" : "opaque"].push({ guid, mesh, colour: material.color.clone() });
    });
    for (const [kind, list] of Object.entries(parts)) {
      if (list.length === 0) continue;
      const geometries = new Map(); // source geometry uuid -> plain geometry
      for (const part of list) {
        if (!geometries.has(part.mesh.geometry.uuid)) geometries.set(part.mesh.geometry.uuid, plainGeometry(part.mesh.geometry));
      }
      let vertices = 0;
      let indices = 0;
      for (const g of geometries.values()) {
        vertices += g.getAttribute("position").count;
        indices += g.getIndex().count;
      }
      const batch = new THREE.BatchedMesh(list.length, vertices, indices, surfaceMaterial(kind === "glass"));
      batch.userData.guids = [];
      batch.userData.kind = kind;
      // Culling per instance costs more on the CPU than it saves on a building seen whole.
      batch.perObjectFrustumCulled = false;
      batch.sortObjects = kind === "glass";
      const ids = new Map();
      for (const [uuid, g] of geometries) {
        ids.set(uuid, batch.addGeometry(g));
        g.dispose();
      }
      for (const part of list) {
        const id = batch.addInstance(ids.get(part.mesh.geometry.uuid));
        batch.setMatrixAt(id, part.mesh.matrixWorld);
        batch.setColorAt(id, part.colour);
        batch.userData.guids[id] = part.guid;
        this.itemsOf(part.guid).push({ batch, id, colour: part.colour });
      }
      batch.computeBoundingBox();
      batch.computeBoundingSphere();
      this.root.add(batch);
    }
  }

  itemsOf(guid) {
    let list = this.items.get(guid);
    if (!list) this.items.set(guid, (list = []));
    return list;
  }

  /** The GlobalIds of the products drawn. */
  guids() {
    return [...this.items.keys()];
  }

  // --- drawing ----------------------------------------------------------------------------------

  resize() {
    const box = this.canvas.parentElement;
    const width = Math.max(1, box.clientWidth);
    const height = Math.max(1, box.clientHeight);
    this.renderer.setSize(width, height, false);
    this.camera.aspect = width / height;
    this.camera.updateProjectionMatrix();
    this.requestRender();
  }

  requestRender() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.renderNow();
    });
  }

  renderNow() {
    for (const merged of this.merged) merged.update();
    this.renderer.render(this.scene, this.camera);
    this.renders += 1;
    if (this.firstPictureAt === null && this.items.size > 0) {
      this.firstPictureAt = performance.now();
      this.emit("first-picture", this.firstPictureAt);
    }
  }

  /** Draw calls of one frame and the mean time of ``frames`` frames, each waited for (readPixels). */
  measureFrames(frames = 30) {
    const gl = this.renderer.getContext();
    const pixel = new Uint8Array(4);
    this.renderNow();
    const calls = this.renderer.info.render.calls;
    const triangles = this.renderer.info.render.triangles;
    const start = performance.now();
    let submit = 0; // the page's own time in render(): what a GPU would leave of a frame
    for (let i = 0; i < frames; i++) {
      this.camera.position.applyAxisAngle(new THREE.Vector3(0, 1, 0), 0.01);
      this.camera.lookAt(this.controls.target);
      const before = performance.now();
      this.renderNow();
      submit += performance.now() - before;
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    }
    const ms = (performance.now() - start) / frames;
    return {
      calls,
      triangles,
      ms,
      submitMs: submit / frames,
      antialias: this.antialias,
      renderer: this.gpu,
      multiDraw: Boolean(gl.getExtension("WEBGL_multi_draw")),
    };
  }

  snapshot(type = "image/png") {
    this.renderNow();
    return new Promise((resolve) => this.canvas.toBlob(resolve, type));
  }

  // --- camera -----------------------------------------------------------------------------------

  /** Frame ``box`` (the whole model by default) from the south-east, looking down a little. */
  fit(box = this.box) {
    const centre = box.getCenter(new THREE.Vector3());
    const radius = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 0.5);
    const distance = radius / Math.sin(THREE.MathUtils.degToRad(this.camera.fov / 2));
    const direction = new THREE.Vector3(1, 0.7, 1).normalize();
    this.camera.position.copy(centre).addScaledVector(direction, distance);
    this.camera.near = Math.max(distance / 1000, 0.01);
    this.camera.far = distance * 20 + radius * 4;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(centre);
    this.controls.update();
    this.requestRender();
  }

  fitElements(guids) {
    const box = new THREE.Box3();
    const m = new THREE.Matrix4();
    const part = new THREE.Box3();
    for (const guid of guids) {
      for (const item of this.items.get(guid) ?? []) box.union(this.itemBox(item, part, m));
    }
    if (!box.isEmpty()) this.fit(box);
  }

  itemBox(item, target, m) {
    if (item.box) return target.copy(item.box);
    if (item.batch) {
      item.batch.getBoundingBoxAt(item.batch._instanceInfo[item.id].geometryIndex, target);
      return target.applyMatrix4(item.batch.getMatrixAt(item.id, m));
    }
    return target.setFromObject(item.mesh);
  }

  /** Camera as the viewpoint JSON has it (IFC frame). */
  cameraJSON() {
    const direction = this.camera.getWorldDirection(new THREE.Vector3());
    const up = new THREE.Vector3(0, 1, 0).applyQuaternion(this.camera.quaternion);
    return {
      kind: "perspective",
      position: toIfc(this.camera.position),
      direction: toIfc(direction),
      up: toIfc(up),
      field_of_view: round(this.camera.fov),
      aspect_ratio: round(this.camera.aspect),
    };
  }

  setCameraJSON(camera) {
    const position = toGl(camera.position);
    const direction = toGl(camera.direction).normalize();
    if (direction.lengthSq() === 0) return;
    // The orbit centre: where the view's axis passes nearest the model's centre.
    const centre = this.box.getCenter(new THREE.Vector3());
    const along = Math.max(centre.clone().sub(position).dot(direction), 0.5);
    this.camera.position.copy(position);
    if (camera.field_of_view) this.camera.fov = camera.field_of_view;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(position).addScaledVector(direction, along);
    this.controls.update();
    this.requestRender();
  }

  // --- what is shown, and how -------------------------------------------------------------------

  forEachItem(guids, fn) {
    for (const guid of guids) for (const item of this.items.get(guid) ?? []) fn(item, guid);
  }

  setHidden(guids, hidden) {
    this.forEachItem(guids, (item, guid) => {
      if (hidden) this.hidden.add(guid);
      else this.hidden.delete(guid);
      if (item.instanced) {
        item.instanced.setMatrixAt(item.id, hidden ? HIDDEN_MATRIX : item.instanced.userData.matrices[item.id]);
        item.instanced.instanceMatrix.needsUpdate = true;
      } else if (item.merged) item.merged.setVisible(item.n, !hidden);
      else if (item.batch) item.batch.setVisibleAt(item.id, !hidden);
      else item.mesh.visible = !hidden;
    });
    this.requestRender();
    this.emit("visibility");
  }

  showAll() {
    this.setHidden([...this.hidden], false);
  }

  /** Show only ``guids``. */
  isolate(guids) {
    const keep = new Set(guids);
    this.setHidden(
      this.guids().filter((g) => !keep.has(g)),
      true,
    );
    this.setHidden(
      [...keep].filter((g) => this.hidden.has(g)),
      false,
    );
  }

  paint(guids) {
    this.forEachItem(guids, (item, guid) => {
      const colour = this.selection.has(guid) ? SELECTED : (this.colours.get(guid) ?? item.colour);
      if (item.instanced) {
        item.instanced.setColorAt(item.id, colour);
        item.instanced.instanceColor.needsUpdate = true;
      } else if (item.merged) item.merged.setColour(item.n, colour);
      else if (item.batch) item.batch.setColorAt(item.id, colour);
      else item.mesh.material.color.copy(colour);
    });
    this.requestRender();
  }

  select(guids) {
    const before = [...this.selection];
    this.selection = new Set(guids.filter((g) => this.items.has(g)));
    this.paint([...before, ...this.selection]);
    this.emit("select", [...this.selection]);
  }

  /** Colour groups: [{ color: "RRGGBB", ids: [GlobalId] }]; replaces earlier colours. */
  colour(groups) {
    const before = [...this.colours.keys()];
    this.colours.clear();
    for (const group of groups) {
      const colour = colourOf(group.color);
      for (const guid of group.ids) this.colours.set(guid, colour);
    }
    this.paint([...before, ...this.colours.keys()]);
    this.emit("colours");
  }

  colourGroups() {
    const groups = new Map();
    for (const [guid, colour] of this.colours) {
      const hex = colour.getHexString().toUpperCase();
      if (!groups.has(hex)) groups.set(hex, []);
      groups.get(hex).push(guid);
    }
    return [...groups].map(([color, ids]) => ({ color, ids }));
  }

  setXray(on) {
    this.xray = on;
    this.root.traverse((o) => {
      if (!o.material) return;
      const glass = o.userData.kind ? o.userData.kind === "glass" : o.material.opacity < 1 && !o.userData.opaque;
      o.material.transparent = on || glass;
      o.material.opacity = on ? XRAY_OPACITY : glass ? GLASS_OPACITY : 1;
      o.material.depthWrite = !(on || glass);
      o.material.needsUpdate = true;
    });
    this.requestRender();
    this.emit("xray", on);
  }

  // --- section planes ---------------------------------------------------------------------------

  /** A plane through ``point`` (glTF frame) cutting away the side ``cutNormal`` points to. */
  addPlane(point, cutNormal) {
    const normal = cutNormal.clone().normalize().negate();
    const plane = new THREE.Plane().setFromNormalAndCoplanarPoint(normal, point);
    this.planes.push(plane);
    this.renderer.clippingPlanes = this.planes;
    this.requestRender();
    this.emit("planes");
    return plane;
  }

  /** An axis-aligned plane through the model's centre: axis "x", "y" (IFC's, horizontal) or "z" (up). */
  addAxisPlane(axis) {
    const cut = { x: [1, 0, 0], y: [0, 1, 0], z: [0, 0, 1] }[axis];
    return this.addPlane(this.box.getCenter(new THREE.Vector3()), toGl(cut));
  }

  movePlane(plane, offset) {
    plane.constant = offset;
    this.requestRender();
    this.emit("planes");
  }

  removePlane(plane) {
    this.planes = this.planes.filter((p) => p !== plane);
    this.renderer.clippingPlanes = this.planes;
    this.requestRender();
    this.emit("planes");
  }

  clearPlanes() {
    this.planes = [];
    this.renderer.clippingPlanes = this.planes;
    this.requestRender();
    this.emit("planes");
  }

  planesJSON() {
    return this.planes.map((plane) => {
      const location = plane.coplanarPoint(new THREE.Vector3());
      return { location: toIfc(location), direction: toIfc(plane.normal.clone().negate()) };
    });
  }

  setPlanesJSON(list) {
    this.planes = list.map((p) =>
      new THREE.Plane().setFromNormalAndCoplanarPoint(toGl(p.direction).normalize().negate(), toGl(p.location)),
    );
    this.renderer.clippingPlanes = this.planes;
    this.requestRender();
    this.emit("planes");
  }

  // --- picking ----------------------------------------------------------------------------------

  /** The nearest visible, uncut surface under the canvas point (CSS pixels): { guid, point } or null. */
  pick(x, y) {
    const rect = this.canvas.getBoundingClientRect();
    const ndc = new THREE.Vector2(((x - rect.left) / rect.width) * 2 - 1, -((y - rect.top) / rect.height) * 2 + 1);
    const raycaster = new THREE.Raycaster();
    raycaster.setFromCamera(ndc, this.camera);
    for (const merged of this.merged) merged.update();
    for (const hit of raycaster.intersectObjects(this.root.children, true)) {
      if (this.planes.some((plane) => plane.distanceToPoint(hit.point) < 0)) continue;
      const guid = this.guidOfHit(hit);
      if (guid && !this.hidden.has(guid) && hit.object.visible) return { guid, point: hit.point };
    }
    return null;
  }

  guidOfHit(hit) {
    const o = hit.object;
    if (o.isInstancedMesh) return o.userData.guids[hit.instanceId] ?? null;
    if (o.userData.merged) return o.userData.merged.guidAt(hit.faceIndex);
    if (o.isBatchedMesh) return o.userData.guids[hit.batchId] ?? null;
    return o.userData.guid ?? null;
  }

  /** Screen position (CSS pixels, page coordinates) of an element's centre, for tests and tours. */
  screenPointOf(guid) {
    const items = this.items.get(guid);
    if (!items) return null;
    const box = new THREE.Box3();
    const part = new THREE.Box3();
    const m = new THREE.Matrix4();
    for (const item of items) box.union(this.itemBox(item, part, m));
    const p = box.getCenter(new THREE.Vector3()).project(this.camera);
    const rect = this.canvas.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height };
  }

  wirePointer() {
    let down = null;
    this.canvas.addEventListener("pointerdown", (event) => {
      down = { x: event.clientX, y: event.clientY };
      this.emit("pointerdown");
    });
    this.canvas.addEventListener("pointerup", (event) => {
      if (!down) return;
      const moved = Math.hypot(event.clientX - down.x, event.clientY - down.y);
      down = null;
      if (moved > DRAG_PIXELS) return;
      this.emit("click", this.pick(event.clientX, event.clientY), event);
    });
  }
}
