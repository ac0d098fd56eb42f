// The web-ifc anchor of bench/bim.py: parse one IFC file in Node and stream the geometry of all
// meshes (each placed geometry read out as vertex and index arrays, as a viewer would).
// Usage: node bench/webifc_stream.mjs FILE  -> one JSON line on stdout.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import * as WebIFC from "web-ifc";

const file = process.argv[2];
const api = new WebIFC.IfcAPI();
await api.Init(undefined, true);
const data = readFileSync(file);
const c0 = process.cpuUsage();
const t0 = performance.now();
const model = api.OpenModel(new Uint8Array(data), { COORDINATE_TO_ORIGIN: false });
const t1 = performance.now();
const c1 = process.cpuUsage();
let meshes = 0;
let placed = 0;
let vertices = 0;
let triangles = 0;
api.StreamAllMeshes(model, (mesh) => {
  meshes += 1;
  const geometries = mesh.geometries;
  for (let i = 0; i < geometries.size(); i++) {
    const placedGeometry = geometries.get(i);
    const geometry = api.GetGeometry(model, placedGeometry.geometryExpressID);
    const verts = api.GetVertexArray(geometry.GetVertexData(), geometry.GetVertexDataSize());
    const index = api.GetIndexArray(geometry.GetIndexData(), geometry.GetIndexDataSize());
    vertices += verts.length / 6;
    triangles += index.length / 3;
    placed += 1;
    geometry.delete();
  }
});
const t2 = performance.now();
const c2 = process.cpuUsage(c1);
api.CloseModel(model);
console.log(
  JSON.stringify({
    file,
    open_s: (t1 - t0) / 1000,
    geometry_s: (t2 - t1) / 1000,
    open_cpu_s: (c1.user - c0.user + c1.system - c0.system) / 1e6,
    geometry_cpu_s: (c2.user + c2.system) / 1e6,
    meshes,
    placed_geometries: placed,
    vertices,
    triangles,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
  }),
);
