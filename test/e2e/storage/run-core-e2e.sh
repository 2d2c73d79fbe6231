#!/usr/bin/env bash
# End-to-end test of the core's S3 and Azure clients (src/core/storage/{s3,azure})
# against loopback emulators, read back with the official SDKs.
#
# - S3: s3rver behind s3-sigv4-proxy.js, which re-signs every request with
#   @smithy/signature-v4 and checks payload hashes and Content-MD5 (s3rver
#   itself accepts any signature).
# - Azure: Azurite's blob service, which checks Shared Key signatures and
#   Content-MD5 itself (strict mode: no --loose).
# - Uploads go through convoy_storage_put (built by CMake from the core); objects
#   are read back with @aws-sdk/client-s3 and @azure/storage-blob (readback.js).
# - Reading back: objects the SDKs upload (objects.js) are listed by the core
#   (`convoy_storage_put list`, several pages) and read back byte for byte
#   (`convoy_storage_put get`, gzip members decompressed with --gunzip), and
#   so are the objects the core wrote itself.
#
# Everything listens on 127.0.0.1 only, on ports the system picks. Exits non-zero
# if any check fails, and ends with "N passed, N failed".
#
# Environment: CONVOY_BUILD_DIR (default <repo>/build) holds or receives the
# CMake build; CONVOY_STORAGE_PUT may point at a built convoy_storage_put.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=${CONVOY_BUILD_DIR:-$repo/build}
export NODE_NO_WARNINGS=1 # the AWS SDK warns about node 20 on every start

passed=0
failed=0
pids=()
work=$(mktemp -d "${TMPDIR:-/tmp}/convoy-storage-e2e.XXXXXX")

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

log() { printf '%s\n' "$*"; }
pass() {
    passed=$((passed + 1))
    log "ok - $1"
}
fail() {
    failed=$((failed + 1))
    log "not ok - $1"
    shift
    local line
    for line in "$@"; do
        [ -n "$line" ] && printf '    %s\n' "$line"
    done
}

# --- prerequisites ----------------------------------------------------------

if [ ! -d "$here/node_modules" ]; then
    log "# installing the emulators and SDKs (npm ci)"
    npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 || {
        cat "$work/npm.log"
        log "0 passed, 1 failed"
        exit 1
    }
fi

put=${CONVOY_STORAGE_PUT:-$build/convoy_storage_put}
if [ ! -x "$put" ] || [ -n "$(find "$repo/src/core" "$here/cli" -newer "$put" -name '*.[ch]pp' 2>/dev/null | head -1)" ]; then
    log "# building convoy_storage_put in $build"
    { cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
        cmake --build "$build" --target convoy_storage_put -j"$(nproc)"; } >"$work/build.log" 2>&1 || {
        tail -40 "$work/build.log"
        log "0 passed, 1 failed"
        exit 1
    }
    put=$build/convoy_storage_put
fi

