#!/usr/bin/env python3
"""The facts deploy/ must keep (run by tests/deploy/test_deploy.sh).

usage: check_deploy.py REPO_ROOT GATEWAY_BINARY

Parses every YAML and JSON file under deploy/, then checks what the schemas cannot: that the
files agree with each other and with the binary (its flags, its defaults, the libraries it
links), and that the Kubernetes objects keep the promises README "Deploying" makes. Prints one
line per check and exits 1 when any fails.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

import yaml

ROOT, GATEWAY = sys.argv[1], sys.argv[2]
DEPLOY = os.path.join(ROOT, "deploy")
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + str(detail)))
    return ok


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


# --- the binary: its options, their environment names and defaults --------------------------

help_text = subprocess.run([GATEWAY, "--help"], capture_output=True, text=True, check=True).stdout
FLAGS, ENVS, DEFAULTS = set(), {}, {}
for line in help_text.splitlines():
    m = re.match(r"\s+--([a-z0-9-]+)\s", line)
    if not m:
        continue
    FLAGS.add(m.group(1))
    env = re.search(r"\(env ([A-Za-z_0-9]+)\)", line)
    if env:
        ENVS[env.group(1)] = m.group(1)
    default = re.search(r"\[default: ([0-9]+)\]", line)
    if default:
        DEFAULTS[m.group(1)] = int(default.group(1))
check("durable-gateway --help lists its options", {"port", "shutdown-grace-ms", "wait-max-timeout-ms"} <= FLAGS)


def flags_in(tokens):
    """{flag: value or None} of the --flag=value / --flag value tokens of a command line."""
    out, i = {}, 0
    while i < len(tokens):
        t = tokens[i]
        if t.startswith("--"):
            name, eq, value = t[2:].partition("=")
            if not eq and i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                value, i = tokens[i + 1], i + 1
            out[name] = value if (eq or value) else None
        i += 1
    return out


def check_flags(where, tokens):
    used = flags_in(tokens)
    unknown = sorted(set(used) - FLAGS)
    check(f"{where}: every flag is one durable-gateway accepts ({', '.join(sorted(used)) or 'none'})",
          not unknown, unknown)
    return used


def check_envs(where, names):
    dg = [n for n in names if n.startswith("DG_")]
    unknown = sorted(n for n in dg if n not in ENVS)
    check(f"{where}: every DG_ variable is one durable-gateway reads", not unknown, unknown)


# --- every YAML and JSON file parses -----------------------------------------------------------

docs = {}
for dirpath, _, files in os.walk(DEPLOY):
    for fn in sorted(files):
        path = os.path.join(dirpath, fn)
        rel = os.path.relpath(path, ROOT)
        if fn.endswith((".yaml", ".yml")):
            try:
                docs[rel] = [d for d in yaml.safe_load_all(read(path)) if d is not None]
                check(f"{rel} parses as YAML ({len(docs[rel])} document(s))", docs[rel])
            except yaml.YAMLError as e:
                check(f"{rel} parses as YAML", False, e)
        elif fn.endswith(".json") and fn != "keys.json":  # deploy/keys.json: the user's own, ignored by git
            try:
                json.loads(read(path))
                check(f"{rel} parses as JSON", True)
            except ValueError as e:
                check(f"{rel} parses as JSON", False, e)

# --- Dockerfile ------------------------------------------------------------------------------

instrs = []  # (stage index, INSTRUCTION, arguments)
stage = -1
for logical in re.sub(r"\\\n", " ", read(os.path.join(DEPLOY, "Dockerfile"))).splitlines():
    logical = logical.strip()
    if not logical or logical.startswith("#"):
        continue
    word, _, rest = logical.partition(" ")
    word = word.upper()
    if word == "FROM":
        stage += 1
    instrs.append((stage, word, rest.strip()))
last = stage
froms = [a for _, w, a in instrs if w == "FROM"]
final = [(w, a) for s, w, a in instrs if s == last]
check("Dockerfile: multi-stage (a build stage, then the runtime)", len(froms) >= 2, froms)
check("Dockerfile: the runtime is Debian 12 slim", re.fullmatch(r"debian:(12|bookworm)-slim", froms[-1]), froms[-1])
build_names = [a.split()[-1] for a in froms[:-1] if " as " in a.lower()]
check("Dockerfile: the runtime copies the binary from the build stage",
      any(w == "COPY" and re.search(r"--from=(\S+)", a) and re.search(r"--from=(\S+)", a).group(1) in build_names
          and "durable-gateway" in a for w, a in final))

runs = " ".join(a for w, a in final if w == "RUN")
apt = re.search(r"apt-get install (.*?)(&&|$)", runs)
runtime_pkgs = set(t for t in (apt.group(1).split() if apt else []) if not t.startswith("-"))
image_env = {}
for w, a in final:
    if w == "ENV":
        for tok in shlex.split(a):
            k, _, v = tok.partition("=")
            image_env[k] = v
check_envs("Dockerfile ENV", image_env)
users = [a for w, a in final if w == "USER"]
user = users[-1] if users else "root"
useradd = re.search(r"useradd (.*?)(&&|$)", runs)
uid = None
if useradd:
    m = re.search(r"--uid (\d+)", useradd.group(1))
    uid = int(m.group(1)) if m else None
    created = useradd.group(1).split()[-1]
else:
    created = None
check("Dockerfile: runs as a named user created in the image, not root",
      user not in ("root", "0") and not user.split(":")[0].isdigit() and user == created, (user, created))
check("Dockerfile: that user has a fixed non-zero uid (the manifests' runAsUser)", uid and uid != 0, uid)

health = [a for w, a in final if w == "HEALTHCHECK"]
check("Dockerfile: HEALTHCHECK probes /healthz", health and "/healthz" in health[-1], health)
tool = re.search(r"CMD\s+\[?\"?(\S+?)\"?[\s,]", health[-1] if health else "")
check("Dockerfile: the HEALTHCHECK's tool is installed in the runtime",
      tool and tool.group(1) in runtime_pkgs, (tool and tool.group(1), sorted(runtime_pkgs)))
port = image_env.get("DG_PORT", str(DEFAULTS["port"]))
check("Dockerfile: the HEALTHCHECK asks the port the gateway listens on",
      health and ("${DG_PORT}" in health[-1] or f":{port}/" in health[-1]), health)
check("Dockerfile: EXPOSE is that port", any(w == "EXPOSE" and a.split("/")[0] == port for w, a in final))
check("Dockerfile: listens beyond loopback", image_env.get("DG_LISTEN") == "0.0.0.0", image_env.get("DG_LISTEN"))
entry = [a for w, a in final if w in ("ENTRYPOINT", "CMD")]
check_flags("Dockerfile ENTRYPOINT/CMD", [t for a in entry for t in json.loads(a)])

# Every library the binary links directly comes from a package the runtime installs (libc6 is
# in every Debian image).
needed = re.findall(r"\(NEEDED\).*\[(.+)\]", subprocess.run(["readelf", "-d", GATEWAY], capture_output=True,
                                                               text=True, check=True).stdout)
ldd = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(["ldd", GATEWAY], capture_output=True,
                                                            text=True).stdout, re.M))
missing = []
for so in needed:
    path = os.path.realpath(ldd.get(so, so))
    owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
    if owner.returncode:
        owner = subprocess.run(["dpkg", "-S", ldd.get(so, so)], capture_output=True, text=True)
    pkg = owner.stdout.split(":")[0] if owner.returncode == 0 else "?"
    if pkg != "libc6" and pkg not in runtime_pkgs:
        missing.append(f"{so} ({pkg})")
check(f"Dockerfile: the runtime installs the package of every library the binary links ({len(needed)})",
      needed and not missing, missing)

# --- .dockerignore: only the sources, and all of them --------------------------------------------

ignore = [l.strip() for l in read(os.path.join(ROOT, ".dockerignore")).splitlines()
          if l.strip() and not l.startswith("#")]
let_in = [l[1:] for l in ignore[1:] if l.startswith("!")]
check(".dockerignore: leaves out everything but a list of sources",
      ignore[:1] == ["*"] and len(let_in) == len(ignore) - 1, ignore)
cmake = read(os.path.join(ROOT, "CMakeLists.txt"))
compiled = sorted(set(re.findall(r"(?<![\w/])([a-z]+)/[a-z_0-9]+\.c\b", cmake.split("include(CTest)")[0])))
check(".dockerignore: lets in CMakeLists.txt and every folder it compiles from",
      "CMakeLists.txt" in let_in and set(compiled) <= set(let_in), (compiled, let_in))
check(".dockerignore: keeps keys and local state out", not {".durable-gateway", "deploy", ".azurite"} & set(let_in))
# The build stage's configure step, over exactly what the context would hold.
with tempfile.TemporaryDirectory() as ctx:
    for p in let_in:
        src = os.path.join(ROOT, p)
        subprocess.run(["cp", "-r", src, os.path.join(ctx, p)], check=True)
    conf = subprocess.run(["cmake", "-S", ctx, "-B", os.path.join(ctx, "_build"), "-DCMAKE_BUILD_TYPE=Release",
                           "-DBUILD_TESTING=OFF"], capture_output=True, text=True)
    check("the Dockerfile's cmake configure runs over the context .dockerignore leaves", conf.returncode == 0,
          conf.stderr[-2000:])

# --- compose.yaml ------------------------------------------------------------------------------

compose = docs.get("deploy/compose.yaml", [{}])[0]
services = compose.get("services", {})
gw = services.get("gateway", {})
check("compose: a gateway service built from deploy/Dockerfile",
      gw.get("build", {}).get("dockerfile") == "deploy/Dockerfile"
      and os.path.realpath(os.path.join(DEPLOY, gw["build"].get("context", "."))) == os.path.realpath(ROOT))
gw_env = gw.get("environment", {})
check_envs("compose environment", gw_env)
conn = gw_env.get("AzureWebJobsStorage", "")
proxy = re.search(r"DevelopmentStorageProxyUri=https?://([^:/;]+)", conn)
azurite = [n for n, s in services.items() if "azurite" in str(s.get("image", "")) + str(s.get("command", ""))]
check("compose: the gateway's storage is the Azurite service", proxy and proxy.group(1) in azurite, (conn, azurite))
lock = json.loads(read(os.path.join(ROOT, "package-lock.json")))
pinned = lock["packages"]["node_modules/azurite"]["version"]
check(f"compose: Azurite is the version the tests use ({pinned})",
      azurite and str(services[azurite[0]].get("image", "")).endswith(":" + pinned))
key_file = gw_env.get("DG_KEY_FILE", image_env.get("DG_KEY_FILE"))
mounts = [v for v in gw.get("volumes", []) if isinstance(v, dict)]
check("compose: the key file is mounted read-only where DG_KEY_FILE points",
      any(v.get("target") == key_file and v.get("read_only") for v in mounts), (key_file, mounts))
check_flags("compose gateway command", gw.get("command", []) if isinstance(gw.get("command"), list)
            else shlex.split(gw.get("command", "")))

# --- Kubernetes --------------------------------------------------------------------------------

kube = [d for rel, ds in docs.items() if rel.startswith("deploy/kubernetes/") for d in ds]
kind = {}
for d in kube:
    kind.setdefault(d.get("kind"), []).append(d)
dep = kind.get("Deployment", [{}])[0]
pod = dep.get("spec", {}).get("template", {}).get("spec", {})
labels = dep.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
ctr = (pod.get("containers") or [{}])[0]


def selects(selector):
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


replicas = dep.get("spec", {}).get("replicas")
check("kubernetes: the Deployment runs two replicas", replicas == 2, replicas)
check("kubernetes: the Deployment's selector matches its pods", selects(dep.get("spec", {}).get("selector")))
pdb = kind.get("PodDisruptionBudget", [{}])[0].get("spec", {})
check("kubernetes: the PodDisruptionBudget selects the Deployment's pods", selects(pdb.get("selector")))
check("kubernetes: the PodDisruptionBudget keeps one up and lets one go",
      (pdb.get("minAvailable", 0) >= 1 and pdb.get("minAvailable") < (replicas or 0))
      or (pdb.get("maxUnavailable", 0) >= 1), pdb)
svc = kind.get("Service", [{}])[0].get("spec", {})
check("kubernetes: the Service selects the Deployment's pods", selects({"matchLabels": svc.get("selector")}))

args = ctr.get("args", []) + ctr.get("command", [])[1:]
used = check_flags("kubernetes container args", args)
env = {e["name"]: e for e in ctr.get("env", [])}
check_envs("kubernetes env", env)


def setting(flag):
    """The value the container runs with: its args, its env, the image's ENV, the default."""
    if used.get(flag) is not None:
        return int(used[flag])
    envname = next(n for n, f in ENVS.items() if f == flag)
    if envname in env and "value" in env[envname]:
        return int(env[envname]["value"])
    if envname in image_env:
        return int(image_env[envname])
    return DEFAULTS[flag]


