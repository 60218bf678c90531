/* Run facts, the sidebar, the header and start-up. */
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