free_port() {
    node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_port() { # port seconds
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# --- emulators --------------------------------------------------------------

s3_key_id=AKIDCONVOYE2E
s3_secret="e2e/Secret+Key=$RANDOM$RANDOM"
s3_token="FQoGZXIvYXdzE2E//token+$RANDOM=="
bucket=backups

# A throwaway certificate for 127.0.0.1, to check TLS verification and --ca-file.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" \
    >"$work/openssl.log" 2>&1 || {
    cat "$work/openssl.log"
    log "0 passed, 1 failed"
    exit 1
}

S3_PROXY_SECRET=$s3_secret S3_PROXY_SESSION_TOKEN=$s3_token \
    node --openssl-legacy-provider "$here/s3-sigv4-proxy.js" --port 0 --dir "$work/s3rver" \
    --bucket "$bucket" --access-key "$s3_key_id" --log "$work/s3-requests.jsonl" \
    --tls-cert "$work/tls-cert.pem" --tls-key "$work/tls-key.pem" \
    >"$work/s3.out" 2>"$work/s3.err" &
s3_pid=$!
pids+=("$s3_pid")

az_port=$(free_port)
az_account=devstoreaccount1
az_key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
container=backups
node "$here/node_modules/azurite/dist/src/blob/main.js" --blobHost 127.0.0.1 --blobPort "$az_port" \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry --silent \
    >"$work/azurite.out" 2>&1 &
az_pid=$!
pids+=("$az_pid")

s3_port=
for _ in $(seq 1 100); do
    s3_port=$(awk '/^ready /{print $2}' "$work/s3.out" 2>/dev/null)
    [ -n "$s3_port" ] && break
    sleep 0.1
done
if [ -z "$s3_port" ] || ! wait_port "$az_port" 20; then
    cat "$work/s3.err" "$work/azurite.out"
    log "emulators did not start"
    log "0 passed, 1 failed"
    exit 1
fi
s3_endpoint=http://127.0.0.1:$s3_port
s3_tls_endpoint=https://127.0.0.1:$(awk '/^ready-tls /{print $2}' "$work/s3.out")
az_endpoint=http://127.0.0.1:$az_port/$az_account
log "# s3rver + SigV4 checker on $s3_endpoint, Azurite on $az_endpoint"

# --- helpers ----------------------------------------------------------------

fast_retries=(--retries 2 --retry-base-ms 50 --retry-max-ms 200 --connect-timeout-ms 2000 --timeout-ms 30000)

# s3_put KEY FILE [extra args...]: uploads; leaves exit status in $rc, output in $out
s3_put() {
    local key=$1 file=$2
    shift 2
    out=$(AWS_ACCESS_KEY_ID=$s3_key_id AWS_SECRET_ACCESS_KEY=${S3_SECRET:-$s3_secret} \
        AWS_SESSION_TOKEN=${S3_TOKEN:-} timeout 300 "$put" --backend s3 --endpoint "$s3_endpoint" \
        --bucket "$bucket" --path-style --key "$key" "${fast_retries[@]}" "$@" <"$file" 2>&1)
    rc=$?
}
az_put() {
    local key=$1 file=$2
    shift 2
    out=$(AZURE_STORAGE_ACCOUNT=$az_account AZURE_STORAGE_KEY=${AZ_KEY-$az_key} \
        AZURE_STORAGE_SAS_TOKEN=${AZ_SAS:-} timeout 300 "$put" --backend azure \
        --endpoint "$az_endpoint" --container "$container" --key "$key" "${fast_retries[@]}" \
        "$@" <"$file" 2>&1)
    rc=$?
}
s3_read() { # KEY FILE [--absent]
    AWS_ACCESS_KEY_ID=$s3_key_id AWS_SECRET_ACCESS_KEY=$s3_secret \
        timeout 120 node "$here/readback.js" s3 --endpoint "$s3_endpoint" --bucket "$bucket" \
        --key "$1" --expect "$2" "${@:3}" 2>&1
}
az_read() { # KEY FILE [--absent]
    AZURE_STORAGE_ACCOUNT=$az_account AZURE_STORAGE_KEY=$az_key \
        timeout 120 node "$here/readback.js" azure --endpoint "$az_endpoint" \
        --container "$container" --key "$1" --expect "$2" "${@:3}" 2>&1
}
# The proxy's log of the requests for one object path: "METHOD query-keys status" lines.
s3_requests() {
    node -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
        for (const l of lines) { const e = JSON.parse(l);
          if (e.path === process.argv[2] && !e.query.includes("x-id"))
            console.log([e.method, e.query.join("&") || "-", e.status].join(" ")); }' \
        "$work/s3-requests.jsonl" "/$bucket/$1"
}
# s3_core CMD [args...] / az_core CMD [args...]: runs convoy_storage_put list or
# get; standard output in $work/core.out, standard error in $err, status in $rc.
s3_core() {
    local cmd=$1
    shift
    AWS_ACCESS_KEY_ID=$s3_key_id AWS_SECRET_ACCESS_KEY=$s3_secret timeout 300 "$put" "$cmd" \
        --backend s3 --endpoint "$s3_endpoint" --bucket "$bucket" --path-style \
        "${fast_retries[@]}" "$@" >"$work/core.out" 2>"$work/core.err"
    rc=$?
    err=$(cat "$work/core.err")
}
az_core() {
    local cmd=$1
    shift
    AZURE_STORAGE_ACCOUNT=$az_account AZURE_STORAGE_KEY=${AZ_KEY-$az_key} \
        AZURE_STORAGE_SAS_TOKEN=${AZ_SAS:-} timeout 300 "$put" "$cmd" --backend azure \
        --endpoint "$az_endpoint" --container "$container" "${fast_retries[@]}" "$@" \
        >"$work/core.out" 2>"$work/core.err"
    rc=$?
    err=$(cat "$work/core.err")
}
# "size key" lines for every file below DIR, keys prefixed with PREFIX, in byte order.
expected_listing() { # DIR PREFIX
    (cd "$1" && find . -type f -printf "%s $2%P\n") | LC_ALL=C sort -k2
}
# ListObjectsV2 requests the proxy saw: "pages with-token" counts.
s3_list_pages() {
    node -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
        let pages = 0, tokens = 0;
        for (const l of lines) { const e = JSON.parse(l);
          if (e.method === "GET" && e.query.includes("list-type") && e.status === 200) {
            pages++; if (e.query.includes("continuation-token")) tokens++; } }
        console.log(pages + " " + tokens);' "$work/s3-requests.jsonl"
}
# read_back KIND KEY FILE [args...]: gets KEY with s3_core or az_core and
# compares it with FILE; leaves "ok" or why not in $why.
read_back() {
    local kind=$1 key=$2 file=$3
    shift 3
    "${kind}_core" get --key "$key" "$@"
    if [ $rc -ne 0 ]; then
        why="get $key: rc=$rc $err"
    elif ! cmp -s "$work/core.out" "$file"; then
        why="get $key: $(stat -c %s "$work/core.out") bytes differ from $file ($(stat -c %s "$file") bytes)"
    else
        why=ok
    fi
}

no_secret_in() { # TEXT: none of the secrets may appear in it
    local s
    for s in "$s3_secret" "$s3_token" "$az_key" "${AZ_SAS_SIG:-unset-sig}"; do
        case $1 in *"$s"*) return 1 ;; esac
    done
    return 0
}
elapsed_ms() { echo $(($(date +%s%3N) - $1)); }

# --- test data --------------------------------------------------------------

printf '{"id":1,"at":"2024-05-01T12:00:00Z"}\n{"id":2,"note":"x=y:z"}\n' | gzip -c >"$work/small.jsonl.gz"
head -c 12582912 /dev/urandom >"$work/big.bin"  # 12 MiB: parts of 5 + 5 + 2 MiB
: >"$work/empty"
part=5242880
colon_key='backup/2024-05-01/events/date=2024-05-01/2024-05-01T12:00:00Z.jsonl.gz'

# Objects the SDKs upload for the core to read back: JSON Lines in gzip, one of
# them of two members (as GzipWriter writes them), a key with "%2F" in it, a
# 12 MiB one and an empty one. Seven objects: three pages of three.
sdk=$work/sdk
mkdir -p "$sdk/2024-05-01/convoy.events" "$sdk/2024-05-01/convoy.other" "$sdk/2024-05-02/convoy.events"
rows() { seq "$1" "$2" | awk '{printf "{\"id\":%d,\"note\":\"row %d at 2024-05-01T12:00:00Z\"}\n", $1, $1 * 7919}'; }
rows 1 60000 >"$work/rows-a.jsonl"
rows 60001 90000 >"$work/rows-b.jsonl"
cat "$work/rows-a.jsonl" "$work/rows-b.jsonl" >"$work/rows-ab.jsonl"
gzip -c "$work/rows-a.jsonl" >"$sdk/2024-05-01/convoy.events/2024-05-01T12:00:00Z.jsonl.gz"
{ gzip -c "$work/rows-a.jsonl"; gzip -c "$work/rows-b.jsonl"; } >"$sdk/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz"
gzip -c "$work/rows-b.jsonl" >"$sdk/2024-05-01/convoy.other/2024-05-01T12:00:00Z.jsonl.gz"
printf '{"id":1}\n' | gzip -c >"$sdk/2024-05-02/convoy.events/2024-05-02T00:00:00Z.jsonl.gz"
head -c 1000 /dev/urandom >"$sdk/a%2Fb.bin"
cp "$work/big.bin" "$sdk/big.bin"
: >"$sdk/empty"

# --- S3 ---------------------------------------------------------------------

s3_put "$colon_key" "$work/small.jsonl.gz" --prefix /convoy/e2e/
r=$(s3_read "convoy/e2e/$colon_key" "$work/small.jsonl.gz")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]] && [[ $r == *'"content_type":"application/gzip"'* ]] &&
    [ "$(s3_requests "convoy/e2e/$colon_key")" = "PUT - 200" ]; then
    pass "s3: small object, key with ':' and '=', one signed PUT, read back by the AWS SDK"
