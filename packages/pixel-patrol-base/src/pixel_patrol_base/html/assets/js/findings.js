/* The findings section: check's findings, each opening to its files and evidence. */
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
