// The scoring part of the room page: the expert's own sheet (bids × criteria), the preliminary
// review's pass/fail grid, everyone's progress as counts, and the leader's summary with its charts.
//
// The snapshot's ``scoring`` (rooms/snapshot.py) is the truth this module starts from; each cell
// the expert saves is acknowledged with its new version, and the expert's other tabs receive the
// saved cell (``score.saved``) while everybody else only receives counts (``sheet.progress``).
// A cell is saved as soon as it is a valid entry: checked here first (a number, in range, on the
// step) and by the server again. Each cell shows its state: saving, saved, refused with the reason,
// or changed in another tab.
//
// Text from the server is set with textContent; the charts are SVG drawn by the server and shown as
// images (an <img> runs no script), never parsed into the page.

import { el, fmt, keyed, showError } from "../rooms/room.js";

const SAVE_DELAY_MS = 700;
// Scoring events after which the snapshot is the simplest truth (conclusions change who is in the
// sheet; the summary is computed by the server).
const RESYNC_AFTER = new Set([
  "sheet.recheck_requested",
  "preliminary.concluded",
  "score.corrected",
  "score.deviation_confirmed",
  "price.corrected",
  "price.policy_set",
  "price.low_explained",
  "scoring.scheme_copied",
]);

const cellKey = (bid, criterion) => `${bid}:${criterion}`;

/** Decimal text → hundredths-of-a-thousandth integer, so range and step are checked without floats. */
function scaled(text) {
  const match = /^(-?)(\d{1,6})(?:\.(\d{1,4}))?$/.exec(text);
  if (!match) return null;
  const [, sign, whole, frac = ""] = match;
  const value = Number(whole) * 10000 + Number(frac.padEnd(4, "0"));
  return sign ? -value : value;
}

/** The inverse of ``scaled``: an integer of ten-thousandths as decimal text ("12.5"). */
function unscaled(value) {
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  const frac = String(abs % 10000).padStart(4, "0").replace(/0+$/, "");
  return `${sign}${Math.floor(abs / 10000)}${frac ? `.${frac}` : ""}`;
}

/** Do two decimal texts (or nulls) mean the same score? "7.5" and "7.50" do. */
function same(a, b) {
  if (a === null || a === undefined || a === "") return b === null || b === undefined || b === "";
  if (b === null || b === undefined || b === "") return false;
  return scaled(String(a)) === scaled(String(b));
}

/** Why ``text`` is not a valid score for ``criterion`` (null when it is). */
export function entryProblem(text, criterion, ui) {
  const value = scaled(text);
  if (value === null) return ui.not_a_number;
  const max = scaled(criterion.max);
  if (value < 0 || value > max) return fmt(ui.out_of_range, { max: criterion.max });
  const step = scaled(criterion.step);
  if (step > 0 && value % step !== 0) return fmt(ui.off_step, { step: criterion.step });
  return null;
}

/** The sheet's client side: the cells' versions and what each tab is saving. */
export class Sheet {
  constructor(page) {
    this.page = page;
    this.ui = page.strings.scoring;
    this.pending = new Map(); // cell key -> { value, id }
    this.timers = new Map(); // cell key -> debounce timer
    this.queued = new Map(); // cell key -> the save to send once the one in flight is answered
    this.notes = new Map(); // cell key -> { state, text } shown after a refusal or a change elsewhere
  }

  get state() {
    return this.page.state?.scoring ?? null;
  }

  /** [bid id, the total of this expert's saved cells as decimal text] for every bid of the sheet. */
  totals() {
    const sheet = this.state?.sheet;
    if (!sheet) return [];
    const sums = new Map(sheet.bids.map((bid) => [bid, 0]));
    for (const c of sheet.cells) {
      if (c.value !== null && sums.has(c.bid)) sums.set(c.bid, sums.get(c.bid) + scaled(String(c.value)));
    }
    return Array.from(sums, ([bid, sum]) => [bid, unscaled(sum)]);
  }

  cell(bid, criterion) {
    const sheet = this.state?.sheet;
    if (!sheet) return null;
    sheet.cellMap ??= new Map(sheet.cells.map((c) => [cellKey(c.bid, c.criterion), c]));
    return sheet.cellMap.get(cellKey(bid, criterion)) ?? null;
  }

