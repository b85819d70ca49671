// The story's Node.js server, as in seed/README.md, for leaklab's benchmarks.
//
//   node server.js --mode leaky --port 3000   the bug: a plain object keyed by a fresh uuid, never pruned
//   node server.js --mode lru --port 3000     the fix: lru-cache with max 50
//
// Same endpoint as the story (any path answers), same body ({"data": [...]} of 10000 "xxxx"),
// serialised with JSON.stringify on every request exactly as the story's code does.
'use strict';

const http = require('http');
const { v4: uuid } = require('uuid');
const { LRUCache } = require('lru-cache');

function parseArgs(argv) {
  const args = { mode: 'leaky', port: 3000, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in args) || argv[i + 1] === undefined) {
      console.error(`server.js: error: unknown or incomplete option ${argv[i]} (use --mode leaky|lru --port N)`);
      process.exit(2);
    }
    args[name] = name === 'port' ? Number(argv[i + 1]) : argv[i + 1];
  }
  if (args.mode !== 'leaky' && args.mode !== 'lru') {
    console.error(`server.js: error: --mode must be leaky or lru (got ${args.mode})`);
    process.exit(2);
  }
  return args;
}

function leakyDatabase() {
  const cache = {};
  return function (key) {
    if (cache[key]) {
      return cache[key];
    }
    const data = new Array(10000).fill('xxxx');
    cache[key] = data; // the leak: one entry per request, forever
    return data;
  };
}

function lruDatabase() {
  const cache = new LRUCache({ max: 50 });
  return function (key) {
    if (cache.has(key)) {
      return cache.get(key);
    }
    const data = new Array(10000).fill('xxxx');
    cache.set(key, data);
    return data;
  };
}

const args = parseArgs(process.argv.slice(2));
const database = args.mode === 'lru' ? lruDatabase() : leakyDatabase();

const server = http.createServer((req, res) => {
  const key = uuid();
  const data = database(key);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ data: data }));
});

server.listen(args.port, args.host, () => {
  console.log(`node ${args.mode} server listening on http://${args.host}:${args.port}`);
});
process.on('SIGTERM', () => process.exit(0));