else
    fail "s3: small object" "$out" "$r" "$(s3_requests "convoy/e2e/$colon_key")"
fi

s3_put "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin" --part-size $part
r=$(s3_read "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin")
reqs=$(s3_requests "big/2024-05-01T12:00:00Z=multi.bin" | tr '\n' ',')
want="POST uploads 200,PUT partNumber&uploadId 200,PUT partNumber&uploadId 200,PUT partNumber&uploadId 200,POST uploadId 200,"
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]] && [ "$reqs" = "$want" ]; then
    pass "s3: 12 MiB multipart upload (3 parts of <= 5 MiB), every request signature-checked"
else
    fail "s3: multipart upload" "$out" "$r" "requests: $reqs"
fi

s3_put "empty:object" "$work/empty"
r=$(s3_read "empty:object" "$work/empty")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]]; then
    pass "s3: empty object"
else
    fail "s3: empty object" "$out" "$r"
fi

S3_TOKEN=$s3_token s3_put "token/obj" "$work/small.jsonl.gz"
rc_good=$rc out_good=$out
r=$(s3_read "token/obj" "$work/small.jsonl.gz")
S3_TOKEN="wrong-token" s3_put "token/bad" "$work/small.jsonl.gz"
if [ $rc_good -eq 0 ] && [[ $r == *'"match":true'* ]] && [ $rc -eq 3 ] && no_secret_in "$out_good$out"; then
    pass "s3: session token is sent and signed (and a wrong one is refused)"
