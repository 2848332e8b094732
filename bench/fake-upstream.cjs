#!/usr/bin/env node
// A stand-in upstream authorization server for load runs with UPSTREAM_REVOCATION_URL set:
// answers every POST with 200 and an empty body after --delay ms, and prints how many it answered
// when stopped (Ctrl-C / SIGTERM). Not a test: `npm run bench -- --upstream` starts it.
//
//   node bench/fake-upstream.cjs [--port 8090] [--delay 0]
const { createServer } = require('node:http');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const port = arg('port', 8090);
const delay = arg('delay', 0);
let answered = 0;

const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    const answer = () => {
      answered++;
      response.writeHead(200, { 'content-length': '0' });
      response.end();
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stderr.write(`fake upstream on http://127.0.0.1:${port}/revoke\n`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    console.log(JSON.stringify({ answered }));
    process.exit(0);
  });
}
