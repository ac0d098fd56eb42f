// The 3D view of one converted model (bim_review/outputs.py): loading the meshopt GLB, batching it,
// and everything that changes the picture — camera, visibility, colours, X-ray, section planes,
// picking. Knows nothing of the page or the room.
//
// Batching: the GLB has one node per product (named by its GlobalId) and shares a mesh between
// nodes that repeat the same geometry. Drawn as they are, that is one draw call per product and
// material. Here every primitive goes into one THREE.BatchedMesh per kind of material (opaque,
// transparent): each distinct geometry is uploaded once and each product is an instance with its
// own matrix, colour and visibility, so the whole model is two draw calls where WEBGL_multi_draw is
// available. ``naive: true`` keeps the loader's scene as it is, for the benchmark's comparison;
// ``copies: n`` repeats the model n × n times side by side, the benchmark's stand-in for a large one.
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

export function toGl(v) {
  return new THREE.Vector3(v[0], v[2], -v[1]);
}

export function toIfc(v) {
  return [round(v.x), round(-v.z), round(v.y)];
}

function round(x) {
  return Math.round(x * 1e6) / 1e6;
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

function surfaceMaterial(transparent) {
  return new THREE.MeshLambertMaterial({
    color: 0xffffff,
    side: THREE.DoubleSide,
    flatShading: true,
    transparent,
    opacity: transparent ? GLASS_OPACITY : 1,
    depthWrite: !transparent,
  });
}

export class ModelView {
  constructor(canvas, { naive = false, copies = 1 } = {}) {
    this.canvas = canvas;
    this.naive = naive;
    this.copies = Math.max(1, Math.min(copies, 40));
    this.renderer = new THREE.WebGLRenderer({ canvas, antialias: !naive, preserveDrawingBuffer: true });
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
    this.items = new Map(); // GlobalId -> [{ batch, id, colour }] (naive: [{ mesh, colour }])
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
    if (this.naive) this.keepAsLoaded(scene);
    else this.batch(scene);
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
    for (let i = 0; i < frames; i++) {
      this.camera.position.applyAxisAngle(new THREE.Vector3(0, 1, 0), 0.01);
      this.camera.lookAt(this.controls.target);
      this.renderNow();
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);
    }
    const ms = (performance.now() - start) / frames;
    return { calls, triangles, ms, multiDraw: Boolean(gl.getExtension("WEBGL_multi_draw")) };
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
      for (const item of this.items.get(guid) ?? []) {
        if (item.batch) {
          const info = item.batch._instanceInfo[item.id];
          item.batch.getBoundingBoxAt(info.geometryIndex, part);
          item.batch.getMatrixAt(item.id, m);
          box.union(part.applyMatrix4(m));
        } else {
          box.union(part.setFromObject(item.mesh));
        }
      }
    }
    if (!box.isEmpty()) this.fit(box);
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
      if (item.batch) item.batch.setVisibleAt(item.id, !hidden);
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
      if (item.batch) item.batch.setColorAt(item.id, colour);
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
      const glass = o.isBatchedMesh ? o.userData.kind === "glass" : o.material.opacity < 1 && !o.userData.opaque;
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
    for (const hit of raycaster.intersectObjects(this.root.children, true)) {
      if (this.planes.some((plane) => plane.distanceToPoint(hit.point) < 0)) continue;
      const guid = hit.object.isBatchedMesh ? hit.object.userData.guids[hit.batchId] : hit.object.userData.guid;
      if (!hit.object.isBatchedMesh && !hit.object.visible) continue;
      if (guid) return { guid, point: hit.point };
    }
    return null;
  }

  /** Screen position (CSS pixels, page coordinates) of an element's centre, for tests and tours. */
  screenPointOf(guid) {
    const items = this.items.get(guid);
    if (!items) return null;
    const box = new THREE.Box3();
    const part = new THREE.Box3();
    const m = new THREE.Matrix4();
    for (const item of items) {
      if (item.batch) {
        item.batch.getBoundingBoxAt(item.batch._instanceInfo[item.id].geometryIndex, part);
        box.union(part.applyMatrix4(item.batch.getMatrixAt(item.id, m)));
      } else box.union(part.setFromObject(item.mesh));
    }
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
