// cardiostream clinician dashboard: login, ward, patient (live strip), event review.
import "./style.css";
import { CLASSES, Strip, classOf } from "./strip.js";
import uPlot from "uplot";

const TOKEN_KEY = "cardiostream.token";
const main = document.getElementById("main");
const nav = document.getElementById("nav");
let cleanup = []; // teardown callbacks of the current view

// ------------------------------------------------------------------ helpers

const token = () => sessionStorage.getItem(TOKEN_KEY);

async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    location.hash = "#/login";
    throw new Error("not signed in");
  }
  if (!r.ok) throw new Error(`${r.status} ${(await r.text()).slice(0, 200)}`);
  return r.json();
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

function toast(msg) {
  const t = document.getElementById("toast");
  t.textContent = msg;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.textContent = ""; }, 4000);
}

const fmtTime = (ns) => (ns === null || ns === undefined ? "—"
  : new Date(Number(ns) / 1e6).toISOString().replace("T", " ").slice(0, 19));
const fmtHr = (hr) => (hr === null || hr === undefined ? "—" : `${Math.round(hr)}`);

function badge(label) {
  const c = classOf(label);
  return h("span", { class: "badge", style: `background:${c.color}`, title: c.name,
    "aria-label": `${c.name} (${c.letter})` }, c.letter);
}

function legend() {
  return h("ul", { class: "legend", "aria-label": "Beat classes" },
    Object.entries(CLASSES).map(([k, c]) => h("li", {}, badge(k), ` ${c.name}`)));
}

function setNav(items) {
  nav.replaceChildren(...items);
}

function signOutButton() {
  return h("button", { type: "button", onclick: () => {
    sessionStorage.removeItem(TOKEN_KEY); location.hash = "#/login"; } }, "Sign out");
}

// ------------------------------------------------------------------ live socket

/** WebSocket to the dashboard's live endpoint that reconnects by itself; after a reconnect
 *  `onResume(lastNs)` back-fills what was missed from the read API. */
class LiveSocket {
  constructor(patientId, handlers) {
    this.pid = patientId;
    this.handlers = handlers;
    this.closed = false;
    this.delay = 500;
    this.connectedOnce = false;
    this.connect();
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const url = `${proto}://${location.host}/dashboard/api/patients/${this.pid}/live?token=${encodeURIComponent(token())}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.handlers.onState?.("connected");
      // on every (re)connect: fetch from the read API what arrived while not subscribed
      this.handlers.onResume?.(this.connectedOnce);
      this.connectedOnce = true;
    };
    ws.onmessage = (ev) => this.handlers.onBatch(JSON.parse(ev.data));
    ws.onclose = (ev) => {
      if (this.closed) return;
      if (ev.code === 1008) { this.handlers.onState?.("refused"); return; }
      this.handlers.onState?.("reconnecting");
      setTimeout(() => !this.closed && this.connect(), this.delay);
      this.delay = Math.min(5000, this.delay * 2);
    };
  }

  close() { this.closed = true; this.ws?.close(); }
}

// ------------------------------------------------------------------ views

function viewLogin(reason) {
  setNav([]);
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true,
    "aria-describedby": "token-help" });
  const err = h("p", { class: "error", role: "alert" }, reason || "");
  const form = h("form", { class: "card login", onsubmit: async (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    try {
      await api("/dashboard/api/me");
      location.hash = "#/ward";
    } catch (ex) {
      sessionStorage.removeItem(TOKEN_KEY);
      err.textContent = "Sign-in refused: that token is not a valid clinician token.";
      location.hash = "#/login";
    }
  } },
  h("h1", {}, "Sign in"),
  h("label", { for: "token" }, "Clinician token"), input,
  h("p", { id: "token-help", class: "help" }, "Kept for this browser tab only."),
  h("button", { type: "submit" }, "Sign in"), err);
  main.replaceChildren(form);
  input.focus();
}

async function viewWard() {
  const me = await api("/dashboard/api/me");
  setNav([h("span", {}, `Signed in as ${me.display_name}`), signOutButton()]);
  const grid = h("div", { id: "ward", class: "tiles", role: "list", "aria-label": "Patients by urgency" });
  const polar = h("section", { class: "card polar", "aria-labelledby": "polar-h" },
    h("h2", { id: "polar-h" }, "Connect a Polar H10"),
    h("p", {}, "Pair a Polar H10 chest strap from this browser (Web Bluetooth) — coming later."),
    h("button", { type: "button", disabled: true, id: "polar-connect" }, "Connect a Polar H10"));
  main.replaceChildren(h("h1", {}, "Ward"), grid, legend(), polar);
  async function refresh() {
    const tiles = await api("/dashboard/api/ward");
    grid.replaceChildren(...tiles.map(tile));
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(() => {}), 2000);
  cleanup.push(() => clearInterval(timer));
}

function tile(t) {
  const p = t.patient;
  const counts = h("ul", { class: "counts", "aria-label": "Beats in the last hour" },
    ["N", "S", "V", "F", "Q", "inconclusive"].map((k) =>
      h("li", { dataset: { cls: k } }, badge(k), ` ${t.counts_last_hour[k] || 0}`)));
  const alert = t.alert
    ? h("p", { class: `alert sev-${t.alert.severity}` }, `${t.alert.severity.toUpperCase()}: ${t.alert.message}`)
    : h("p", { class: "alert none" }, "No unacknowledged alert");
  return h("a", { class: `tile state-${t.state}`, role: "listitem", href: `#/patient/${p.id}`,
    dataset: { patientId: p.id, externalId: p.external_id, urgency: t.urgency } },
  h("h2", {}, p.name || p.external_id, h("small", {}, ` ${p.external_id}`)),
  h("p", { class: "hr" }, h("span", { class: "hr-value" }, fmtHr(t.hr_bpm)), " bpm"),
  h("p", { class: "state" }, `Signal: ${t.state.replace("_", " ")}`),
  counts, alert);
}

