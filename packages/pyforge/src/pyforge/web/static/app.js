// PyForge dashboard. Plain ES module, no framework and no build step: every page fetches the
// same /api/v1 API as the CLI, signed in by the kit's browser session (HttpOnly cookie; the
// page never sees a credential). All text reaches the DOM through textContent, never innerHTML,
// except the file view's lines, which the server escaped and highlighted.

const body = document.body.dataset;
const app = () => document.getElementById("app");

// --- DOM helpers --------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function mount(...children) {
  const root = app();
  root.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
  root.dataset.state = "ready";
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "—";
}

function field(id, label, input, hint) {
  return h("div", { class: "field" },
    h("label", { for: id }, label), input,
    hint ? h("p", { class: "hint" }, hint) : null,
    h("p", { class: "error", id: `${id}-error`, role: "alert" }));
}

function errorBox(message) {
  return h("p", { class: "error banner", role: "alert" }, message);
}

// --- API client ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function csrfToken() {
  const name = (body.csrfCookie || "pyforge_csrf") + "=";
  const found = document.cookie.split("; ").find((c) => c.startsWith(name));
  return found ? decodeURIComponent(found.slice(name.length)) : "";
}

function signInAgain() {
  const next = location.pathname + location.search + location.hash;
  location.assign(`/signin?next=${encodeURIComponent(next)}`);
  return new Promise(() => {});
}

async function refreshSession() {
  const resp = await fetch("/auth/session/refresh", {
    method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrfToken() },
  });
  return resp.ok;
}

async function api(method, path, { json, form, query, retry = true } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    for (const v of [].concat(value)) if (v !== "" && v !== null && v !== undefined) url.searchParams.append(key, v);
  }
  const headers = { Accept: "application/json" };
  let payload;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(json); }
  if (form !== undefined) payload = form;
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken();
  const resp = await fetch(url, { method, headers, body: payload, credentials: "same-origin" });
  if (resp.status === 401 && retry) {
    // The access cookie lives minutes; the refresh cookie days. Expired for good: sign in.
    if (await refreshSession()) return api(method, path, { json, form, query, retry: false });
    return signInAgain();
  }
  if (resp.status === 204) return null;
  const type = resp.headers.get("content-type") || "";
  const data = type.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) throw new ApiError(resp.status, typeof data === "object" ? data : { detail: data });
  return data;
}

// A problem+json's detail next to the field it names ("body.email" -> #email-error).
function showProblem(err, form) {
  for (const el of form.querySelectorAll(".error")) el.textContent = "";
  const problem = err instanceof ApiError ? err.problem : { detail: String(err) };
  let placed = false;
  for (const item of problem.errors || []) {
    const name = String(item.field || "").split(".").pop();
    const slot = form.querySelector(`#${CSS.escape(name)}-error`);
    if (slot) { slot.textContent = item.message || item.msg || problem.detail; placed = true; }
  }
  const general = form.querySelector("#form-error");
  if (general && (!placed || !problem.errors)) general.textContent = problem.detail || problem.title;
}

function safeNext() {
  const next = new URLSearchParams(location.search).get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

// --- sign in, sign up, sign out -----------------------------------------------------------

async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  return api("POST", "/auth/session", { form, retry: false });
}

function pageSignIn() {
  const form = document.getElementById("signin-form");
  // Back from an expired access cookie: the refresh cookie may still hold the session.
  if (new URLSearchParams(location.search).has("next") && csrfToken()) {
    refreshSession().then((ok) => { if (ok) location.assign(safeNext()); });
  }
  // An account with MFA answers a challenge: ask for the code, then finish with it.
  let mfaToken = null;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      if (mfaToken) {
        const json = { mfa_token: mfaToken, code: data.get("code") };
        await api("POST", "/auth/session/mfa", { json, retry: false });
      } else {
        const answer = await signIn(data.get("username"), data.get("password"));
        if (answer && answer.mfa_required) {
          mfaToken = answer.mfa_token;
          document.getElementById("code-field").hidden = false;
          document.getElementById("code").focus();
          return;
        }
      }
      location.assign(safeNext());
    } catch (err) { showProblem(err, form); }
  });
}

function pageSignUp() {
  const form = document.getElementById("signup-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    try {
      await api("POST", "/auth/register", { json: data, retry: false });
      await signIn(data.username, data.password);
      location.assign("/");
    } catch (err) { showProblem(err, form); }
  });
}

function wireSignOut() {
  const button = document.getElementById("sign-out");
  if (!button) return;
  button.addEventListener("click", async () => {
    try { await api("DELETE", "/auth/session", { retry: false }); } catch { /* signed out anyway */ }
    location.assign("/signin");
  });
}

// --- shared project chrome ----------------------------------------------------------------

