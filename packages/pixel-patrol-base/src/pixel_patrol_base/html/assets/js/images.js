/* The thumbnail mosaic and the image table with its CSV export. */
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
