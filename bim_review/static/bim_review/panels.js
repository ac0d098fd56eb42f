// The viewer's side panels, filled from the converted model's JSON (bim_review/outputs.py): the
// spatial tree with storeys (show, hide, isolate), an element's properties and quantities, search by
// class, name or GlobalId, and the quantity table per class and storey. Text from the model is only
// ever set as text, never parsed as markup.

import { el, fmt } from "../rooms/room.js";

const MAX_RESULTS = 200;

/** Every GlobalId contained in a tree node and below it. */
export function elementsUnder(node) {
  const out = [...(node.elements ?? [])];
  for (const child of node.children ?? []) out.push(...elementsUnder(child));
  return out;
}

function nodeTitle(node) {
  return node.name ? `${node.name} (${node.class})` : node.class;
}

export class Panels {
  constructor(view, ui, { onSelect }) {
    this.view = view;
    this.ui = ui;
    this.onSelect = onSelect;
    this.tree = null;
    this.properties = {};
    this.quantities = null;
    this.storeyNames = new Map();
  }

  setData({ tree, properties, quantities }) {
    this.tree = tree;
    this.properties = properties ?? {};
    this.quantities = quantities;
    this.storeyNames.clear();
    const walk = (node) => {
      if (node.class === "IfcBuildingStorey") this.storeyNames.set(node.id, node.name || node.id);
      for (const child of node.children ?? []) walk(child);
    };
    if (tree?.root) walk(tree.root);
    this.renderTree();
    this.renderQuantityChoices();
    this.renderQuantities();
    this.showProperties(null);
  }

  // --- the spatial tree -------------------------------------------------------------------------

  renderTree() {
    const box = document.getElementById("tree");
    box.replaceChildren();
    if (this.tree?.root) box.append(this.treeNode(this.tree.root, 0));
  }

  treeNode(node, depth) {
    const ids = elementsUnder(node);
    const row = el(
      "div",
      { class: "tree-row", dataset: { node: node.id, class: node.class } },
      el("input", {
        type: "checkbox",
        checked: true,
        "aria-label": `${this.ui.show} ${nodeTitle(node)}`,
        onchange: (event) => this.view.setHidden(ids, !event.target.checked),
      }),
      el("span", { class: "tree-name", text: nodeTitle(node) }),
      el("button", {
        type: "button",
        class: "small",
        "data-action": "isolate",
        text: this.ui.isolate,
        onclick: () => {
          this.view.isolate(ids);
          this.view.fitElements(ids);
          this.syncChecks();
        },
      }),
    );
    const children = [...(node.children ?? [])].map((child) => this.treeNode(child, depth + 1));
    const details = el("details", { class: `tree-node depth-${depth}`, open: depth < 4 }, el("summary", {}, row));
    details.append(...children);
    if (node.elements?.length) {
      const list = el("ul", { class: "tree-elements" });
      // Filled when opened: a large model's storey holds thousands of elements.
      const fill = () => {
        if (list.childElementCount) return;
        list.append(...node.elements.map((guid) => this.elementRow(guid)));
      };
      const group = el(
        "details",
        { class: "tree-group", ontoggle: fill },
        el("summary", { text: `${this.ui.count} ${node.elements.length}` }),
        list,
      );
      details.append(group);
    }
    return details;
  }

  elementRow(guid) {
    const p = this.properties[guid] ?? {};
    return el(
      "li",
      { dataset: { guid } },
      el("input", {
        type: "checkbox",
        checked: !this.view.hidden.has(guid),
        "aria-label": `${this.ui.show} ${p.name ?? guid}`,
        onchange: (event) => this.view.setHidden([guid], !event.target.checked),
      }),
      el("a", {
        href: "#",
        text: `${p.name || guid} (${p.class ?? ""})`,
        onclick: (event) => {
          event.preventDefault();
          this.onSelect([guid], { fit: true });
        },
      }),
    );
  }

  /** The tree's checkboxes follow what the view shows (after isolate, show all, a viewpoint). */
  syncChecks() {
    for (const li of document.querySelectorAll("#tree li[data-guid]")) {
      li.querySelector("input").checked = !this.view.hidden.has(li.dataset.guid);
    }
    for (const row of document.querySelectorAll("#tree .tree-row")) {
      const node = this.findNode(row.dataset.node);
      if (!node) continue;
      const ids = elementsUnder(node).filter((g) => this.view.items.has(g));
      row.querySelector("input").checked = ids.length === 0 || ids.some((g) => !this.view.hidden.has(g));
    }
  }

  findNode(id, node = this.tree?.root) {
    if (!node) return null;
    if (node.id === id) return node;
    for (const child of node.children ?? []) {
      const found = this.findNode(id, child);
      if (found) return found;
    }
    return null;
  }

  // --- properties -------------------------------------------------------------------------------

