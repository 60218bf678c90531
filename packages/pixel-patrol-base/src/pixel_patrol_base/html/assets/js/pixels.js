/* Intensities, distributions and trends along Z/T/C. */
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
    return [controls, h('div', { class: 'grid' }, panels, pairPanel()),
      constant.length ? h('p', { class: 'unit', text: `Same value for every image (not drawn): ${constant.join(', ')}.` }) : null];
  }
  const PAIR_POINTS = 5000;
  function pairPanel() {
    const cols = measured();
    if (cols.length < 2) return null;
    if (!cols.includes(state.pairX)) state.pairX = cols.includes('mean_intensity') ? 'mean_intensity' : cols[0];
    if (!cols.includes(state.pairY)) state.pairY = cols.find((c) => c !== state.pairX && c.includes('laplacian')) || cols.find((c) => c !== state.pairX);
    const pick = (id, key) => h('select', { id, onchange: (ev) => { state[key] = ev.target.value; rerender(['distributions']); } },
      cols.map((c) => h('option', { value: c, text: c, selected: c === state[key] })));
    const rows = [];
    for (let i = 0; i < IMG.n; i += 1) if (on(groupOf(i)) && Number.isFinite(num(state.pairX, i)) && Number.isFinite(num(state.pairY, i))) rows.push(i);
    const step = Math.max(1, Math.ceil(rows.length / PAIR_POINTS));
    const shown = rows.filter((_, k) => k % step === 0);
    const traces = selected().map((g) => {
      const mine = shown.filter((i) => groupOf(i) === g);
      return { type: 'scatter', mode: 'markers', name: G[g], x: mine.map((i) => num(state.pairX, i)), y: mine.map((i) => num(state.pairY, i)),
        customdata: mine, text: mine.map((i) => shortPath(path(i))), marker: { color: alpha(g, 0.6), size: 5 },
        hovertemplate: `%{text}<br>${state.pairX} = %{x}<br>${state.pairY} = %{y}<extra>${G[g]}</extra>` };
    });
    const onClick = (div) => div.on('plotly_click', (ev) => { const i = ev.points[0].customdata; if (typeof i === 'number') jumpToRow(i); });
    const note = step > 1 ? `Every ${step}th of ${fmtInt(rows.length)} images is drawn.` : `${fmtInt(rows.length)} images.`;
    return h('div', { class: 'panel wide' }, h('h3', { text: 'Two columns against each other' }),
      h('p', { class: 'desc', text: `One point per image; click a point for its table row. ${note}` }),
      h('div', { class: 'controls' }, h('label', {}, 'x: ', pick('pair-x', 'pairX')), h('label', {}, 'y: ', pick('pair-y', 'pairY'))),
      rows.length ? plot(traces, { xaxis: { title: { text: state.pairX } }, yaxis: { title: { text: state.pairY } } }, { 'data-pair': '1' }, onClick) : empty('No image has both values.'));
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
