#!/usr/bin/env node
'use strict';
// The `jc-notion` command: runs the compiled CLI (built by `npm install` through `prepare`).
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'client', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(
    `jc-notion: not built yet: run \`npm install\` (or \`npm run build\`) in ${path.dirname(__dirname)}\n`,
  );
  process.exit(1);
}
require(entry);