const project = body.project;
const can = { write: !!body.canWrite, analyze: !!body.canAnalyze, delete: !!body.canDelete };

function projectHeader(active) {
  const tabs = [["overview", "Overview", `/projects/${project}`],
    ["analyses", "Analyses", `/projects/${project}/analyses`],
    ["findings", "Findings", `/projects/${project}/findings`],
    ...(can.write ? [["project-settings", "Settings", `/projects/${project}/settings`]] : [])];
  return h("header", { class: "project-head" },
    h("h1", {}, body.projectName, " ", h("span", { class: "role" }, `(${body.role})`)),
    h("nav", { "aria-label": "Project" }, tabs.map(([key, label, href]) =>
      h("a", { href, "aria-current": key === active ? "page" : null }, label))));
}

function severityTag(severity) {
  return h("span", { class: `sev sev-${severity}` }, severity);
}

function ratingTag(letter, label) {
  return h("span", { class: `rating rating-${letter}`, title: `${label}: ${letter}` }, letter);
}

function gateTag(gate) {
  if (!gate) return h("span", { class: "gate gate-none" }, "No gate");
  const passed = gate.status === "passed";
  return h("span", { class: `gate ${passed ? "gate-ok" : "gate-fail"}` }, passed ? "✔ Passed" : "✖ Failed");
}

function progressOf(analysis) {
  const { files_done: done, files_total: total } = analysis.progress;
  return h("progress", { max: total || 1, value: done, "aria-label": `Progress: ${done} of ${total} files` });
}

// --- live updates -------------------------------------------------------------------------

function live(projectId, onEvent) {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  let socket;
  let closed = false;
  const open = () => {
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.addEventListener("open", () => socket.send(JSON.stringify({ action: "subscribe", project_id: projectId })));
    socket.addEventListener("message", (msg) => {
      const event = JSON.parse(msg.data);
      if (event.type === "ping") socket.send(JSON.stringify({ action: "ping" }));
      else if (event.payload) onEvent(event);
    });
    socket.addEventListener("close", () => { if (!closed) setTimeout(open, 3000); });
  };
  open();
  return () => { closed = true; socket.close(); };
}

// --- projects -----------------------------------------------------------------------------

async function pageProjects() {
  const list = h("div", { id: "project-list" });
  const search = h("input", { id: "project-search", type: "search", placeholder: "Name or description" });
  const load = async () => {
    try {
      const page = await api("GET", "/api/v1/projects", { query: { q: search.value.trim(), limit: 100, include_public: true } });
      list.replaceChildren(page.items.length ? h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, h("th", {}, "Project"), h("th", {}, "Visibility"), h("th", {}, "Your role"), h("th", {}, "Updated"))),
        h("tbody", {}, page.items.map((p) => h("tr", {},
          h("td", {}, h("a", { href: `/projects/${p.id}` }, p.name), p.description ? h("div", { class: "muted" }, p.description) : null),
          h("td", {}, p.is_public ? "Public" : "Private"), h("td", {}, p.role || "—"), h("td", {}, when(p.updated_at))))))
        : h("p", { class: "muted" }, search.value ? "No project matches." : "No projects yet: create one below."));
    } catch (err) { list.replaceChildren(errorBox(err.message)); }
  };
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(load, 250); });

  const create = h("form", { id: "create-project", class: "stack card" },
    h("h2", {}, "New project"),
    field("name", "Project name", h("input", { id: "name", name: "name", required: true, maxlength: 100 })),
    field("description", "Description", h("input", { id: "description", name: "description", maxlength: 2000 })),
    h("div", { class: "check" }, h("input", { id: "is_public", name: "is_public", type: "checkbox" }), h("label", { for: "is_public" }, "Public (every signed-in user can read it)")),
    h("p", { class: "error", id: "form-error", role: "alert" }),
    h("button", { type: "submit" }, "Create project"));
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(create);
    try {
      const created = await api("POST", "/api/v1/projects", { json: {
        name: data.get("name"), description: data.get("description") || null, is_public: data.get("is_public") === "on" } });
      location.assign(`/projects/${created.id}`);
    } catch (err) { showProblem(err, create); }
  });
  mount(h("h1", {}, "Projects"), field("project-search", "Search projects", search), list, create);
  await load();
}

// --- charts -------------------------------------------------------------------------------