listen_port = setting("port")
ports = {p.get("name"): p.get("containerPort") for p in ctr.get("ports", [])}
check("kubernetes: the container port is the port the gateway listens on", listen_port in ports.values(),
      (ports, listen_port))


def port_of(ref):
    return ports.get(ref) if isinstance(ref, str) else ref


for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
    get = ctr.get(probe, {}).get("httpGet", {})
    check(f"kubernetes: {probe} is GET {path} on the gateway's port",
          get.get("path") == path and port_of(get.get("port")) == listen_port, get)
check("kubernetes: the Service sends to the gateway's port",
      all(port_of(p.get("targetPort")) == listen_port for p in svc.get("ports", [])) and svc.get("ports"))

grace_s = pod.get("terminationGracePeriodSeconds", 30)
pre = ctr.get("lifecycle", {}).get("preStop", {})
pre_ms = 0
if "exec" in pre and pre["exec"]["command"][:1] == ["sleep"]:
    pre_ms = int(float(pre["exec"]["command"][1]) * 1000)
elif "sleep" in pre:
    pre_ms = int(pre["sleep"]["seconds"]) * 1000
shutdown_ms = setting("shutdown-grace-ms")
wait_max_ms = setting("wait-max-timeout-ms")
# After SIGTERM: held waits answered at once, running requests get the grace, answers 1 s to leave.
need = pre_ms + shutdown_ms + 1000
check(f"kubernetes: termination grace {grace_s} s > preStop {pre_ms} ms + shutdown grace {shutdown_ms} ms + 1 s",
      grace_s * 1000 > need)
