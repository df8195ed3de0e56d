/**
 * The dependency rule of libs/mtls/src (docs/architecture.md): folders form
 * layers, and a file may import only from its own folder or from a folder of
 * a LOWER layer. Anything else (an import "up", hence any cycle between
 * folders) is an error. Run by `npm test` (test/unit/architecture.spec.ts)
 * and by `npm run lint:deps`.
 * The layers are listed in scripts/architecture-layers.js.
 */
const { LAYERS } = require('./scripts/architecture-layers');

const SRC = '^libs/mtls/src/';
/** A folder `x/` or a root file `x.ts` of libs/mtls/src. */
const unit = (name) => `${name.replace(/\./g, '\\.')}(/|\\.ts$)`;
const anyOf = (names) => `${SRC}(${names.map(unit).join('|')})`;

const layerRules = LAYERS.slice(0, -1).map((names, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return {
    name: `layer-${names[0]}`,
    severity: 'error',
    comment: `${names.join(', ')} may import only from lower layers (${LAYERS.slice(0, i).flat().join(', ') || 'none'}), never from ${above.join(', ')}: see docs/architecture.md`,
    from: { path: anyOf(names) },
    to: { path: anyOf(above) },
  };
});

/** Within one layer of several parts, the parts stay apart (mtls.module may import its definition, not the other way). */
const sameLayerRules = [
  {
    name: 'module-definition-below-module',
    severity: 'error',
    comment: 'mtls.module-definition.ts is read by mtls.module.ts, never the other way',
    from: { path: anyOf(['mtls.module-definition']) },
    to: { path: anyOf(['mtls.module']) },
  },
  {
    name: 'internal-entry-for-tests-only',
    severity: 'error',
    comment: 'internal.ts is the tests\' entry: nothing in the package imports it',
    from: { path: SRC, pathNot: anyOf(['internal']) },
    to: { path: anyOf(['internal']) },
  },
];

module.exports = {
  forbidden: [
    ...layerRules,
    ...sameLayerRules,
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'every folder and root file of libs/mtls/src belongs to a layer: add it to LAYERS (and docs/architecture.md)',
      from: { path: SRC, pathNot: anyOf(LAYERS.flat()) },
      to: {},
    },
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'no import cycle among the files of libs/mtls/src (between folders the layers forbid one already; within a folder too)',
      from: { path: SRC },
      to: { path: SRC, circular: true, viaOnly: { path: SRC } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    moduleSystems: ['cjs', 'es6'],
  },
};