// A small line chart as SVG: points oldest first; labels in text, not only in colour.
function trendChart(title, points, { rating = false } = {}) {
  const W = 320, H = 120, P = 28;
  const values = points.map((p) => p.value);
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("class", "chart");
  const last = values.length ? values[values.length - 1] : null;
  const shown = (v) => (rating ? "ABCDE"[Math.round(v) - 1] || v : Number.isInteger(v) ? v : v.toFixed(1));
  svg.setAttribute("aria-label", `${title}: ${values.length} analyses, latest ${last === null ? "none" : shown(last)}`);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  add("line", { x1: P, y1: H - P, x2: W - 8, y2: H - P, class: "axis" });
  add("line", { x1: P, y1: 8, x2: P, y2: H - P, class: "axis" });
  if (values.length) {
    let lo = Math.min(...values), hi = Math.max(...values);
    if (rating) { lo = 1; hi = 5; }
    if (hi === lo) { hi += 1; lo = Math.max(0, lo - 1); }
    const x = (i) => P + (values.length === 1 ? (W - P - 8) / 2 : (i * (W - P - 8)) / (values.length - 1));
    // Ratings: A (1) is best and drawn at the top; other metrics grow upwards.
    const y = (v) => 8 + ((rating ? v - lo : hi - v) * (H - P - 8)) / (hi - lo);
    add("text", { x: P - 4, y: 12, class: "tick", "text-anchor": "end" }, shown(rating ? lo : hi));
    add("text", { x: P - 4, y: H - P, class: "tick", "text-anchor": "end" }, shown(rating ? hi : lo));
    add("polyline", { points: values.map((v, i) => `${x(i)},${y(v)}`).join(" "), class: "line" });
    values.forEach((v, i) => {
      const dot = add("circle", { cx: x(i), cy: y(v), r: 3, class: "dot" });
      const tip = document.createElementNS(svgNS, "title");
      tip.textContent = `${when(points[i].measured_at)}: ${shown(v)}`;
      dot.append(tip);
    });
    add("text", { x: P, y: H - 8, class: "tick" }, when(points[0].measured_at).split(",")[0]);
  }
  return h("figure", { class: "card chart-card" }, h("figcaption", {}, title, last === null ? "" : `: ${shown(last)}`), svg);
}

// --- overview -----------------------------------------------------------------------------

async function uploadPanel(onDone) {
  const input = h("input", { id: "upload-files", type: "file", multiple: true, accept: ".zip,.py,.pyi,.toml,.cfg,.txt" });
  const status = h("p", { class: "muted", role: "status" });
  const form = h("form", { id: "upload-form", class: "stack card" }, h("h2", {}, "Upload code"),
    field("upload-files", "Files or a .zip archive", input),
    h("p", { class: "error", id: "form-error", role: "alert" }), status,
    h("button", { type: "submit" }, "Upload"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.files.length) { form.querySelector("#form-error").textContent = "Choose a file first."; return; }
    status.textContent = "Uploading…";
    const total = { added: 0, updated: 0, unchanged: 0 };
    try {
      // One request per file: an archive is unpacked into the tree by the server.
      for (const f of input.files) {
        const data = new FormData();
        data.append("file", f);
        const result = await api("POST", `/api/v1/projects/${project}/files`, { form: data });
        for (const key of Object.keys(total)) total[key] += result[key];
      }
      status.textContent = `Uploaded: ${total.added} added, ${total.updated} updated, ${total.unchanged} unchanged.`;
      onDone && onDone();
    } catch (err) { status.textContent = ""; showProblem(err, form); }
  });
  return form;
}

async function startAnalysis() {
  const analysis = await api("POST", `/api/v1/projects/${project}/analyses`, { json: {} });
  location.assign(`/projects/${project}/analyses/${analysis.id}`);
}

function analyzeButton() {
  if (!can.analyze) return null;
  const out = h("p", { class: "error", role: "alert" });
  const button = h("button", { type: "button", id: "run-analysis", onclick: async () => {
    button.disabled = true;
    try { await startAnalysis(); } catch (err) { out.textContent = err.message; button.disabled = false; }
  } }, "Run analysis");
  return h("div", { class: "actions" }, button, out);
}

const RATINGS = [["reliability", "Reliability"], ["security", "Security"], ["maintainability", "Maintainability"]];
const KEY_METRICS = [["loc", "Lines"], ["files", "Files"], ["findings_total", "Findings"], ["bugs", "Bugs"],
  ["vulnerabilities", "Vulnerabilities"], ["code_smells", "Code smells"], ["cognitive_max", "Max cognitive complexity"],
  ["type_coverage", "Type coverage %"], ["technical_debt_min", "Debt (min)"]];
const TRENDS = [["findings_total", "Findings"], ["maintainability_index", "Maintainability index"], ["maintainability_rating", "Maintainability rating", true]];

