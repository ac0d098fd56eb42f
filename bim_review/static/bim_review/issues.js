// BIM issues (BCF topics) and the model compare on the viewer page, as two side panels added through
// the viewer's API (window.bimViewer, bim_review/static/bim_review/viewer.js). The endpoints are
// documented in bim_review/issue_views.py; the texts come from the page ("issue-strings").
//
// Issues: the list of the shown model's issues; one opens to its description, viewpoints (shown in
// the viewer with one click, with their snapshots), comments and status. A new issue is raised at the
// current view: its viewpoint and a PNG snapshot of the canvas are saved with it. Export and import
// of .bcf files. The compare: another model of the lot against the shown one; added and changed
// elements coloured in the viewer, every change listed; an item selects its element.

import { el, fmt, readJSON } from "../rooms/room.js";
import { viewerReady } from "./viewer.js";

const ui = readJSON("issue-strings");
const config = readJSON("issue-config");
const models = readJSON("viewer-config").models;
const base = `/bim/sessions/${config.session}/`;

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

async function call(path, { method = "GET", json, form } = {}) {
  const options = { method, credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } };
  if (json !== undefined) {
    options.body = JSON.stringify(json);
    options.headers["Content-Type"] = "application/json";
  } else if (form !== undefined) {
    options.body = form;
  }
  const response = await fetch(base + path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `${response.status}`);
  return data;
}

function errorLine() {
  return el("p", { class: "error", role: "alert", hidden: true });
}

function showError(line, error) {
  line.textContent = error ? `${ui.error}${error.message || error}` : "";
  line.hidden = !error;
}

function options(values, labels, selected) {
  return values.map((v) => el("option", { value: v, text: labels[v] || v, selected: v === selected }));
}

// --- issues -------------------------------------------------------------------------------------

class IssuesPanel {
  constructor(viewer) {
    this.viewer = viewer;
    this.list = el("ul", { class: "results issues" });
    this.detail = el("div", { class: "issue-detail", hidden: true });
    this.error = errorLine();
    this.exportLink = el("a", { href: "#", text: ui.export_bcf, download: "" });
    this.root = el(
      "div",
      { id: "issues" },
      config.may_write ? this.newForm() : null,
      this.list,
      this.detail,
      el("p", { class: "controls" }, this.exportLink, config.may_write ? this.importForm() : null),
      this.error,
    );
    viewer.addPanel(ui.issues, this.root);
    viewer.on("loaded", () => this.refresh());
    if (viewer.modelId() !== null) this.refresh();
  }

