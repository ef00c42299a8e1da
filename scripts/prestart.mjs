// `npm start` and `npm test` first build the dashboard (scripts/build-web.ts). Plain JavaScript, so
// that on a Node older than 24 (which cannot run TypeScript) it steps aside and bin/freeway.js says
// what is needed, rather than this step failing with a loader error.
const major = Number(process.versions.node.split('.')[0]);
if (major >= 24) {
  const { buildWebIfPossible } = await import('./build-web.ts');
  await buildWebIfPossible();
}