async function pageOverview() {
  const parts = [projectHeader("overview")];
  const [latest, succeeded] = await Promise.all([
    api("GET", `/api/v1/projects/${project}/analyses`, { query: { limit: 1 } }).then((p) => p.items[0]), latestSucceeded()]);
  // Metrics exist once an analysis succeeded; asking earlier would only earn a 404.
  const metrics = succeeded ? await api("GET", `/api/v1/projects/${project}/metrics`) : null;
  if (!metrics) {
    parts.push(h("section", { class: "card" }, h("h2", {}, "No analysis yet"),
      h("p", {}, can.write ? "Upload the project's code, then run an analysis." : "Nobody has analysed this project yet.")));
    if (latest) parts.push(h("p", {}, "Latest analysis: ", h("a", { href: `/projects/${project}/analyses/${latest.id}` }, latest.status)));
  } else {
    const gate = metrics.quality_gate;
    parts.push(h("section", { class: "card gate-card", "aria-label": "Quality gate" },
      h("h2", {}, "Quality gate ", gateTag(gate)),
      gate ? h("ul", { class: "conditions" }, gate.conditions.map((c) => h("li", {}, c.status === "passed" ? "✔ " : "✖ ",
        `${c.name.replaceAll("_", " ")}: ${c.actual} (limit ${c.threshold})`))) : null));
    parts.push(h("section", { class: "ratings", "aria-label": "Ratings" }, RATINGS.map(([key, label]) =>
      h("div", { class: "card rating-card" }, ratingTag(metrics.ratings[key] || "?", label), h("span", {}, label)))));
    const pq = metrics.predicted_quality;
    if (pq) {
      parts.push(h("section", { class: "card", "aria-label": "Predicted quality" }, h("h2", {}, "Predicted quality (ML) ", ratingTag(pq.level, "Predicted level")),
        h("p", {}, `Score ${pq.score}/100, confidence ${Math.round(pq.confidence * 100)} %. `,
          h("span", { class: "muted" }, "Learned from injected bugs (synthetic labels); see the model card in the API."))));
    }
    parts.push(h("section", { class: "metrics", "aria-label": "Key metrics" }, KEY_METRICS.filter(([k]) => k in metrics.metrics).map(([key, label]) =>
      h("div", { class: "metric" }, h("span", { class: "value" }, String(Math.round(metrics.metrics[key] * 10) / 10)), h("span", { class: "label" }, label)))));
    if (latest && latest.status === "succeeded") {
      parts.push(h("section", { class: "card new-code", "aria-label": "New code" }, h("h2", {}, "New code (since the previous analysis)"),
        h("p", {}, h("a", { href: `/projects/${project}/findings?analysis=${latest.id}&status=new` }, `${latest.new_findings} new findings`),
          " · ", h("a", { href: `/projects/${project}/findings?analysis=${latest.id}&status=fixed` }, `${latest.fixed_findings} fixed`))));
    }
    const charts = h("section", { class: "charts", "aria-label": "Trends" });
    parts.push(charts);
    Promise.all(TRENDS.map(([metric, title, rating]) => api("GET", `/api/v1/projects/${project}/metrics/history`, { query: { metric } })
      .then((history) => trendChart(title, history.points, { rating })))).then((figures) => charts.replaceChildren(...figures));
  }
  if (latest && (latest.status === "queued" || latest.status === "running")) {
    parts.push(h("p", { class: "card" }, "An analysis is running: ", h("a", { href: `/projects/${project}/analyses/${latest.id}` }, "watch its progress")));
  }
  if (can.write) parts.push(await uploadPanel());
  parts.push(analyzeButton());
  mount(...parts);
}

// --- analyses -----------------------------------------------------------------------------

function analysisRow(a) {
  return h("tr", { id: `analysis-${a.id}` },
    h("td", {}, h("a", { href: `/projects/${project}/analyses/${a.id}` }, when(a.created_at))),
    h("td", {}, a.status), h("td", {}, progressOf(a), ` ${a.progress.files_done}/${a.progress.files_total}`),
    h("td", {}, a.quality_gate ? gateTag(a.quality_gate) : "—"),
    h("td", {}, a.status === "succeeded" ? `${a.new_findings} new · ${a.fixed_findings} fixed` : "—"),
    h("td", {}, a.duration_s === null || a.duration_s === undefined ? "—" : `${a.duration_s.toFixed(1)} s`));
}

