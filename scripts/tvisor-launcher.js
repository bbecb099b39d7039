#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node
// tvisor's executable. Installed as bin/tvisor by `make`.
//
// Node starts without NODE_EXTRA_CA_CERTS and NODE_OPTIONS: tvisor makes no TLS
// connection, and a CA bundle parsed at every start costs ~35 ms per process here (three
// processes per container start).
//
// It picks the one bundle a process needs before loading anything else: the gofer and
// the sentry are started by tvisor itself and must not pay for loading the CLI.
'use strict';
const path = require('path');
const dist = path.join(__dirname, '..', 'dist');
const sub = process.argv[2];
const bundle = sub === 'gofer' ? 'gofer.js' : sub === 'sentry' || sub === 'syscalls' ? 'sentry.js' : 'tvisor.js';
const argv = bundle === 'tvisor.js' ? process.argv.slice(2) : process.argv.slice(3);
const mod = require(path.join(dist, bundle));
const exit = sub === 'syscalls' ? mod.syscallsMain(argv) : mod.main(argv);
if (exit && typeof exit.then === 'function') {
  exit.then((code) => { if (typeof code === 'number') process.exitCode = code; }, (err) => {
    process.stderr.write(`tvisor: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
} else if (typeof exit === 'number') {
  process.exitCode = exit;
}
