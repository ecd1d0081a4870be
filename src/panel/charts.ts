// Hand-drawn SVG charts for the Analytics page: a line chart over time buckets and horizontal
// bars. Presentation attributes only (the panel's CSP allows no inline styles), a text title and
// description for screen readers, and the numbers behind each chart in a table beside it. Series
// often coincide (accepted = delivered, all opens by people): each has its own dash pattern and
// marker shape, and is drawn a few pixels above or below the next, so equal series run side by
// side instead of one hiding the other (the exact numbers are in the table under the chart).
import { html, raw } from "hono/html";

export interface Series {
  name: string;
  color: string;
  values: number[];
}

/** How the n-th series of a chart is drawn: dash pattern ("" = solid) and marker shape. */
const LOOKS = [
  { dash: "", marker: "circle" },
  { dash: "9 5", marker: "square" },
  { dash: "3 4", marker: "triangle" },
  { dash: "12 4 3 4", marker: "diamond" },
  { dash: "6 3", marker: "cross" },
  { dash: "1 4", marker: "bar" },
  { dash: "14 6", marker: "ring" },
] as const;
type Look = (typeof LOOKS)[number];

const lookOf = (i: number): Look => LOOKS[i % LOOKS.length]!;
/** How far apart equal series are drawn, centred on the true value. Unit: px of the 720×240 view box. */
const SERIES_GAP = 3.5;
const offsetOf = (i: number, count: number) => (i - (count - 1) / 2) * SERIES_GAP;
/** Marker half-size. Unit: px. */
const MARKER_SIZE = 3.5;

function marker(shape: Look["marker"], x: number, y: number, r: number): string {
  const p = (n: number) => n.toFixed(1);
  switch (shape) {
    case "circle":
      return `<circle cx="${p(x)}" cy="${p(y)}" r="${p(r)}"/>`;
    case "ring":
      return `<circle cx="${p(x)}" cy="${p(y)}" r="${p(r)}" fill="#fff" stroke-width="2"/>`;
    case "square":
      return `<rect x="${p(x - r)}" y="${p(y - r)}" width="${p(2 * r)}" height="${p(2 * r)}"/>`;
    case "triangle":
      return `<polygon points="${p(x)},${p(y - r * 1.2)} ${p(x + r * 1.1)},${p(y + r * 0.8)} ${p(x - r * 1.1)},${p(y + r * 0.8)}"/>`;
    case "diamond":
      return `<polygon points="${p(x)},${p(y - r * 1.3)} ${p(x + r * 1.1)},${p(y)} ${p(x)},${p(y + r * 1.3)} ${p(x - r * 1.1)},${p(y)}"/>`;
    case "cross":
      return `<path d="M${p(x - r)} ${p(y - r)}L${p(x + r)} ${p(y + r)}M${p(x + r)} ${p(y - r)}L${p(x - r)} ${p(y + r)}" stroke-width="2.5"/>`;
    case "bar":
      return `<rect x="${p(x - r * 1.4)}" y="${p(y - 1.5)}" width="${p(2.8 * r)}" height="3"/>`;
  }
}

/** Colours with at least 4.5:1 contrast on white. */
export const COLORS = ["#0b57d0", "#0d652d", "#a50e0e", "#7b1fa2", "#8a4b00", "#00695c", "#3c4043"];

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 48, right: 12, top: 16, bottom: 36 };

/** A round step for the y axis: 1, 2 or 5 × a power of ten, about four steps to the top. */
function niceMax(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 4, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { top: Math.max(step * Math.ceil(max / step), step), step: Math.max(1, step) };
}

/** The legend's sample of the n-th series: its colour, dash and marker. */
export const swatch = (color: string, i: number) => {
  const look = lookOf(i);
  return raw(
    `<svg width="34" height="14" aria-hidden="true"><line x1="0" y1="7" x2="34" y2="7" stroke="${color}" stroke-width="2.5"${look.dash ? ` stroke-dasharray="${look.dash}"` : ""}/><g fill="${color}" stroke="${color}">${marker(look.marker, 17, 7, 4)}</g></svg>`,
  );
};

