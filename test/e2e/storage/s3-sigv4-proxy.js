#!/usr/bin/env node
// s3rver on 127.0.0.1 behind a proxy on 127.0.0.1 that checks what s3rver does
// not: every request's SigV4 signature (re-signed with the official signer,
// @smithy/signature-v4, from the known credentials and compared with the
// Authorization header received), the payload hash (x-amz-content-sha256 against
// the body's SHA-256) and Content-MD5. A mismatch gets 403
// SignatureDoesNotMatch (or 400 XAmzContentSHA256Mismatch / BadDigest) as real
// S3 answers, and the request never reaches s3rver. Unsigned requests are
// refused too. AbortMultipartUpload, which s3rver lacks, is answered here (204).
//
// usage: node s3-sigv4-proxy.js --port P --dir DIR --bucket B --access-key ID
//          --secret KEY [--session-token T] [--region us-east-1] [--log FILE]
//          [--tls-cert PEM --tls-key PEM]   (also serve HTTPS on a free port)
// Requests may come with or without the session token; when they carry one it
// must be T.
// Credentials may also come from S3_PROXY_SECRET / S3_PROXY_SESSION_TOKEN.
// Prints "ready-tls <port>" (with --tls-cert) and then "ready <port>" once the
// servers listen; stops on SIGTERM/SIGINT.
'use strict';
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

function args() {
  const out = { region: 'us-east-1', secret: process.env.S3_PROXY_SECRET,
    sessionToken: process.env.S3_PROXY_SESSION_TOKEN || '' };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) {
    const k = a[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    out[k] = a[i + 1];
  }
  for (const k of ['port', 'dir', 'bucket', 'accessKey', 'secret'])
    if (!out[k]) { console.error(`s3-sigv4-proxy: --${k} is required`); process.exit(2); }
  return out;
}
const opt = args();

// S3's URI encoding of one decoded path segment.
const encodeSegment = (s) => encodeURIComponent(s).replace(/[!'()*]/g,
  (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
function canonicalPath(rawPath) {
  return rawPath.split('/').map((seg) => encodeSegment(decodeURIComponent(seg))).join('/');
}
// Decoded query; a valueless parameter ("?uploads") is "" as S3 reads it.
function parseQuery(raw) {
  const q = {};
  if (!raw) return q;
  for (const item of raw.split('&')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    const k = decodeURIComponent(eq < 0 ? item : item.slice(0, eq));
    const v = eq < 0 ? '' : decodeURIComponent(item.slice(eq + 1));
    if (k in q) q[k] = [].concat(q[k], v); else q[k] = v;
  }
  return q;
}
// "20240501T120000Z" -> Date
function amzDate(s) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(s || '');
  return m && new Date(Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}
function xmlError(res, status, code, message) {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  return { status, code };
}

const logStream = opt.log ? fs.createWriteStream(opt.log, { flags: 'a' }) : null;
function record(entry) { if (logStream) logStream.write(JSON.stringify(entry) + '\n'); }

async function verify(req, body, url) {
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed Authorization header';
  const [, keyId, , region, signedHeaders] = m;
  if (keyId !== opt.accessKey) return `unknown access key ${keyId}`;
  if (region !== opt.region) return `credential scope region ${region}, expected ${opt.region}`;
  const date = amzDate(req.headers['x-amz-date']);
  if (!date) return 'missing or malformed x-amz-date';
  if (Math.abs(Date.now() - date.getTime()) > 15 * 60 * 1000) return 'RequestTimeTooSkewed';
  const names = signedHeaders.split(';');
  for (const required of ['host', 'x-amz-content-sha256', 'x-amz-date'])
    if (!names.includes(required)) return `${required} is not signed`;
  if (req.headers['x-amz-security-token'] !== undefined && !names.includes('x-amz-security-token'))
    return 'x-amz-security-token is not signed';
  // Long-term credentials work without a token; a token, when sent, must be
  // the one issued with them.
  const token = req.headers['x-amz-security-token'] || '';
  if (token && token !== opt.sessionToken) return 'wrong session token';
  const headers = {};
  for (const n of names) {
    if (req.headers[n] === undefined) return `signed header ${n} is missing`;
    headers[n] = req.headers[n];
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: opt.accessKey, secretAccessKey: opt.secret,
      ...(token ? { sessionToken: token } : {}) },
    region: opt.region, service: 's3', sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: false, applyChecksum: false,
  });
  const signed = await signer.sign({
    method: req.method, protocol: 'http:', hostname: req.headers.host, path: canonicalPath(url.pathname),
    query: parseQuery(url.search.slice(1)), headers,
  }, { signingDate: date });
  if (signed.headers.authorization !== auth) return 'SignatureDoesNotMatch';
  return '';
}

async function main() {
  fs.mkdirSync(opt.dir, { recursive: true });
  DUMMY_ACCOUNT.createKeyPair(opt.accessKey, opt.secret);
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', directory: opt.dir, silent: true,
    configureBuckets: [{ name: opt.bucket }] });
  const { port: s3port } = await s3.run();

  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://127.0.0.1');
      const q = parseQuery(url.search.slice(1));
      const entry = { method: req.method, path: decodeURIComponent(url.pathname),
        query: Object.keys(q).sort(), bytes: body.length };
      const done = (r) => record({ ...entry, ...r });
      try {
        const why = await verify(req, body, url);
        if (why === 'RequestTimeTooSkewed')
          return done(xmlError(res, 403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.'));
        if (why) {
          console.error(`s3-sigv4-proxy: refused ${req.method} ${url.pathname}: ${why}`);
          return done({ ...xmlError(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'), why });
        }
        const sha = crypto.createHash('sha256').update(body).digest('hex');
        if (req.headers['x-amz-content-sha256'] !== sha)
          return done(xmlError(res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.'));
        if (req.headers['content-md5'] !== undefined &&
            req.headers['content-md5'] !== crypto.createHash('md5').update(body).digest('base64'))
          return done(xmlError(res, 400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.'));
        if (req.method === 'DELETE' && 'uploadId' in q) { // s3rver has no AbortMultipartUpload
          res.writeHead(204); res.end();
          return done({ status: 204 });
        }
        const headers = { ...req.headers };
        delete headers.expect;
        headers['content-length'] = String(body.length);
        delete headers['transfer-encoding'];
        const up = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: req.url, headers }, (ur) => {
          res.writeHead(ur.statusCode, ur.headers);
          ur.pipe(res);
          done({ status: ur.statusCode });
        });
        up.on('error', (e) => { done(xmlError(res, 502, 'BadGateway', e.message)); });
        up.end(body);
      } catch (e) {
        console.error('s3-sigv4-proxy:', e);
        done(xmlError(res, 500, 'InternalError', 'proxy failure'));
      }
    });
  };
  const proxy = http.createServer(handler);
  const servers = [proxy];
  if (opt.tlsCert) { // the same checks behind TLS, for the client's certificate verification
    const tls = https.createServer({ cert: fs.readFileSync(opt.tlsCert), key: fs.readFileSync(opt.tlsKey) }, handler);
    servers.push(tls);
    await new Promise((resolve) => tls.listen(0, '127.0.0.1', resolve));
    console.log(`ready-tls ${tls.address().port}`);
  }
  proxy.listen(Number(opt.port), '127.0.0.1', () => console.log(`ready ${proxy.address().port}`));
  const stop = () => { servers.forEach((s) => s.close()); s3.close(() => process.exit(0)); setTimeout(() => process.exit(0), 2000).unref(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
main().catch((e) => { console.error(e); process.exit(1); });
