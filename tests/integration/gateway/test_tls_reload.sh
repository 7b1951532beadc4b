#!/usr/bin/env bash
# The real binary over HTTPS with a certificate made here, on a private Azurite (run under
# tests/support/with-azurite.sh): start-up errors, TLS 1.2/1.3 only, plain HTTP refused, https
# links (its own and the pass-through's); SIGHUP reloads of the key file (good and bad files) and of the certificate, while a
# held wait and a keep-alive connection stay open across them.
set -u
bin="$1"
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

dir=$(mktemp -d)
pid=""; spid=""; bgpid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; [ -n "$spid" ] && kill $spid 2>/dev/null; [ -n "$bgpid" ] && kill $bgpid 2>/dev/null; rm -rf "$dir"' EXIT
cd "$dir" || exit 1

mkcert() { # name CN: a self-signed P-256 certificate for 127.0.0.1 in name.crt, its key in name.key
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$2" \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$1.key" -out "$1.crt" 2>/dev/null
}
mkcert one gateway-one
mkcert two gateway-two
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
served_fp() { openssl s_client -connect "127.0.0.1:$port" -servername localhost </dev/null 2>/dev/null |
              openssl x509 -noout -fingerprint -sha256 | cut -d= -f2; }
put() { printf '%s' "$2" > "$1.tmp" && mv "$1.tmp" "$1"; } # as a deploy swaps a file: whole, at once

cs="$AZURITE_CONNECTION_STRING"
run() { DG_TASK_HUB= "$bin" --port 0 --connection-string "$cs" --no-auth "$@" 2>&1; }

# ---- start-up errors ----
out=$(run --tls-cert one.crt); rc=$?
check "--tls-cert without --tls-key stops it (exit 2)" '[ $rc -eq 2 ] && grep -q "go together" <<<"$out"'
out=$(run --tls-key one.key); rc=$?
check "--tls-key without --tls-cert stops it (exit 2)" '[ $rc -eq 2 ] && grep -q "go together" <<<"$out"'
out=$(run --tls-cert nothere.crt --tls-key one.key); rc=$?
check "an unreadable certificate stops it" '[ $rc -eq 2 ] && grep -q "nothere.crt: cannot be opened" <<<"$out"'
printf 'not a certificate\n' > junk.crt
out=$(run --tls-cert junk.crt --tls-key one.key); rc=$?
check "a file holding no certificate stops it" '[ $rc -eq 2 ] && grep -q "junk.crt: no PEM certificate" <<<"$out"'
out=$(run --tls-cert one.crt --tls-key one.crt); rc=$?
check "a key file holding no key stops it" '[ $rc -eq 2 ] && grep -q "not an unencrypted PEM private key" <<<"$out"'
out=$(run --tls-cert one.crt --tls-key two.key); rc=$?
check "a key of another certificate stops it, its content never printed" \
    '[ $rc -eq 2 ] && grep -q "is not the key of the certificate" <<<"$out" && ! grep -q "PRIVATE KEY" <<<"$out"'

# ---- serving HTTPS ----
cp one.crt gw.crt; cp one.key gw.key
put keys.json '{"masterKey":["key-one-0123456789abcdef"]}'
log=$dir/gw.log
DG_TASK_HUB= "$bin" --port 0 --connection-string "$cs" --task-hub TlsHub1 --key-file keys.json \
    --tls-cert gw.crt --tls-key gw.key --wait-min-interval-ms 100 > "$log" 2>&1 &
pid=$!
port=""
for i in $(seq 1 100); do
    port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$log")
    [ -n "$port" ] && break
    sleep 0.05
done
check "listens, and says https" '[ -n "$port" ]'
check "a certificate that expires within 14 days is warned about at start" \
    'grep -q "warn .*TLS: the TLS certificate gw.crt expires at 20[0-9-]*T[0-9:]*Z, in [12] day(s)" "$log"'
