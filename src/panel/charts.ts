// Hand-drawn SVG charts for the Analytics page: a line chart over time buckets and horizontal
// bars. Presentation attributes only (the panel's CSP allows no inline styles), a text title and
// description for screen readers, and the numbers behind each chart in a table beside it.
import { html, raw } from "hono/html";

export interface Series {
  name: string;
  color: string;
  values: number[];
  /** dashed: the "unique" line beside its total */
  dashed?: boolean;
}

/** Colours with at least 4.5:1 contrast on white. */
export const COLORS = ["#0b57d0", "#0d652d", "#a50e0e", "#7b1fa2", "#8a4b00", "#00695c", "#3c4043"];

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/** A round step for the y axis: 1, 2 or 5 × a power of ten, about four steps to the top. */
function niceMax(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 4, step: 1 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { top: Math.max(step * Math.ceil(max / step), step), step: Math.max(1, step) };
}

export const swatch = (color: string, dashed = false) =>
  raw(`<svg width="18" height="10" aria-hidden="true"><line x1="0" y1="5" x2="18" y2="5" stroke="${color}" stroke-width="3"${dashed ? ' stroke-dasharray="4 3"' : ""}/></svg>`);

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
  const every = Math.max(1, Math.ceil(labels.length / 6));
  const ticks = labels.flatMap((label, i) =>
    i % every === 0 ? [`<text x="${x(i)}" y="${HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#4f5660">${escapeText(label)}</text>`] : [],
  );
  const lines = series.map((s) => {
    const points = s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ""} points="${points}"/>`;
  });
  const description = series.map((s) => `${s.name}: ${s.values.reduce((a, b) => a + b, 0)} in all`).join("; ");
  return html`<figure class="chart-figure" id="${id}">
<svg class="chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title ${id}-desc">
<title id="${id}-title">${title}</title><desc id="${id}-desc">${description}</desc>
${raw(grid.join(""))}${raw(ticks.join(""))}${raw(lines.join(""))}
</svg>
<figcaption><ul class="legend">${series.map((s) => html`<li>${swatch(s.color, s.dashed)}${s.name}</li>`)}</ul>
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
