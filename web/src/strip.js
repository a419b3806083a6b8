// ECG strip on paper grid (25 mm/s, 10 mm/mV) drawn with uPlot, beats marked with class
// colour AND letter. Samples live in a bounded ring of sorted arrays; redraws are batched to
// one per animation frame.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export const CLASSES = {
  // Okabe & Ito (2008) colour-blind-safe palette; the letter carries the class as well.
  N: { letter: "N", color: "#0072B2", name: "normal" },
  S: { letter: "S", color: "#E69F00", name: "supraventricular ectopic" },
  V: { letter: "V", color: "#D55E00", name: "ventricular ectopic" },
  F: { letter: "F", color: "#CC79A7", name: "fusion" },
  Q: { letter: "Q", color: "#009E73", name: "unclassifiable" },
  inconclusive: { letter: "?", color: "#555555", name: "inconclusive" },
};
export const classOf = (label) => CLASSES[label] || CLASSES.inconclusive;

const PX_PER_MM = 96 / 25.4; // CSS pixels per millimetre
const MM_PER_S = 25;
const MM_PER_MV = 10;
const MV_RANGE = [-2, 2];

export class Strip {
  /**
   * @param {HTMLElement} el container
   * @param {{windowS?: number, keepS?: number, live?: boolean}} opts
   */
  constructor(el, opts = {}) {
    this.el = el;
    this.windowS = opts.windowS || 10;
    this.keepS = opts.keepS || Math.max(60, this.windowS * 3);
    this.live = opts.live !== false;
    this.baseNs = null; // device ns of x = 0
    this.ts = []; // seconds since baseNs, sorted
    this.ys = []; // mV
    this.lastNs = null; // device time of the newest sample
    this.beats = new Map(); // "session:sample" -> beat
    this.paused = false;
    this.rightS = null; // right edge (s) when not following
    this.dirty = false;
    this.onDraw = null; // callback(info) after each redraw
    this.highlight = new Set(); // beat keys drawn emphasised (evidence)
    const width = Math.round(this.windowS * MM_PER_S * PX_PER_MM);
    const height = Math.round((MV_RANGE[1] - MV_RANGE[0]) * MM_PER_MV * PX_PER_MM);
    this.plot = new uPlot({
      width, height, legend: { show: false }, cursor: { show: false },
      padding: [0, 0, 0, 0],
      scales: { x: { time: false, auto: false, range: () => this.xRange() },
                y: { auto: false, range: () => MV_RANGE } },
      axes: [{ show: false }, { show: false }],
      series: [{}, { stroke: "#111", width: 1.25, points: { show: false } }],
      hooks: { drawClear: [(u) => this.drawGrid(u)], draw: [(u) => this.drawBeats(u)] },
    }, [[], []], el);
  }

  xRange() {
    const right = this.rightS ?? (this.ts.length ? this.ts[this.ts.length - 1] : this.windowS);
    return [right - this.windowS, right];
  }

  /** Visible window in device ns. */
  window() {
    if (this.baseNs === null) return null;
    const [a, b] = this.xRange();
    return { t0: this.baseNs + a * 1e9, t1: this.baseNs + b * 1e9 };
  }

  addSegment(startNs, fs, samplesUv) {
    if (!samplesUv.length) return;
    if (this.baseNs === null) this.baseNs = startNs;
    const dt = 1 / fs;
    const t0 = (startNs - this.baseNs) / 1e9;
    const last = this.ts.length ? this.ts[this.ts.length - 1] : -Infinity;
    if (t0 > last + dt / 2) { // in order: append
      for (let i = 0; i < samplesUv.length; i++) {
        this.ts.push(t0 + i * dt);
        this.ys.push(samplesUv[i] / 1000);
      }
    } else { // back-fill or overlap: merge, drop duplicates
      const pts = this.ts.map((t, i) => [t, this.ys[i]]);
      for (let i = 0; i < samplesUv.length; i++) pts.push([t0 + i * dt, samplesUv[i] / 1000]);
      pts.sort((a, b) => a[0] - b[0]);
      this.ts = []; this.ys = [];
      for (const [t, y] of pts) {
        if (this.ts.length && t - this.ts[this.ts.length - 1] < dt / 2) continue;
        this.ts.push(t); this.ys.push(y);
      }
    }
    const endNs = startNs + (samplesUv.length - 1) * dt * 1e9;
    if (this.lastNs === null || endNs > this.lastNs) this.lastNs = endNs;
    this.trim();
    this.schedule();
  }