check(f"kubernetes: termination grace {grace_s} s > the longest held wait ({wait_max_ms} ms)",
      grace_s * 1000 > wait_max_ms)

psc, csc = pod.get("securityContext", {}), ctr.get("securityContext", {})
check("kubernetes: runs as non-root, as the image's user",
      psc.get("runAsNonRoot") is True and psc.get("runAsUser") == uid, (psc, uid))
check("kubernetes: read-only root filesystem, no privilege escalation",
      csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False, csc)
res = ctr.get("resources", {})
check("kubernetes: cpu and memory requests and limits",
      all(k in res.get(w, {}) for w in ("requests", "limits") for k in ("cpu", "memory")), res)

secrets = {s["metadata"]["name"]: s for s in kind.get("Secret", [])}
ref = env.get("AzureWebJobsStorage", {}).get("valueFrom", {}).get("secretKeyRef", {})
conn_secret = secrets.get(ref.get("name"), {}).get("stringData", {})
check("kubernetes: the connection string comes from the example Secret's key", ref.get("key") in conn_secret, ref)
kube_key_file = env.get("DG_KEY_FILE", {}).get("value", image_env.get("DG_KEY_FILE"))
vols = {v["name"]: v for v in pod.get("volumes", [])}
key_mount = [m for m in ctr.get("volumeMounts", []) if m.get("mountPath") == os.path.dirname(kube_key_file)]
key_vol = vols.get(key_mount[0]["name"], {}) if key_mount else {}
key_secret = secrets.get(key_vol.get("secret", {}).get("secretName"), {}).get("stringData", {})
check("kubernetes: the key file is a Secret mounted read-only where DG_KEY_FILE points",
      key_mount and key_mount[0].get("readOnly") and os.path.basename(kube_key_file) in key_secret,
      (kube_key_file, key_mount, key_vol))