async function pageAnalyses() {
  const tbody = h("tbody");
  const load = async () => {
    const page = await api("GET", `/api/v1/projects/${project}/analyses`, { query: { limit: 50 } });
    tbody.replaceChildren(...page.items.map(analysisRow));
  };
  mount(projectHeader("analyses"), analyzeButton(), h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Started", "Status", "Progress", "Gate", "New code", "Duration"].map((t) => h("th", {}, t)))), tbody));
  await load();
  let pending = false;
  live(project, (event) => {
    if (!event.type.startsWith("analysis.") || pending) return;
    pending = true;
    setTimeout(() => { pending = false; load(); }, 300);
  });
}

async function pageAnalysis() {
  const id = body.analysis;
  const state = h("div", { id: "analysis-state", "aria-live": "polite" });
  const render = (a) => {
    const done = a.status === "succeeded" || a.status === "failed";
    state.replaceChildren(
      h("p", {}, "Status: ", h("strong", { id: "analysis-status" }, a.status)),
      h("p", {}, progressOf(a), ` ${a.progress.files_done} of ${a.progress.files_total} files`),
      a.error ? errorBox(a.error) : null,
      done && a.quality_gate ? h("p", {}, "Quality gate: ", gateTag(a.quality_gate)) : null,
      a.status === "succeeded" ? h("p", {},
        h("a", { href: `/projects/${project}/findings?analysis=${a.id}` }, "All findings"),
        " · ", h("a", { href: `/projects/${project}/findings?analysis=${a.id}&status=new` }, `${a.new_findings} new`),
        " · ", `${a.fixed_findings} fixed`) : null);
    return done;
  };
  mount(projectHeader("analyses"), h("h2", {}, "Analysis"), state);
  let lastSeen = await api("GET", `/api/v1/analyses/${id}`);
  let finished = render(lastSeen);
  if (finished) return;
  let stop = () => {};
  const refresh = async () => {
    lastSeen = await api("GET", `/api/v1/analyses/${id}`);
    finished = render(lastSeen);
    if (finished) stop();
  };
  stop = live(project, (event) => {
    if (event.payload.analysis_id !== id || finished) return;
    if (event.type === "analysis.progress") {
      lastSeen = { ...lastSeen, status: "running", progress: { files_done: event.payload.files_done, files_total: event.payload.files_total } };
      render(lastSeen);
    } else refresh();
  });
  // The WebSocket carries progress; a slow poll covers a missed event (a reconnect, a restart).
  const poll = setInterval(async () => {
    if (finished) { clearInterval(poll); return; }
    await refresh();
    if (finished) clearInterval(poll);
  }, 2000);
}

// --- findings -----------------------------------------------------------------------------

const SEVERITIES = ["blocker", "critical", "major", "minor", "info"];

async function latestSucceeded() {
  const page = await api("GET", `/api/v1/projects/${project}/analyses`, { query: { status: "succeeded", limit: 1 } });
  return page.items[0] || null;
}

function resolutionControls(analysisId, finding, onChange) {
  if (!can.write) return h("span", {}, finding.resolution.replace("_", " "));
  const reason = h("input", { id: `reason-${finding.id}`, maxlength: 2000, placeholder: "Reason" });
  const out = h("span", { class: "error", role: "alert" });
  const decide = (resolution) => async () => {
    try {
      await api("POST", `/api/v1/analyses/${analysisId}/findings/${finding.id}/resolution`, { json: { resolution, reason: reason.value } });
      onChange(resolution);
    } catch (err) { out.textContent = err.message; }
  };
  if (finding.resolution !== "open") {
    return h("span", { class: "resolution" }, `${finding.resolution.replace("_", " ")}`,
      finding.resolution_reason ? ` (${finding.resolution_reason})` : "", " ",
      h("button", { type: "button", class: "small", onclick: decide("open") }, "Reopen"), out);
  }
  return h("span", { class: "resolve" }, h("label", { for: `reason-${finding.id}`, class: "sr" }, "Reason"), reason,
    h("button", { type: "button", class: "small", onclick: decide("accepted") }, "Accept"),
    h("button", { type: "button", class: "small", onclick: decide("false_positive") }, "False positive"), out);
}

function findingLine(analysisId, f, reload) {
  return h("tr", { id: `finding-${f.id}` },
    h("td", {}, severityTag(f.severity)), h("td", {}, h("a", { href: `/rules/${encodeURIComponent(f.rule)}` }, f.rule)),
    h("td", {}, f.message), h("td", {}, h("a", { href: `/projects/${project}/files/${f.path.split("/").map(encodeURIComponent).join("/")}#L${f.line}` }, `${f.path}:${f.line}`)),
    h("td", {}, f.status), h("td", {}, resolutionControls(analysisId, f, reload)));
}

async function pageFindings() {
  const params = new URLSearchParams(location.search);
  const analysisId = params.get("analysis") || (await latestSucceeded())?.id;
  if (!analysisId) { mount(projectHeader("findings"), h("p", { class: "muted" }, "No finished analysis yet.")); return; }
  const select = (id, label, options, value) => field(id, label, h("select", { id, name: id },
    h("option", { value: "" }, "Any"), options.map((o) => h("option", { value: o, selected: o === value }, o))));
  const filters = h("form", { id: "filters", class: "filters" },
    select("severity", "Severity", SEVERITIES, params.get("severity")),
    select("category", "Category", ["bug", "security", "complexity", "maintainability", "style", "performance", "types", "dead_code", "duplication"], params.get("category")),
    field("rule", "Rule", h("input", { id: "rule", name: "rule", value: params.get("rule") || "" })),
    field("path", "Path starts with", h("input", { id: "path", name: "path", value: params.get("path") || "" })),
    select("status", "Status", ["new", "unchanged", "fixed"], params.get("status")),
    h("button", { type: "submit" }, "Filter"));
  const tbody = h("tbody");
  const summary = h("p", { class: "muted", role: "status" });
  let offset = 0;
  const more = h("button", { type: "button", id: "more", hidden: true }, "Show more");
  const load = async (append = false) => {
    const data = new FormData(filters);
    const query = { limit: 100, offset };
    for (const [k, v] of data) if (v) query[k] = v;
    const page = await api("GET", `/api/v1/analyses/${analysisId}/findings`, { query });
    const rows = page.items.map((f) => findingLine(analysisId, f, () => load()));
    if (append) tbody.append(...rows); else tbody.replaceChildren(...rows);
    const shown = tbody.children.length;
    summary.textContent = `${shown} of ${page.total ?? shown} findings`;
    more.hidden = page.total === undefined ? page.items.length < 100 : shown >= page.total;
  };
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams({ analysis: analysisId });
    for (const [k, v] of new FormData(filters)) if (v) query.set(k, v);
    history.replaceState(null, "", `?${query}`);
    offset = 0;
    load();
  });
  more.addEventListener("click", () => { offset = tbody.children.length; load(true); });
  mount(projectHeader("findings"), filters, summary, h("table", { class: "grid findings" },
    h("thead", {}, h("tr", {}, ["Severity", "Rule", "Message", "Location", "Status", "Decision"].map((t) => h("th", {}, t)))), tbody), more);
  await load();
}

