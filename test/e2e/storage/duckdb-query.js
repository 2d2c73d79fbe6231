#!/usr/bin/env node
// Runs SQL in an in-memory DuckDB (@duckdb/node-api), so that a test can read
// the objects the extension wrote with the statements docs/archive-analytics.md
// shows (TAP test 018).
//
//   node duckdb-query.js SETUP_FILE [QUERY ...]
//
// Runs every statement of SETUP_FILE, then each QUERY, and prints one line of
// JSON per QUERY: the array of its rows as objects, in the JSON form of
// getRowObjectsJson() (BIGINT, HUGEINT and DECIMAL as strings; NaN and
// Infinity as the strings "NaN", "Infinity" and "-Infinity").
// DuckDB runs with TimeZone UTC and without installing or loading extensions
// on its own: nothing is fetched from the network, and only the built-in json
// extension is used. Exits 1 on any error, with DuckDB's message on stderr.
'use strict';
const fs = require('node:fs');
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [setupFile, ...queries] = process.argv.slice(2);
  if (!setupFile) throw new Error('usage: duckdb-query.js SETUP_FILE [QUERY ...]');
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(fs.readFileSync(setupFile, 'utf8'));
  for (const query of queries) {
    const reader = await connection.runAndReadAll(query);
    process.stdout.write(JSON.stringify(reader.getRowObjectsJson()) + '\n');
  }
  connection.closeSync();
  instance.closeSync();
}

main().catch((err) => {
  process.stderr.write(`duckdb-query: ${err.message}\n`);
  process.exit(1);
});
