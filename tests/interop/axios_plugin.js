// Interop: the real Node SDK wechatpay-axios-plugin (npm, pinned by run.sh)
// against wxpay-mock. The mock must accept the SDK's signatures (its own field
// order and path encoding), and the SDK must accept the mock's signed answers
// in both key modes and see its error answers and faults as what they are.
//
// Environment: WXPAY_SDK_DIR (node_modules parent), MOCK_URL (public-key mode),
// MOCK_CERT_URL (certificate mode), FIXTURES.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { Wechatpay, Aes: { AesGcm } } = require(path.join(process.env.WXPAY_SDK_DIR, 'node_modules', 'wechatpay-axios-plugin'));

const K = path.join(process.env.FIXTURES, 'keys');
const { ids, check, expect, summary } = require('./tap.js');

const { APPID, MCHID, PUB_ID, PLATFORM_SERIAL, MERCHANT_SERIAL, APIV3 } = ids;

function client(baseURL, certs) {
  return new Wechatpay({
    mchid: MCHID,
    serial: MERCHANT_SERIAL,
    privateKey: fs.readFileSync(path.join(K, 'merchant_key.pem')),
    certs,
    baseURL: `${baseURL}/`,
  });
}

async function admin(base, method, p, body) {
  const res = await fetch(`${base}${p}`, { method, body: body && JSON.stringify(body) });
  return res.json();
}

// The SDK's reverse in the chain style of the seed page.
function reverse(wx, otn) {
  return wx.v3.pay.transactions.outTradeNo._out_trade_no_.reverse.post({ appid: APPID, mchid: MCHID }, { out_trade_no: otn });
}

// Resolves to the axios error of a call that must fail.
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded but must fail');
}

