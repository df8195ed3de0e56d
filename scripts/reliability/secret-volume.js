'use strict';
const { existsSync, lstatSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

/**
 * A directory laid out and updated the way the kubelet updates a mounted
 * Kubernetes secret (its AtomicWriter): the files live in a timestamped
 * directory, `..data` is a symlink to it, each visible name (`tls.crt`) is a
 * symlink into `..data/`, and an update writes a new timestamped directory,
 * swaps `..data` with one rename, then removes the old directory.
 */
class SecretVolume {
  /** @param {string} dir */
  constructor(dir) {
    this.dir = dir;
    this.generation = 0;
    /** @type {string | undefined} */
    this.current = undefined;
    mkdirSync(dir, { recursive: true });
  }

  /** Path of a visible file. @param {string} name @returns {string} */
  path(name) {
    return join(this.dir, name);
  }

  /** Publishes a new set of files atomically. @param {Record<string, string | Buffer>} files */
  update(files) {
    const stamp = `..${new Date().toISOString().replace(/[-:.TZ]/g, '_')}${++this.generation}`;
    mkdirSync(join(this.dir, stamp));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, stamp, name), content, { mode: 0o600 });
    const tmp = join(this.dir, '..data_tmp');
    rmSync(tmp, { force: true });
    symlinkSync(stamp, tmp);
    renameSync(tmp, join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      if (!isLink(join(this.dir, name))) symlinkSync(join('..data', name), join(this.dir, name));
    }
    if (this.current) rmSync(join(this.dir, this.current), { recursive: true, force: true });
    this.current = stamp;
  }
}

/** @param {string} path */
function isLink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return existsSync(path);
  }
}

module.exports = { SecretVolume };
