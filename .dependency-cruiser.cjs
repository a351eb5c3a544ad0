/**
 * The layers of src/, and the one direction imports may take between them:
 *
 *   cli → agent → {kube, gobgp, routes, alloc, http} → config → {model, text, log, version}
 *
 * A layer imports its own folder and the layers below it, never one above and never a sibling of its own row
 * (the agent is where kube, gobgp, routes, alloc and http meet). `npm run lint` runs this check; CI runs it.
 */
const rank = {
  cli: 4,
  agent: 3,
  kube: 2,
  gobgp: 2,
  routes: 2,
  alloc: 2,
  http: 2,
  config: 1,
  model: 0,
  text: 0,
  log: 0,
};
const folders = Object.keys(rank);

const forbidden = [];
for (const from of folders) {
  const notAllowed = folders.filter((to) => to !== from && rank[to] >= rank[from]);
  if (notAllowed.length === 0) continue;
  forbidden.push({
    name: `layer-${from}`,
    comment: `src/${from} may import only ${folders.filter((to) => to !== from && rank[to] < rank[from]).join(', ') || 'nothing above it'} (one-way layers: see .dependency-cruiser.cjs)`,
    severity: 'error',
    from: { path: `^src/${from}/` },
    to: { path: `^src/(${notAllowed.join('|')})/` },
  });
}
forbidden.push({
  name: 'gobgp-through-its-index',
  comment: 'src/gobgp is used through src/gobgp/index.ts (the adapter the agent sees), not the files behind it',
  severity: 'error',
  from: { path: '^src/', pathNot: '^src/gobgp/' },
  to: { path: '^src/gobgp/', pathNot: '^src/gobgp/index\\.ts$' },
});
forbidden.push({
  name: 'version-is-a-leaf',
  comment: 'src/version.ts is read by every layer and imports none',
  severity: 'error',
  from: { path: '^src/version\\.ts$' },
  to: { path: '^src/' },
});
forbidden.push({
  name: 'no-circular',
  comment: 'a cycle between modules makes their order of loading matter',
  severity: 'error',
  from: { path: '^src/' },
  to: { circular: true },
});
forbidden.push({
  name: 'src-never-imports-test',
  severity: 'error',
  from: { path: '^src/' },
  to: { path: '^test/' },
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['es6'],
  },
};