else
    fail "s3: session token" "$out_good" "$r" "$out"
fi

start=$(date +%s%3N)
S3_SECRET="not-the-secret" s3_put "auth/bad" "$work/big.bin" --part-size $part
ms=$(elapsed_ms "$start")
reqs=$(s3_requests "auth/bad" | tr '\n' ',')
if [ $rc -eq 3 ] && [[ $out == *'[storage_auth]'* ]] && [[ $out == *SignatureDoesNotMatch* ]] &&
    [ "$reqs" = "POST uploads 403," ] && [ "$ms" -lt 5000 ] && no_secret_in "$out"; then
    pass "s3: wrong secret fails fast with storage_auth, not retried (${ms} ms)"
else
    fail "s3: wrong secret" "rc=$rc after ${ms} ms" "$out" "requests: $reqs"
fi

s3_put "aborted/obj" "$work/big.bin" --part-size $part --abort
reqs=$(s3_requests "aborted/obj" | tr '\n' ',')
r=$(s3_read "aborted/obj" "$work/big.bin" --absent)
if [ $rc -eq 0 ] && [[ $reqs == *"DELETE uploadId 204,"* ]] && [[ $reqs != *"POST uploadId"* ]] &&
    [[ $r == *'"present":false'* ]]; then
    pass "s3: abort after parts sends AbortMultipartUpload and leaves no object"
else
    fail "s3: abort" "$out" "$r" "requests: $reqs"
fi

s3_endpoint_plain=$s3_endpoint
s3_endpoint=$s3_tls_endpoint
s3_put "tls/obj" "$work/small.jsonl.gz" --ca-file "$work/tls-cert.pem"
rc_good=$rc out_good=$out
start=$(date +%s%3N)
s3_put "tls/untrusted" "$work/small.jsonl.gz"
ms=$(elapsed_ms "$start")
s3_endpoint=$s3_endpoint_plain
r=$(s3_read "tls/obj" "$work/small.jsonl.gz")
reqs=$(s3_requests "tls/untrusted")
if [ $rc_good -eq 0 ] && [[ $r == *'"match":true'* ]] && [ $rc -eq 4 ] &&
    [[ $out == *'certificate could not be verified'* ]] && [ -z "$reqs" ] && [ "$ms" -lt 5000 ]; then
    pass "s3: HTTPS with --ca-file works; an untrusted certificate is refused, not retried"
