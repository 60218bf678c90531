/* Pixel Patrol report page: builds every section from the embedded JSON and image payload. */
(function () {
  'use strict';

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
    finding: -1, flaggedOnly: false, page: 0, highlight: -1,
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

  /* ---------- findings ---------- */
  function findingVisible(k) {
    const t = D.findings.targets[k].filter((i) => i >= 0);
    if (t.length) return t.some((i) => on(groupOf(i)));
    const f = D.findings.items[k];
    if (V.group_by === 'path' && f.condition !== null && G.includes(f.condition)) return on(G.indexOf(f.condition));
    return true;
  }
  function buildFindings() {
    const items = D.findings.items;
    const skipped = Object.entries(D.findings.skipped || {});
    const notRun = skipped.length ? h('p', { class: 'unit', id: 'findings-skipped', text: `Not checked: ${skipped.map(([r, why]) => `${r} (${why})`).join('; ')}.` }) : null;
    if (!items.length) return [banner('ok', skipped.length ? 'No findings from the rules that could run on this report.' : 'No findings: every rule of pixel-patrol check passed on this report.'), notRun];
    const list = h('div', { id: 'findings-list' });
    let hidden = 0;
    items.forEach((f, k) => {
      if (!findingVisible(k)) { hidden += 1; return; }
      list.append(findingElement(f, k));
    });
    const counts = ['error', 'warning', 'info'].map((s) => `${items.filter((f) => f.severity === s).length} ${s}`);
    return [h('p', { class: 'unit', text: `${items.length} findings (${counts.join(', ')})${hidden ? `; ${hidden} hidden by the filter` : ''}.` }), list, notRun];
  }
  function findingElement(f, k) {
    const n = f.n_files;
    const summary = h('summary', {}, h('span', { class: `badge ${f.severity}`, text: f.severity }),
      h('span', { class: 'msg', text: f.message }), h('span', { class: 'fid', text: f.id }),
      f.condition !== null ? h('span', { class: 'unit', text: `in ${f.condition}` }) : null,
      n ? h('span', { class: 'unit', text: `${n} file${n === 1 ? '' : 's'}` }) : null);
    const el = h('details', { class: `finding ${f.severity}`, 'data-index': k, 'data-id': f.id, 'data-severity': f.severity }, summary);
    let filled = false;
    el.addEventListener('toggle', () => { if (el.open && !filled) { filled = true; el.append(findingBody(f, k)); } });
    return el;
  }
  function findingBody(f, k) {
    const facts = h('dl', { class: 'kv' },
      f.action ? [h('dt', { text: 'what to do' }), h('dd', { text: f.action })] : null,
      f.value !== null ? [h('dt', { text: 'value' }), h('dd', { text: typeof f.value === 'number' ? fmtNum(f.value) : f.value })] : null,
      f.threshold !== null ? [h('dt', { text: 'threshold' }), h('dd', { text: typeof f.threshold === 'number' ? fmtNum(f.threshold) : f.threshold })] : null,
      h('dt', { text: 'scope' }), h('dd', { text: f.scope }));
    const rows = f.rows.length ? f.rows : f.files.map((p) => ({ imported_path: p }));
    const total = f.rows.length ? f.n_rows : f.n_files;
    const targets = D.findings.targets[k];
    const tbody = h('tbody');
    rows.forEach((r, j) => tbody.append(findingRow(r, targets[j], f.evidence[j])));
    const more = total > rows.length
      ? h('p', { class: 'unit' }, `… and ${fmtInt(total - rows.length)} more. `, h('a', { class: 'row-link', onclick: () => showFindingInTable(k), text: 'Show all its images in the table' }))
      : h('p', {}, h('a', { class: 'row-link', onclick: () => showFindingInTable(k), text: 'Show its images in the table' }));
    const table = h('table', { class: 'pp finding-files' }, h('thead', {}, h('tr', {}, ['', 'file', 'where', 'evidence'].map((t) => h('th', { text: t })))), tbody);
    return h('div', { class: 'finding-body' }, facts, rows.length ? h('div', { class: 'scroll' }, table) : null, rows.length ? more : null);
  }
  function findingRow(r, i, ev) {
    const where = ['child_id', 'dim_z', 'dim_t', 'dim_c', 'dim_s'].filter((key) => r[key] !== undefined && r[key] !== null)
      .map((key) => `${key.replace('dim_', '')}=${r[key]}`).join(' ');
    const uri = i >= 0 ? D.thumbnails[String(i)] : null;
    const link = i >= 0
      ? h('a', { class: 'row-link', 'data-path': r.imported_path, title: r.imported_path, onclick: () => jumpToRow(i), text: shortPath(r.imported_path) })
      : h('span', { 'data-path': r.imported_path, title: r.imported_path, text: shortPath(r.imported_path) });
    return h('tr', {}, h('td', {}, uri ? h('img', { src: uri, alt: '' }) : null), h('td', {}, link), h('td', { class: 'mono', text: where }),
      h('td', { class: 'num', text: ev === undefined || ev === null ? '' : (typeof ev === 'number' ? fmtNum(ev) : ev) }));
  }

  /* ---------- summary ---------- */
  function buildSummary() {
    const s = V.summary;
    const card = (v, k) => h('div', { class: 'card' }, h('div', { class: 'v', text: v }), h('div', { class: 'k', text: k }));
    const cards = h('div', { class: 'cards', id: 'summary-cards' },
      card(fmtInt(groupSum(s.files)), 'files'), card(fmtInt(groupSum(s.images)), 'images'),
      card(fmtInt(groupSum(s.planes)), '2-D planes'), card(fmtBytes(groupSum(s.bytes)), 'on disk'),
      card(fmtInt(groupSum(s.errors)), 'images with errors'), card(fmtInt(groupSum(s.nan_values)), 'NaN values'));
    const head = h('tr', {}, [V.group_by, 'files', 'images', '2-D planes', 'rows', 'bytes', 'errors', 'NaN values'].map((t, j) => h('th', { class: j ? 'num' : '', text: t })));
    const body = h('tbody', {}, selected().map((g) => h('tr', {},
      h('td', {}, h('span', { class: 'swatch', style: `background:${color(g)}` }), ' ', G[g]),
      [fmtInt(s.files[g]), fmtInt(s.images[g]), fmtInt(s.planes[g]), fmtInt(s.rows[g]), fmtBytes(s.bytes[g]), fmtInt(s.errors[g]), fmtInt(s.nan_values[g])]
        .map((v) => h('td', { class: 'num', text: v })))));
    const files = selected().map((g) => s.files[g]);
    const uneven = files.length > 1 && Math.min(...files) > 0 && Math.max(...files) / Math.min(...files) >= 1.5;
    const traces = ['files', 'images'].map((k) => ({ type: 'bar', name: k, x: selected().map((g) => G[g]), y: selected().map((g) => s[k][g]) }));
    return [cards,
      H.images === 1 ? banner('info', 'This report holds a single image: group comparisons and distributions have one value each.') : null,
      uneven ? banner('warn', `Groups differ ≥ 1.5× in file count (${Math.min(...files)} to ${Math.max(...files)} files).`) : null,
      h('div', { class: 'scroll' }, h('table', { class: 'pp' }, h('thead', {}, head), body)),
      panel('Files and images per group', 'One bar per group; a container file counts once as a file and once per image inside it.',
        plot(traces, { barmode: 'group', yaxis: { title: { text: 'count' } } }))];
  }

  /* ---------- files ---------- */
  function buildFiles() {
    const e = V.extensions;
    const extTraces = selected().map((g) => ({ type: 'bar', name: G[g], marker: { color: color(g) }, x: e.names, y: e.files.map((row) => row[g]) }));
    const mixed = e.names.filter((_, j) => selected().some((g) => e.files[j][g] > 0)).length > 1;
    const fs = V.file_sizes;
    const logs = fs.edges.map((v) => Math.log10(v));
    const centers = logs.slice(0, -1).map((a, j) => (a + logs[j + 1]) / 2);
    const labels = fs.edges.slice(0, -1).map((a, j) => `${fmtBytes(a)} – ${fmtBytes(fs.edges[j + 1])}`);
    const sizeTraces = selected().map((g) => ({ type: 'bar', name: G[g], marker: { color: alpha(g, 0.7) }, x: centers, y: fs.counts[g],
      width: logs.length > 1 ? logs[1] - logs[0] : 1, text: labels, textposition: 'none', hovertemplate: '%{text}: %{y} files<extra>' + G[g] + '</extra>' }));
    const decades = [];
    for (let d = Math.floor(logs[0] || 0); d <= Math.ceil(logs[logs.length - 1] || 0); d += 1) decades.push(d);
    const t = V.timeline;
    const timeTraces = selected().map((g) => ({ type: 'bar', name: G[g], marker: { color: color(g) }, x: t.bins, y: t.counts[g] }));
    return [mixed ? banner('warn', `Several file formats: ${e.names.join(', ')}. Images saved twice in two formats show up as duplicate findings.`) : null,
      h('div', { class: 'grid' },
        panel('Extensions', 'Files per extension and group (desc: ' + desc('file_extension') + ')', plot(extTraces, { barmode: 'stack' })),
        panel('File sizes', desc('file_size'), fs.edges.length ? plot(sizeTraces, { barmode: 'overlay', xaxis: { tickvals: decades, ticktext: decades.map((d) => fmtBytes(10 ** d)), title: { text: 'file size (log scale)' } }, yaxis: { title: { text: 'files' } } }) : empty('No file sizes.')),
        panel('Modification timeline', `Files per ${t.unit} of their modification date. ${desc('modification_date')}`, t.bins.length ? plot(timeTraces, { barmode: 'stack' }) : empty('No dates.')),
        panel('Folder tree', `Files per folder under ${V.tree.root || 'the common folder'}; size = number of files, hover for bytes.`, buildTree()))];
  }
  function buildTree() {
    const t = V.tree;
    if (!t.ids.length) return empty('No paths.');
    const files = t.files.map((row) => groupSum(row));
    const bytes = t.bytes.map((row) => groupSum(row));
    const keep = files.map((v) => v > 0);
    const pick = (a) => a.filter((_, j) => keep[j]);
    return plot([{ type: 'treemap', ids: pick(t.ids), labels: pick(t.labels), parents: pick(t.parents), values: pick(files),
      customdata: pick(bytes).map(fmtBytes), branchvalues: 'total', hovertemplate: '%{label}<br>%{value} files<br>%{customdata}<extra></extra>' }],
    { margin: { l: 0, r: 0, t: 10, b: 0 }, showlegend: false });
  }

  /* ---------- metadata ---------- */
  function buildMetadata() {
    const m = V.metadata;
    const sel = selected();
    const head = h('tr', {}, h('th', { text: 'property' }), sel.map((g) => h('th', {}, h('span', { class: 'swatch', style: `background:${color(g)}` }), ' ', G[g])));
    const body = h('tbody');
    let problems = 0;
    for (const row of m.fields) {
      const cells = sel.map((g) => {
        const c = row.cells[g];
        const cls = c.distinct > 1 ? 'mixed' : (c.present > 0 && c.present < c.n ? 'partial' : '');
        if (cls) problems += 1;
        const vals = c.values.map(([v, n]) => `${v} (${n})`).join(', ') + (c.distinct > c.values.length ? ', …' : '');
        const note = c.present < c.n ? (c.present ? ` — only ${c.present} of ${c.n} images have it` : '—') : '';
        return h('td', { class: cls, title: cls === 'mixed' ? `${c.distinct} different values in this group` : '' }, vals + note);
      });
      body.append(h('tr', {}, h('td', { title: row.description }, h('b', { text: row.field }), h('div', { class: 'desc', text: row.description })), cells));
    }
    const dt = V.dtypes;
    const traces = dt.names.map((name, j) => ({ type: 'bar', name, x: sel.map((g) => G[g]), y: sel.map((g) => dt.counts[j][g]) }));
    return [problems ? banner('warn', `${problems} cells show mixed or partly missing metadata.`) : banner('ok', 'Every group is consistent in the properties below.'),
      h('div', { class: 'grid' }, panel('Pixel types per group', `Images per dtype. ${desc('dtype')}`, dt.names.length ? plot(traces, { barmode: 'stack' }) : empty('No dtype column.'))),
      h('div', { class: 'scroll' }, h('table', { class: 'pp', id: 'metadata-table' }, h('thead', {}, head), body))];
  }

  /* ---------- dimensions ---------- */
  function buildDimensions() {
    const d = V.dimensions;
    const xy = d.xy;
    const traces = selected().map((g) => {
      const idx = xy.group.map((v, j) => (v === g ? j : -1)).filter((j) => j >= 0);
      const maxc = Math.max(1, ...xy.count);
      return { type: 'scatter', mode: 'markers', name: G[g], x: idx.map((j) => xy.x[j]), y: idx.map((j) => xy.y[j]),
        marker: { color: alpha(g, 0.6), size: idx.map((j) => 6 + 24 * Math.sqrt(xy.count[j] / maxc)), line: { color: color(g), width: 1 } },
        text: idx.map((j) => `${xy.count[j]} images`), hovertemplate: '%{x} × %{y} px: %{text}<extra>' + G[g] + '</extra>' };
    });
    const panels = [panel('Width × height', `${desc('X_size')} Marker area grows with the number of images of that size.`,
      xy.x.length ? plot(traces, { xaxis: { title: { text: 'X_size (px)' } }, yaxis: { title: { text: 'Y_size (px)' } } }) : empty('No sizes.'))];
    for (const [axis, a] of Object.entries(d.axes)) {
      const tr = selected().map((g) => ({ type: 'bar', name: G[g], marker: { color: color(g) }, x: a.sizes.map(String), y: a.counts[g] }));
      panels.push(panel(`${axis}_size`, a.description, plot(tr, { barmode: 'group', xaxis: { type: 'category', title: { text: `${axis} size` } }, yaxis: { title: { text: 'images' } } })));
    }
    return h('div', { class: 'grid' }, panels);
  }

  /* ---------- intensities ---------- */
  function buildHistograms() {
    const fams = V.histograms.families;
    if (!fams.length) return empty('The report has no histogram columns (processor raster-histogram).');
    const controls = h('div', { class: 'controls' },
      h('label', {}, 'y: ', h('select', { id: 'hist-mode', onchange: (ev) => { state.histMode = ev.target.value; rerender(['intensities']); } },
        h('option', { value: 'fraction', text: 'fraction of values', selected: state.histMode === 'fraction' }),
        h('option', { value: 'count', text: 'counts', selected: state.histMode === 'count' }))),
      h('label', {}, h('input', { type: 'checkbox', checked: state.histLog, onchange: (ev) => { state.histLog = ev.target.checked; rerender(['intensities']); } }), 'log scale'));
    const panels = fams.map((f) => {
      const x = f.edges.slice(0, -1);
      const traces = selected().filter((g) => f.images[g] > 0).map((g) => {
        const total = sum(f.counts[g]) || 1;
        return { type: 'scatter', mode: 'lines', line: { shape: 'hv', color: color(g) }, name: G[g], x,
          y: state.histMode === 'fraction' ? f.counts[g].map((c) => c / total) : f.counts[g] };
      });
      const notes = selected().filter((g) => f.images[g] > 0).map((g) => {
        const how = f.rebinned[g] ? `${f.rebinned[g]} of ${f.images[g]} images re-binned onto these edges (their counts spread evenly within their own bins)` : `${f.images[g]} images, exact summed counts`;
        return `${G[g]}: ${how}; NaN values: ${fmtInt(f.nan[g])}.`;
      });
      const bin = f.edges[1] - f.edges[0];
      const moved = selected().reduce((n, g) => n + f.rebinned[g], 0);
      const shown = selected().reduce((n, g) => n + f.images[g], 0);
      const how = moved ? `${fmtInt(moved)} of ${fmtInt(shown)} images had other bin edges and were re-binned onto these (each bin's count spread evenly over its range).` : `All ${fmtInt(shown)} images share these bin edges: exact summed counts.`;
      return panel(`${f.dtype}`, `${desc('histogram_counts')} Bin width ${fmtNum(bin)}${f.integer ? ' (integer levels)' : ''}. ${how}`,
        traces.length ? plot(traces, Object.assign({ xaxis: { title: { text: 'intensity' } }, yaxis: { type: state.histLog ? 'log' : 'linear', title: { text: state.histMode === 'fraction' ? 'fraction of values' : 'values' } } }, legendFor(traces.length))) : empty('No image of this type in the selected groups.'),
        h('details', { class: 'unit' }, h('summary', { text: 'per group' }), h('ul', {}, notes.map((t) => h('li', { text: t })))));
    });
    const nan = groupSum(V.summary.nan_values);
    return [nan ? banner('warn', `${fmtInt(nan)} NaN values in ${fmtInt(groupSum(V.summary.nan_images))} images; they are not in the histograms.`) : null, controls, h('div', { class: 'grid' }, panels)];
  }

  /* ---------- distributions ---------- */
  function buildDistributions() {
    const metrics = V.distributions.metrics;
    if (!metrics.length) return empty('The report has no pixel statistics.');
    const facets = [...new Set(metrics.flatMap((m) => m.facets.map((f) => f.facet)))];
    if (!facets.includes(state.facet)) state.facet = 'all';
    const controls = h('div', { class: 'controls' },
      h('label', {}, 'values: ', h('select', { id: 'dist-facet', onchange: (ev) => { state.facet = ev.target.value; rerender(['distributions']); } },
        facets.map((f) => h('option', { value: f, selected: f === state.facet, text: f === 'all' ? 'per image (all channels)' : `channel ${f.slice(1)} (per-channel rows)` })))));
    const panels = metrics.map((m) => {
      const f = m.facets.find((x) => x.facet === state.facet);
      if (!f) return null;
      return panel(m.metric, m.description, violin(f, m.metric), state.compare ? tests(f) : null);
    });
    const constant = (V.distributions.constant || []).map((c) => `${c.metric} = ${fmtNum(c.value)}`);
    return [controls, h('div', { class: 'grid' }, panels),
      constant.length ? h('p', { class: 'unit', text: `Same value for every image (not drawn): ${constant.join(', ')}.` }) : null];
  }
  function violin(f, name) {
    const traces = [];
    const sel = selected().filter((g) => f.groups[g]);
    sel.forEach((g, p) => {
      const s = f.groups[g];
      const peak = Math.max(1e-12, ...s.density);
      // The shape spans the group's own values only, not the range shared by all groups.
      const inside = s.density.map((_, k) => f.edges[k + 1] >= s.min && f.edges[k] <= s.max);
      const mid = f.edges.slice(0, -1).map((a, k) => (f.log ? Math.sqrt(a * f.edges[k + 1]) : (a + f.edges[k + 1]) / 2))
        .map((y) => Math.min(s.max, Math.max(s.min, y))).filter((_, k) => inside[k]);
      const w = s.density.filter((_, k) => inside[k]).map((c) => 0.4 * c / peak);
      traces.push({ type: 'scatter', mode: 'lines', fill: 'toself', x: w.map((v) => p + v).concat(w.slice().reverse().map((v) => p - v)),
        y: mid.concat(mid.slice().reverse()), line: { color: color(g), width: 1 }, fillcolor: alpha(g, 0.25), hoverinfo: 'skip', showlegend: false });
      traces.push({ type: 'box', name: G[g], x: [p], q1: [s.q1], median: [s.median], q3: [s.q3], lowerfence: [s.lowerfence], upperfence: [s.upperfence],
        mean: [s.mean], boxmean: true, width: 0.12, marker: { color: color(g) }, boxpoints: false, showlegend: false });
      if (s.points.length) {
        traces.push({ type: 'scatter', mode: 'markers', x: s.points.map((_, j) => p + 0.3 * (((j * 7919) % 101) / 101 - 0.5)), y: s.points,
          marker: { color: color(g), size: 4, opacity: 0.7 }, customdata: s.images, text: s.images.map((i) => (i >= 0 ? shortPath(path(i)) : '')),
          hovertemplate: `%{text}<br>${name} = %{y}<extra>${G[g]}</extra>`, showlegend: false });
      }
    });
    if (!traces.length) return empty('No values in the selected groups.');
    const n = sel.map((g) => `${G[g]} (n=${f.groups[g].n})`);
    const onClick = (div) => div.on('plotly_click', (ev) => {
      const i = ev.points[0].customdata;
      if (typeof i === 'number' && i >= 0) jumpToRow(i);
    });
    return plot(traces, { showlegend: false, xaxis: { tickvals: sel.map((_, p) => p), ticktext: n, range: [-0.6, sel.length - 0.4], automargin: true }, yaxis: { type: f.log ? 'log' : 'linear', title: { text: name } } }, { 'data-metric': name }, onClick);
  }
  const EFFECTS = [[0.147, 'negligible'], [0.33, 'small'], [0.474, 'medium'], [Infinity, 'large']];
  function tests(f) {
    if (!f.tests) return h('p', { class: 'tests unit', text: `Comparisons are computed for the page's main grouping (${D.views[0].group_by}).` });
    const rows = f.tests.filter(([a, b]) => on(a) && on(b));
    if (!rows.length) return h('p', { class: 'tests unit', text: 'No comparison (needs two selected groups with at least two values each).' });
    return h('ul', { class: 'tests' }, rows.map(([a, b, p, d]) => {
      const sig = p < 0.05;
      const small = Math.min(f.groups[a].n, f.groups[b].n) < 8;
      const effect = EFFECTS.find(([lim]) => Math.abs(d) < lim)[1];
      return h('li', { class: sig ? 'sig' : '' },
        `${G[a]} vs ${G[b]}: p = ${fmtNum(p)} (Bonferroni over ${f.tests.length}), Cliff's δ = ${d.toFixed(2)} (${effect})${sig ? ' — significant' : ''}${small ? ' — small samples, indicative only' : ''}`);
    }));
  }

  /* ---------- trends ---------- */
  function buildTrends() {
    const axes = V.trends.axes;
    if (!axes.length) return empty('No per-slice rows: the images have no Z, T, C or S axis, or the report was made without slice rows.');
    return h('div', { class: 'grid' }, axes.map((a) => {
      const names = Object.keys(a.metrics);
      if (!names.length) return null;
      const metric = names.includes(state.trend[a.axis]) ? state.trend[a.axis] : (names.includes('mean_intensity') ? 'mean_intensity' : names[0]);
      const pickm = h('select', { 'data-axis': a.axis, onchange: (ev) => { state.trend[a.axis] = ev.target.value; rerender(['trends']); } },
        names.map((n) => h('option', { value: n, text: n, selected: n === metric })));
      const s = a.metrics[metric];
      const traces = selected().filter((g) => a.rows[g].some((c) => c > 0)).map((g) => ({
        type: 'scatter', mode: 'lines+markers', name: G[g], x: a.index, y: s.mean[g], line: { color: color(g) },
        error_y: { type: 'data', array: s.sd[g].map((v) => (v === null ? 0 : v)), visible: true, color: alpha(g, 0.5) },
        text: a.share[g].map((v, k) => `${a.rows[g][k]} rows; ${(100 * v).toFixed(0)} % of stacks have this slice`),
        hovertemplate: `${a.axis}=%{x}: %{y}<br>%{text}<extra>${G[g]}</extra>` }));
      return panel(`Along ${a.axis}`, `${a.descriptions[metric] || ''}${a.truncated ? ' Slices beyond index 2000 are not shown.' : ''}`,
        h('div', { class: 'controls' }, h('label', {}, 'metric: ', pickm)),
        traces.length ? plot(traces, Object.assign({ xaxis: { title: { text: `${a.axis} index` }, dtick: Math.max(1, Math.ceil((a.index[a.index.length - 1] - a.index[0]) / 12)) }, yaxis: { title: { text: metric } } }, legendFor(traces.length)), { 'data-axis': a.axis }) : empty('No slices in the selected groups.'));
    }));
  }

  /* ---------- mosaic ---------- */
  function mosaicOrder(list) {
    const key = state.mosaicSort;
    if (!key) return list;
    if (state.mosaicOrder === 'random') {
      let seed = state.mosaicSeed;
      const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
      const out = list.slice();
      for (let j = out.length - 1; j > 0; j -= 1) { const r = Math.floor(rnd() * (j + 1)); [out[j], out[r]] = [out[r], out[j]]; }
      return out;
    }
    const sign = state.mosaicOrder === 'top' ? -1 : 1;
    return list.slice().sort((a, b) => {
      const va = num(key, a); const vb = num(key, b);
      if (Number.isNaN(va)) return 1;
      if (Number.isNaN(vb)) return -1;
      return sign * (va - vb);
    });
  }
  function buildMosaic() {
    const ids = Object.keys(D.thumbnails).map(Number);
    if (!ids.length) return empty('The report has no thumbnails (processor thumbnail), or --max-thumbnails is 0.');
    const opts = [h('option', { value: '', text: 'findings first, then sample', selected: !state.mosaicSort })]
      .concat(measured().map((n) => h('option', { value: n, text: n, selected: n === state.mosaicSort })));
    const controls = h('div', { class: 'controls' },
      h('label', {}, 'order by: ', h('select', { id: 'mosaic-sort', onchange: (ev) => { state.mosaicSort = ev.target.value; rerender(['mosaic']); } }, opts)),
      h('label', {}, h('select', { id: 'mosaic-order', onchange: (ev) => { state.mosaicOrder = ev.target.value; state.mosaicSeed += 1; rerender(['mosaic']); } },
        ['top', 'bottom', 'random'].map((o) => h('option', { value: o, text: o === 'top' ? 'largest first' : (o === 'bottom' ? 'smallest first' : 'random'), selected: o === state.mosaicOrder })))));
    const note = h('p', { class: 'unit', text: `${ids.length} thumbnails of ${fmtInt(H.images)} images (at most ${H.max_thumbnails}: the files of the findings first, then a random sample from every group).` });
    const groups = selected().map((g) => {
      const mine = mosaicOrder(ids.filter((i) => groupOf(i) === g));
      if (!mine.length) return null;
      return h('div', { class: 'mosaic-group' }, h('h3', {}, h('span', { class: 'swatch', style: `background:${color(g)}` }), ` ${G[g]} (${mine.length})`),
        h('div', { class: 'mosaic', 'data-group': g }, mine.map((i) => tile(i, g))));
    });
    return [controls, note, groups];
  }
  function tile(i, g) {
    const fl = findingsOf(i);
    const lines = [shortPath(path(i)), `${V.group_by}: ${G[g]}`];
    if (state.mosaicSort) lines.push(`${state.mosaicSort} = ${fmtNum(num(state.mosaicSort, i))}`);
    for (const n of ['mean_intensity', 'max_intensity', 'laplacian_variance']) if (IMG.cols[n] && n !== state.mosaicSort) lines.push(`${n} = ${fmtNum(num(n, i))}`);
    if (fl.length) lines.push(`findings: ${fl.map((k) => D.findings.items[k].id).join(', ')}`);
    return h('figure', { class: fl.length ? 'flagged' : '', style: `border-color:${color(g)}`, 'data-index': i, title: lines.join('\n'), onclick: () => jumpToRow(i) },
      h('img', { src: D.thumbnails[String(i)], alt: path(i), loading: 'eager' }));
  }

  /* ---------- image table ---------- */
  function tableColumns() {
    const fixed = ['file', 'child_id', 'group', 'findings', 'error', 'dtype', 'dim_order'];
    const nums = measured();
    return fixed.filter((c) => ['file', 'group', 'findings'].includes(c) || IMG.cols[c]).concat(nums);
  }
  function cellValue(c, i) {
    if (c === 'file') return path(i);
    if (c === 'group') return G[groupOf(i)];
    if (c === 'findings') return findingsOf(i).map((k) => D.findings.items[k].id).join(' ');
    const col = IMG.cols[c];
    if (col.kind === 'text') return text(c, i);
    return col.data[i];
  }
  function filteredRows() {
    const q = state.query.trim().toLowerCase();
    const out = [];
    for (let i = 0; i < IMG.n; i += 1) {
      if (!on(groupOf(i))) continue;
      if (state.finding >= 0 && !findingsOf(i).includes(state.finding)) continue;
      if (state.flaggedOnly && !findingsOf(i).length) continue;
      if (q && !rowText(i).includes(q)) continue;
      out.push(i);
    }
    if (state.sortCol) {
      const c = state.sortCol;
      const keys = new Map(out.map((i) => [i, cellValue(c, i)]));
      const sign = state.sortDesc ? -1 : 1;
      out.sort((a, b) => compare(keys.get(a), keys.get(b), sign));
    }
    return out;
  }
  function compare(a, b, sign) {
    const na = a === null || a === undefined || (typeof a === 'number' && Number.isNaN(a));
    const nb = b === null || b === undefined || (typeof b === 'number' && Number.isNaN(b));
    if (na || nb) return na === nb ? 0 : (na ? 1 : -1);
    if (typeof a === 'number') return sign * (a - b);
    return sign * String(a).localeCompare(String(b));
  }
  function rowText(i) {
    return [path(i), G[groupOf(i)], text('dtype', i), text('dim_order', i), text('error', i), text('child_id', i),
      findingsOf(i).map((k) => D.findings.items[k].id).join(' ')].join(' ').toLowerCase();
  }
  function display(c, v) {
    if (typeof v === 'number') return c === 'file_size' ? fmtBytes(v) : (c === 'modification_date' ? (Number.isNaN(v) ? '—' : new Date(v * 1000).toISOString().slice(0, 19).replace('T', ' ')) : fmtNum(v));
    return v === null || v === undefined ? '' : v;
  }
  function buildTable() {
    const cols = tableColumns();
    const rows = filteredRows();
    if (state.highlight >= 0) {
      const at = rows.indexOf(state.highlight);
      if (at >= 0) state.page = Math.floor(at / PAGE);
    }
    const pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const head = h('tr', {}, h('th', {}), cols.map((c) => h('th', {
      class: IMG.cols[c] && IMG.cols[c].kind === 'number' ? 'num' : '', title: c === 'file' ? desc('imported_path') : desc(c), 'data-col': c, style: 'cursor:pointer',
      onclick: () => { state.sortDesc = state.sortCol === c ? !state.sortDesc : false; state.sortCol = c; state.page = 0; rerender(['table']); },
    }, c + (state.sortCol === c ? (state.sortDesc ? ' ▼' : ' ▲') : ''))));
    const body = h('tbody');
    for (const i of rows.slice(state.page * PAGE, (state.page + 1) * PAGE)) {
      const uri = D.thumbnails[String(i)];
      body.append(h('tr', { id: `row-${i}`, 'data-index': i, class: i === state.highlight ? 'hl' : '' }, h('td', {}, uri ? h('img', { class: 'tbl-thumb', src: uri, alt: '' }) : null),
        cols.map((c) => (c === 'file'
          ? h('td', { class: 'mono', 'data-path': path(i), title: path(i) }, shortPath(path(i)))
          : h('td', { class: IMG.cols[c] && IMG.cols[c].kind === 'number' ? 'num' : '' }, display(c, cellValue(c, i)))))));
    }
    const search = h('input', { type: 'search', id: 'table-search', placeholder: 'filter: file, group, dtype, finding…', value: state.query, size: 40 });
    search.addEventListener('change', (ev) => { state.query = ev.target.value; state.page = 0; state.highlight = -1; rerender(['table']); });
    const controls = h('div', { class: 'controls' }, search,
      h('label', {}, h('input', { type: 'checkbox', id: 'table-flagged', checked: state.flaggedOnly, onchange: (ev) => { state.flaggedOnly = ev.target.checked; state.page = 0; rerender(['table']); } }), 'only images with findings'),
      state.finding >= 0 ? h('button', { type: 'button', onclick: () => { state.finding = -1; rerender(['table']); } }, `finding: ${D.findings.items[state.finding].id} ✕`) : null,
      h('button', { type: 'button', id: 'table-csv', onclick: () => exportCsv(cols, rows) }, `Export CSV (${fmtInt(rows.length)} rows)`));
    const pager = h('div', { class: 'pager' },
      h('button', { type: 'button', id: 'table-prev', disabled: state.page === 0, onclick: () => { state.page -= 1; state.highlight = -1; rerender(['table']); } }, '‹ previous'),
      h('span', { id: 'table-count', text: `${fmtInt(rows.length)} of ${fmtInt(IMG.n)} images · page ${state.page + 1} of ${pages}` }),
      h('button', { type: 'button', id: 'table-next', disabled: state.page >= pages - 1, onclick: () => { state.page += 1; state.highlight = -1; rerender(['table']); } }, 'next ›'));
    return [controls, h('div', { class: 'scroll' }, h('table', { class: 'pp', id: 'image-table' }, h('thead', {}, head), body)), pager];
  }
  function csvCell(v) {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return '';
    if (typeof v === 'number') return String(Number(v.toPrecision(9)));
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }
  function exportCsv(cols, rows) {
    const names = cols.map((c) => (c === 'file' ? 'imported_path' : (c === 'group' ? V.group_by : c)));
    const lines = [names.join(',')];
    for (const i of rows) lines.push(cols.map((c) => csvCell(c === 'modification_date' ? new Date(num(c, i) * 1000).toISOString() : cellValue(c, i))).join(','));
    const blob = new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `${H.project || 'report'}-selection.csv` });
    document.body.append(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function jumpToRow(i) {
    if (!on(groupOf(i))) { state.on[groupOf(i)] = true; syncGroupBoxes(); rerender(); }
    state.query = ''; state.finding = -1; state.flaggedOnly = false; state.highlight = i;
    rerender(['table']).then(() => {
      const row = document.getElementById(`row-${i}`);
      if (row) row.scrollIntoView({ block: 'center' });
    });
  }
  function showFindingInTable(k) {
    state.finding = k; state.query = ''; state.page = 0; state.highlight = -1;
    rerender(['table']).then(() => document.getElementById('sec-table').scrollIntoView());
  }

  /* ---------- run facts ---------- */
  function kv(obj) {
    return h('dl', { class: 'kv' }, Object.entries(obj || {}).flatMap(([k, v]) => [h('dt', { text: k }),
      h('dd', { class: typeof v === 'object' && v !== null ? 'mono' : '', text: typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v) })]));
  }
  function buildRun() {
    const r = D.run;
    const project = { name: r.name, description: r.description, flavor: r.flavor, created: r.created_at, 'pixel-patrol': r.tool_version,
      'base folder': r.base_dir, conditions: (r.paths || []).join(', '), loader: r.loader, processors: (r.processors || []).join(', '),
      'report file': H.source, 'page made': H.generated, 'group by': V.group_by };
    const glossary = h('tbody', {}, Object.entries(DESC).map(([k, v]) => h('tr', {}, h('td', { class: 'mono', text: k }), h('td', { text: v }))));
    return h('div', { class: 'grid' },
      panel('Project', '', kv(project)), panel('Settings', 'The options the scan ran with.', kv(r.settings)),
      panel('Processing statistics', 'Counts and timings the scan recorded.', kv(r.processing_stats)),
      panel('Package versions', '', kv(r.package_versions)),
      panel('Columns', 'What every column of the report means, as stored in the report.', h('div', { class: 'scroll' }, h('table', { class: 'pp', id: 'glossary' }, h('thead', {}, h('tr', {}, h('th', { text: 'column' }), h('th', { text: 'meaning' }))), glossary))));
  }

  /* ---------- page frame ---------- */
  function syncGroupBoxes() {
    document.querySelectorAll('#pp-groups input').forEach((box) => { box.checked = state.on[Number(box.dataset.group)]; });
  }
  function switchView(k) {
    V = D.views[k];
    G = V.groups;
    state.on = G.map(() => true);
    state.page = 0;
    state.highlight = -1;
    buildGroups();
    buildHeader(false);
    return rerender();
  }
  function buildGroups() {
    document.getElementById('pp-groupby').textContent = `(${V.group_by})`;
    const box = document.getElementById('pp-groups');
    box.replaceChildren(...G.map((name, g) => h('label', { title: name },
      h('input', { type: 'checkbox', checked: true, 'data-group': g, onchange: (ev) => { state.on[g] = ev.target.checked; state.page = 0; rerender(); } }),
      h('span', { class: 'swatch', style: `background:${color(g)}` }), name)));
  }
  function buildSide() {
    const pick = document.getElementById('pp-view');
    pick.replaceChildren(...D.views.map((v, k) => h('option', { value: k, text: v.group_by, title: v.group_by_description })));
    pick.addEventListener('change', (ev) => { switchView(Number(ev.target.value)); });
    buildGroups();
    document.getElementById('pp-all').addEventListener('click', () => { state.on = G.map(() => true); syncGroupBoxes(); rerender(); });
    document.getElementById('pp-none').addEventListener('click', () => { state.on = G.map(() => false); syncGroupBoxes(); rerender(); });
    document.getElementById('pp-compare').addEventListener('change', (ev) => { state.compare = ev.target.checked; rerender(['distributions']); });
    const nav = document.getElementById('pp-nav');
    const items = D.findings.items;
    nav.replaceChildren(...SECTIONS.map((s) => h('a', { href: `#sec-${s.id}` }, s.title,
      s.id === 'findings' && items.length ? h('span', { class: `badge ${items[0].severity}`, text: String(items.length) }) : null)));
  }
  function buildHeader(withSections = true) {
    const items = D.findings.items;
    const sev = ['error', 'warning', 'info'].map((s) => [s, items.filter((f) => f.severity === s).length]).filter(([, n]) => n);
    const lumped = V.lumped ? ` (${V.lumped} rare values merged into "(other)")` : '';
    document.getElementById('pp-header').replaceChildren(h('h1', { text: H.title }),
      h('div', { class: 'sub', text: `${fmtInt(H.images)} images, ${fmtInt(H.rows)} rows, ${G.length} groups of ${V.group_by}${lumped} · ${H.source} · page made ${H.generated}` }),
      h('div', { class: 'sub', title: V.group_by_description }, sev.length ? sev.map(([s, n]) => h('span', { class: `badge ${s}`, style: 'margin-right:6px', text: `${n} ${s}` })) : 'no findings'));
    if (!withSections) return;
    document.getElementById('pp-sections').replaceChildren(...SECTIONS.map((s) => h('section', { id: `sec-${s.id}`, class: 'pp-section', 'data-section': s.id },
      h('h2', { text: s.title }), h('p', { class: 'explain', text: s.explain }), h('div', { class: 'body' }))));
  }

  async function main() {
    const t0 = performance.now();
    IMG = await decodeImages();
    performance.measure('pp:decode', { start: t0 });
    buildHeader();
    buildSide();
    const t1 = performance.now();
    await renderAll();
    performance.measure('pp:render', { start: t1 });
    document.getElementById('pp-loading').remove();
    document.body.dataset.ready = '1';
  }
  main().catch((err) => {
    document.getElementById('pp-loading').textContent = `This report could not be displayed: ${err && err.message ? err.message : err}`;
    throw err;
  });
}());
