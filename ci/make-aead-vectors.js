// Writes the AEAD_AES_256_GCM known answers of fixtures/vectors/ with
// node's own crypto (OpenSSL inside node, called through node's API, not
// this project's code): the unit tests decrypt them with protocol/ and
// encrypt the plaintexts back to the same bytes.
//
// Usage: node ci/make-aead-vectors.js VECTORS_DIR KEYS_DIR
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const [vec, keys] = process.argv.slice(2);
if (!vec || !keys) {
  console.error('usage: node ci/make-aead-vectors.js VECTORS_DIR KEYS_DIR');
  process.exit(2);
}
// The test APIv3 key of fixtures/mock.json (32 ASCII bytes, used as they are).
const KEY = 'TESTONLYwxpaymockAPIv3key0000001';

function seal(key, nonce, aad, plain) {
  const c = crypto.createCipheriv('aes-256-gcm', Buffer.from(key, 'utf8'), Buffer.from(nonce, 'utf8'));
  c.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  return ct.toString('base64');
}

// name, key, nonce, aad, plaintext
const cases = [
  ['short', KEY, 'a1b2c3d4e5f6', 'certificate', Buffer.from('hello, WeChat Pay')],
  ['empty_aad', KEY, '0123456789ab', '', Buffer.from('{"a":1}')],
  ['empty_plaintext', KEY, 'ZZZZZZZZZZZZ', 'certificate', Buffer.alloc(0)],
  ['utf8', 'abcdefghijklmnopqrstuvwxyz012345', 'nonce1234567', 'transaction', Buffer.from('撤销 ✓ café')],
  ['platform_cert', KEY, '4a5b6c7d8e9f', 'certificate', fs.readFileSync(path.join(keys, 'wechatpay_cert.pem'))],
];
let tsv = '# name\tkey\tnonce\tassociated_data\tplaintext_hex\tciphertext_base64\n';
for (const [name, key, nonce, aad, plain] of cases)
  tsv += [name, key, nonce, aad, plain.toString('hex'), seal(key, nonce, aad, plain)].join('\t') + '\n';
fs.writeFileSync(path.join(vec, 'aead.tsv'), tsv);

// A whole GET /v3/certificates answer body listing both test platform
// certificates, as the service sends it.
function entry(file, nonce) {
  const pem = fs.readFileSync(path.join(keys, file));
  const x = new crypto.X509Certificate(pem);
  // RFC 3339 in China time, as the service writes it: 2026-11-28T14:51:53+08:00
  const t = (s) =>
    new Date(new Date(s).getTime() + 8 * 3600e3).toISOString().replace(/\.\d+Z$/, '+08:00');
  return {
    serial_no: x.serialNumber.toUpperCase(),
    effective_time: t(x.validFrom),
    expire_time: t(x.validTo),
    encrypt_certificate: {
      algorithm: 'AEAD_AES_256_GCM',
      nonce,
      associated_data: 'certificate',
      ciphertext: seal(KEY, nonce, 'certificate', pem),
    },
  };
}
const body = {data: [entry('wechatpay_cert.pem', 'f1e2d3c4b5a6'), entry('wechatpay_next_cert.pem', 'q9w8e7r6t5y4')]};
fs.writeFileSync(path.join(vec, 'certificates.json'), JSON.stringify(body) + '\n');
console.log('wrote aead.tsv and certificates.json in ' + vec);
