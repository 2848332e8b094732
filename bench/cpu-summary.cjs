#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof, or `npm run bench -- --cpu-prof <dir>`): self time
// by package or source file, inclusive time by package, and the top functions. Prints text; not a test.
//
//   node bench/cpu-summary.cjs <file.cpuprofile> [--top 25]
const { readFileSync } = require('node:fs');

const file = process.argv[2];
const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 25;
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map();
const intervals = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (intervals[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);

/** node_modules/<pkg> (scoped too), the project's own file, or V8's category ((garbage collector), …). */
function bucket(frame) {
  const url = frame.url || '';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.includes('/dist/src/')) return `gateway:${url.split('/dist/src/')[1]}`;
  if (url.startsWith('node:')) return url;
  return frame.functionName || '(native)';
}

const groups = new Map();
const functions = new Map();
for (const [id, time] of self) {
  const frame = byId.get(id).callFrame;
  const group = bucket(frame);
  groups.set(group, (groups.get(group) ?? 0) + time);
  const key = `${frame.functionName || '(anonymous)'} ${group}:${frame.lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + time);
}
const pct = (time) => `${((time / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`total sampled: ${(total / 1e6).toFixed(1)} s`);
console.log('\nself time by package / file:');
for (const [name, time] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time)}  ${name}`);
// Inclusive: a sample counts for every package on its stack, so "fastify 40%" means 40% of the
// samples had Fastify somewhere below them (its callbacks included).
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const onStack = new Map();
function stackBuckets(id) {
  if (onStack.has(id)) return onStack.get(id);
  const up = parent.has(id) ? stackBuckets(parent.get(id)) : new Set();
  const mine = new Set(up).add(bucket(byId.get(id).callFrame));
  onStack.set(id, mine);
  return mine;
}
const inclusive = new Map();
for (const [id, time] of self) for (const group of stackBuckets(id)) inclusive.set(group, (inclusive.get(group) ?? 0) + time);
console.log('\ninclusive time by package / file (on the stack):');
for (const [name, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time)}  ${name}`);
console.log('\ntop functions (self):');
for (const [name, time] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(time)}  ${name}`);