// --- file view ----------------------------------------------------------------------------

async function pageFile() {
  const path = body.path;
  const [source, analysis] = await Promise.all([
    api("GET", `/api/v1/projects/${project}/source`, { query: { path } }), latestSucceeded()]);
  let findings = [];
  if (analysis) {
    const page = await api("GET", `/api/v1/analyses/${analysis.id}/findings`, { query: { path, limit: 500 } });
    findings = page.items.filter((f) => f.path === path && f.status !== "fixed");
  }
  const byLine = new Map();
  for (const f of findings) byLine.set(f.line, [...(byLine.get(f.line) || []), f]);
  const rows = [];
  source.lines.forEach((html, i) => {
    const n = i + 1;
    const code = h("td", { class: "code" });
    code.innerHTML = html; // escaped and highlighted by the server (pyforge.files.source)
    rows.push(h("tr", { id: `L${n}`, class: byLine.has(n) ? "has-finding" : null },
      h("td", { class: "ln" }, h("a", { href: `#L${n}`, "aria-label": `Line ${n}` }, String(n))), code));
    for (const f of byLine.get(n) || []) {
      rows.push(h("tr", { class: "inline-finding", id: `finding-${f.id}` }, h("td"), h("td", {},
        severityTag(f.severity), " ", h("a", { href: `/rules/${encodeURIComponent(f.rule)}` }, f.rule), " ", f.message, " ",
        resolutionControls(analysis.id, f, () => pageFile()))));
    }
  });
  mount(projectHeader(null), h("h2", {}, path, " ", h("span", { class: "muted" }, `${source.language} · ${findings.length} findings`)),
    source.truncated ? h("p", {}, "This file is too large to show here.") : h("table", { class: "source" }, h("tbody", {}, rows)));
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) { target.classList.add("target"); target.scrollIntoView({ block: "center" }); }
  }
}

// --- rules --------------------------------------------------------------------------------

function ruleHelp(rule) {
  const help = h("div", { class: "help" });
  help.innerHTML = rule.help_html; // Markdown rendered by the server with raw HTML escaped
  return help;
}

async function pageRule() {
  try {
    const rule = await api("GET", `/api/v1/rules/${encodeURIComponent(body.rule)}`);
    mount(h("article", { class: "rule" }, h("h1", {}, `${rule.id}: ${rule.name}`),
      h("p", {}, severityTag(rule.severity), ` ${rule.category} · analyzer ${rule.analyzer} · confidence ${rule.confidence}`,
        rule.default_enabled ? "" : " · off by default"),
      h("p", { class: "lead" }, rule.description), ruleHelp(rule),
      rule.aliases.length ? h("p", {}, "Same check as: ", rule.aliases.join(", ")) : null,
      rule.url ? h("p", {}, h("a", { href: rule.url, rel: "noreferrer" }, "More about this rule")) : null));
  } catch (err) {
    if (err.status === 404) mount(h("h1", {}, "Unknown rule"), h("p", {}, err.message));
    else throw err;
  }
}