async function viewPatient(pid) {
  const [me, patient] = await Promise.all([api("/dashboard/api/me"), api(`/api/v1/patients/${pid}`)]);
  setNav([h("a", { href: "#/ward" }, "← Ward"), h("span", {}, `Signed in as ${me.display_name}`), signOutButton()]);
  const hrEl = h("span", { id: "live-hr" }, "—");
  const conn = h("span", { id: "conn", class: "conn" }, "connecting…");
  const pause = h("button", { type: "button", id: "pause", "aria-pressed": "false" }, "Pause");
  const stripBox = h("div", { id: "strip", class: "strip", role: "img",
    "aria-label": "Live ECG strip, 25 mm/s, 10 mm/mV" });
  const beatList = h("ol", { id: "beat-list", class: "beat-list", "aria-label": "Beats on the strip" });
  const hrBox = h("div", { id: "hr-trend", class: "hr-trend" });
  const alertList = h("ul", { id: "alerts", class: "alerts" });
  const eventList = h("ul", { id: "events", class: "events" });
  main.replaceChildren(
    h("h1", {}, patient.name || patient.external_id, h("small", {}, ` ${patient.external_id}`)),
    h("p", { class: "vitals" }, "HR ", hrEl, " bpm · ", conn, " ", pause, " ",
      h("a", { href: `#/review/${pid}?last=30`, id: "review-last" }, "Review last 30 s")),
    h("div", { class: "strip-wrap" }, stripBox), legend(),
    h("details", { open: true }, h("summary", {}, "Beats on the strip"), beatList),
    h("div", { class: "cols" },
      h("section", { "aria-labelledby": "al-h" }, h("h2", { id: "al-h" }, "Alerts"), alertList),
      h("section", { "aria-labelledby": "ev-h" }, h("h2", { id: "ev-h" }, "Events"), eventList),
      h("section", { "aria-labelledby": "hr-h" }, h("h2", { id: "hr-h" }, "Heart-rate trend"), hrBox)));

  const strip = new Strip(stripBox, { windowS: 10 });
  window.__cs = { strip };
  let listT = 0;
  strip.onDraw = ({ window: w }) => {
    if (w) { stripBox.dataset.t0Ns = String(Math.floor(w.t0)); stripBox.dataset.t1Ns = String(Math.floor(w.t1)); }
    const now = performance.now();
    if (now - listT < 500 && !strip.paused) return;
    listT = now;
    const vis = strip.visibleBeats();
    beatList.replaceChildren(...vis.map((b) => h("li", { tabindex: "0",
      dataset: { key: b.key, label: b.label, session: b.session_id, sample: b.sample } },
    badge(b.label))));
    const rr = [];
    for (let i = 1; i < vis.length; i++) rr.push((vis[i].time_ns - vis[i - 1].time_ns) / 1e9);
    const ok = rr.filter((x) => x > 0.2 && x < 3);
    hrEl.textContent = ok.length ? String(Math.round(60 / (ok.reduce((a, b) => a + b, 0) / ok.length))) : "—";
  };
  pause.addEventListener("click", () => {
    strip.setPaused(!strip.paused);
    pause.setAttribute("aria-pressed", String(strip.paused));
    pause.textContent = strip.paused ? "Resume" : "Pause";
  });

  async function backfill(t0, t1) {
    if (t1 <= t0) return;
    const q = `t0=${Math.max(0, Math.floor(t0))}&t1=${Math.ceil(t1)}`;
    const [s, beats] = await Promise.all([api(`/api/v1/patients/${pid}/strip?${q}`),
      api(`/api/v1/patients/${pid}/beats?${q}`)]);
    for (const g of s.segments) strip.addSegment(g.start_ns, g.fs, g.samples_uv);
    for (const b of beats) strip.addBeat(b);
  }

  const latest = await api(`/dashboard/api/patients/${pid}/latest`);
  if (latest.latest_ns !== null) await backfill(latest.latest_ns - 12e9, latest.latest_ns + 1);

  async function loadAlerts() {
    const rows = await api(`/api/v1/patients/${pid}/alerts`);
    // unacknowledged first, newest first
    rows.sort((a, b) => (a.acknowledged_at_ns !== null) - (b.acknowledged_at_ns !== null)
      || b.raised_at_ns - a.raised_at_ns);
    alertList.replaceChildren(...rows.slice(0, 50).map((a) => h("li", {
      class: `alert sev-${a.severity}${a.acknowledged_at_ns ? " acked" : ""}`, dataset: { alertId: a.id } },
    h("strong", {}, a.severity.toUpperCase()), ` ${a.message} · ${fmtTime(a.raised_at_ns)} `,
    a.acknowledged_at_ns
      ? h("span", { class: "ack-state" }, "acknowledged")
      : h("button", { type: "button", class: "ack", onclick: async () => {
        await api(`/api/v1/alerts/${a.id}/acknowledge`, { method: "POST" });
        toast("Alert acknowledged");
        await loadAlerts();
      } }, "Acknowledge"))));
  }
  async function loadEvents() {
    const rows = await api(`/dashboard/api/patients/${pid}/events`);
    rows.reverse();
    eventList.replaceChildren(...rows.slice(0, 50).map((e) => h("li", {
      dataset: { eventId: e.id, kind: e.kind }, class: e.dismissed ? "dismissed" : "" },
    h("a", { href: `#/review/${pid}?event=${e.id}` }, `${e.kind.replace("_", " ")}`),
    ` ${fmtTime(e.start_ns)}${e.end_ns === null ? " (ongoing)" : ""}${e.dismissed ? " — dismissed" : ""}`)));
  }
  let hrPlot = null;
  async function loadHr() {
    if (strip.lastNs === null) return;
    const t1 = Math.ceil(strip.lastNs) + 1;
    const r = await api(`/api/v1/patients/${pid}/hr?t0=${Math.max(0, t1 - 600e9)}&t1=${t1}&bucket_s=10`);
    const xs = r.bucket_start_ns.map((t) => (t - t1) / 1e9);
    const ys = r.hr_bpm.map((v) => (v === null ? null : v));
    if (!hrPlot) {
      hrPlot = new uPlot({ width: 360, height: 160, legend: { show: false },
        scales: { x: { time: false } }, axes: [{ label: "s before now" }, { label: "bpm" }],
        series: [{}, { stroke: "#0072B2", width: 2, spanGaps: false }] }, [xs, ys], hrBox);
    } else hrPlot.setData([xs, ys]);
  }
  await Promise.all([loadAlerts(), loadEvents(), loadHr()]);

  let pendingLists = null;
  const sock = new LiveSocket(pid, {
    onBatch: (m) => {
      for (const g of m.samples) strip.addSegment(g.start_ns, g.fs, g.samples_uv);
      let lists = false;
      for (const msg of m.messages) {
        if (msg.type === "beat") strip.addBeat(msg);
        else lists = true;
      }
      if (lists && !pendingLists) {
        pendingLists = setTimeout(() => { pendingLists = null; loadAlerts(); loadEvents(); }, 300);
      }
    },
    // after a reconnect, fetch what was missed (at most an hour, the read API's limit)
    onResume: () => {
      const from = (strip.lastNs ?? Date.now() * 1e6) - 10e9;
      const fill = () => backfill(from, from + 3600e9).catch(() => {});
      fill();
      setTimeout(fill, 3000); // beats labelled while the socket opened are stored by then
    },
    onState: (s) => { conn.textContent = s; conn.dataset.state = s; },
  });
  const timer = setInterval(() => { loadHr().catch(() => {}); }, 10000);
  cleanup.push(() => { sock.close(); clearInterval(timer); strip.destroy(); hrPlot?.destroy(); clearTimeout(pendingLists); });
}