  storeCell(data) {
    const sheet = this.state?.sheet;
    if (!sheet) return;
    const key = cellKey(data.bid, data.criterion);
    const known = this.cell(data.bid, data.criterion);
    if (known && known.version >= data.version) return;
    const entry = { bid: data.bid, criterion: data.criterion, value: data.value, version: data.version };
    if (known) Object.assign(known, entry);
    else {
      sheet.cells.push(entry);
      sheet.cellMap.set(key, entry);
    }
  }

  /** A versioned event of the room, applied to the snapshot's ``scoring`` in version order. */
  apply(frame, client) {
    const scoring = this.state;
    const data = frame.data ?? {};
    if (scoring === null) return;
    if (frame.type === "scoring.progress" || frame.type === "sheet.submitted") {
      const row = (scoring.progress ?? []).find((p) => p.member === data.member);
      if (row) {
        for (const key of ["filled", "total", "submitted"]) if (key in data) row[key] = data[key];
        if (frame.type === "sheet.submitted") row.submitted = true;
      }
    }
    const mine = scoring.sheet && data.member === scoring.sheet.member;
    if (mine && data.cell_version !== undefined && data.bid !== undefined) {
      // A cell of this expert moved on. If this tab did not save it, another tab did: reload the
      // sheet (the value never travels in the event) and say so on the cell.
      const key = cellKey(data.bid, data.criterion);
      const known = this.cell(data.bid, data.criterion);
      if ((known?.version ?? 0) < data.cell_version && !this.pending.has(key)) {
        this.notes.set(key, { state: "elsewhere", text: this.ui.changed_elsewhere });
        client.resync(frame.version);
      }
    }
    if (RESYNC_AFTER.has(frame.type) || (mine && frame.type === "sheet.submitted")) client.resync(frame.version);
    // The leader needs each bid's marks to conclude it; the others see their own marks.
    if (frame.type === "preliminary.progress" && this.page.state.actions.includes("conclude_preliminary")) {
      client.resync(frame.version);
    }
  }

  // --- saving -----------------------------------------------------------------------------------

  schedule(input, criterion, bid, immediate) {
    const key = cellKey(bid, criterion.id);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const text = input.value.trim();
    const saved = this.cell(bid, criterion.id);
    const cellNode = input.closest("td");
    const inFlight = this.pending.get(key);
    if (inFlight && same(text, inFlight.value)) return; // already on its way
    if (same(text, saved?.value) && !inFlight) {
      this.notes.delete(key);
      this.showCell(cellNode, saved ? "saved" : "empty", "");
      return;
    }
    const problem = text === "" ? null : entryProblem(text, criterion, this.ui);
    if (problem) {
      this.showCell(cellNode, "invalid", problem);
      return;
    }
    this.showCell(cellNode, "dirty", "");
    // One save per cell at a time, each on the version the previous one returned: a newer entry
    // typed meanwhile goes once the one in flight is answered.
    const save = () => {
      if (this.pending.has(key)) this.queued.set(key, () => this.schedule(input, criterion, bid, true));
      else this.save(cellNode, key, bid, criterion.id, text);
    };
    if (immediate) save();
    else this.timers.set(key, setTimeout(save, SAVE_DELAY_MS));
  }

  save(cellNode, key, bid, criterion, text) {
    this.timers.delete(key);
    const base = this.cell(bid, criterion)?.version ?? 0;
    const frame = { type: "score.set", bid, criterion, value: text === "" ? null : text, base };
    const slot = cellNode.querySelector(".cell-note");
    const id = this.page.client.request(frame, {
      onAck: (ack) => {
        this.pending.delete(key);
        this.notes.delete(key);
        if (ack.data?.cell) this.storeCell(ack.data.cell);
        this.refreshCell(cellNode, bid, criterion);
        this.runQueued(key);
      },
      // Refused: the cell says why and keeps the typed text. A conflict (another tab saved first)
      // takes the server's value from a fresh snapshot, so nothing stale stays on screen.
      onError: (error) => {
        this.pending.delete(key);
        // A stale write (another tab saved first) comes back with the cell as saved.
        const conflict = error.code === "conflict" && Boolean(error.data?.cell);
        const text = conflict ? this.ui.conflict : error.message;
        if (conflict) {
          this.storeCell({ bid, criterion, ...error.data.cell });
          cellNode.querySelector("input").value = error.data.cell.value ?? "";
        }
        this.notes.set(key, { state: conflict ? "conflict" : "refused", text });
        this.showCell(cellNode, conflict ? "conflict" : "refused", text);
        this.queued.delete(key); // the entry behind a refused one waits for the expert to look again
        if (conflict) this.page.client.resync();
      },
    });
    if (id === null) {
      this.showCell(cellNode, "refused", this.ui.not_connected);
      return;
    }
    this.pending.set(key, { value: frame.value, id });
    this.showCell(cellNode, "saving", this.ui.saving);
  }