  newForm() {
    const title = el("input", { type: "text", maxlength: 200, placeholder: ui.title, "aria-label": ui.title, required: true });
    const description = el("textarea", { rows: 2, maxlength: 4000, placeholder: ui.description, "aria-label": ui.description });
    const priority = el("select", { "aria-label": ui.priority }, options(config.priorities, ui.priorities, "Normal"));
    const form = el(
      "form",
      { class: "issue-new" },
      title,
      description,
      priority,
      el("button", { type: "submit", text: ui.raise }),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const body = { model: this.viewer.modelId(), title: title.value, description: description.value, priority: priority.value };
        const { issue } = await call("issues", { method: "POST", json: body });
        await this.saveView(issue.guid);
        form.reset();
        await this.refresh();
        await this.open(issue.guid);
      } catch (error) {
        showError(this.error, error);
      }
    });
    return form;
  }

  importForm() {
    const file = el("input", { type: "file", accept: ".bcf", "aria-label": ui.import_bcf });
    file.addEventListener("change", async () => {
      if (!file.files.length) return;
      const form = new FormData();
      form.append("file", file.files[0]);
      try {
        const { issues } = await call(`bcf?model=${this.viewer.modelId()}`, { method: "POST", form });
        showError(this.error, null);
        this.error.hidden = false;
        this.error.textContent = fmt(ui.imported, { count: issues.length });
        await this.refresh();
      } catch (error) {
        showError(this.error, error);
      }
      file.value = "";
    });
    return el("label", { class: "import" }, ui.import_bcf, file);
  }

  async saveView(guid) {
    // The viewpoint and the snapshot of the canvas as it is now (BCF's picture of the issue).
    const form = new FormData();
    form.append("viewpoint", JSON.stringify(this.viewer.getViewpoint()));
    const snapshot = await this.viewer.snapshot();
    if (snapshot) form.append("snapshot", snapshot, "snapshot.png");
    return call(`issues/${guid}/viewpoints`, { method: "POST", form });
  }

  async refresh() {
    const model = this.viewer.modelId();
    if (model === null) return;
    this.exportLink.href = `${base}bcf?model=${model}`;
    try {
      const { issues } = await call(`issues?model=${model}`);
      this.list.replaceChildren(
        ...issues.map((issue) =>
          el(
            "li",
            { dataset: { guid: issue.guid } },
            el("button", { type: "button", class: "link", text: issue.title, onclick: () => this.open(issue.guid) }),
            " ",
            el("span", { class: `badge status-${issue.status}`, text: ui.statuses[issue.status] || issue.status }),
          ),
        ),
      );
      if (!issues.length) this.list.replaceChildren(el("li", { class: "empty", text: ui.no_issues }));
      showError(this.error, null);
    } catch (error) {
      showError(this.error, error);
    }
  }

  async open(guid) {
    let issue;
    try {
      ({ issue } = await call(`issues/${guid}`));
    } catch (error) {
      showError(this.error, error);
      return;
    }
    const viewpoints = issue.viewpoints.map((vp) =>
      el(
        "li",
        {},
        vp.snapshot ? el("img", { src: vp.snapshot, alt: ui.snapshot, class: "snapshot", width: 160 }) : null,
        el("button", { type: "button", class: "small", text: ui.show_view, onclick: () => this.viewer.setViewpoint(vp.viewpoint) }),
      ),
    );
    const comments = issue.comments.map((c) =>
      el("li", {}, el("strong", { text: c.author }), ` ${new Date(c.date).toLocaleString()}：`, c.text),
    );
    this.detail.replaceChildren(
      el("h3", { text: issue.title }),
      el("p", { text: `${ui.priorities[issue.priority] || issue.priority} · ${issue.creation_author}` }),
      issue.description ? el("p", { text: issue.description }) : null,
      el("ul", { class: "viewpoints" }, viewpoints),
      el("ul", { class: "comments" }, comments.length ? comments : [el("li", { class: "empty", text: ui.no_comments })]),
      config.may_write ? this.actions(issue) : null,
    );
    this.detail.hidden = false;
    if (issue.viewpoints.length) this.viewer.setViewpoint(issue.viewpoints[0].viewpoint);
  }

  actions(issue) {
    const status = el("select", { "aria-label": ui.status }, options(config.statuses, ui.statuses, issue.status));
    status.addEventListener("change", () => this.act(issue.guid, "change", { status: status.value }));
    const text = el("input", { type: "text", maxlength: 4000, placeholder: ui.comment, "aria-label": ui.comment });
    const form = el("form", { class: "comment" }, text, el("button", { type: "submit", text: ui.send }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (text.value.trim()) this.act(issue.guid, "comments", { text: text.value });
    });
    const addView = el("button", {
      type: "button",
      class: "small",
      text: ui.add_view,
      onclick: async () => {
        try {
          await this.saveView(issue.guid);
          await this.open(issue.guid);
        } catch (error) {
          showError(this.error, error);
        }
      },
    });
    return el("div", { class: "issue-actions" }, status, addView, form);
  }

  async act(guid, path, body) {
    try {
      await call(`issues/${guid}/${path}`, { method: "POST", json: body });
      await this.refresh();
      await this.open(guid);
    } catch (error) {
      showError(this.error, error);
    }
  }
}

// --- compare ------------------------------------------------------------------------------------

class ComparePanel {
  constructor(viewer) {
    this.viewer = viewer;
    this.other = el("select", { "aria-label": ui.compare_with }, models.map((m) => el("option", { value: m.id, text: m.label })));
    this.result = el("div", { class: "compare-result" });
    this.error = errorLine();
    const run = el("button", { type: "button", text: ui.compare, onclick: () => this.run() });
    const clear = el("button", { type: "button", text: ui.clear, onclick: () => this.clear() });
    viewer.addPanel(ui.compare_title, el("div", { id: "compare" }, el("p", { class: "controls" }, this.other, run, clear), this.result, this.error));
  }

  clear() {
    this.viewer.clearColours();
    this.result.replaceChildren();
  }

  async run() {
    const current = this.viewer.modelId();
    if (current === null) return;
    let data;
    try {
      data = await call(`compare?old=${this.other.value}&new=${current}`);
      showError(this.error, null);
    } catch (error) {
      showError(this.error, error);
      return;
    }
    this.viewer.showCompare({ added: data.added.map((e) => e.id), changed: data.changed.map((e) => e.id) });
    const item = (element, kind, extra = []) =>
      el(
        "li",
        { class: `compare-${kind}` },
        el("button", { type: "button", class: "link", text: `${element.class} ${element.name || element.id}`, onclick: () => this.viewer.select([element.id]) }),
        extra,
      );
    const changes = (element) =>
      el(
        "ul",
        {},
        element.properties.map((p) => el("li", { text: `${p.set}.${p.name}: ${p.old ?? "—"} → ${p.new ?? "—"}` })),
      );
    this.result.replaceChildren(
      el("p", { text: fmt(ui.compare_counts, { old: data.old.bid, new: data.new.bid, ...data.counts }) }),
      el("h3", { text: ui.added }),
      el("ul", {}, data.added.map((e) => item(e, "added"))),
      el("h3", { text: ui.removed }),
      el("ul", {}, data.removed.map((e) => el("li", { class: "compare-removed", text: `${e.class} ${e.name || e.id}` }))),
      el("h3", { text: ui.changed }),
      el("ul", {}, data.changed.map((e) => item(e, "changed", [" ", (e.kinds || []).map((k) => ui.kinds[k] || k).join("、"), changes(e)]))),
    );
  }
}

viewerReady.then((viewer) => {
  if (!config.may_read) return;
  new IssuesPanel(viewer);
  if (models.length > 1) new ComparePanel(viewer);
});
