#!/usr/bin/env node
// Computes signing test vectors with the official SDK signers, as an independent
// check of the core's own signers (src/core/storage/sign). The values it prints
// are embedded as data in test/unit/sigv4_s3_vectors_test.cpp and
// test/unit/azure_shared_key_test.cpp; run it again to re-derive them:
//
//   node test/e2e/storage/gen-sign-vectors.js
//
// S3: @smithy/signature-v4 (the signer of @aws-sdk/client-s3) with S3's settings
// (no path normalisation or double encoding, payload hash from the header).
// Azure: the Shared Key policy of @azure/storage-blob's own pipeline, at a fixed
// date, and an HMAC computed with node:crypto for the string-to-sign we expect.
'use strict';
const crypto = require('node:crypto');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Hash } = require('@smithy/hash-node');

// AWS-style URI encoding: everything but A-Z a-z 0-9 - . _ ~ (and '/').
function awsEncodeKey(key) {
  return key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/');
}
const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const md5b64 = (b) => crypto.createHash('md5').update(b).digest('base64');

async function s3Vectors() {
  const date = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
  const creds = { accessKeyId: 'AKIDCONVOYTEST', secretAccessKey: 'convoy/secret+key=test' };
  const tokenCreds = { ...creds, sessionToken: 'FQoGZXIvYXdzEXAMPLE//token+with/slashes==' };
  const cases = [];
  const key = 'backup/2024-05-01/events/2024-05-01T12:00:00Z.jsonl.gz';
  const weird = 'date=2024-05-01/a b+c~d!e*(f)/ü.gz';
  const body = Buffer.from('{"id":1}\n{"id":2}\n');
  const complete = Buffer.from('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber>' +
    '<ETag>"abc"</ETag></Part></CompleteMultipartUpload>');
  const add = (name, c, credentials = creds) => cases.push({ name, credentials, ...c });
  add('put-object-colon-key', { method: 'PUT', host: 'backups.s3.eu-west-1.amazonaws.com',
    key, query: {}, body, headers: { 'content-md5': md5b64(body), 'content-type': 'application/gzip' } });
  add('put-object-path-style-weird-key', { method: 'PUT', host: '127.0.0.1:9000', pathPrefix: '/backups',
    key: weird, query: {}, body, headers: { 'content-md5': md5b64(body) } });
  add('create-multipart', { method: 'POST', host: 'backups.s3.eu-west-1.amazonaws.com', key,
    query: { uploads: '' }, body: Buffer.alloc(0), headers: { 'content-type': 'application/gzip' } });
  add('upload-part', { method: 'PUT', host: 'backups.s3.eu-west-1.amazonaws.com', key,
    query: { uploadId: 'VXBsb2FkIElE+/=x', partNumber: '2' }, body, headers: { 'content-md5': md5b64(body) } });
  add('complete-multipart', { method: 'POST', host: 'backups.s3.eu-west-1.amazonaws.com', key,
    query: { uploadId: 'VXBsb2FkIElE+/=x' }, body: complete,
    headers: { 'content-md5': md5b64(complete), 'content-type': 'application/xml' } });
  add('abort-multipart-with-token', { method: 'DELETE', host: 'backups.s3.eu-west-1.amazonaws.com', key,
    query: { uploadId: 'VXBsb2FkIElE+/=x' }, body: Buffer.alloc(0), headers: {} }, tokenCreds);

  const out = [];
  for (const c of cases) {
    const signer = new SignatureV4({ credentials: c.credentials, region: 'eu-west-1', service: 's3',
      sha256: Hash.bind(null, 'sha256'), uriEscapePath: false, applyChecksum: false });
    const hash = sha256hex(c.body);
    const headers = { host: c.host, 'x-amz-content-sha256': hash, ...c.headers };
    const req = { method: c.method, protocol: 'https:', hostname: c.host, path:
      (c.pathPrefix || '') + '/' + awsEncodeKey(c.key), query: c.query, headers };
    const signed = await signer.sign(req, { signingDate: date });
    const auth = signed.headers.authorization || signed.headers.Authorization;
    out.push({ name: c.name, method: c.method, host: c.host, path: (c.pathPrefix || '') + '/' + c.key,
      query: c.query, headers: c.headers, payload_hash: hash,
      token: c.credentials.sessionToken || '', amz_date: signed.headers['x-amz-date'],
      signature: /Signature=([0-9a-f]+)/.exec(auth)[1],
      signed_headers: /SignedHeaders=([^,]+)/.exec(auth)[1] });
  }
  return { credentials: creds, session_token: tokenCreds.sessionToken, region: 'eu-west-1', cases: out };
}

