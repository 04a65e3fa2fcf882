// Turns a wxpay-mock journal (--journal-file, one JSON object per line) into
// seeds for fuzz_handler: real requests of real test runs. The Authorization
// header becomes "@SIGN" (the harness re-signs at its fixed time), so the
// seeds reach past the signature check.
//
// Usage: node tests/fuzz/journal_to_seeds.js JOURNAL.jsonl [OUT_DIR]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const [journal, outDir = path.join(__dirname, 'corpus', 'handler')] = process.argv.slice(2);
if (!journal) {
  console.error('usage: node journal_to_seeds.js JOURNAL.jsonl [OUT_DIR]');
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
let n = 0;
for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const e = JSON.parse(line);
  if (e.method === undefined || e.target === undefined || e.body === undefined) continue; // escaped bytes: skip
  const headers = e.headers
    .filter((h) => !/^(host|content-length|connection|expect)$/i.test(h.name))
    .map((h) => `${h.name}: ${/^authorization$/i.test(h.name) ? '@SIGN' : h.value}`);
  const seed = `${e.method} ${e.target}\n${headers.join('\n')}\n\n${e.body}`;
  fs.writeFileSync(path.join(outDir, `journal-${String(++n).padStart(3, '0')}`), seed);
}
console.log(`${n} seeds written to ${outDir}`);
