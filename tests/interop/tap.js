// What the interop scripts share: the test identities of fixtures/keys/,
// and TAP-like checks ("ok - NAME", "not ok - NAME: why") with a summary
// that sets the exit status.
'use strict';

const ids = {
  APPID: 'wxd678efh567hg6787',
  MCHID: '1230000109',
  MERCHANT_SERIAL: '3775B6A45ACD588826D15E583A95F5DD00000001',
  PUB_ID: 'PUB_KEY_ID_01123000010920261128000000000001',
  PLATFORM_SERIAL: '5157F09EFDC096DE15EBE81A47057A7200000002',
  NEXT_SERIAL: '4E0D6A5B3C2F1E0D9C8B7A6F5E4D3C2B00000004',
  APIV3: 'TESTONLYwxpaymockAPIv3key0000001',
};

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e && (e.stack || e.message)}`);
  }
}
function expect(cond, what) { if (!cond) throw new Error(what); }
function summary() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

module.exports = { ids, check, expect, summary };