else
    fail "s3: TLS verification" "$out_good" "$r" "rc=$rc after ${ms} ms: $out"
fi

# --- S3: reading back ---------------------------------------------------------

out=$(AWS_ACCESS_KEY_ID=$s3_key_id AWS_SECRET_ACCESS_KEY=$s3_secret timeout 120 \
    node "$here/objects.js" s3-upload --endpoint "$s3_endpoint" --bucket "$bucket" \
    --prefix read/sdk/ --dir "$sdk" 2>&1)
up_rc=$?
s3_core list --prefix read --list-prefix sdk/ --page-size 3
pages=$(s3_list_pages)
want=$(expected_listing "$sdk" sdk/)
got=$(LC_ALL=C sort -k2 "$work/core.out")
if [ $up_rc -eq 0 ] && [ $rc -eq 0 ] && [ "$got" = "$want" ] && [ "${pages% *}" -ge 3 ] &&
    [ "${pages#* }" -ge 2 ]; then
    pass "s3: the core lists the 7 objects the AWS SDK uploaded, 3 a page (${pages% *} pages, ${pages#* } continuation tokens), without the prefix"
else
    fail "s3: list SDK objects" "$out" "rc=$rc $err" "pages/continuations: $pages" "got:" "$got" "want:" "$want"
fi

cp "$work/core.out" "$work/s3-listing"
whys=
while read -r _ key; do
    read_back s3 "$key" "$sdk/${key#sdk/}" --prefix read --read-buffer 16384
    [ "$why" = ok ] || whys+="$why; "
done <"$work/s3-listing"
if [ -z "$whys" ] && [ "$(wc -l <"$work/s3-listing")" -eq 7 ]; then
    pass "s3: the core reads every SDK object back byte for byte (16 KiB buffer, 12 MiB object included)"
else
    fail "s3: get SDK objects" "$whys"
fi

gz_key=sdk/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz
read_back s3 "$gz_key" "$work/rows-ab.jsonl" --prefix read --gunzip --sha256
want_sha=$(sha256sum "$sdk/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz" | cut -d' ' -f1)
if [ "$why" = ok ] && [[ $err == *"sha256 $want_sha bytes "* ]]; then
    pass "s3: a two-member gzip object decompresses whole (GzipReader) and hashes as sha256sum does"
else
    fail "s3: gunzip" "$why" "$err" "want sha256 $want_sha"
fi

whys=
read_back s3 "$colon_key" "$work/small.jsonl.gz" --prefix /convoy/e2e/
[ "$why" = ok ] || whys+="$why; "
read_back s3 "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin" --read-buffer 4096
[ "$why" = ok ] || whys+="$why; "
read_back s3 "empty:object" "$work/empty"
[ "$why" = ok ] || whys+="$why; "
s3_core list --prefix convoy/e2e --page-size 1
if [ -z "$whys" ] && [ "$(cat "$work/core.out")" = "$(stat -c %s "$work/small.jsonl.gz") $colon_key" ]; then
    pass "s3: the core lists and reads back what it wrote (single PUT, multipart, empty)"
else
    fail "s3: core objects read back" "$whys" "list: $(cat "$work/core.out") $err"
fi

s3_core get --prefix read --key sdk/missing.jsonl.gz
s3_core_missing_rc=$rc s3_core_missing_err=$err
s3_core list --prefix read --list-prefix nothing/
if [ $s3_core_missing_rc -eq 8 ] && [[ $s3_core_missing_err == *'[not_found]'* ]] &&
    [[ $s3_core_missing_err == *'object "read/sdk/missing.jsonl.gz" does not exist'* ]] &&
    [ $rc -eq 0 ] && [ ! -s "$work/core.out" ]; then
    pass "s3: a missing object is not_found under its stored name; an empty listing is empty"
else
    fail "s3: not found / empty" "rc=$s3_core_missing_rc $s3_core_missing_err" "list rc=$rc $(cat "$work/core.out")"
