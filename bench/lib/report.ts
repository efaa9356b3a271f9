/**
 * Saving a scenario's figures: JSON (everything measured), an SVG bar chart and a markdown table with bars
 * of characters (both readable without tools), all under bench/results/<name>.*; the table is also printed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { MACHINE, RESULTS_DIR } from './harness';

export interface Bar {
  label: string;
  value: number;
  /** Drawn as a line on the bar; a bar over its target is drawn red. */
  target?: number;
}

export interface Chart {
  title: string;
  unit: string;
  bars: Bar[];
}

export function saveResult(name: string, result: Record<string, unknown>, charts: Chart[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = join(RESULTS_DIR, `${name}.json`);
  // The machine is shared: the load average (1, 5, 15 min) at the end says how far to trust the timings.
  const loadAverage = loadavg().map((l) => Math.round(l * 100) / 100);
  writeFileSync(json, JSON.stringify({ name, at: new Date().toISOString(), machine: MACHINE, loadAverage, ...result }, null, 2) + '\n');
  console.log(`load average at the end: ${loadAverage.join(', ')}`);
  writeFileSync(join(RESULTS_DIR, `${name}.svg`), svg(charts));
  const md = charts.map(markdown).join('\n');
  writeFileSync(join(RESULTS_DIR, `${name}.md`), `# ${name}\n\n${md}`);
  console.log(`\n${md}`);
  console.log(`saved ${json} (+ .svg, .md)`);
}

function fmt(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en-US') : value.toFixed(Math.abs(value) < 10 ? 2 : 1);
}

/** A markdown table: label, value, target and a bar of up to 40 characters. */
export function markdown(chart: Chart): string {
  const max = Math.max(...chart.bars.map((b) => Math.max(b.value, b.target ?? 0)), 1e-9);
  const rows = chart.bars.map((b) => {
    const bar = '█'.repeat(Math.max(b.value > 0 ? 1 : 0, Math.round((b.value / max) * 40)));
    return `| ${b.label} | ${fmt(b.value)} ${chart.unit} | ${b.target === undefined ? '' : `${fmt(b.target)} ${chart.unit}`} | \`${bar}\` |`;
  });
  return [`**${chart.title}**`, '', '| | value | target | |', '|---|---:|---:|---|', ...rows, ''].join('\n');
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bar charts stacked vertically in one SVG. */
export function svg(charts: Chart[]): string {
  const width = 760;
  const labelWidth = 250;
  const barArea = width - labelWidth - 120;
  const rowHeight = 26;
  let y = 10;
  const parts: string[] = [];
  for (const chart of charts) {
    const max = Math.max(...chart.bars.map((b) => Math.max(b.value, b.target ?? 0)), 1e-9);
    parts.push(`<text x="10" y="${y + 16}" font-weight="bold">${escapeXml(chart.title)}</text>`);
    y += 28;
    for (const bar of chart.bars) {
      const w = Math.max(1, (bar.value / max) * barArea);
      const over = bar.target !== undefined && bar.value > bar.target;
      parts.push(`<text x="${labelWidth - 8}" y="${y + 16}" text-anchor="end">${escapeXml(bar.label)}</text>`);
      parts.push(`<rect x="${labelWidth}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${over ? '#d9534f' : '#4a7bd0'}"/>`);
      parts.push(`<text x="${labelWidth + w + 6}" y="${y + 16}">${escapeXml(`${fmt(bar.value)} ${chart.unit}`)}</text>`);
      if (bar.target !== undefined) {
        const x = labelWidth + (bar.target / max) * barArea;
        parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y}" y2="${y + rowHeight - 2}" stroke="#222" stroke-dasharray="3,2"/>`);
      }
      y += rowHeight;
    }
    y += 14;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    `<text x="${width - 10}" y="${y - 4}" text-anchor="end" font-size="10" fill="#666">dashed line: target; ${escapeXml(`${MACHINE.cores} cores, ${MACHINE.memoryGiB} GiB, node ${MACHINE.node}`)}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
