/* Summary, files, metadata and dimensions sections. */
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
