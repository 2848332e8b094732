#!/usr/bin/env node
/**
 * Keeps dist/ a complete `nest build` of the current sources, safely when several processes of one
 * checkout start at once (`npm start` twice, two local replicas, a test harness).
 *
 *   node src/build-dist.cjs           build only when the sources changed (npm start, migration:*)
 *   node src/build-dist.cjs --force   build now (npm run build)
 *
 * - "Changed" is a SHA-256 over the build's inputs (INPUTS below). dist/.fingerprint holds the
 *   fingerprint of the sources dist/ was built from; it is written last, so a dist/ with a matching
 *   stamp is complete and the build is skipped without taking the lock.
 * - Builds are serialised by an exclusive lock file (.dist-lock, created with O_EXCL, holding the
 *   builder's pid). A waiter re-checks the stamp once it has the lock, so two starts build once. A
 *   lock whose pid is gone (a killed build) or older than STALE_LOCK_MS is taken over.
 * - `nest build` writes into a fresh .dist-build-<pid>/, at dist/'s depth so source maps stay right;
 *   nothing ever writes into dist/. The finished build replaces dist/ by two renames (dist/ aside,
 *   the new one in), and a failed build leaves the old dist/ as it was. Linux cannot rename a
 *   directory over a non-empty one, so a process that opens dist/ in the microseconds between the
 *   renames fails with "Cannot find module" (a start that skipped the lock while `npm run build`
 *   runs); it never reads a half-written file.
 * - A process already running from the old dist/ is not affected: every module of the gateway is a
 *   static import, loaded before main() runs (migrations included: migrations/index.ts imports
 *   them), and nothing reads dist/ later. One that is still loading cannot see a swap either: a
 *   swap follows a whole build, and a start that found the stamp current loads in far less time.
 */
'use strict';

const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAMP = path.join(DIST, '.fingerprint');
const LOCK = path.join(ROOT, '.dist-lock');
/** What `nest build` reads; node_modules is covered by package-lock.json. */
const INPUTS = ['src', 'migrations', 'tsconfig.json', 'nest-cli.json', 'package-lock.json', path.relative(ROOT, __filename)];
/** No build takes this long: a lock this old belongs to a pid that was reused. */
const STALE_LOCK_MS = 10 * 60_000;
const WAIT_FOR_LOCK_MS = 15 * 60_000;

function log(message) {
  process.stderr.write(`build-dist: ${message}\n`);
}

/** SHA-256 over every input file's path and content, in a stable order. */
function fingerprint() {
  const hash = createHash('sha256');
  const add = (relative) => {
    const absolute = path.join(ROOT, relative);
    const stat = fs.statSync(absolute, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(absolute).sort()) add(path.join(relative, entry));
    } else {
      hash.update(`${relative}\0${stat.size}\0`).update(fs.readFileSync(absolute));
    }
  };
  for (const input of INPUTS) add(input);
  return hash.digest('hex');
}

function isCurrent(print) {
  return fs.existsSync(path.join(DIST, 'src', 'main.js')) && readIfExists(STAMP)?.trim() === print;
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // alive, another user's
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes .dist-lock, waiting for a live holder and taking over a dead one's. */
function lock() {
  const deadline = Date.now() + WAIT_FOR_LOCK_MS;
  let said = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }), { flag: 'wx' });
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = readLock();
    if (holder && isStale(holder)) {
      log(`taking over the lock of ${holder.pid ? `pid ${holder.pid}, which is gone` : 'a build that died while taking it'}`);
      fs.rmSync(LOCK, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is still held by pid ${holder?.pid}; remove it if no build is running`);
    if (!said && holder?.pid) log(`waiting for the build of pid ${holder.pid}`);
    said = true;
    sleep(200);
  }
}

/** The lock's holder ({pid: undefined} while it is being written), or undefined once released. */
function readLock() {
  try {
    const { mtimeMs } = fs.statSync(LOCK);
    let pid;
    try {
      pid = JSON.parse(fs.readFileSync(LOCK, 'utf8')).pid;
    } catch {
      // created but not written yet
    }
    return { pid, mtimeMs };
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

function isStale({ pid, mtimeMs }) {
  const age = Date.now() - mtimeMs;
  return pid === undefined ? age > 5_000 : !isAlive(pid) || age > STALE_LOCK_MS;
}

/** Build directories and set-aside dist/s of builds that were killed. */
function removeLeftovers() {
  for (const entry of fs.readdirSync(ROOT)) {
    const match = /^\.dist-(?:build|old)-(\d+)(?:\.tsconfig\.json)?$/.exec(entry);
    if (match && !isAlive(Number(match[1]))) fs.rmSync(path.join(ROOT, entry), { recursive: true, force: true });
  }
}

function build(print) {
  const out = path.join(ROOT, `.dist-build-${process.pid}`);
  const tsconfig = `${out}.tsconfig.json`;
  const aside = path.join(ROOT, `.dist-old-${process.pid}`);
  try {
    fs.writeFileSync(tsconfig, JSON.stringify({ extends: './tsconfig.json', compilerOptions: { outDir: path.basename(out) } }));
    const nest = path.join(path.dirname(require.resolve('@nestjs/cli/package.json', { paths: [ROOT] })), 'bin', 'nest.js');
    const result = spawnSync(process.execPath, [nest, 'build', '--path', path.basename(tsconfig)], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`nest build failed (${result.signal ?? `exit ${result.status}`}); dist/ is unchanged`);
    if (!fs.existsSync(path.join(out, 'src', 'main.js'))) throw new Error(`nest build wrote no ${path.basename(out)}/src/main.js`);
    fs.writeFileSync(path.join(out, '.fingerprint'), `${print}\n`);
    try {
      fs.renameSync(DIST, aside);
    } catch (error) {
      if (error.code !== 'ENOENT') throw error; // no dist/ yet
    }
    try {
      fs.renameSync(out, DIST);
    } catch (error) {
      // Only if two builders took over one dead lock at once: the other one's complete build is in place.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
      log('another build put its dist/ in place first; keeping that one');
    }
  } finally {
    for (const leftover of [tsconfig, out, aside]) fs.rmSync(leftover, { recursive: true, force: true });
  }
}

function main() {
  const force = process.argv.includes('--force');
  if (!force && isCurrent(fingerprint())) {
    log('dist/ is up to date');
    return;
  }
  lock();
  try {
    const print = fingerprint(); // again: the sources may have changed while this waited
    if (!force && isCurrent(print)) {
      log('dist/ is up to date (built by the process this one waited for)');
      return;
    }
    removeLeftovers();
    log(`compiling into dist/ (${force ? 'forced' : fs.existsSync(STAMP) ? 'the sources changed' : 'no complete build yet'})`);
    build(print);
    log('dist/ is complete');
  } finally {
    if (readLock()?.pid === process.pid) fs.rmSync(LOCK, { force: true });
  }
}

try {
  main();
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