  runQueued(key) {
    const next = this.queued.get(key);
    this.queued.delete(key);
    if (next) next();
  }

  showCell(cellNode, state, text) {
    cellNode.dataset.state = state;
    const note = cellNode.querySelector(".cell-note");
    note.textContent = text;
    note.hidden = !text;
    note.className = `cell-note state-${state}`;
  }

  refreshCell(cellNode, bid, criterion) {
    const key = cellKey(bid, criterion);
    const input = cellNode.querySelector("input");
    const saved = this.cell(bid, criterion);
    const busy = this.pending.has(key) || this.timers.has(key);
    const editing = document.activeElement === input && !same(input.value.trim(), saved?.value);
    if (!busy && !editing) input.value = saved?.value ?? "";
    if (busy) return;
    const note = this.notes.get(key);
    if (note) this.showCell(cellNode, note.state, note.text);
    else if (cellNode.dataset.state !== "invalid" || !editing) {
      this.showCell(cellNode, saved && saved.value !== null ? "saved" : "empty", saved ? this.ui.saved : "");
    }
  }
}

// --- rendering ----------------------------------------------------------------------------------

function bidTitle(bid) {
  return bid.name ? `${bid.label} ${bid.name}` : bid.label;
}

function section(id, title) {
  let node = document.getElementById(id);
  if (!node) {
    node = el("section", { id, class: "card scoring-part" }, el("h2", { text: title }), el("div", { class: "body" }));
    document.getElementById("scoring-sheet").append(node);
  }
  return node;
}

function renderProgress(scoring, page, sheet) {
  const ui = sheet.ui;
  const node = section("scoring-progress", ui.progress_title);
  node.hidden = !(scoring.progress ?? []).length;
  const body = node.querySelector(".body");
  if (!body.firstChild) {
    body.append(
      el(
        "table",
        { class: "list progress" },
        el("thead", {}, el("tr", {}, [ui.col_member, ui.col_filled, ui.col_status, ""].map((t) => el("th", { text: t })))),
        el("tbody"),
      ),
    );
  }
  const canRecheck = page.state.actions.includes("request_recheck") && !page.readOnly;
  keyed(
    body.querySelector("tbody"),
    scoring.progress ?? [],
    (p) => p.member,
    (p) => {
      const reason = el("input", { type: "text", class: "reason", maxlength: 2000, placeholder: ui.recheck_reason, "aria-label": ui.recheck_reason });
      const slot = el("span", { class: "error", hidden: true });
      const button = el("button", { type: "button", dataset: { recheck: p.member }, text: ui.recheck });
      button.addEventListener("click", () => {
        const text = reason.value.trim();
        if (!text) return showError(slot, ui.reason_required);
        page.client.request({ type: "sheet.recheck", member: p.member, reason: text }, { slot, onAck: () => (reason.value = "") });
      });
      return el(
        "tr",
        { dataset: { progressMember: p.member } },
        el("td", { class: "name" }),
        el("td", { class: "num filled" }),
        el("td", { class: "status" }),
        el("td", { class: "recheck" }, reason, button, slot),
      );
    },
    (row, p) => {
      row.querySelector(".name").textContent = p.name;
      row.querySelector(".filled").textContent = `${p.filled} / ${p.total}`;
      row.dataset.filled = String(p.filled);
      row.dataset.submitted = String(Boolean(p.submitted));
      row.querySelector(".status").textContent = p.submitted ? ui.submitted : ui.in_progress;
      row.querySelector(".recheck").hidden = !(canRecheck && p.submitted);
    },
  );
}