// --- settings: API keys and notification preferences --------------------------------------

async function keysSection() {
  const list = h("tbody");
  const shown = h("div", { role: "status" });
  const load = async () => {
    const keys = await api("GET", "/auth/api-keys");
    list.replaceChildren(...keys.map((k) => h("tr", {}, h("td", {}, k.name), h("td", {}, k.prefix || ""), h("td", {}, (k.scopes || []).join(", ")),
      h("td", {}, when(k.last_used_at)), h("td", {}, k.revoked_at ? "revoked" : h("button", { type: "button", class: "small", onclick: async () => {
        await api("DELETE", `/auth/api-keys/${k.id}`); load();
      } }, `Revoke ${k.name}`)))));
  };
  const scopes = ["project:read", "project:write", "analysis:run", "ml:predict"];
  const form = h("form", { id: "key-form", class: "stack" },
    field("key-name", "Key name", h("input", { id: "key-name", name: "name", required: true, maxlength: 100 })),
    h("fieldset", {}, h("legend", {}, "Scopes"), scopes.map((s) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: `scope-${s}`, name: "scopes", value: s, checked: s === "project:read" }), h("label", { for: `scope-${s}` }, s)))),
    h("p", { class: "error", id: "form-error", role: "alert" }), h("button", { type: "submit" }, "Create key"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      const key = await api("POST", "/auth/api-keys", { json: { name: data.get("name"), scopes: data.getAll("scopes") } });
      shown.replaceChildren(h("p", {}, "Copy this key now; it is not shown again: "), h("code", { class: "secret" }, key.key));
      form.reset();
      load();
    } catch (err) { showProblem(err, form); }
  });
  await load();
  return h("section", { class: "card" }, h("h2", {}, "API keys"), h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, ["Name", "Prefix", "Scopes", "Last used", ""].map((t) => h("th", {}, t)))), list), shown, form);
}

async function preferencesSection() {
  const prefs = await api("GET", "/api/v1/notifications/preferences");
  const form = h("form", { id: "prefs-form", class: "stack" });
  const rows = Object.entries(prefs.events).map(([event, channels]) => h("tr", {}, h("th", { scope: "row" }, event),
    prefs.channels.map((c) => h("td", {}, h("input", { type: "checkbox", id: `pref-${event}-${c}`, name: event, value: c, checked: channels.includes(c),
      "aria-label": `${event} by ${c}` })))));
  const status = h("p", { role: "status", class: "muted" });
  form.append(h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", {}, "Event"), prefs.channels.map((c) => h("th", {}, c)))), h("tbody", {}, rows)),
    h("p", { class: "error", id: "form-error", role: "alert" }), status, h("button", { type: "submit" }, "Save preferences"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const events = Object.fromEntries(Object.keys(prefs.events).map((e) => [e, data.getAll(e)]));
    try { await api("PUT", "/api/v1/notifications/preferences", { json: { events } }); status.textContent = "Saved."; } catch (err) { showProblem(err, form); }
  });
  return h("section", { class: "card" }, h("h2", {}, "Notifications"), form);
}

async function pageSettings() {
  mount(h("h1", {}, "Settings"), await keysSection(), await preferencesSection());
}

// --- project settings: webhooks and their delivery log -------------------------------------

