/**
 * The layers of libs/mtls/src, lowest first (docs/architecture.md): a file
 * may import from its own folder and from folders of lower layers only.
 * Each entry is a folder, or a root file without `.ts`. Every folder and root
 * file of libs/mtls/src must be here: test/unit/architecture.spec.ts fails
 * on one that is not. Read by .dependency-cruiser.js.
 */
const LAYERS = [
  ['errors'],
  ['logging'],
  ['shutdown'],
  ['identity'],
  ['x509'],
  ['policy'],
  ['config'],
  ['pki'],
  ['material'],
  ['spiffe'],
  ['revocation'],
  ['telemetry'],
  ['guard'],
  ['client'],
  ['server'],
  ['microservices'],
  ['grpc'],
  ['fastify'],
  ['mtls.module-definition', 'inject-mtls-options', 'mtls.module'],
  ['health'],
  ['admin'],
  ['app'],
  ['dev-pki'],
  ['testing'],
  ['cli'],
  ['index', 'internal'],
];

module.exports = { LAYERS };
