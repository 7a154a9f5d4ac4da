// Draws the server-computed lineage layout on a canvas: pan, zoom, culling to the viewport and
// level of detail (labels only when they are readable), so 10,000 nodes stay interactive.
import { STATUS_COLORS } from "./format.js";

const DIM = "#e3e6ec";
const EDGE = "#b7bfcc";
const EDGE_HI = "#3857d6";

export class LineageCanvas {
  constructor(canvas, layout) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.keys = layout.keys;
    this.kinds = layout.kinds;
    this.x = Float64Array.from(layout.x);
    this.y = Float64Array.from(layout.y);
    this.w = layout.node_width;
    this.h = layout.node_height;
    this.edges = layout.edges;
    this.worldW = Math.max(layout.width, this.w);
    this.worldH = Math.max(layout.height, this.h);
    this.n = this.keys.length;
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    this.ups = Array.from({ length: this.n }, () => []);
    this.downs = Array.from({ length: this.n }, () => []);
    for (const [a, b] of this.edges) { this.downs[a].push(b); this.ups[b].push(a); }
    this.colors = new Array(this.n).fill(STATUS_COLORS.never);
    this.focus = null; // Uint8Array mask of highlighted nodes, or null
    this.selected = -1;
    this.scale = 1; this.tx = 0; this.ty = 0;
    this.frames = 0;
    this.pending = false;
    this.onSelect = () => {};
    this.onOpen = () => {};
    this.#listen();
    this.resize();
  }

  setStatuses(statuses, materialized) {
    for (let i = 0; i < this.n; i++) {
      const key = this.keys[i];
      const status = statuses[key] || (materialized[key] ? "materialized" : "never");
      this.colors[i] = STATUS_COLORS[status] || STATUS_COLORS.never;
    }
    this.redraw();
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    const rect = this.canvas.getBoundingClientRect();
    this.cssW = Math.max(rect.width, 10);
    this.cssH = Math.max(rect.height, 10);
    this.canvas.width = Math.round(this.cssW * ratio);
    this.canvas.height = Math.round(this.cssH * ratio);
    this.ratio = ratio;
    this.redraw();
  }

  fit() {
    const pad = 20;
    this.scale = Math.min((this.cssW - 2 * pad) / this.worldW, (this.cssH - 2 * pad) / this.worldH, 1.5);
    this.tx = (this.cssW - this.worldW * this.scale) / 2;
    this.ty = (this.cssH - this.worldH * this.scale) / 2;
    this.redraw();
  }

  centerOn(i, scale = Math.max(this.scale, 0.8)) {
    this.scale = scale;
    this.tx = this.cssW / 2 - (this.x[i] + this.w / 2) * scale;
    this.ty = this.cssH / 2 - (this.y[i] + this.h / 2) * scale;
    this.redraw();
  }

  select(i) {
    this.selected = i;
    this.redraw();
    this.onSelect(i);
  }

  /** Highlight node i with its upstream and/or downstream closure; null clears. */
  focusOn(i, { up = true, down = true } = {}) {
    if (i === null || i < 0) { this.focus = null; this.redraw(); return 0; }
    const mask = new Uint8Array(this.n);
    mask[i] = 1;
    const walk = (lists) => {
      const stack = [i];
      while (stack.length) {
        for (const j of lists[stack.pop()]) if (!mask[j]) { mask[j] = 1; stack.push(j); }
      }
    };
    if (up) walk(this.ups);
    if (down) walk(this.downs);
    this.focus = mask;
    this.redraw();
    return mask.reduce((a, b) => a + b, 0);
  }

  redraw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  draw() {
    const { ctx, scale, tx, ty, w, h } = this;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.clearRect(0, 0, this.cssW, this.cssH);
    ctx.translate(tx, ty);
    ctx.scale(scale, scale);
    const left = -tx / scale, top = -ty / scale;
    const right = left + this.cssW / scale, bottom = top + this.cssH / scale;
    const curves = scale > 0.25;
    const normal = new Path2D(), lit = new Path2D();
    for (const [a, b] of this.edges) {
      const x1 = this.x[a] + w, y1 = this.y[a] + h / 2, x2 = this.x[b], y2 = this.y[b] + h / 2;
      if (Math.max(x1, x2) < left || Math.min(x1, x2) > right || Math.max(y1, y2) < top || Math.min(y1, y2) > bottom) continue;
      const path = this.focus && this.focus[a] && this.focus[b] ? lit : normal;
      path.moveTo(x1, y1);
      if (curves) { const mx = (x1 + x2) / 2; path.bezierCurveTo(mx, y1, mx, y2, x2, y2); } else path.lineTo(x2, y2);
    }
    ctx.lineWidth = 1 / Math.max(scale, 0.05);
    ctx.strokeStyle = this.focus ? DIM : EDGE;
    ctx.stroke(normal);
    ctx.strokeStyle = EDGE_HI;
    ctx.stroke(lit);
    const byColor = new Map();
    const visible = [];
    for (let i = 0; i < this.n; i++) {
      const x = this.x[i], y = this.y[i];
      if (x + w < left || x > right || y + h < top || y > bottom) continue;
      visible.push(i);
      const color = this.focus && !this.focus[i] ? DIM : this.colors[i];
      let list = byColor.get(color);
      if (!list) byColor.set(color, (list = []));
      list.push(i);
    }
    for (const [color, list] of byColor) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const i of list) {
        if (this.kinds[i] === "task" && scale > 0.3) ctx.roundRect(this.x[i], this.y[i], w, h, h / 2);
        else ctx.rect(this.x[i], this.y[i], w, h);
      }
      ctx.fill();
    }
    if (this.selected >= 0) {
      ctx.lineWidth = 3 / scale;
      ctx.strokeStyle = "#1d2330";
      ctx.strokeRect(this.x[this.selected] - 2, this.y[this.selected] - 2, w + 4, h + 4);
    }
    if (scale * h >= 14 && visible.length < 3000) {
      ctx.fillStyle = "#fff";
      ctx.font = "12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      for (const i of visible) {
        if (this.focus && !this.focus[i]) continue;
        this.#label(this.keys[i], this.x[i] + 8, this.y[i] + h / 2, w - 16);
      }
    }
    this.frames += 1;
    this.canvas.dataset.frames = String(this.frames);
  }

  #label(text, x, y, max) {
    const ctx = this.ctx;
    if (ctx.measureText(text).width <= max) { ctx.fillText(text, x, y); return; }
    let lo = 0, hi = text.length;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (ctx.measureText(text.slice(0, mid) + "…").width <= max) lo = mid; else hi = mid - 1; }
    ctx.fillText(text.slice(0, lo) + "…", x, y);
  }

  hit(px, py) {
    const wx = (px - this.tx) / this.scale, wy = (py - this.ty) / this.scale;
    for (let i = 0; i < this.n; i++) {
      if (wx >= this.x[i] && wx <= this.x[i] + this.w && wy >= this.y[i] && wy <= this.y[i] + this.h) return i;
    }
    return -1;
  }

  #listen() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, tx: this.tx, ty: this.ty, moved: false }; c.classList.add("dragging"); });
    const move = (e) => {
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      this.tx = drag.tx + dx; this.ty = drag.ty + dy;
      this.redraw();
    };
    const up = (e) => {
      if (!drag) return;
      const moved = drag.moved;
      drag = null;
      c.classList.remove("dragging");
      if (!moved && e.target === c) {
        const r = c.getBoundingClientRect();
        this.select(this.hit(e.clientX - r.left, e.clientY - r.top));
      }
    };
    window.addEventListener("mousemove", move);
    window.addEventListener("mouseup", up);
    c.addEventListener("dblclick", (e) => {
      const r = c.getBoundingClientRect();
      const i = this.hit(e.clientX - r.left, e.clientY - r.top);
      if (i >= 0) this.onOpen(i);
    });
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      const r = c.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      const factor = Math.exp(-e.deltaY * 0.0015);
      const scale = Math.min(Math.max(this.scale * factor, 0.005), 4);
      this.tx = px - ((px - this.tx) * scale) / this.scale;
      this.ty = py - ((py - this.ty) * scale) / this.scale;
      this.scale = scale;
      this.redraw();
    }, { passive: false });
    const observer = new ResizeObserver(() => this.resize());
    observer.observe(c);
    this.destroy = () => {
      window.removeEventListener("mousemove", move);
      window.removeEventListener("mouseup", up);
      observer.disconnect();
    };
  }
}
