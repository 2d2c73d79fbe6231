#!/usr/bin/env node
// Reads objects back with the official SDKs and compares them with expected
// bytes, so the core's uploads are checked by independent clients.
//
//   node readback.js s3 --endpoint URL --bucket B --key K --expect FILE
//        (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)
//   node readback.js s3 ... --absent          (the key must not exist)
//   node readback.js azure --endpoint URL --container C --key K --expect FILE
//        (AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY)
//   node readback.js azure ... --absent
//   node readback.js azure-sas --endpoint URL --container C
//        (prints a container SAS with read/create/write/list permissions, valid 1 hour)
//
// Prints one JSON line per object (key, size, sha256, content type) and exits 1
// when the bytes differ from the expected file, or the object is missing (or,
// with --absent, present).
'use strict';
// Node 18 (Debian 12's nodejs) has Web Crypto only as require('node:crypto').webcrypto;
// @azure/storage-blob expects the global that node 20 provides.
if (typeof globalThis.crypto === 'undefined') globalThis.crypto = require('node:crypto').webcrypto;
const crypto = require('node:crypto');
const fs = require('node:fs');

function args() {
  const a = process.argv.slice(3), out = {};
  for (let i = 0; i < a.length; i++) {
    const k = a[i].replace(/^--/, '');
    if (k === 'absent') out.absent = true; else out[k] = a[++i];
  }
  return out;
}
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

function compare(kind, opt, body, meta) {
  const expect = fs.readFileSync(opt.expect);
  const same = Buffer.compare(expect, body) === 0;
  console.log(JSON.stringify({ store: kind, key: opt.key, size: body.length, sha256: sha256(body),
    expected_size: expect.length, match: same, ...meta }));
  if (!same) process.exit(1);
}

async function s3(opt) {
  const { S3Client, GetObjectCommand } = require('@aws-sdk/client-s3');
  const client = new S3Client({ endpoint: opt.endpoint, region: opt.region || 'us-east-1',
    forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: opt.bucket, Key: opt.key }));
    const body = Buffer.from(await r.Body.transformToByteArray());
    if (opt.absent) { console.log(JSON.stringify({ store: 's3', key: opt.key, present: true })); process.exit(1); }
    compare('s3', opt, body, { content_type: r.ContentType });
  } catch (e) {
    if (opt.absent && (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)) {
      console.log(JSON.stringify({ store: 's3', key: opt.key, present: false }));
      return;
    }
    throw e;
  }
}

function azureClient(opt) {
  const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(process.env.AZURE_STORAGE_ACCOUNT, process.env.AZURE_STORAGE_KEY);
  return { cred, service: new BlobServiceClient(opt.endpoint, cred, { retryOptions: { maxTries: 1 } }) };
}

async function azure(opt) {
  const { service } = azureClient(opt);
  const blob = service.getContainerClient(opt.container).getBlobClient(opt.key);
  try {
    const props = await blob.getProperties();
    if (opt.absent) { console.log(JSON.stringify({ store: 'azure', key: opt.key, present: true })); process.exit(1); }
    const body = await blob.downloadToBuffer();
    const list = await blob.getBlockBlobClient().getBlockList('committed');
    compare('azure', opt, body, { content_type: props.contentType, blob_type: props.blobType,
      committed_blocks: list.committedBlocks.length });
  } catch (e) {
    if (opt.absent && e.statusCode === 404) {
      console.log(JSON.stringify({ store: 'azure', key: opt.key, present: false }));
      return;
    }
    throw e;
  }
}

async function azureSas(opt) {
  const { generateBlobSASQueryParameters, ContainerSASPermissions } = require('@azure/storage-blob');
  const { cred, service } = azureClient(opt);
  await service.getContainerClient(opt.container).createIfNotExists();
  const sas = generateBlobSASQueryParameters({ containerName: opt.container,
    permissions: ContainerSASPermissions.parse('rcwl'), startsOn: new Date(Date.now() - 60000),
    expiresOn: new Date(Date.now() + 3600 * 1000) }, cred);
  console.log(sas.toString());
}

const commands = { s3, azure, 'azure-sas': azureSas };
const cmd = commands[process.argv[2]];
if (!cmd) { console.error('usage: readback.js s3|azure|azure-sas [options]'); process.exit(2); }
cmd(args()).catch((e) => { console.error(`readback: ${e.name || 'Error'}: ${e.message}`); process.exit(1); });