async function pageProjectSettings() {
  if (!can.write) {
    mount(projectHeader("project-settings"), h("p", { class: "muted" }, "Only developers and owners of this project manage its webhooks."));
    return;
  }
  const list = h("div", { id: "webhooks" });
  const load = async () => {
    const hooks = await api("GET", `/api/v1/projects/${project}/webhooks`);
    const blocks = [];
    for (const hook of hooks) {
      const deliveries = await api("GET", `/api/v1/projects/${project}/webhooks/${hook.id}/deliveries`);
      blocks.push(h("section", { class: "card" }, h("h3", {}, hook.url), h("p", { class: "muted" }, hook.events.join(", ")),
        h("button", { type: "button", class: "small", onclick: async () => { await api("DELETE", `/api/v1/projects/${project}/webhooks/${hook.id}`); load(); } }, "Delete webhook"),
        deliveries.length ? h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Created", "Last error"].map((t) => h("th", {}, t)))),
          h("tbody", {}, deliveries.map((d) => h("tr", {}, h("td", {}, d.event_type), h("td", {}, d.status), h("td", {}, String(d.attempt_count)),
            h("td", {}, when(d.created_at)), h("td", {}, d.last_error || "—"))))) : h("p", { class: "muted" }, "No deliveries yet.")));
    }
    list.replaceChildren(...(blocks.length ? blocks : [h("p", { class: "muted" }, "No webhooks.")]));
  };
  const events = ["analysis.completed", "analysis.failed", "quality_gate.changed", "finding.new_critical"];
  const form = h("form", { id: "webhook-form", class: "stack card" }, h("h2", {}, "New webhook"),
    field("url", "Payload URL", h("input", { id: "url", name: "url", type: "url", required: true })),
    field("secret", "Secret (16+ characters)", h("input", { id: "secret", name: "secret", required: true, minlength: 16 })),
    h("fieldset", {}, h("legend", {}, "Events"), events.map((e) => h("div", { class: "check" },
      h("input", { type: "checkbox", id: `ev-${e}`, name: "events", value: e, checked: e === "analysis.completed" }), h("label", { for: `ev-${e}` }, e)))),
    h("p", { class: "error", id: "form-error", role: "alert" }), h("button", { type: "submit" }, "Add webhook"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await api("POST", `/api/v1/projects/${project}/webhooks`, { json: { url: data.get("url"), secret: data.get("secret"), events: data.getAll("events") } });
      form.reset();
      load();
    } catch (err) { showProblem(err, form); }
  });
  mount(projectHeader("project-settings"), h("h2", {}, "Webhooks"), list, form);
  await load();
}

// --- teams --------------------------------------------------------------------------------

async function teamBlock(team, reload) {
  const members = await api("GET", `/api/v1/teams/${team.id}/members`);
  // Only a team owner (or an administrator) manages members: others see the list only.
  const mine = members.find((m) => m.username === body.user);
  const manager = !!body.admin || (mine && mine.role === "owner");
  let form = null;
  if (manager) {
    form = h("form", { class: "inline", id: `add-member-${team.id}` },
      field(`member-${team.id}`, "Username", h("input", { id: `member-${team.id}`, name: "username", required: true })),
      field(`member-role-${team.id}`, "Role", h("select", { id: `member-role-${team.id}`, name: "role" }, ["viewer", "developer", "owner"].map((r) => h("option", { value: r }, r)))),
      h("p", { class: "error", id: "form-error", role: "alert" }), h("button", { type: "submit" }, "Add member"));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      try { await api("POST", `/api/v1/teams/${team.id}/members`, { json: { username: data.get("username"), role: data.get("role") } }); reload(); } catch (err) { showProblem(err, form); }
    });
  }
  const remove = (m) => manager && m.username !== body.user
    ? h("button", { type: "button", class: "small", onclick: async () => { await api("DELETE", `/api/v1/teams/${team.id}/members/${m.user_id}`); reload(); } }, `Remove ${m.username || "member"}`)
    : "";
  return h("section", { class: "card" }, h("h2", {}, team.name), team.description ? h("p", {}, team.description) : null,
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", {}, "Member"), h("th", {}, "Role"), h("th", {}, ""))),
      h("tbody", {}, members.map((m) => h("tr", {}, h("td", {}, m.username || m.user_id), h("td", {}, m.role), h("td", {}, remove(m)))))),
    form);
}

async function pageTeams() {
  const list = h("div", { id: "teams" });
  const load = async () => {
    const teams = await api("GET", "/api/v1/teams");
    const blocks = [];
    for (const t of teams) blocks.push(await teamBlock(t, load));
    list.replaceChildren(...(blocks.length ? blocks : [h("p", { class: "muted" }, "You are in no team yet.")]));
  };
  const form = h("form", { id: "team-form", class: "stack card" }, h("h2", {}, "New team"),
    field("team-name", "Team name", h("input", { id: "team-name", name: "name", required: true, maxlength: 100 })),
    h("p", { class: "error", id: "form-error", role: "alert" }), h("button", { type: "submit" }, "Create team"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try { await api("POST", "/api/v1/teams", { json: { name: new FormData(form).get("name") } }); form.reset(); load(); } catch (err) { showProblem(err, form); }
  });
  mount(h("h1", {}, "Teams"), list, form);
  await load();
}

// --- start --------------------------------------------------------------------------------

const PAGES = {
  signin: pageSignIn, signup: pageSignUp, projects: pageProjects, overview: pageOverview,
  analyses: pageAnalyses, analysis: pageAnalysis, findings: pageFindings, file: pageFile,
  rule: pageRule, settings: pageSettings, teams: pageTeams, "project-settings": pageProjectSettings,
};

wireSignOut();
const start = PAGES[body.page];
if (start) {
  Promise.resolve(start()).catch((err) => {
    const root = app();
    if (root) { root.replaceChildren(errorBox(err.message || String(err))); root.dataset.state = "error"; }
  });
}
