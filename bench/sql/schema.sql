-- Tables shaped like Convoy's, and deterministic row generators for them.
-- Row i of each table is a pure function of i: every load of the same ids
-- produces the same bytes. Content is md5-based (hex text, random binary), so it
-- compresses roughly like real webhook payloads (about 2-3x), not 100x.
CREATE SCHEMA convoy;
CREATE SCHEMA bench;

CREATE TABLE convoy.events (
    id          varchar PRIMARY KEY,
    event_type  text NOT NULL,
    project_id  varchar NOT NULL,
    source_id   varchar,
    headers     jsonb,
    raw         text NOT NULL,
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);

CREATE TABLE convoy.event_deliveries (
    id            varchar PRIMARY KEY,
    event_id      varchar NOT NULL,
    project_id    varchar NOT NULL,
    endpoint_id   varchar,
    status        text NOT NULL,
    metadata      jsonb,
    headers       jsonb,
    cli_metadata  jsonb,
    attempts      bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

CREATE TABLE convoy.delivery_attempts (
    id                    varchar PRIMARY KEY,
    url                   text NOT NULL,
    method                text NOT NULL,
    event_delivery_id     varchar NOT NULL,
    endpoint_id           varchar NOT NULL,
    project_id            varchar NOT NULL,
    request_http_header   jsonb,
    response_http_header  jsonb,
    response_data         bytea,
    error                 text,
    status                boolean,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    deleted_at            timestamptz
);


-- 26-character ULID-like id: "01", 8 hex digits of i (unique), 16 of a hash.
CREATE FUNCTION bench.ulid(kind text, i bigint) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT upper('01' || lpad(to_hex(i), 8, '0') || substr(md5(kind || i::text), 1, 16)) $$;

CREATE FUNCTION bench.h(i bigint, k text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT md5(k || i::text) $$;

CREATE FUNCTION bench.project(i bigint) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT bench.ulid('p', i % 20) $$;

CREATE FUNCTION bench.endpoint(i bigint) RETURNS varchar
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT bench.ulid('n', (i * 7) % 500) $$;

-- About 1 KB of JSON, like a payment provider's webhook body.
CREATE FUNCTION bench.raw(i bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT format(
  '{"id":"evt_%s","object":"event","api_version":"2024-06-20","created":%s,"type":"invoice.%s",'
  '"livemode":false,"pending_webhooks":%s,"request":{"id":"req_%s","idempotency_key":"%s"},'
  '"data":{"object":{"id":"in_%s","object":"invoice","customer":"cus_%s","customer_email":"%s@example.com",'
  '"amount_due":%s,"amount_paid":%s,"currency":"usd","status":"paid","number":"%s",'
  '"hosted_invoice_url":"https://invoice.example.com/i/acct_%s/%s",'
  '"lines":{"object":"list","data":[{"id":"il_%s","amount":%s,"description":"Seat %s","price":{"id":"price_%s","product":"prod_%s"},"quantity":%s},'
  '{"id":"il_%s","amount":%s,"description":"Usage %s","price":{"id":"price_%s","product":"prod_%s"},"quantity":%s}]},'
  '"metadata":{"order_id":"%s","tenant":"%s","trace":"%s"}}}}',
  substr(bench.h(i, 'a'), 1, 24), 1700000000 + i, (ARRAY['paid','created','finalized','voided','updated'])[1 + i % 5],
  i % 4, substr(bench.h(i, 'b'), 1, 14), bench.h(i, 'c'),
  substr(bench.h(i, 'd'), 1, 24), substr(bench.h(i % 5000, 'e'), 1, 14), substr(bench.h(i % 5000, 'f'), 1, 12),
  (i * 7919) % 100000, (i * 7919) % 100000, upper(substr(bench.h(i, 'g'), 1, 12)),
  substr(bench.h(i % 20, 'h'), 1, 16), bench.h(i, 'i') || bench.h(i, 'j'),
  substr(bench.h(i, 'k'), 1, 24), (i * 31) % 10000, bench.h(i, 'l'), substr(bench.h(i % 300, 'm'), 1, 24), substr(bench.h(i % 300, 'o'), 1, 14), 1 + i % 9,
  substr(bench.h(i, 'q'), 1, 24), (i * 37) % 10000, bench.h(i, 'r'), substr(bench.h(i % 300, 's'), 1, 24), substr(bench.h(i % 300, 't'), 1, 14), 1 + i % 7,
  bench.h(i, 'u'), bench.h(i % 20, 'v'), bench.h(i, 'w') || bench.h(i, 'x'))
$$;

-- created_at of loaded row i: t0 (the database's bench.t0 setting) + i * 50 ms;
-- rows of the write-path test (ids from bench.live_ids) are created now().
CREATE FUNCTION bench.at(i bigint) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN i >= 3000000000 THEN now()
                  ELSE current_setting('bench.t0')::timestamptz + i * interval '50 milliseconds' END $$;

-- Inserts events a..b (one statement; the caller decides the transaction).
-- PL/pgSQL, so that each session plans the INSERT once.
CREATE FUNCTION bench.insert_events(a bigint, b bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO convoy.events (id, event_type, project_id, source_id, headers, raw, data,
                           created_at, updated_at, deleted_at)
SELECT bench.ulid('e', i),
       (ARRAY['invoice.paid','invoice.created','charge.succeeded','customer.updated',
              'payment_intent.created','subscription.renewed','refund.issued','payout.paid'])[1 + i % 8],
       bench.project(i),
       bench.ulid('s', i % 50),
       jsonb_build_object('Content-Type', 'application/json',
                          'User-Agent', 'Convoy/24.1',
                          'X-Request-Id', bench.h(i, 'hq'),
                          'X-Signature', 'sha256=' || bench.h(i, 'hs') || bench.h(i, 'ht'),
                          'X-Forwarded-For', '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 97)),
       r.raw,
       convert_to(r.raw, 'UTF8'),
       bench.at(i), bench.at(i), NULL
  FROM generate_series(a, b) AS i, LATERAL (SELECT bench.raw(i) AS raw) AS r;
END
$$;

CREATE FUNCTION bench.insert_deliveries(a bigint, b bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO convoy.event_deliveries (id, event_id, project_id, endpoint_id, status, metadata,
                                     headers, cli_metadata, attempts, created_at, updated_at, deleted_at)
SELECT bench.ulid('d', i),
       bench.ulid('e', i),
       bench.project(i),
       bench.endpoint(i),
       (ARRAY['Success','Success','Success','Failure','Retry','Scheduled'])[1 + i % 6],
       jsonb_build_object('strategy', 'exponential', 'next_send_time', bench.at(i) + interval '20 seconds',
                          'num_trials', i % 5, 'interval_seconds', 20, 'retry_limit', 10,
                          'max_retry_seconds', 7200, 'data_hash', bench.h(i, 'dm')),
       jsonb_build_object('X-Convoy-Idempotency-Key', bench.h(i, 'dk'),
                          'X-Convoy-Event-Id', bench.ulid('e', i),
                          'X-Convoy-Signature', 't=' || (1700000000 + i) || ',v1=' || bench.h(i, 'dv') || bench.h(i, 'dw')),
       jsonb_build_object('event_type', 'invoice.paid', 'host_name', 'cli-' || (i % 10)),
       decode(bench.h(i, 'da') || bench.h(i, 'db') || bench.h(i, 'dc') || bench.h(i, 'dd'), 'hex'),
       bench.at(i), bench.at(i), NULL
  FROM generate_series(a, b) AS i;
END
$$;

CREATE FUNCTION bench.insert_attempts(a bigint, b bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO convoy.delivery_attempts (id, url, method, event_delivery_id, endpoint_id, project_id,
                                      request_http_header, response_http_header, response_data,
                                      error, status, created_at, updated_at, deleted_at)
SELECT bench.ulid('a', i),
       'https://hooks.customer-' || (i % 500) || '.example.com/webhooks/' || substr(bench.h(i % 500, 'u'), 1, 16),
       'POST',
       bench.ulid('d', i),
       bench.endpoint(i),
       bench.project(i),
       jsonb_build_object('Content-Type', 'application/json', 'User-Agent', 'Convoy/24.1',
                          'X-Convoy-Signature', 'v1=' || bench.h(i, 'as'),
                          'X-Convoy-Event-Id', bench.ulid('e', i),
                          'X-Convoy-Delivery-Id', bench.ulid('d', i)),
       jsonb_build_object('Content-Type', 'application/json; charset=utf-8', 'Server', 'nginx/1.25.3',
                          'Date', to_char(bench.at(i), 'Dy, DD Mon YYYY HH24:MI:SS') || ' GMT',
                          'X-Request-Id', bench.h(i, 'ar')),
       convert_to(format('{"received":true,"id":"%s","ts":%s,"echo":"%s%s%s%s%s%s%s%s%s%s%s%s"}',
                         bench.h(i, 'b0'), 1700000000 + i, bench.h(i, 'b1'), bench.h(i, 'b2'), bench.h(i, 'b3'),
                         bench.h(i, 'b4'), bench.h(i, 'b5'), bench.h(i, 'b6'), bench.h(i, 'b7'), bench.h(i, 'b8'),
                         bench.h(i, 'b9'), bench.h(i, 'ba'), bench.h(i, 'bb'), bench.h(i, 'bc')), 'UTF8'),
       CASE WHEN i % 6 = 3 THEN 'dial tcp: i/o timeout' END,
       i % 6 <> 3,
       bench.at(i), bench.at(i), NULL
  FROM generate_series(a, b) AS i;
END
$$;

-- Loads rows first..last of one table in transactions of batch rows, taking
-- every nth batch from offset (so that several sessions can share a load).
CREATE PROCEDURE bench.load(tbl text, first bigint, last bigint, batch int, nth int, off int)
LANGUAGE plpgsql AS $$
DECLARE
    k bigint := 0;
    a bigint := first;
BEGIN
    WHILE a <= last LOOP
        IF k % nth = off THEN
            EXECUTE format('SELECT bench.insert_%s($1, $2)', tbl) USING a, least(a + batch - 1, last);
            COMMIT;
        END IF;
        k := k + 1;
        a := a + batch;
    END LOOP;
END
$$;

-- The write-path transaction of pgbench: one event, one delivery, one attempt.
CREATE SEQUENCE bench.live_ids START 3000000000;
CREATE FUNCTION bench.insert_one() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i bigint := nextval('bench.live_ids');
BEGIN
    PERFORM bench.insert_events(i, i);
    PERFORM bench.insert_deliveries(i, i);
    PERFORM bench.insert_attempts(i, i);
END
$$;
