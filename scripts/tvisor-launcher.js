#!/usr/bin/env node
// tvisor's executable. Installed as bin/tvisor by `make`.
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