async function viewReview(pid, params) {
  const me = await api("/dashboard/api/me");
  setNav([h("a", { href: `#/patient/${pid}` }, "← Patient"), h("a", { href: "#/ward" }, "Ward"),
    h("span", {}, `Signed in as ${me.display_name}`), signOutButton()]);
  let ev = null;
  let t0;
  let t1;
  if (params.get("event")) {
    ev = await api(`/dashboard/api/events/${params.get("event")}`);
    t0 = ev.start_ns - 3e9;
    t1 = Math.min((ev.end_ns ?? ev.start_ns) + 3e9, t0 + 60e9);
  } else if (params.get("t0")) {
    t0 = Number(params.get("t0")); t1 = Number(params.get("t1"));
  } else {
    const latest = await api(`/dashboard/api/patients/${pid}/latest`);
    t1 = (latest.latest_ns ?? 0) + 1;
    t0 = t1 - Number(params.get("last") || 30) * 1e9;
  }
  const q = `t0=${Math.max(0, Math.floor(t0))}&t1=${Math.ceil(t1)}`;
  const windowS = Math.max(5, Math.min(60, (t1 - t0) / 1e9));
  const stripBox = h("div", { id: "review-strip", class: "strip", role: "img",
    "aria-label": "ECG strip of the reviewed span, 25 mm/s, 10 mm/mV" });
  const table = h("tbody", {});
  const auditBody = h("tbody", {});
  const head = [h("h1", {}, ev ? `Event review: ${ev.kind.replace("_", " ")}` : "Strip review"),
    h("p", {}, `${fmtTime(t0)} → ${fmtTime(t1)}`)];
  if (ev) {
    const reason = h("input", { id: "dismiss-reason", type: "text", placeholder: "reason" });
    head.push(h("p", { id: "event-state" }, ev.dismissed ? `Dismissed (${ev.dismiss_reason || "no reason"})` : "Active"),
      h("p", {}, h("label", { for: "dismiss-reason" }, "Reason "), reason, " ",
        h("button", { type: "button", id: "dismiss", onclick: async () => {
          await api(`/dashboard/api/events/${ev.id}/dismiss`, { method: "POST",
            body: { dismissed: !ev.dismissed, reason: reason.value } });
          toast(ev.dismissed ? "Event restored" : "Event dismissed");
          route();
        } }, ev.dismissed ? "Restore event" : "Dismiss event")));
  }
  main.replaceChildren(...head, h("div", { class: "strip-wrap scroll" }, stripBox), legend(),
    h("h2", {}, "Beats"),
    h("table", { id: "review-beats", class: "beats" },
      h("thead", {}, h("tr", {}, ["Time", "Class", "P(N)", "P(S)", "P(V)", "P(F)", "P(Q)", "Evidence", "Relabel"].map((c) => h("th", { scope: "col" }, c)))),
      table),
    h("h2", {}, "Audit log"),
    h("table", { id: "audit", class: "audit" },
      h("thead", {}, h("tr", {}, ["When", "Who", "Action", "What", "Old", "New"].map((c) => h("th", { scope: "col" }, c)))),
      auditBody));
  const strip = new Strip(stripBox, { windowS, live: false });
  const [s, beats, audit] = await Promise.all([api(`/api/v1/patients/${pid}/strip?${q}`),
    api(`/api/v1/patients/${pid}/beats?${q}`), api(`/dashboard/api/patients/${pid}/audit`)]);
  for (const g of s.segments) strip.addSegment(g.start_ns, g.fs, g.samples_uv);
  const evidence = new Set((ev?.evidence_beats || []).map((b) => `${b.session_id}:${b.sample_index}`));
  strip.highlight = evidence;
  for (const b of beats) strip.addBeat(b);
  strip.rightS = strip.baseNs === null ? null : (t1 - strip.baseNs) / 1e9;
  strip.schedule(true);
  cleanup.push(() => strip.destroy());
  const pc = (v) => (v === null || v === undefined ? "—" : v.toFixed(2));
  table.replaceChildren(...beats.map((b) => {
    const key = `${b.session_id}:${b.sample_index}`;
    const sel = h("select", { "aria-label": `New class for beat at ${fmtTime(b.time_ns)}` },
      Object.entries(CLASSES).map(([k, c]) => h("option", { value: k, selected: k === b.final_label }, `${c.letter} — ${c.name}`)));
    return h("tr", { dataset: { key, label: b.final_label, relabel: b.relabel || "" }, class: evidence.has(key) ? "evidence" : "" },
      h("td", {}, fmtTime(b.time_ns), `.${String(Math.floor((b.time_ns / 1e6) % 1000)).padStart(3, "0")}`),
      h("td", {}, badge(b.final_label), b.relabel ? h("small", {}, ` (was ${classOf(b.label).letter})`) : ""),
      [b.p_n, b.p_s, b.p_v, b.p_f, b.p_q].map((v) => h("td", {}, pc(v))),
      h("td", {}, evidence.has(key) ? "yes" : ""),
      h("td", {}, sel, " ", h("button", { type: "button", class: "relabel", onclick: async () => {
        await api("/dashboard/api/beats/relabel", { method: "POST",
          body: { session_id: b.session_id, sample_index: b.sample_index, label: sel.value } });
        toast("Beat relabelled");
        route();
      } }, "Save")));
  }));
  auditBody.replaceChildren(...audit.map((a) => h("tr", { dataset: { entity: a.entity, key: a.entity_key, action: a.action } },
    h("td", {}, fmtTime(a.at_ns)), h("td", {}, a.who), h("td", {}, a.action),
    h("td", {}, `${a.entity} ${a.entity_key}`), h("td", {}, JSON.stringify(a.old)), h("td", {}, JSON.stringify(a.new)))));
}

// ------------------------------------------------------------------ router

async function route() {
  for (const f of cleanup) { try { f(); } catch (e) { /* view already gone */ } }
  cleanup = [];
  const hash = location.hash || "#/ward";
  const [path, query] = hash.slice(1).split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] !== "login" && !token()) {
    viewLogin("Please sign in with your clinician token.");
    history.replaceState(null, "", "#/login");
    return;
  }
  try {
    if (parts[0] === "login") viewLogin();
    else if (parts[0] === "patient") await viewPatient(Number(parts[1]));
    else if (parts[0] === "review") await viewReview(Number(parts[1]), params);
    else await viewWard();
    main.focus({ preventScroll: true });
  } catch (e) {
    if (token()) main.replaceChildren(h("p", { class: "error", role: "alert" }, `Could not load: ${e.message}`));
  }
}

window.addEventListener("hashchange", route);
route();