# The example Secrets hold placeholders, and the gateway refuses to start with either.
values = list(conn_secret.values()) + list(key_secret.values())
check("kubernetes example Secrets: every value is a placeholder",
      values and all("REPLACE-ME" in v for v in values))
with tempfile.TemporaryDirectory() as tmp:
    good_keys = os.path.join(tmp, "good.json")
    with open(good_keys, "w") as f:
        json.dump({"masterKey": "a-test-key-of-32-characters-long"}, f)
    example_keys = os.path.join(tmp, "example.json")
    with open(example_keys, "w") as f:
        f.write(key_secret.get("keys.json", "{}"))
    for what, conn_s, keys in (("connection string", conn_secret.get("AzureWebJobsStorage", ""), good_keys),
                               ("key file", "UseDevelopmentStorage=true", example_keys)):
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("DG_")}
        run_env["AzureWebJobsStorage"] = conn_s
        try:
            r = subprocess.run([GATEWAY, "--listen", "127.0.0.1", "--port", "0", "--key-file", keys],
                               capture_output=True, text=True, env=run_env, timeout=10)
            refused = r.returncode != 0 and what.split()[0] in r.stderr
            detail = r.stderr.strip()
        except subprocess.TimeoutExpired:
            refused, detail = False, "it started"
        check(f"kubernetes example Secrets: the gateway refuses the example {what}", refused, detail)

# --- systemd unit ------------------------------------------------------------------------------

unit = read(os.path.join(DEPLOY, "durable-gateway.service"))
exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1)
unit_flags = check_flags("systemd ExecStart", shlex.split(exec_start)[1:])
stop = re.search(r"^TimeoutStopSec=(\d+)", unit, re.M)
unit_grace = int(unit_flags.get("shutdown-grace-ms") or DEFAULTS["shutdown-grace-ms"])
check("systemd: TimeoutStopSec > shutdown grace + 1 s", stop and int(stop.group(1)) * 1000 > unit_grace + 1000)

failed = results.count(False)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
