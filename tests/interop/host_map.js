// Preload (node --require): sends every TLS connection to
// api.mch.weixin.qq.com (the host SDKs hard-code) to the mock on
// 127.0.0.1:$WXPAY_MOCK_PORT instead, keeping the name for SNI and the
// certificate check, as an /etc/hosts line plus a port would. Trust the
// test CA with NODE_EXTRA_CA_CERTS=fixtures/tls/ca_cert.pem.
'use strict';
const tls = require('node:tls');

const HOST = 'api.mch.weixin.qq.com';
const port = Number(process.env.WXPAY_MOCK_PORT);
if (!port) throw new Error('host_map.js: set WXPAY_MOCK_PORT to the mock\'s port');

const connect = tls.connect;
tls.connect = function mapped(...args) {
  const options = args.find((a) => a && typeof a === 'object');
  if (options && (options.host === HOST || options.servername === HOST)) {
    options.servername = HOST;
    options.host = '127.0.0.1';
    options.port = port;
  }
  return connect.apply(this, args);
};