function renderSheet(scoring, page, sheet) {
  const ui = sheet.ui;
  const mine = scoring.sheet;
  const show = mine !== null && mine !== undefined && ["detailed_review", "summary"].includes(page.state.session.phase);
  const node = section("my-sheet", ui.sheet_title);
  node.hidden = !show;
  if (!show) return;
  const body = node.querySelector(".body");
  if (!body.querySelector("table")) {
    body.append(
      el("p", { class: "notice sheet-recheck", role: "alert", hidden: true }),
      el("p", { class: "hint sheet-status" }),
      el("div", { class: "notice sheet-warnings", hidden: true }, el("strong", { text: ui.warnings_title }), el("ul")),
      el(
        "div",
        { class: "sheet-scroll" },
        el("table", { class: "list sheet" }, el("thead", {}, el("tr")), el("tbody"), el("tfoot", {}, el("tr", { class: "totals" }))),
      ),
      el(
        "p",
        { class: "controls" },
        el("button", { type: "button", class: "primary", id: "sheet-submit", text: ui.submit }),
        el("span", { class: "error", hidden: true, dataset: { errorFor: "sheet-submit" } }),
      ),
    );
    body.querySelector("#sheet-submit").addEventListener("click", () => {
      // The totals the expert saw go with the sheet: the summary checks them (arithmetic, Art. 64).
      const totals = Object.fromEntries(sheet.totals().map(([bid, total]) => [String(bid), total]));
      page.client.request({ type: "sheet.submit", totals }, { slot: body.querySelector('[data-error-for="sheet-submit"]') });
    });
  }
  const bids = scoring.bids.filter((b) => b.status !== "failed");
  const readOnly = page.readOnly || !mine.editable || page.state.session.phase !== "detailed_review";
  node.dataset.submitted = String(Boolean(mine.submitted));
  const recheck = body.querySelector(".sheet-recheck");
  recheck.hidden = !mine.recheck;
  recheck.textContent = mine.recheck ? fmt(ui.recheck_notice, { reason: mine.recheck.reason }) : "";
  const filled = mine.cells.filter((c) => c.value !== null).length;
  body.querySelector(".sheet-status").textContent = mine.submitted
    ? ui.sheet_submitted
    : fmt(ui.sheet_progress, { filled, total: mine.total ?? filled });
  renderWarnings(body, mine, scoring, page, sheet);
  const submit = body.querySelector("#sheet-submit");
  submit.hidden = Boolean(mine.submitted) || page.readOnly;
  submit.disabled = page.state.session.phase !== "detailed_review";
  // Header: one column per bid (labels only in anonymous review).
  keyed(
    body.querySelector("thead tr"),
    [{ id: "criterion" }, { id: "max" }, ...bids],
    (b) => b.id,
    (b) => el("th", { dataset: { bid: b.id } }),
    (th, b) => {
      th.textContent = b.id === "criterion" ? ui.col_criterion : b.id === "max" ? ui.col_max : bidTitle(b);
    },
  );
  keyed(
    body.querySelector("tbody"),
    scoring.criteria,
    (c) => c.id,
    (c) => el("tr", { dataset: { criterion: c.id } }, el("th", { class: "criterion" }), el("td", { class: "num max" })),
    (row, c) => {
      row.querySelector(".criterion").textContent = `${c.group_label} · ${c.name}`;
      row.querySelector(".criterion").title = c.description ?? "";
      row.querySelector(".max").textContent = c.step ? `${c.max}（${fmt(ui.step, { step: c.step })}）` : c.max;
      row.dataset.objective = String(Boolean(c.objective));
      const cells = Array.from(row.querySelectorAll("td.cell"));
      const byBid = new Map(cells.map((td) => [td.dataset.bid, td]));
      for (const bid of bids) {
        let td = byBid.get(String(bid.id));
        byBid.delete(String(bid.id));
        if (!td) {
          td = c.price ? priceCell(bid, c) : inputCell(bid, c, sheet);
          row.append(td);
        }
        if (c.price) {
          const computed = (mine.price_scores ?? []).find((p) => p.bid === bid.id && p.criterion === c.id);
          td.querySelector(".computed").textContent = computed?.value ?? ui.computed_later;
        } else {
          td.querySelector("input").disabled = readOnly;
          sheet.refreshCell(td, bid.id, c.id);
        }
      }
      for (const stale of byBid.values()) stale.remove();
    },
  );
  const totals = new Map(sheet.totals());
  keyed(
    body.querySelector("tfoot tr"),
    [{ id: "criterion" }, { id: "max" }, ...bids],
    (b) => b.id,
    (b) => el(b.id === "criterion" ? "th" : "td", { class: "num", dataset: { totalFor: b.id } }),
    (node, b) => {
      node.textContent = b.id === "criterion" ? ui.typed_total : b.id === "max" ? "" : totals.get(b.id) ?? "0";
    },
  );
}