(async () => {
  const base = process.env.MOCK_URL;
  const wx = client(base, { [PUB_ID]: fs.readFileSync(path.join(K, 'wechatpay_pub.pem')) });

  await check('chain style: the mock accepts the SDK signature, the SDK verifies the answer', async () => {
    const r = await reverse(wx, 'paid_node_0001');
    expect(r.status === 200 && r.data.out_trade_no === 'paid_node_0001', `got ${r.status} ${JSON.stringify(r.data)}`);
    const o = await admin(base, 'GET', '/__admin/orders/paid_node_0001');
    expect(o.trade_state === 'REVOKED' && o.refund && o.refund.amount === 100, `order ${JSON.stringify(o)}`);
  });

  await check('template style with * and | in out_trade_no', async () => {
    const r = await wx['v3/pay/transactions/out-trade-no/{out_trade_no}/reverse']
      .post({ appid: APPID, mchid: MCHID }, { out_trade_no: 'ord*2026|01' });
    expect(r.status === 200 && r.data.out_trade_no === 'ord*2026|01', JSON.stringify(r.data));
  });

  await check("every SDK request passed every check, in the SDK's Authorization field order", async () => {
    const j = await admin(base, 'GET', '/__admin/journal');
    expect(j.entries.length >= 2, `${j.entries.length} entries`);
    for (const e of j.entries) {
      const bad = e.checks.find((c) => !c.ok);
      expect(!bad, `${e.target}: ${bad && bad.message}`);
    }
    const auth = j.entries[0].headers.find((h) => h.name.toLowerCase() === 'authorization').value;
    expect(/^WECHATPAY2-SHA256-RSA2048 mchid="\d+",serial_no=/.test(auth), auth);
  });

  await check('query: GET with ?mchid= is signed and verified', async () => {
    const r = await wx.v3.pay.transactions.outTradeNo._out_trade_no_
      .get({ params: { mchid: MCHID }, out_trade_no: 'paid_node_0001' });
    expect(r.data.trade_state === 'REVOKED', JSON.stringify(r.data));
  });

  await check('ORDER_CLOSED reaches the SDK as a 400 with its code', async () => {
    const e = await rejection(reverse(wx, 'closed_node_0001'));
    expect(e.response && e.response.status === 400 && e.response.data.code === 'ORDER_CLOSED',
      `${e.message} ${e.response && JSON.stringify(e.response.data)}`);
  });

  await check('SYSTEM_ERROR reaches the SDK as a 500 with its code', async () => {
    await admin(base, 'PUT', '/__admin/orders/syserr_node_0001', { trade_state: 'SUCCESS', script: ['system_error'] });
    const e = await rejection(reverse(wx, 'syserr_node_0001'));
    expect(e.response && e.response.status === 500 && e.response.data.code === 'SYSTEM_ERROR',
      `${e.message} ${e.response && JSON.stringify(e.response.data)}`);
  });

  const faults = [
    ['badsig_node_0001', 'EV3_RES_HEADER_SIGNATURE_DIGEST', 'a bad answer signature'],
    ['unknownserial_n01', 'EV3_RES_HEADER_PLATFORM_SERIAL', 'an unknown Wechatpay-Serial'],
    ['skewed_node_0001', 'EV3_RES_HEADER_TIMESTAMP_OFFSET', 'a stale Wechatpay-Timestamp'],
    ['unsigned_node_0001', 'EV3_RES_HEADERS_INCOMPLATE', 'an unsigned answer'],
  ];
  for (const [otn, code, what] of faults) {
    await check(`the SDK refuses ${what} (${code})`, async () => {
      const e = await rejection(reverse(wx, otn));
      expect(e.code === code || String(e.message).includes(code) || (e.response && e.response.data && String(e.response.data).includes(code)),
        `${e.code} ${e.message}`);
    });
  }

  const certBase = process.env.MOCK_CERT_URL;
  const wxCert = client(certBase, { [PLATFORM_SERIAL]: fs.readFileSync(path.join(K, 'wechatpay_cert.pem')) });
  await check('certificate mode: the SDK verifies with the platform certificate', async () => {
    const r = await reverse(wxCert, 'paid_node_cert_01');
    expect(r.status === 200 && r.data.out_trade_no === 'paid_node_cert_01', JSON.stringify(r.data));
  });
  await check('certificate mode answers are refused by an SDK that knows only the public key', async () => {
    const e = await rejection(reverse(client(certBase, { [PUB_ID]: fs.readFileSync(path.join(K, 'wechatpay_pub.pem')) }), 'paid_node_cert_02'));
    expect(e.code === 'EV3_RES_HEADER_PLATFORM_SERIAL' || String(e.message).includes('EV3_RES_HEADER_PLATFORM_SERIAL'), e.message);
  });

  // Certificate mode with nothing but the APIv3 key: the plugin's own
  // download recipe (its `wxpay crt` command) decrypts the list with its
  // AesGcm before its verifier checks the list's signature with what it
  // just decrypted. The recipe must write into the config's live `certs`
  // (the constructor replaces the object it was given; `wxpay crt` 0.9.6
  // writes into the old one and so fails against any server).
  await check('certificate download: the plugin decrypts the list (its AesGcm) and verifies with it', async () => {
    const conf = {
      mchid: MCHID,
      serial: MERCHANT_SERIAL,
      privateKey: fs.readFileSync(path.join(K, 'merchant_key.pem')),
      certs: { any: undefined },
      baseURL: `${certBase}/`,
    };
    const wxDl = new Wechatpay(conf);
    const injector = (text) => {
      (JSON.parse(text).data || []).forEach(({ serial_no: serial, encrypt_certificate: { nonce, associated_data: aad, ciphertext } }) => {
        conf.certs[serial] = AesGcm.decrypt(ciphertext, APIV3, nonce, aad);
      });
      return text;
    };
    const list = await wxDl.v3.certificates.get({ transformResponse: [injector, ...wxDl.client.v3.defaults.transformResponse] });
    expect(list.status === 200 && list.data.data[0].serial_no === PLATFORM_SERIAL, JSON.stringify(list.data));
    const pem = conf.certs[PLATFORM_SERIAL];
    expect(pem === fs.readFileSync(path.join(K, 'wechatpay_cert.pem'), 'utf8'), 'the decrypted PEM is not the fixture certificate');
    const r = await reverse(wxDl, 'paid_node_dl_01');
    expect(r.status === 200 && r.data.out_trade_no === 'paid_node_dl_01', JSON.stringify(r.data));
  });

  summary();
})();
