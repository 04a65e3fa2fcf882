// Interop: the npm package wechatpay-node-v3 (pinned by run.sh) against
// wxpay-mock over HTTPS, exactly as its README sets it up: the merchant
// certificate and key, its own serial (lower-case hex, its default), its
// fixed host https://api.mch.weixin.qq.com mapped to the mock by
// host_map.js. Its get_certificates() and fetchCertificates() download the
// mock's platform certificates and decrypt them with node's crypto (not
// ours); its verifySign() must accept the mock's answers and refuse the
// bad ones.
//
// Environment: WXPAY_SDK_DIR, FIXTURES, WXPAY_MOCK_PORT (the mock, HTTPS),
// WXPAY_MOCK_ADMIN_TOKEN (its admin token), NODE_EXTRA_CA_CERTS.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const crypto = require('node:crypto');

const sdk = path.join(process.env.WXPAY_SDK_DIR, 'node_modules');
const WxPay = require(path.join(sdk, 'wechatpay-node-v3')).default || require(path.join(sdk, 'wechatpay-node-v3'));
const request = require(path.join(sdk, 'superagent'));

const { ids, check, expect, summary } = require('./tap.js');

const K = path.join(process.env.FIXTURES, 'keys');
const { APPID, MCHID, APIV3, PLATFORM_SERIAL, NEXT_SERIAL } = ids;
const HOST = 'https://api.mch.weixin.qq.com';

// The README's set-up: nothing but the merchant's certificate and key.
const pay = new WxPay({
  appid: APPID,
  mchid: MCHID,
  publicKey: fs.readFileSync(path.join(K, 'merchant_cert.pem')),
  privateKey: fs.readFileSync(path.join(K, 'merchant_key.pem')),
});

async function admin(method, p, body) {
  // The mock takes admin calls to a host name only with its token.
  const r = await request(method, `${HOST}${p}`).send(body ? JSON.stringify(body) : undefined)
    .set('Content-Type', 'application/json')
    .set('Authorization', `Bearer ${process.env.WXPAY_MOCK_ADMIN_TOKEN}`).ok(() => true);
  return JSON.parse(r.text);
}

// A reverse as the README signs a POST (getSignature + getAuthorization,
// through its buildAuthorization), with the answer's raw headers and body.
async function reverse(otn) {
  const url = `${HOST}/v3/pay/transactions/out-trade-no/${otn}/reverse`;
  const body = { appid: APPID, mchid: MCHID };
  const headers = pay.getHeaders(pay.buildAuthorization('POST', url, body), { 'Content-Type': 'application/json' });
  const r = await request.post(url).send(body).set(headers).buffer(true).parse((res, cb) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c) => { text += c; });
    res.on('end', () => cb(null, text));
  }).ok(() => true);
  return { status: r.status, headers: r.headers, text: r.body };
}

function verify(r) {
  return pay.verifySign({
    timestamp: r.headers['wechatpay-timestamp'],
    nonce: r.headers['wechatpay-nonce'],
    serial: r.headers['wechatpay-serial'],
    signature: r.headers['wechatpay-signature'],
    body: r.text,
    apiSecret: APIV3,
  });
}

(async () => {
  await admin('POST', '/__admin/reset');
  await admin('PUT', '/__admin/wechatpay', { mode: 'certificate' });

  await check('its default serial_no is lower-case hex, and the mock takes it with a journal warning', async () => {
    expect(pay.serial_no === '3775b6a45acd588826d15e583a95f5dd00000001', `serial_no ${pay.serial_no}`);
    const r = await reverse('paid_nv3_0001');
    expect(r.status === 200 && JSON.parse(r.text).out_trade_no === 'paid_nv3_0001', `${r.status} ${r.text}`);
    const j = await admin('GET', '/__admin/journal?out_trade_no=paid_nv3_0001');
    const e = j.entries[0];
    expect(e.checks.every((c) => c.ok), JSON.stringify(e.checks));
    expect(e.warnings && /lower case/.test(e.warnings[0]), JSON.stringify(e.warnings));
  });

  await check('get_certificates downloads the list and decrypts it (node crypto) to the platform certificate', async () => {
    const list = await pay.get_certificates(APIV3);
    expect(list.length === 1 && list[0].serial_no === PLATFORM_SERIAL, JSON.stringify(list.map((c) => c.serial_no)));
    const want = crypto.createPublicKey(fs.readFileSync(path.join(K, 'wechatpay_cert.pem')))
      .export({ type: 'spki', format: 'der' });
    const got = crypto.createPublicKey(list[0].publicKey).export({ type: 'spki', format: 'der' });
    expect(want.equals(got), 'the decrypted certificate holds another key');
    expect(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/.test(list[0].expire_time), list[0].expire_time);
  });

  await check('verifySign accepts a reverse answer (fetching the certificates itself)', async () => {
    const r = await reverse('paid_nv3_0002');
    expect(r.status === 200, r.text);
    expect(await verify(r) === true, 'verifySign said false');
  });

  await check('verifySign refuses an answer whose signature is bad', async () => {
    await admin('PUT', '/__admin/orders/badsig_nv3_01', { trade_state: 'SUCCESS', script: ['bad_signature'] });
    const r = await reverse('badsig_nv3_01');
    expect(r.status === 200, r.text);
    expect(await verify(r) === false, 'verifySign said true');
  });

  await check('verifySign refuses an answer signed under an unknown serial (after fetching again)', async () => {
    await admin('PUT', '/__admin/orders/unkser_nv3_01', { trade_state: 'SUCCESS', script: ['unknown_serial'] });
    const r = await reverse('unkser_nv3_01');
    let threw = false;
    try { await verify(r); } catch (e) { threw = /平台证书序列号不相符/.test(e.message); }
    expect(threw, 'no error for an unknown serial');
  });

  await check('after a rotation verifySign fetches the list again and accepts the new signer', async () => {
    await admin('PUT', '/__admin/orders/rot_nv3_0001', { trade_state: 'SUCCESS', script: ['rotate_certificate'] });
    const r = await reverse('rot_nv3_0001');
    expect(r.headers['wechatpay-serial'] === NEXT_SERIAL, r.headers['wechatpay-serial']);
    expect(await verify(r) === true, 'verifySign said false');
  });

  // Its decipher_gcm() never calls decipher.final(), so the GCM tag is not
  // checked: a changed ciphertext decrypts to garbage, and only the PEM
  // parser after it fails. (docs/sdks.md says so.)
  await check('a tampered download fails in the SDK, though only at the PEM parser (no tag check)', async () => {
    await admin('PUT', '/__admin/wechatpay', { certificates_script: ['tampered_ciphertext'] });
    let err = null;
    try { await pay.get_certificates(APIV3); } catch (e) { err = e; }
    expect(err && /pem|BEGIN/i.test(err.message), `no error: ${err && err.message}`);
  });

  await check('in public-key mode the download fails as the service does (拉取平台证书失败)', async () => {
    await admin('PUT', '/__admin/wechatpay', { mode: 'public_key' });
    let err = null;
    try { await pay.get_certificates(APIV3); } catch (e) { err = e; }
    expect(err && /拉取平台证书失败/.test(err.message), `no error: ${err && err.message}`);
  });

  summary();
})();