host="https://127.0.0.1:$port"
B="$host/runtime/webhooks/durabletask"
body=$(curl -sS --cacert one.crt -w ' %{http_code}' "$host/healthz")
check "/healthz over https, the certificate verified against it as CA" '[ "${body##* }" = 200 ]'
v=$(curl -sS --cacert one.crt -o /dev/null -w '%{http_code}' --tlsv1.3 "$host/healthz")
check "TLS 1.3 is served" '[ "$v" = 200 ]'
v=$(curl -sS --cacert one.crt -o /dev/null -w '%{http_code}' --tlsv1.2 --tls-max 1.2 "$host/healthz")
check "TLS 1.2 is served" '[ "$v" = 200 ]'
# The client must be able to speak TLS 1.1 for its refusal to mean anything: OpenSSL's
# default security level refuses it on the client side, so level 0, checked against a
# server that offers 1.1.
old=(--ciphers 'DEFAULT@SECLEVEL=0' --tlsv1.1 --tls-max 1.1)
# The same for TLS 1.2 with a CBC cipher (no AEAD).
cbc=(--tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-AES128-SHA)
control() { # OPENSSL_S_SERVER_FLAGS... -- CURL_FLAGS...: the status a server offering them answers
    local sflags=() cflags=()
    while [ "$1" != -- ]; do sflags+=("$1"); shift; done; shift
    cflags=("$@")
    local sport ok=""
    sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    openssl s_server -quiet "${sflags[@]}" -cert one.crt -key one.key -www -accept "127.0.0.1:$sport" >/dev/null 2>&1 &
    spid=$!
    for i in $(seq 1 300); do # up to 30 s: openssl starts slowly on a loaded machine
        ok=$(curl -s --cacert one.crt "${cflags[@]}" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$sport/") && break
        sleep 0.1
    done
    kill $spid; wait $spid 2>/dev/null; spid=""
    echo "$ok"
}
check "control: this client speaks TLS 1.1 to a server that offers it" \
    '[ "$(control -tls1_1 -cipher "DEFAULT@SECLEVEL=0" -- "${old[@]}")" = 200 ]'
check "control: and TLS 1.2 with a CBC cipher" '[ "$(control -tls1_2 -- "${cbc[@]}")" = 200 ]'
curl -s --cacert one.crt "${old[@]}" -o /dev/null "$host/healthz"; rc11=$?
curl -s --cacert one.crt --ciphers 'DEFAULT@SECLEVEL=0' --tlsv1.0 --tls-max 1.0 -o /dev/null "$host/healthz"; rc10=$?
check "TLS 1.1 and 1.0 are refused in the handshake" '[ $rc11 -eq 35 ] && [ $rc10 -eq 35 ]'
curl -s --cacert one.crt "${cbc[@]}" -o /dev/null "$host/healthz"; rc=$?
check "TLS 1.2 with a CBC cipher is refused" '[ $rc -eq 35 ]'
v=$(curl -s --cacert one.crt --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-ECDSA-CHACHA20-POLY1305 -o /dev/null -w '%{http_code}' "$host/healthz")
check "TLS 1.2 with ChaCha20-Poly1305 is served" '[ "$v" = 200 ]'
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz"); rc=$?
check "plain HTTP on the TLS port fails cleanly (no answer, closed at once)" '[ $rc -ne 0 ] && [ $rc -ne 28 ] && [ "$code" = 000 ]'
v=$(curl -sS --cacert one.crt -o /dev/null -w '%{http_code}' "$host/healthz")
check "and HTTPS is still served after it" '[ "$v" = 200 ]'

hdr=$dir/hdr
body=$(curl -sS --cacert one.crt -D "$hdr" -H 'Content-Type: application/json' -d '"x"' \
    "$B/orchestrators/Hello/tls-1?code=key-one-0123456789abcdef")
check "a start over TLS: 202, links and Location say https://127.0.0.1:$port" \
    'grep -q "^HTTP/1.1 202" "$hdr" && grep -qi "^location: https://127.0.0.1:$port/" "$hdr" &&
     grep -q "\"statusQueryGetUri\":\"https://127.0.0.1:$port/" <<<"$body" &&
     grep -q "\"sendEventPostUri\":\"https://127.0.0.1:$port/" <<<"$body" && ! grep -q "http://" <<<"$body"'

# ---- SIGHUP while a wait is held and a keep-alive connection is open ----
# One curl, two requests on one connection: a wait held across every reload below (the
# instance is Pending: no worker runs it), then a status read on the same connection,
# with the key the reload added.
curl -sS --cacert one.crt -o "$dir/wait.out" -w '%{http_code} %{num_connects} %{time_total}\n' \
    "$B/instances/tls-1/wait?timeout=6&retryInterval=1&code=key-one-0123456789abcdef" \
    --next --cacert one.crt -o "$dir/next.out" -w '%{http_code} %{num_connects}\n' \
    "$B/instances/tls-1?code=key-two-0123456789abcdef" > "$dir/bg.txt" 2>&1 &
bgpid=$!
sleep 1
hups() { grep -c "SIGHUP:" "$log"; }
hup() { # sends SIGHUP and waits until the gateway logged $1 more SIGHUP lines
    local before; before=$(hups)
    kill -HUP $pid
    for i in $(seq 1 100); do [ "$(hups)" -ge $((before + $1)) ] && return 0; sleep 0.05; done
    return 1
}
status() { curl -s --cacert "${2:-one.crt}" -o /dev/null -w '%{http_code}' "$B/instances/tls-1?code=$1"; }
errors() { grep -c "error .*SIGHUP:" "$log"; }

put keys.json '{"masterKey":["key-two-0123456789abcdef"],"readOnlyKeys":["dash-two-0123456789abcdef"]}'
hup 1
check "SIGHUP loads the new key file" 'grep -q "SIGHUP: loaded 2 system key(s) from keys.json" "$log"'
check "a key added takes effect on the next request (202: the instance is Pending)" '[ "$(status key-two-0123456789abcdef)" = 202 ]'
check "a key removed takes effect on the next request" '[ "$(status key-one-0123456789abcdef)" = 401 ]'
check "the new read-only key reads" '[ "$(status dash-two-0123456789abcdef)" = 202 ]'

e0=$(errors)
for bad in 'not json at all' '{}' '{"masterKey":"short"}' '{"masterKey":["key-three-0123456789abcdef"],"bogus":1}'; do
    put keys.json "$bad"
    hup 1
    check "a bad key file ($bad) logs one error and keeps the keys" \
        '[ "$(errors)" -eq $((e0 + 1)) ] && [ "$(status key-two-0123456789abcdef)" = 202 ] &&
         [ "$(status key-three-0123456789abcdef)" = 401 ]'
    e0=$(errors)
done
check "the error says why and that the old keys stay" \
    'grep -q "SIGHUP: keys.json: key file: not a JSON object; the 2 key(s) loaded before stay in force" "$log" &&
     grep -q "keys.json: key file: holds no key" "$log"'
check "no key value ever reaches the log" '! grep -q "key-one-\|key-two-\|key-three-\|dash-two-" "$log"'

# The certificate: swapped files, SIGHUP, and the next handshake serves the new one.
check "before: the first certificate is served" '[ "$(served_fp)" = "$(fp one.crt)" ]'
cp two.crt gw.crt.tmp && mv gw.crt.tmp gw.crt; cp two.key gw.key.tmp && mv gw.key.tmp gw.key
put keys.json '{"masterKey":["key-two-0123456789abcdef"]}'
hup 3 # the keys, the pair, its expiry
check "SIGHUP loads the new certificate, and says when it expires" \
    'grep -q "SIGHUP: loaded the TLS certificate gw.crt" "$log" && grep -q "SIGHUP: the TLS certificate gw.crt expires at" "$log"'
check "the next handshake serves the new certificate" '[ "$(served_fp)" = "$(fp two.crt)" ]'
check "a client trusting the new one connects" '[ "$(status key-two-0123456789abcdef two.crt)" = 202 ]'
check "a client trusting only the old one no longer does" '[ "$(status key-two-0123456789abcdef one.crt)" = 000 ]'
e0=$(errors)
printf 'garbage\n' > gw.crt.tmp && mv gw.crt.tmp gw.crt
hup 2
check "a bad certificate logs one error and the one in force stays" \
    '[ "$(errors)" -eq $((e0 + 1)) ] && grep -q "gw.crt: no PEM certificate.*the certificate loaded before stays in force" "$log" &&
     [ "$(served_fp)" = "$(fp two.crt)" ]'
cp one.crt gw.crt.tmp && mv gw.crt.tmp gw.crt # the first certificate with the second key
e0=$(errors)
hup 2
check "a certificate and key that do not match: one error, the pair in force stays" \
    '[ "$(errors)" -eq $((e0 + 1)) ] && [ "$(served_fp)" = "$(fp two.crt)" ]'

wait $bgpid; bgrc=$?; bgpid=""
read -r wcode wconn wtime ncode nconn < <(tr '\n' ' ' < "$dir/bg.txt")
check "the wait held across the reloads answers at its timeout (202)" \
    '[ $bgrc -eq 0 ] && [ "$wcode" = 202 ] && awk "BEGIN{exit !($wtime >= 5.5)}" && grep -q "\"id\":\"tls-1\"" "$dir/wait.out"'
check "the keep-alive connection open across the reloads serves the next request, with the new key" \
    '[ "$ncode" = 202 ] && [ "$wconn" = 1 ] && [ "$nconn" = 0 ]'

kill -TERM $pid; wait $pid; rc=$?; pid=""
check "SIGTERM still stops it cleanly after the reloads" '[ $rc -eq 0 ]'

# ---- the pass-through over TLS: the app hears https, rewritten links say https ----
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node "$here/../../support/upstream.js" > up.out 2> up.err &
uppid=$!
for i in $(seq 1 100); do grep -q '^port=' up.out 2>/dev/null && break; sleep 0.05; done
uport=$(sed -n 's/^port=//p' up.out)
DG_TASK_HUB= "$bin" --port 0 --connection-string "$cs" --key-file keys.json --tls-cert one.crt --tls-key one.key \
    --upstream "http://127.0.0.1:$uport" --rewrite-upstream-links > gw2.log 2>&1 &
pid=$!
port=""
for i in $(seq 1 100); do
    port=$(sed -n 's/.*listening on https:\/\/127.0.0.1:\([0-9]*\).*/\1/p' gw2.log)
    [ -n "$port" ] && break
    sleep 0.05
done
out=$(curl -s --cacert one.crt "https://127.0.0.1:$port/echo")
check "the app is told X-Forwarded-Proto: https" 'grep -q "\"x-forwarded-proto\":\"https\"" <<<"$out"'
got=$(curl -s --cacert one.crt -D hdr2 -X POST "https://127.0.0.1:$port/start")
check "the app's check-status links and Location are rewritten to https://127.0.0.1:$port" \
    'grep -qi "^location: https://127.0.0.1:$port/runtime/" hdr2 &&
     grep -q "\"statusQueryGetUri\" *: *\"https://127.0.0.1:$port/runtime/" <<<"$got" &&
     grep -q "\"resumePostUri\":\"https:\\\\/\\\\/127.0.0.1:$port\\\\/runtime" <<<"$got" && ! grep -q "http://127.0.0.1:$port" <<<"$got"'
kill -TERM $pid; wait $pid; pid=""
kill $uppid; wait $uppid 2>/dev/null
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
