# Shared by the front-end benchmarks (bench/frontend.sh, bench/proxy.sh):
# process control, bench_load result fields, CPU accounting, the stand-in
# service and nginx as the reference proxy. Sourced from the repository root;
# the caller sets $work (a scratch directory), $standin_bin and, for
# start_standin's messages, $bench (its own name).

bench_need_nginx() { # installs what the benchmark needs when missing; sets $nginx_bin
    local missing=() sudo=""
    command -v cmake >/dev/null 2>&1 || missing+=(setup)
    dpkg-query -W -f='${Status}' nginx-light 2>/dev/null | grep -q "install ok installed" || missing+=(nginx-light)
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    if [[ " ${missing[*]} " == *" setup "* ]]; then
        bash scripts/setup.sh >/dev/null
    fi
    if [[ " ${missing[*]} " == *" nginx-light "* ]]; then
        echo "${bench:-bench}: installing nginx-light"
        $sudo apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nginx-light >/dev/null
    fi
    nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
}

stop_pid() { # pid [grace-s]: TERM, then KILL after the grace
    local p="$1" i
    [ -n "$p" ] || return 0
    kill "$p" 2>/dev/null || return 0
    for i in $(seq $((${2:-3} * 20))); do
        kill -0 "$p" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    return 0
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
field() { # name line: the value of name=... in a bench_load result line
    local kv
    for kv in $2; do [ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return; }; done
    echo 0
}
json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$2"; }
cpu_ticks() { # pid...: utime+stime of each, summed
    local t=0 p s
    for p in "$@"; do
        s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
        s=${s##*) } # fields after the command name
        set -- $s
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}
calc() { python3 -c "import sys; print($1)"; }

# ---- the stand-in (bench/frontend/standin.c): restarted on the same port, so nginx's upstream stays valid ----
standin_pid="" sport=0
start_standin() { # bench_standin options
    stop_pid "$standin_pid" 1
    : >"$work/standin.out"
    "$standin_bin" --port "$sport" "$@" >"$work/standin.out" 2>>"$work/standin.log" &
    standin_pid=$!
    for _ in $(seq 100); do grep -q '^port=' "$work/standin.out" && break; sleep 0.02; done
    sport=$(sed -n 's/^port=//p' "$work/standin.out")
    [ -n "$sport" ] || { echo "${bench:-bench}: bench_standin did not start"; cat "$work/standin.log"; exit 2; }
}
standin_stats() { curl -s --max-time 2 "http://127.0.0.1:$sport/__stats"; }

# ---- nginx: proxy_pass to 127.0.0.1:PORT over kept-alive upstream connections ----
nginx_pid="" nport=0
start_nginx() { # upstream-port: sets $nport
    nport=$(free_port)
    mkdir -p "$work/nginx-tmp"
    local hard
    hard=$(ulimit -Hn)
    [ "$hard" = unlimited ] && hard=65536
    cat >"$work/nginx.conf" <<NGINX
daemon off;
worker_processes 2;  # the gateway's two event loops
worker_rlimit_nofile $hard;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 24576; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $work/nginx-tmp/body;
    proxy_temp_path $work/nginx-tmp/proxy;
    fastcgi_temp_path $work/nginx-tmp/fastcgi;
    uwsgi_temp_path $work/nginx-tmp/uwsgi;
    scgi_temp_path $work/nginx-tmp/scgi;
    keepalive_requests 1000000;
    upstream standin {
        server 127.0.0.1:$1;
        keepalive 1024;
        keepalive_requests 1000000;
    }
    server {
        listen 127.0.0.1:$nport reuseport backlog=4096;
        location / {
            proxy_pass http://standin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGINX
    "$nginx_bin" -p "$work" -c "$work/nginx.conf" -e "$work/nginx-error.log" 2>>"$work/nginx-error.log" &
    nginx_pid=$!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$nport/__stats" && break; sleep 0.05; done
    curl -fs -o /dev/null "http://127.0.0.1:$nport/__stats" || {
        echo "${bench:-bench}: nginx did not start"
        cat "$work/nginx-error.log"
        return 1
    }
}
nginx_pids() { ps -o pid= --ppid "$nginx_pid" | tr '\n' ' '; }