  showProperties(guid) {
    const box = document.getElementById("properties");
    box.dataset.guid = guid ?? "";
    if (!guid) {
      box.replaceChildren(el("p", { class: "empty", text: this.ui.no_selection }));
      return;
    }
    const p = this.properties[guid] ?? {};
    const head = el(
      "table",
      { class: "props" },
      el("tbody", {}, [
        this.propRow(this.ui.global_id, guid, "global-id"),
        this.propRow(this.ui.class, p.class ?? ""),
        this.propRow(this.ui.name, p.name ?? ""),
        p.type ? this.propRow("Type", p.type) : null,
        p.storey ? this.propRow(this.ui.storey, this.storeyNames.get(p.storey) ?? p.storey) : null,
      ]),
    );
    const sets = (title, groups, kind) =>
      Object.entries(groups ?? {}).map(([name, values]) =>
        el(
          "details",
          { class: `pset ${kind}`, open: true },
          el("summary", { text: `${title} · ${name}` }),
          el(
            "table",
            { class: "props" },
            el(
              "tbody",
              {},
              Object.entries(values ?? {})
                .filter(([key]) => key !== "id")
                .map(([key, value]) => this.propRow(key, value)),
            ),
          ),
        ),
      );
    box.replaceChildren(head, ...sets(this.ui.quantities, p.qtos, "qto"), ...sets(this.ui.properties, p.psets, "pset"));
  }

  propRow(key, value, id = null) {
    const text = typeof value === "number" ? String(Math.round(value * 1000) / 1000) : formatValue(value);
    return el("tr", {}, el("th", { text: key }), el("td", { text, id: id ?? undefined }));
  }

  // --- search -----------------------------------------------------------------------------------

  search(query) {
    const list = document.getElementById("search-results");
    const q = query.trim().toLowerCase();
    if (!q) {
      list.replaceChildren();
      return [];
    }
    const found = [];
    for (const [guid, p] of Object.entries(this.properties)) {
      const hay = `${guid} ${p.class ?? ""} ${p.name ?? ""}`.toLowerCase();
      if (hay.includes(q)) found.push(guid);
    }
    const shown = found.slice(0, MAX_RESULTS);
    list.replaceChildren(
      el("li", { class: "count", text: found.length ? fmt(this.ui.results, { n: found.length }) : this.ui.no_results }),
      ...shown.map((guid) => {
        const p = this.properties[guid];
        return el(
          "li",
          { dataset: { guid } },
          el("a", {
            href: "#",
            text: `${p.name || guid} · ${p.class ?? ""}`,
            onclick: (event) => {
              event.preventDefault();
              this.onSelect([guid], { fit: true });
            },
          }),
        );
      }),
    );
    return found;
  }

  // --- quantities -------------------------------------------------------------------------------

  renderQuantityChoices() {
    const select = document.getElementById("quantity-storey");
    const storeys = Object.entries(this.quantities?.by_storey ?? {}).sort(
      ([, a], [, b]) => (a.elevation ?? 0) - (b.elevation ?? 0),
    );
    select.replaceChildren(
      el("option", { value: "", text: this.ui.all_storeys }),
      ...storeys.map(([id, s]) => el("option", { value: id, text: s.name || id })),
    );
    select.onchange = () => this.renderQuantities();
  }

  renderQuantities() {
    const box = document.getElementById("quantities");
    const storey = document.getElementById("quantity-storey").value;
    const table = storey ? this.quantities?.by_storey?.[storey]?.by_class : this.quantities?.by_class;
    const units = this.quantities?.units ?? {};
    const rows = Object.entries(table ?? {}).sort(([a], [b]) => a.localeCompare(b));
    box.replaceChildren(
      el(
        "table",
        { class: "quantities", id: "quantity-table" },
        el("thead", {}, el("tr", {}, el("th", { text: this.ui.class }), el("th", { text: this.ui.count }), el("th", { text: this.ui.quantities }))),
        el(
          "tbody",
          {},
          rows.map(([cls, entry]) =>
            el(
              "tr",
              { dataset: { class: cls } },
              el("td", { text: cls }),
              el("td", { class: "num", text: String(entry.count ?? "") }),
              el(
                "td",
                {},
                Object.entries(entry.quantities ?? {}).map(([name, value]) =>
                  el("div", { text: `${name}: ${Math.round(value * 100) / 100}${unitOf(name, units)}` }),
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
}

function unitOf(name, units) {
  if (/Volume/i.test(name)) return units.volume ? ` ${units.volume}` : "";
  if (/Area/i.test(name)) return units.area ? ` ${units.area}` : "";
  if (/Length|Width|Height|Depth|Perimeter|Thickness/i.test(name)) return units.length ? ` ${units.length}` : "";
  return "";
}

function formatValue(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