function priceCell(bid, criterion) {
  return el(
    "td",
    { class: "cell price", dataset: { bid: bid.id, criterion: criterion.id, state: "computed" } },
    el("span", { class: "computed" }),
  );
}

function inputCell(bid, criterion, sheet) {
  const ui = sheet.ui;
  const input = el("input", {
    type: "text",
    inputmode: "decimal",
    class: "score",
    size: 5,
    maxlength: 12,
    "aria-label": `${bid.label} ${criterion.name}`,
  });
  input.addEventListener("input", () => sheet.schedule(input, criterion, bid.id, false));
  input.addEventListener("change", () => sheet.schedule(input, criterion, bid.id, true));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") sheet.schedule(input, criterion, bid.id, true);
  });
  return el(
    "td",
    { class: "cell", dataset: { bid: bid.id, criterion: criterion.id, state: "empty" }, title: fmt(ui.range_hint, { max: criterion.max, step: criterion.step }) },
    input,
    el("span", { class: "cell-note", hidden: true }),
  );
}

function renderPrelim(scoring, page, sheet) {
  const ui = sheet.ui;
  const prelim = scoring.prelim;
  const show = prelim !== null && prelim !== undefined && page.state.session.phase === "preliminary_review";
  const node = section("prelim-review", ui.prelim_title);
  node.hidden = !show;
  if (!show) return;
  const body = node.querySelector(".body");
  const canMark = page.state.actions.includes("mark_preliminary") && !page.readOnly;
  const marks = new Map((prelim.marks ?? []).map((m) => [cellKey(m.bid, m.criterion), m]));
  keyed(
    body,
    scoring.bids,
    (b) => b.id,
    (b) =>
      el(
        "div",
        { class: "prelim-bid", dataset: { bid: b.id } },
        el("h3", { class: "bid-title" }),
        el("table", { class: "list prelim" }, el("tbody")),
        el("p", { class: "conclusion" }),
        el("div", { class: "conclude" }),
      ),
    (box, b) => {
      box.querySelector(".bid-title").textContent = bidTitle(b);
      keyed(
        box.querySelector("tbody"),
        scoring.prelim_criteria,
        (c) => c.id,
        (c) => prelimRow(b, c, page, sheet),
        (row, c) => {
          const mark = marks.get(cellKey(b.id, c.id));
          row.dataset.mark = mark ? (mark.passed ? "pass" : "fail") : "none";
          row.querySelector(".mark-state").textContent = mark ? (mark.passed ? ui.pass : `${ui.fail}：${mark.reason}`) : ui.unmarked;
          for (const control of row.querySelectorAll("input, button")) control.disabled = !canMark;
        },
      );
      const status = (prelim.status ?? []).find((x) => x.bid === b.id);
      const line = box.querySelector(".conclusion");
      const concluded = Boolean(status?.concluded);
      box.dataset.concluded = concluded ? (status.passed ? "pass" : "fail") : "none";
      line.textContent = !status
        ? ""
        : concluded
          ? `${ui.conclusion}：${status.passed ? ui.pass : ui.fail}（${status.unanimous ? ui.unanimous : ui.majority}）`
          : fmt(ui.marks_progress, status);
      renderConclude(box.querySelector(".conclude"), b, page, sheet, concluded);
    },
  );
}

function prelimRow(bid, criterion, page, sheet) {
  const ui = sheet.ui;
  const reason = el("input", { type: "text", class: "reason", maxlength: 2000, placeholder: ui.fail_reason, "aria-label": ui.fail_reason });
  const slot = el("span", { class: "error", hidden: true });
  const send = (passed) => {
    const text = reason.value.trim();
    if (!passed && !text) return showError(slot, ui.reason_required);
    page.client.request({ type: "prelim.mark", bid: bid.id, criterion: criterion.id, passed, reason: passed ? "" : text }, { slot });
  };
  return el(
    "tr",
    { dataset: { criterion: criterion.id } },
    el("th", { text: `${criterion.group_label} · ${criterion.name}` }),
    el("td", { class: "mark-state" }),
    el(
      "td",
      { class: "mark-controls" },
      el("button", { type: "button", dataset: { mark: "pass" }, text: ui.pass, onclick: () => send(true) }),
      el("button", { type: "button", dataset: { mark: "fail" }, text: ui.fail, onclick: () => send(false) }),
      reason,
      slot,
    ),
  );
}

