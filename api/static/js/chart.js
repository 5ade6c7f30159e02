// Plain SVG charts over time buckets: stacked bars and lines, with a y axis, time labels, a legend and a
// tooltip (<title>) per bucket. No library: each chart is a few rects and paths.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 560;
const H = 180;
const PAD = { left: 48, right: 8, top: 10, bottom: 24 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// A round axis top at or above `max` (1, 2 or 5 times a power of ten).
function niceTop(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max);
}

const clock = (ts) => new Date(ts).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function frame(buckets, top, format) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - f);
    parts.push(s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }),
      s("text", { x: PAD.left - 4, y: y + 4, class: "axis", "text-anchor": "end" }, format(top * f)));
  }
  const step = Math.max(1, Math.ceil(buckets.length / 6));
  buckets.forEach((b, i) => {
    if (i % step) return;
    const x = PAD.left + (plotW * (i + 0.5)) / buckets.length;
    parts.push(s("text", { x, y: H - 6, class: "axis", "text-anchor": "middle" }, clock(b.start)));
  });
  return { parts, plotW, plotH };
}

function legend(series) {
  return h("ul", { class: "legend" }, series.map((x) => h("li", { class: x.cls }, x.label)));
}

// Bars per bucket, the series stacked; `format` writes a value on the axis and in tooltips.
export function barChart(id, title, buckets, series, format = String) {
  const totals = buckets.map((b) => series.reduce((sum, x) => sum + (x.value(b) || 0), 0));
  const top = niceTop(Math.max(0, ...totals));
  const { parts, plotW, plotH } = frame(buckets, top, format);
  const width = plotW / Math.max(1, buckets.length);
  buckets.forEach((b, i) => {
    let y = PAD.top + plotH;
    const bars = [];
    for (const x of series) {
      const v = x.value(b) || 0;
      if (!v) continue;
      const height = (v / top) * plotH;
      y -= height;
      bars.push(s("rect", { x: PAD.left + i * width + width * 0.1, y, width: Math.max(1, width * 0.8), height, class: x.cls }));
    }
    const tip = `${clock(b.start)}: ${series.map((x) => `${x.label} ${format(x.value(b) || 0)}`).join(", ")}`;
    parts.push(s("g", { "data-bucket": i, "data-total": totals[i] }, s("title", {}, tip), ...bars,
      s("rect", { x: PAD.left + i * width, y: PAD.top, width, height: plotH, class: "hit" })));
  });
  return chartCard(id, title, parts, series);
}

// Lines over the buckets (a gap where a value is null).
export function lineChart(id, title, buckets, series, format = String) {
  const values = buckets.flatMap((b) => series.map((x) => x.value(b))).filter((v) => typeof v === "number");
  const top = niceTop(Math.max(0, ...values));
  const { parts, plotW, plotH } = frame(buckets, top, format);
  const xAt = (i) => PAD.left + (plotW * (i + 0.5)) / Math.max(1, buckets.length);
  const yAt = (v) => PAD.top + plotH * (1 - v / top);
  for (const x of series) {
    let d = "";
    let pen = false;
    buckets.forEach((b, i) => {
      const v = x.value(b);
      if (typeof v !== "number") {
        pen = false;
        return;
      }
      const lone = typeof x.value(buckets[i - 1] || {}) !== "number" && typeof x.value(buckets[i + 1] || {}) !== "number";
      d += `${pen ? "L" : "M"}${xAt(i).toFixed(1)},${yAt(v).toFixed(1)} `;
      pen = true;
      // NOTE: a dot per point only where it helps: few buckets, or a point with no line through it.
      if (buckets.length <= 40 || lone) {
        parts.push(s("circle", { cx: xAt(i), cy: yAt(v), r: 2.5, class: x.cls },
          s("title", {}, `${clock(b.start)}: ${x.label} ${format(v)}`)));
      }
    });
    if (d) parts.unshift(s("path", { d, class: `line ${x.cls}`, "data-series": x.label }));
  }
  return chartCard(id, title, parts, series);
}

function chartCard(id, title, parts, series) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": title }, ...parts);
  return h("figure", { class: "chart-card", id }, h("figcaption", {}, title), svg, legend(series));
}