fi

s3_endpoint=$s3_tls_endpoint
read_back s3 "tls/obj" "$work/small.jsonl.gz" --ca-file "$work/tls-cert.pem"
tls_why=$why
s3_core get --key tls/obj
s3_endpoint=$s3_endpoint_plain
if [ "$tls_why" = ok ] && [ $rc -eq 4 ] && [[ $err == *'certificate could not be verified'* ]]; then
    pass "s3: reading over HTTPS verifies the certificate as uploads do"
else
    fail "s3: TLS read" "$tls_why" "rc=$rc $err"
fi

# --- Azure ------------------------------------------------------------------

az_put "$colon_key" "$work/small.jsonl.gz" --prefix convoy/e2e
r=$(az_read "convoy/e2e/$colon_key" "$work/small.jsonl.gz")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]] && [[ $r == *'"content_type":"application/gzip"'* ]] &&
    [[ $r == *'"blob_type":"BlockBlob"'* ]]; then
    pass "azure: creates the container, small object with ':' and '=' via Put Blob, read back by the Azure SDK"
else
    fail "azure: small object" "$out" "$r"
fi

az_put "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin" --part-size $part
r=$(az_read "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]] && [[ $r == *'"committed_blocks":3'* ]]; then
    pass "azure: 12 MiB via Put Block x3 + Put Block List, Shared Key checked by Azurite"
else
    fail "azure: block upload" "$out" "$r"
fi

az_put "empty:object" "$work/empty"
r=$(az_read "empty:object" "$work/empty")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]]; then
    pass "azure: empty object"
else
    fail "azure: empty object" "$out" "$r"
fi

sas=$(AZURE_STORAGE_ACCOUNT=$az_account AZURE_STORAGE_KEY=$az_key \
    node "$here/readback.js" azure-sas --endpoint "$az_endpoint" --container "$container" 2>&1)
AZ_SAS_SIG=$(printf '%s' "$sas" | tr '&' '\n' | sed -n 's/^sig=//p')
AZ_KEY= AZ_SAS="?$sas" az_put "sas/2024-05-01T12:00:00Z.bin" "$work/big.bin" --part-size $part
r=$(az_read "sas/2024-05-01T12:00:00Z.bin" "$work/big.bin")
if [ $rc -eq 0 ] && [[ $r == *'"match":true'* ]] && no_secret_in "$out"; then
    pass "azure: container SAS instead of the account key"
else
    fail "azure: SAS" "$out" "$r"
fi

start=$(date +%s%3N)
AZ_KEY=$(head -c 64 /dev/urandom | base64 -w0) az_put "auth/bad" "$work/small.jsonl.gz"
ms=$(elapsed_ms "$start")
if [ $rc -eq 3 ] && [[ $out == *'[storage_auth]'* ]] && [[ $out == *'HTTP status 403'* ]] &&
    [ "$ms" -lt 5000 ] && no_secret_in "$out"; then
    pass "azure: wrong account key fails fast with storage_auth (${ms} ms)"
else
    fail "azure: wrong key" "rc=$rc after ${ms} ms" "$out"
fi

az_put "aborted/obj" "$work/big.bin" --part-size $part --abort
r=$(az_read "aborted/obj" "$work/big.bin" --absent)
if [ $rc -eq 0 ] && [[ $r == *'"present":false'* ]]; then
    pass "azure: abort after blocks leaves no blob"
else
    fail "azure: abort" "$out" "$r"
fi

# --- Azure: reading back ------------------------------------------------------

out=$(AZURE_STORAGE_ACCOUNT=$az_account AZURE_STORAGE_KEY=$az_key timeout 120 \
    node "$here/objects.js" azure-upload --endpoint "$az_endpoint" --container "$container" \
    --prefix read/sdk/ --dir "$sdk" 2>&1)
up_rc=$?
az_core list --prefix read --list-prefix sdk/ --page-size 3
want=$(expected_listing "$sdk" sdk/)
got=$(LC_ALL=C sort -k2 "$work/core.out")
ordered=$(cut -d' ' -f2- "$work/core.out")
if [ $up_rc -eq 0 ] && [ $rc -eq 0 ] && [ "$got" = "$want" ] &&
    [ "$ordered" = "$(printf '%s\n' "$ordered" | LC_ALL=C sort)" ]; then
    pass "azure: the core lists the 7 blobs the Azure SDK uploaded, 3 a page, in byte order, without the prefix"