/** Which buckets get an x-axis label: about six, evenly spaced, always the last (the newest). */
export function labelledIndexes(count: number, most = 6): number[] {
  if (count <= 0) return [];
  const every = Math.max(1, Math.ceil(count / most));
  const picked: number[] = [];
  for (let i = 0; i < count; i += every) picked.push(i);
  const last = count - 1;
  // The last label replaces one that would crowd it.
  if (picked.at(-1) !== last) {
    if (picked.length > 1 && last - picked.at(-1)! < every * 0.6) picked.pop();
    picked.push(last);
  }
  return picked;
}

export function lineChart(id: string, title: string, labels: string[], series: Series[]) {
  const { top, step } = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (labels.length <= 1 ? innerW / 2 : (i * innerW) / (labels.length - 1));
  const y = (v: number) => PAD.top + innerH - (v / top) * innerH;
  const grid: string[] = [];
  for (let v = 0; v <= top; v += step) {
    grid.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e3e6ea"/>`);
    grid.push(`<text x="${PAD.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#4f5660">${v}</text>`);
  }
  const ticks = labelledIndexes(labels.length).map((i) => {
    // The first and last labels stay inside the chart instead of being cut at its edges.
    const anchor = labels.length > 1 && i === 0 ? "start" : labels.length > 1 && i === labels.length - 1 ? "end" : "middle";
    const at = anchor === "start" ? x(i) - 4 : anchor === "end" ? x(i) + 4 : x(i);
    return `<text class="x-label" x="${at.toFixed(1)}" y="${HEIGHT - 8}" text-anchor="${anchor}" font-size="11" fill="#4f5660">${escapeText(labels[i]!)}</text>`;
  });
  const lines = series.map((s, n) => {
    const look = lookOf(n);
    const dy = offsetOf(n, series.length);
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${(y(v) + dy).toFixed(1)}`).join(" ");
    const line = `<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${look.dash ? ` stroke-dasharray="${look.dash}"` : ""} stroke-linejoin="round" points="${points}"/>`;
    const marks = s.values.map((v, i) => marker(look.marker, x(i), y(v) + dy, MARKER_SIZE)).join("");
    return `${line}<g class="markers" data-shape="${look.marker}" fill="${s.color}" stroke="${s.color}">${marks}</g>`;
  });
  const description = series.map((s) => `${s.name}: ${s.values.reduce((a, b) => a + b, 0)} in all`).join("; ");
  return html`<figure class="chart-figure" id="${id}">
<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc">
<title id="${id}-title">${title}</title><desc id="${id}-desc">${description}</desc>
${raw(grid.join(""))}${raw(ticks.join(""))}${raw(lines.join(""))}
</svg>
<figcaption><ul class="legend">${series.map((s, i) => html`<li>${swatch(s.color, i)}${s.name}</li>`)}</ul>
<details><summary>Numbers</summary><div class="table-wrap"><table><thead><tr><th scope="col">Time</th>${series.map((s) => html`<th scope="col" class="num">${s.name}</th>`)}</tr></thead>
<tbody>${labels.map((label, i) => html`<tr><td>${label}</td>${series.map((s) => html`<td class="num">${s.values[i] ?? 0}</td>`)}</tr>`)}</tbody></table></div></details>
</figcaption></figure>`;
}

/** A horizontal bar sized to `value / max`, for table cells. */
export function bar(value: number, max: number, color = COLORS[0]!) {
  const width = max > 0 ? Math.round((value / max) * 120) : 0;
  return raw(`<svg width="124" height="12" aria-hidden="true"><rect x="0" y="1" width="${width}" height="10" rx="2" fill="${color}"/></svg>`);
}

function escapeText(text: string): string {
  return text.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]!);
}