function renderConclude(box, bid, page, sheet, done) {
  const allowed = page.state.actions.includes("conclude_preliminary") && !page.readOnly && !done;
  box.hidden = !allowed;
  if (!allowed || box.firstChild) return;
  const slot = el("span", { class: "error", hidden: true });
  const send = () => page.client.request({ type: "prelim.conclude", bid: bid.id }, { slot });
  box.append(el("button", { type: "button", class: "primary", dataset: { conclude: bid.id }, text: sheet.ui.conclude, onclick: send }), slot);
}

function svgImage(svg, alt) {
  return el("img", { class: "chart", alt, src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}` });
}

function renderSummary(scoring, page, sheet) {
  const ui = sheet.ui;
  const summary = scoring.summary;
  const node = section("scoring-summary", ui.summary_title);
  node.hidden = !summary;
  if (!summary) return;
  const body = node.querySelector(".body");
  const groups = summary.groups ?? [];
  const table = el(
    "table",
    { class: "list summary" },
    el(
      "thead",
      {},
      el("tr", {}, [ui.col_rank, ui.col_bid, ...groups.map((g) => g.label), ui.col_total, ui.col_candidate].map((t) => el("th", { text: t }))),
    ),
    el(
      "tbody",
      {},
      summary.rows.map((r) =>
        el(
          "tr",
          { dataset: { bid: r.bid, rank: r.rank ?? "" } },
          el("td", { class: "num rank", text: r.rank ?? "—" }),
          el("td", { class: "bid", text: r.name ? `${r.label} ${r.name}` : r.label }),
          groups.map((g) => el("td", { class: "num", text: r.groups?.[g.code] ?? "" })),
          el("td", { class: "num total", text: r.total ?? "" }),
          el("td", { class: "candidate", text: r.candidate ? fmt(ui.candidate, { n: r.rank }) : "" }),
        ),
      ),
    ),
  );
  const findings = el(
    "ul",
    { class: "findings" },
    (summary.findings ?? []).map((f) =>
      el("li", { class: f.blocking ? "finding blocking" : "finding", dataset: { kind: f.kind } }, f.blocking ? `⛔ ${f.message}` : `⚠ ${f.message}`),
    ),
  );
  const charts = el(
    "div",
    { class: "charts" },
    (summary.charts?.dots ?? []).map((c) => el("figure", {}, svgImage(c.svg, c.title), el("figcaption", { text: c.title }))),
    (summary.charts?.heat ?? []).map((c) => el("figure", { dataset: { criterion: c.criterion } }, svgImage(c.svg, c.title), el("figcaption", { text: c.title }))),
  );
  body.replaceChildren(
    summary.blocked ? el("p", { class: "notice notice-error", role: "alert", text: fmt(ui.summary_blocked, { n: summary.blocked }) }) : "",
    table,
    el("h3", { text: ui.findings_title }),
    (summary.findings ?? []).length ? findings : el("p", { class: "empty", text: ui.no_findings }),
    (summary.corrections ?? []).length ? el("h3", { text: ui.corrections_title }) : "",
    el(
      "ul",
      { class: "corrections" },
      (summary.corrections ?? []).map((c) =>
        el("li", {
          text: fmt(ui.correction_line, {
            name: c.name,
            label: c.label,
            criterion: c.criterion,
            old: c.old ?? "—",
            new: c.new,
            reason: c.reason_text,
            explanation: c.explanation,
          }),
        }),
      ),
    ),
    (summary.rejected ?? []).length ? el("h3", { text: ui.rejected_title }) : "",
    el("ul", { class: "rejected" }, (summary.rejected ?? []).map((r) => el("li", { text: [r.label, r.name, (r.reasons ?? []).join("；")].filter(Boolean).join(" · ") }))),
    charts,
  );
}

/** The deviation warnings on the expert's own cells: keep the score with a written reason (or change it in the sheet). */
function renderWarnings(body, mine, scoring, page, sheet) {
  const ui = sheet.ui;
  const list = body.querySelector(".sheet-warnings");
  const warnings = mine.warnings ?? [];
  list.hidden = warnings.length === 0;
  const bidOf = new Map(scoring.bids.map((b) => [b.id, b]));
  const criterionOf = new Map(scoring.criteria.map((c) => [c.id, c]));
  keyed(
    list.querySelector("ul"),
    warnings,
    (w) => `${w.bid}:${w.criterion}`,
    (w) => {
      const reason = el("input", { type: "text", class: "reason", maxlength: 2000, placeholder: ui.deviation_reason, "aria-label": ui.deviation_reason });
      const slot = el("span", { class: "error", hidden: true });
      const button = el("button", { type: "button", text: ui.confirm_deviation });
      button.addEventListener("click", () => {
        const text = reason.value.trim();
        if (!text) return showError(slot, ui.reason_required);
        const base = sheet.cell(w.bid, w.criterion)?.version ?? 0;
        page.client.request({ type: "deviation.confirm", bid: w.bid, criterion: w.criterion, reason: text, base }, { slot });
      });
      return el("li", { dataset: { bid: w.bid, criterion: w.criterion } }, el("span", { class: "text" }), " ", reason, button, slot);
    },
    (item, w) => {
      const where = [bidOf.get(w.bid)?.label, criterionOf.get(w.criterion)?.name].filter(Boolean).join(" · ");
      item.querySelector(".text").textContent = `${where}：${w.message}`;
    },
  );
}

/** After the summary: the expert corrects their own score for one of the four Art. 64 reasons. */
function renderCorrection(scoring, page, sheet) {
  const ui = sheet.ui;
  const mine = scoring.sheet;
  const show = Boolean(mine) && page.state.actions.includes("correct_score") && !page.readOnly;
  const node = section("score-correction", ui.correction_title);
  node.hidden = !show;
  if (!show) return;
  const body = node.querySelector(".body");
  if (body.firstChild) return;
  const bids = scoring.bids.filter((b) => b.status !== "failed");
  const choose = (name, options) =>
    el("select", { name, "aria-label": name }, el("option", { value: "", text: ui.choose }), options.map(([value, text]) => el("option", { value, text })));
  const bid = choose("bid", bids.map((b) => [b.id, bidTitle(b)]));
  const criterion = choose("criterion", scoring.criteria.filter((c) => !c.price).map((c) => [c.id, `${c.group_label} · ${c.name}`]));
  const reason = choose("reason", Object.entries(ui.art64));
  const value = el("input", { type: "text", inputmode: "decimal", size: 6, maxlength: 12, placeholder: ui.correction_value, "aria-label": ui.correction_value });
  const explanation = el("input", { type: "text", class: "reason", maxlength: 2000, placeholder: ui.correction_explanation, "aria-label": ui.correction_explanation });
  const slot = el("span", { class: "error", hidden: true });
  const button = el("button", { type: "button", class: "primary", text: ui.correct });
  button.addEventListener("click", () => {
    const b = Number(bid.value);
    const c = scoring.criteria.find((x) => x.id === Number(criterion.value));
    if (!b || !c || !reason.value || !explanation.value.trim()) return showError(slot, ui.reason_required);
    const problem = entryProblem(value.value.trim(), c, ui);
    if (problem) return showError(slot, problem);
    const base = sheet.cell(b, c.id)?.version ?? 0;
    page.client.request(
      { type: "score.correct", bid: b, criterion: c.id, value: value.value.trim(), reason: reason.value, explanation: explanation.value.trim(), base },
      { slot, onAck: () => { value.value = ""; explanation.value = ""; } },
    );
  });
  body.append(el("p", { class: "controls" }, bid, criterion, value, reason, explanation, button, slot));
}

/** Render the scoring parts of the room page; hides them when the snapshot has no scoring. */
export function renderScoring(state, page, sheet) {
  const scoring = state.scoring;
  const root = document.getElementById("scoring-sheet");
  if (!root) return false;
  root.hidden = !scoring;
  if (!scoring) return false;
  root.removeAttribute("aria-hidden");
  renderProgress(scoring, page, sheet);
  renderSheet(scoring, page, sheet);
  renderPrelim(scoring, page, sheet);
  renderSummary(scoring, page, sheet);
  renderCorrection(scoring, page, sheet);
  return Boolean(scoring.sheet || scoring.prelim);
}

