/* Page state, helpers, plot drawing, the per-image payload and the section registry. */

  const D = JSON.parse(document.getElementById('pp-data').textContent);
  const H = D.header;
  let V = D.views[0];
  let G = V.groups;
  const DESC = H.descriptions || {};
  const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  const CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ['select2d', 'lasso2d'] };
  const PAGE = 25;
  const state = {
    on: G.map(() => true), compare: false, facet: 'all', trend: {}, histMode: 'fraction', histLog: false,
    mosaicSort: '', mosaicOrder: 'top', mosaicSeed: 1, sortCol: null, sortDesc: false, query: '',
    finding: -1, flaggedOnly: false, page: 0, highlight: -1, pairX: '', pairY: '',
  };
  let IMG = null;

  /* ---------- small helpers ---------- */
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return e;
  }
  const color = (g) => (g < PALETTE.length ? PALETTE[g] : `hsl(${(g * 47) % 360},55%,45%)`);
  const alpha = (g, a) => {
    if (g >= PALETTE.length) return `hsla(${(g * 47) % 360},55%,45%,${a})`;
    const c = PALETTE[g];
    return `rgba(${parseInt(c.slice(1, 3), 16)},${parseInt(c.slice(3, 5), 16)},${parseInt(c.slice(5, 7), 16)},${a})`;
  };
  const on = (g) => state.on[g];
  const selected = () => G.map((_, i) => i).filter(on);
  function fmtInt(n) { return n === null || n === undefined || Number.isNaN(n) ? '—' : Math.round(n).toLocaleString('en-US'); }
  function fmtNum(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return '—';
    if (!Number.isFinite(x)) return String(x);
    const a = Math.abs(x);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return x.toExponential(3);
    if (Number.isInteger(x)) return x.toLocaleString('en-US');
    return String(Number(x.toPrecision(5)));
  }
  function fmtBytes(n) {
    if (n === null || n === undefined || Number.isNaN(n)) return '—';
    const u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
    let i = 0;
    while (n >= 1000 && i < u.length - 1) { n /= 1000; i += 1; }
    return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
  }
  const sum = (a) => a.reduce((s, x) => s + (x || 0), 0);
  const groupSum = (perGroup) => sum(perGroup.filter((_, g) => on(g)));
  function desc(name) { return DESC[name] || ''; }
  const BASE = String((D.run && D.run.base_dir) || '').replace(/[\\/]+$/, '');
  function shortPath(p) {
    if (!BASE || !p || !p.startsWith(BASE) || !'/\\'.includes(p.charAt(BASE.length))) return p;
    return p.slice(BASE.length + 1);
  }

  function draw(div, traces, layout, after) {
    const base = {
      margin: { l: 60, r: 20, t: 10, b: 50 }, height: 320, showlegend: true,
      legend: { orientation: 'h', y: -0.2 }, font: { family: 'system-ui, sans-serif', size: 12 },
      paper_bgcolor: '#fff', plot_bgcolor: '#fff',
    };
    const named = traces.filter((t) => t.showlegend !== false && t.name).length;
    if (named > 6 && !layout.legend && layout.showlegend !== false) Object.assign(base, legendFor(named));
    return Plotly.react(div, traces, Object.assign(base, layout), CONFIG).then(() => {
      if (after) after(div);
      div.dataset.drawn = '1';
    });
  }
  const PENDING = [];
  function plot(traces, layout, attrs, after) {
    const div = h('div', Object.assign({ class: 'pp-plot' }, attrs || {}));
    PENDING.push(() => draw(div, traces, layout, after));
    return div;
  }
  function legendFor(n) {
    return n > 6 ? { legend: { orientation: 'v', x: 1.02, y: 1 }, margin: { l: 60, r: 10, t: 10, b: 50 } } : {};
  }
  function panel(title, description, ...kids) {
    return h('div', { class: title === 'Columns' ? 'panel wide' : 'panel' }, h('h3', { text: title }), description ? h('p', { class: 'desc', text: description }) : null, ...kids);
  }
  function banner(kind, text) { return h('div', { class: `banner ${kind}`, text }); }
  function empty(text) { return h('p', { class: 'unit', text }); }

  /* ---------- per-image payload ---------- */
  async function decodeImages() {
    const b64 = document.getElementById('pp-images').textContent.trim();
    const raw = atob(b64);
    const bin = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i += 1) bin[i] = raw.charCodeAt(i);
    const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream('gzip'));
    const buf = await new Response(stream).arrayBuffer();
    const hlen = new DataView(buf).getUint32(0, true);
    const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, hlen)));
    const base = 4 + hlen;
    const types = { f4: Float32Array, f8: Float64Array, i4: Int32Array };
    const cols = {};
    for (const c of head.columns) {
      const T = types[c.type];
      if (c.kind === 'list') {
        const offs = new T(buf, base + c.offset, head.n + 1);
        c.offsets = offs;
        c.data = new T(buf, base + c.offset + 4 * (head.n + 1), offs[head.n]);
      } else {
        c.data = new T(buf, base + c.offset, head.n);
      }
      cols[c.name] = c;
    }
    return { n: head.n, cols, order: head.columns.map((c) => c.name) };
  }
  function text(name, i) {
    const c = IMG.cols[name];
    if (!c) return null;
    const k = c.data[i];
    return k < 0 ? null : c.values[k];
  }
  function num(name, i) { const c = IMG.cols[name]; return c ? c.data[i] : NaN; }
  function path(i) { return (text('folder', i) || '') + (text('file_name', i) || ''); }
  function findingsOf(i) {
    const c = IMG.cols.findings;
    return Array.from(c.data.subarray(c.offsets[i], c.offsets[i + 1]));
  }
  function groupOf(i) { return IMG.cols[`group:${V.group_by}`].data[i]; }
  const measured = () => IMG.order.filter((n) => IMG.cols[n].kind === 'number');

  /* ---------- sections ---------- */
  const SECTIONS = [];
  function section(id, title, explain, build) { SECTIONS.push({ id, title, explain, build }); }

  function activeFilter() {
    const s = selected();
    if (s.length === G.length) return null;
    return h('p', { class: 'active-filter', text: `Filter: ${s.length} of ${G.length} groups of ${V.group_by} shown (${s.map((g) => G[g]).join(', ') || 'none'}).` });
  }

  section('findings', 'Findings', 'Problems found by the same rules as pixel-patrol check, most severe first; open one to see its files, their thumbnails and the evidence.', buildFindings);
  section('summary', 'Summary', 'How much data there is per group: files, images (a file can hold several), 2-D planes, bytes, errors and NaN values.', buildSummary);
  section('files', 'Files', 'File formats, sizes, modification dates and the folder tree; one count is one file.', buildFiles);
  section('metadata', 'Metadata', 'Image properties per group; a cell is red when the images of one group disagree and orange when only some of them state the property.', buildMetadata);
  section('dimensions', 'Dimensions', 'Image sizes: width against height, and the sizes along Z, C, T and S; one count is one image.', buildDimensions);
  section('intensities', 'Intensities', 'Pixel-value histograms per group, summed from every image\'s exact 256-bin counts; NaN values are counted apart.', buildHistograms);
  section('distributions', 'Distributions', 'Every pixel statistic and quality metric per group as a violin with its box (quartiles, whiskers at 1.5 × IQR); one value per image, or per channel of an image.', buildDistributions);
  section('trends', 'Along Z / T / C', 'Mean ± standard deviation of a metric against the slice index, per group, from the per-slice rows: focus drift, bleaching and dead channels show here.', buildTrends);
  section('mosaic', 'Thumbnail mosaic', 'Thumbnails per group, ordered by any metric; hover for the file and its values, click to open its row in the table.', buildMosaic);
  section('table', 'Image table', 'Every image with its main columns: sort by a header, filter with the search box, export the current selection to CSV.', buildTable);
  section('run', 'Run facts', 'How the report was made: project, settings, versions and processing statistics from the report footer, and what every column means.', buildRun);

  function renderSection(s) {
    const t0 = performance.now();
    const host = document.getElementById(`sec-${s.id}`);
    host.querySelectorAll('.pp-plot').forEach((d) => Plotly.purge(d));
    const body = host.querySelector('.body');
    body.replaceChildren(...[activeFilter(), s.build()].flat(4).filter(Boolean));
    performance.measure(`pp:build:${s.id}`, { start: t0 });
  }
  function renderAll() {
    SECTIONS.forEach(renderSection);
    return flush();
  }
  function rerender(ids) {
    SECTIONS.filter((s) => !ids || ids.includes(s.id)).forEach(renderSection);
    return flush();
  }
  function flush() {
    const jobs = PENDING.splice(0).map((f) => f());
    return Promise.all(jobs);
  }
