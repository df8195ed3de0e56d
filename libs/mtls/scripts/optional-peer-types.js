/*
 * Declarations that name an optional peer: `import type { ExpressAdapter }
 * from '@nestjs/platform-express'` in the main entry's declarations would
 * stop an application that does not install it (Fastify, microservices) from
 * compiling with skipLibCheck false. Each such import gets a `@ts-ignore`
 * (tsc drops those from its output): where the peer is installed the types
 * are exact, where it is not the import is `any` and nothing else changes.
 */
const { readFileSync, writeFileSync } = require('node:fs');

/** Files (relative to dist/) and the optional peers they import types from. */
const OPTIONAL_PEER_IMPORTS = [['server/express-adapter-base.d.ts', '@nestjs/platform-express']];

function markOptionalPeerImports(dist) {
  for (const [file, peer] of OPTIONAL_PEER_IMPORTS) {
    const path = `${dist}/${file}`;
    const text = readFileSync(path, 'utf8');
    const line = new RegExp(`^import type \\{[^}]*\\} from '${peer.replace('/', '\\/')}';$`, 'm');
    if (!line.test(text)) throw new Error(`${path}: no type import of ${peer} to mark (did the source change?)`);
    const note = `// @ts-ignore: ${peer} is an optional peer; where it is not installed, this is any\n`;
    writeFileSync(path, text.replace(line, (m) => note + m));
  }
}

module.exports = { markOptionalPeerImports };