else
    fail "azure: list SDK blobs" "$out" "rc=$rc $err" "got:" "$got" "want:" "$want"
fi

cp "$work/core.out" "$work/az-listing"
whys=
while read -r _ key; do
    read_back az "$key" "$sdk/${key#sdk/}" --prefix read --read-buffer 16384
    [ "$why" = ok ] || whys+="$why; "
done <"$work/az-listing"
read_back az "$gz_key" "$work/rows-ab.jsonl" --prefix read --gunzip
[ "$why" = ok ] || whys+="$why; "
if [ -z "$whys" ] && [ "$(wc -l <"$work/az-listing")" -eq 7 ]; then
    pass "azure: the core reads every SDK blob back byte for byte, and a two-member gzip blob decompressed"
else
    fail "azure: get SDK blobs" "$whys"
fi

whys=
read_back az "$colon_key" "$work/small.jsonl.gz" --prefix convoy/e2e
[ "$why" = ok ] || whys+="$why; "
read_back az "big/2024-05-01T12:00:00Z=multi.bin" "$work/big.bin" --read-buffer 4096
[ "$why" = ok ] || whys+="$why; "
read_back az "empty:object" "$work/empty"
[ "$why" = ok ] || whys+="$why; "
az_core get --prefix read --key sdk/missing.jsonl.gz
if [ -z "$whys" ] && [ $rc -eq 8 ] && [[ $err == *'object "read/sdk/missing.jsonl.gz" does not exist'* ]]; then
    pass "azure: the core reads back what it wrote (Put Blob, blocks, empty); a missing blob is not_found"
else
    fail "azure: core blobs read back" "$whys" "rc=$rc $err"
fi

AZ_KEY= AZ_SAS="$sas" az_core list --prefix read --list-prefix sdk/2024-05-01/ --page-size 1
sas_list=$(cut -d' ' -f2- "$work/core.out" | tr '\n' ',')
AZ_KEY= AZ_SAS="$sas" read_back az "sdk/a%2Fb.bin" "$sdk/a%2Fb.bin" --prefix read
want_list="sdk/2024-05-01/convoy.events/2024-05-01T12:00:00Z.jsonl.gz,sdk/2024-05-01/convoy.events/2024-05-01T13:00:00Z.jsonl.gz,sdk/2024-05-01/convoy.other/2024-05-01T12:00:00Z.jsonl.gz,"
if [ "$sas_list" = "$want_list" ] && [ "$why" = ok ] && no_secret_in "$err"; then
    pass "azure: listing (one name a page) and reading with a container SAS"
else
    fail "azure: SAS read" "list: $sas_list" "$why" "$err"
fi

# --- stopped emulators --------------------------------------------------------

kill "$s3_pid" "$az_pid" 2>/dev/null
wait "$s3_pid" "$az_pid" 2>/dev/null
start=$(date +%s%3N)
s3_put "down/obj" "$work/small.jsonl.gz"
ms=$(elapsed_ms "$start")
if [ $rc -eq 4 ] && [[ $out == *'[storage_unavailable]'* ]] && [[ $out == *'Gave up after 3 attempts.'* ]]; then
    pass "s3: stopped emulator gives storage_unavailable after 3 attempts (${ms} ms)"
else
    fail "s3: stopped emulator" "rc=$rc" "$out"
fi
az_put "down/obj" "$work/small.jsonl.gz"
if [ $rc -eq 4 ] && [[ $out == *'[storage_unavailable]'* ]] && [[ $out == *'Gave up after 3 attempts.'* ]]; then
    pass "azure: stopped emulator gives storage_unavailable after 3 attempts"
else
    fail "azure: stopped emulator" "rc=$rc" "$out"
fi

if [ -s "$work/s3.err" ] && grep -qv 'refused' "$work/s3.err"; then
    log "# s3 proxy stderr:"
    sed 's/^/#   /' "$work/s3.err"
fi

log "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