async function azureVectors() {
  // The policy @azure/storage-blob's pipeline signs with (a dependency of it).
  const { storageSharedKeyCredentialPolicy } = require('@azure/storage-common');
  const { createPipelineRequest, createHttpHeaders } = require('@azure/core-rest-pipeline');
  const account = 'devstoreaccount1';
  const keyB64 = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
  const fixed = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
  const RealDate = Date;
  global.Date = class extends RealDate { constructor(...a) { super(...(a.length ? a : [fixed.getTime()])); } };
  const policy = storageSharedKeyCredentialPolicy({ accountName: account, accountKey: Buffer.from(keyB64, 'base64') });
  const body = Buffer.from('{"id":1}\n{"id":2}\n');
  const list = Buffer.from('<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>YmxvY2stMDAwMDAwMDAwMQ==</Latest></BlockList>');
  const blob = '/backups/backup/2024-05-01/events/' + encodeURIComponent('2024-05-01T12:00:00Z.jsonl.gz');
  const cases = [
    { name: 'create-container', method: 'PUT', base: 'http://127.0.0.1:10000/devstoreaccount1',
      path: '/backups', query: 'restype=container', headers: { 'content-length': '0' }, body: null },
    { name: 'put-blob', method: 'PUT', base: 'https://devstoreaccount1.blob.core.windows.net', path: blob,
      query: '', headers: { 'content-length': String(body.length), 'content-md5': md5b64(body),
        'content-type': 'application/gzip', 'x-ms-blob-type': 'BlockBlob' }, body },
    { name: 'put-block-emulator', method: 'PUT', base: 'http://127.0.0.1:10000/devstoreaccount1', path: blob,
      query: 'comp=block&blockid=' + encodeURIComponent('YmxvY2stMDAwMDAwMDAwMQ=='),
      headers: { 'content-length': String(body.length), 'content-md5': md5b64(body) }, body },
    { name: 'put-block-list', method: 'PUT', base: 'https://devstoreaccount1.blob.core.windows.net', path: blob,
      query: 'comp=blocklist', headers: { 'content-length': String(list.length), 'content-md5': md5b64(list),
        'content-type': 'application/xml', 'x-ms-blob-content-type': 'application/gzip' }, body: list },
  ];
  const out = [];
  for (const c of cases) {
    const url = c.base + c.path + (c.query ? '?' + c.query : '');
    const headers = createHttpHeaders({ 'x-ms-version': '2021-08-06', ...c.headers });
    const req = createPipelineRequest({ url, method: c.method, headers, body: c.body || undefined });
    let seen;
    await policy.sendRequest(req, async (r) => { seen = r; return { status: 200, headers: createHttpHeaders(), request: r }; });
    const date = seen.headers.get('x-ms-date');
    out.push({ name: c.name, method: c.method, url, headers: { ...c.headers, 'x-ms-date': date,
      'x-ms-version': '2021-08-06' }, authorization: seen.headers.get('authorization') });
  }
  global.Date = RealDate;
  // And one HMAC over a documented string-to-sign, with node:crypto directly.
  const docSts = 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Fri, 26 Jun 2015 23:39:12 GMT\nx-ms-version:2015-02-21\n' +
    '/devstoreaccount1/mycontainer\ncomp:metadata\nrestype:container\ntimeout:20';
  const docSig = crypto.createHmac('sha256', Buffer.from(keyB64, 'base64')).update(docSts, 'utf8').digest('base64');
  return { account, key: keyB64, cases: out, doc_string_to_sign: docSts, doc_signature: docSig };
}

(async () => {
  console.log(JSON.stringify({ s3: await s3Vectors(), azure: await azureVectors() }, null, 2));
})().catch((e) => { console.error(e); process.exit(1); });
