#!/usr/bin/env node
// Bucket and container chores for tests, done with the official SDKs, so that
// what the extension wrote is listed and read by independent clients.
//
//   node objects.js s3-create-bucket --endpoint URL --bucket B
//   node objects.js s3-download --endpoint URL --bucket B [--prefix P] --out DIR
//        (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN)
//   node objects.js s3-upload --endpoint URL --bucket B --prefix P --dir DIR
//   node objects.js s3-delete --endpoint URL --bucket B --key K
//   node objects.js azure-container-exists --endpoint URL --container C
//   node objects.js azure-download --endpoint URL --container C [--prefix P] --out DIR
//   node objects.js azure-upload --endpoint URL --container C --prefix P --dir DIR
//   node objects.js azure-delete --endpoint URL --container C --key K
//        (AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY)
//
// The upload commands store every file below DIR under P + its path relative
// to DIR (the container is created when missing) and print one JSON line per
// object: for the core to list and read back what the SDKs wrote.
// The download commands list every object under the prefix (all pages), write
// each one to DIR/<key> (directories created as needed; the body is streamed,
// never held in memory whole) and print one JSON line per object: key, size,
// content type, and for Azure the blob type and the number of committed blocks.
// azure-container-exists prints {"exists":true|false}. The delete commands
// remove one object (the TAP tests break a backup with them). Exits 1 on any
// error.
'use strict';
// Node 18 (Debian 12's nodejs) has Web Crypto only as require('node:crypto').webcrypto;
// @azure/storage-blob expects the global that node 20 provides.
if (typeof globalThis.crypto === 'undefined') globalThis.crypto = require('node:crypto').webcrypto;
const fs = require('node:fs');
const path = require('node:path');
const { pipeline } = require('node:stream/promises');

function args() {
  const a = process.argv.slice(3), out = {};
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  return out;
}

// DIR/<key>, refusing keys that would leave DIR.
function target(dir, key) {
  const file = path.resolve(dir, key);
  if (!file.startsWith(path.resolve(dir) + path.sep)) throw new Error(`unsafe key ${JSON.stringify(key)}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return file;
}

function s3Client(opt) {
  const { S3Client } = require('@aws-sdk/client-s3');
  return new S3Client({ endpoint: opt.endpoint, region: opt.region || 'us-east-1',
    forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
      ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}

async function s3CreateBucket(opt) {
  const { CreateBucketCommand } = require('@aws-sdk/client-s3');
  await s3Client(opt).send(new CreateBucketCommand({ Bucket: opt.bucket }));
  console.log(JSON.stringify({ store: 's3', bucket: opt.bucket, created: true }));
}

async function s3Download(opt) {
  const { ListObjectsV2Command, GetObjectCommand } = require('@aws-sdk/client-s3');
  const client = s3Client(opt);
  let token;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: opt.bucket,
      Prefix: opt.prefix || undefined, ContinuationToken: token }));
    for (const o of page.Contents || []) {
      const r = await client.send(new GetObjectCommand({ Bucket: opt.bucket, Key: o.Key }));
      const file = target(opt.out, o.Key);
      await pipeline(r.Body, fs.createWriteStream(file));
      console.log(JSON.stringify({ store: 's3', key: o.Key, size: fs.statSync(file).size,
        listed_size: o.Size, content_type: r.ContentType }));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

// Every file below dir, as paths relative to it with '/', sorted.
function filesBelow(dir, rel = '') {
  const out = [];
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    if (fs.statSync(path.join(dir, child)).isDirectory()) out.push(...filesBelow(dir, child));
    else out.push(child);
  }
  return out;
}

async function s3Upload(opt) {
  const { PutObjectCommand } = require('@aws-sdk/client-s3');
  const client = s3Client(opt);
  for (const rel of filesBelow(opt.dir)) {
    const body = fs.readFileSync(path.join(opt.dir, rel));
    await client.send(new PutObjectCommand({ Bucket: opt.bucket, Key: opt.prefix + rel, Body: body }));
    console.log(JSON.stringify({ store: 's3', key: opt.prefix + rel, size: body.length }));
  }
}

async function azureUpload(opt) {
  const container = azureContainer(opt);
  await container.createIfNotExists();
  for (const rel of filesBelow(opt.dir)) {
    const file = path.join(opt.dir, rel);
    await container.getBlockBlobClient(opt.prefix + rel).uploadFile(file);
    console.log(JSON.stringify({ store: 'azure', key: opt.prefix + rel, size: fs.statSync(file).size }));
  }
}

async function s3Delete(opt) {
  const { DeleteObjectCommand } = require('@aws-sdk/client-s3');
  await s3Client(opt).send(new DeleteObjectCommand({ Bucket: opt.bucket, Key: opt.key }));
  console.log(JSON.stringify({ store: 's3', key: opt.key, deleted: true }));
}

async function azureDelete(opt) {
  await azureContainer(opt).getBlockBlobClient(opt.key).delete();
  console.log(JSON.stringify({ store: 'azure', key: opt.key, deleted: true }));
}

function azureContainer(opt) {
  const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
  const cred = new StorageSharedKeyCredential(process.env.AZURE_STORAGE_ACCOUNT, process.env.AZURE_STORAGE_KEY);
  return new BlobServiceClient(opt.endpoint, cred, { retryOptions: { maxTries: 1 } })
    .getContainerClient(opt.container);
}

async function azureContainerExists(opt) {
  console.log(JSON.stringify({ store: 'azure', container: opt.container,
    exists: await azureContainer(opt).exists() }));
}

async function azureDownload(opt) {
  const container = azureContainer(opt);
  for await (const item of container.listBlobsFlat({ prefix: opt.prefix || undefined })) {
    const blob = container.getBlockBlobClient(item.name);
    const file = target(opt.out, item.name);
    const r = await blob.download();
    await pipeline(r.readableStreamBody, fs.createWriteStream(file));
    const list = await blob.getBlockList('committed');
    console.log(JSON.stringify({ store: 'azure', key: item.name, size: fs.statSync(file).size,
      listed_size: item.properties.contentLength, content_type: item.properties.contentType,
      blob_type: item.properties.blobType, committed_blocks: list.committedBlocks.length }));
  }
}

const commands = { 's3-create-bucket': s3CreateBucket, 's3-download': s3Download,
  's3-upload': s3Upload, 's3-delete': s3Delete, 'azure-container-exists': azureContainerExists,
  'azure-download': azureDownload, 'azure-upload': azureUpload, 'azure-delete': azureDelete };
const cmd = commands[process.argv[2]];
if (!cmd) { console.error(`usage: objects.js ${Object.keys(commands).join('|')} [options]`); process.exit(2); }
cmd(args()).catch((e) => { console.error(`objects: ${e.name || 'Error'}: ${e.message}`); process.exit(1); });