  addBeat(b) {
    if (this.baseNs === null) this.baseNs = b.time_ns;
    const key = `${b.session_id}:${b.sample ?? b.sample_index}`;
    const label = b.final_label || b.label;
    this.beats.set(key, { key, session_id: b.session_id, sample: b.sample ?? b.sample_index,
      time_ns: b.time_ns, label, probabilities: b.probabilities || probs(b) });
    this.schedule();
  }

  trim() {
    if (!this.ts.length) return;
    const cut = this.ts[this.ts.length - 1] - this.keepS;
    let k = 0;
    while (k < this.ts.length && this.ts[k] < cut) k++;
    if (k > 1024 || k > this.ts.length / 4) { this.ts.splice(0, k); this.ys.splice(0, k); }
    const cutNs = this.baseNs + cut * 1e9;
    for (const [key, b] of this.beats) if (b.time_ns < cutNs) this.beats.delete(key);
  }

  visibleBeats() {
    const w = this.window();
    if (!w) return [];
    return [...this.beats.values()].filter((b) => b.time_ns >= w.t0 && b.time_ns < w.t1)
      .sort((a, b) => a.time_ns - b.time_ns);
  }

  setPaused(p) {
    this.paused = p;
    this.rightS = p ? this.xRange()[1] : null;
    this.schedule(true);
  }

  schedule(force = false) {
    if ((this.paused && !force) || this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => {
      this.dirty = false;
      this.plot.setData([this.ts, this.ys]);
      if (this.onDraw) this.onDraw({ lastNs: this.lastNs, window: this.window() });
    });
  }

  drawGrid(u) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const px = PX_PER_MM * devicePixelRatio;
    ctx.save();
    ctx.fillStyle = "#fff8f6";
    ctx.fillRect(left, top, width, height);
    const [x0] = this.xRange();
    // vertical lines anchored to device time: 1 mm = 40 ms, 5 mm = 200 ms
    const mmOffset = ((x0 * MM_PER_S) % 1 + 1) % 1;
    for (let i = 0; i * px <= width + px; i++) {
      const mm = i - mmOffset;
      const xp = left + mm * px;
      const major = Math.round(x0 * MM_PER_S + mm) % 5 === 0;
      ctx.strokeStyle = major ? "#f0a8a0" : "#fbd9d4";
      ctx.lineWidth = major ? 1.2 : 0.6;
      ctx.beginPath(); ctx.moveTo(xp, top); ctx.lineTo(xp, top + height); ctx.stroke();
    }
    for (let j = 0; j * px <= height; j++) { // 1 mm = 0.1 mV
      const yp = top + j * px;
      ctx.strokeStyle = j % 5 === 0 ? "#f0a8a0" : "#fbd9d4";
      ctx.lineWidth = j % 5 === 0 ? 1.2 : 0.6;
      ctx.beginPath(); ctx.moveTo(left, yp); ctx.lineTo(left + width, yp); ctx.stroke();
    }
    ctx.restore();
  }

  drawBeats(u) {
    const { ctx } = u;
    const fontPx = Math.round(13 * devicePixelRatio);
    ctx.save();
    ctx.font = `bold ${fontPx}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    for (const b of this.visibleBeats()) {
      const c = classOf(b.label);
      const x = u.valToPos((b.time_ns - this.baseNs) / 1e9, "x", true);
      const top = u.bbox.top;
      ctx.fillStyle = c.color;
      ctx.strokeStyle = c.color;
      ctx.lineWidth = this.highlight.has(b.key) ? 3 : 1;
      ctx.beginPath(); ctx.moveTo(x, top + fontPx * 1.3); ctx.lineTo(x, top + fontPx * 1.9);
      ctx.stroke();
      ctx.fillText(c.letter, x, top + fontPx * 1.1);
    }
    ctx.restore();
  }

  destroy() { this.plot.destroy(); }
}

function probs(b) {
  const out = {};
  for (const c of ["n", "s", "v", "f", "q"]) {
    const v = b[`p_${c}`];
    if (v !== null && v !== undefined) out[c.toUpperCase()] = v;
  }
  return Object.keys(out).length ? out : null;
}
