#!/usr/bin/env bash
# deploy/ under the validators that run here without Docker or a cluster, then the facts no
# schema knows (check_deploy.py). usage: test_deploy.sh GATEWAY_BINARY
#   yamllint (Debian)              every YAML file of deploy/, rules in yamllint.yaml
#   docker-compose config (Debian) deploy/compose.yaml against the Compose file schema
#   dockerfile-utils (npm)         deploy/Dockerfile: instructions, flags and arguments
#   kubernetes-models (npm)        every object of deploy/kubernetes/ against the API's OpenAPI schema
# scripts/setup.sh installs all four (the npm ones into tests/deploy/node_modules).
set -u
bin="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); echo "PASS $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }

for tool in yamllint docker-compose python3 node; do
    command -v "$tool" >/dev/null || { echo "FAIL $tool is missing: run scripts/setup.sh"; exit 1; }
done
[ -d "$here/node_modules/kubernetes-models" ] && [ -d "$here/node_modules/dockerfile-utils" ] ||
    { echo "FAIL tests/deploy/node_modules is missing: run scripts/setup.sh"; exit 1; }

yamls=$(find "$root/deploy" -name '*.yaml' -o -name '*.yml' | sort)
check "yamllint: every YAML file of deploy/" 'yamllint -s -c "$here/yamllint.yaml" $yamls'
check "docker-compose config: deploy/compose.yaml is a valid Compose file" \
    '(cd "$root/deploy" && docker-compose -f compose.yaml config -q)'
check "dockerfile-utils lint: deploy/Dockerfile" \
    'node "$here/node_modules/dockerfile-utils/bin/dockerfile-utils" lint "$root/deploy/Dockerfile"'
check "kubernetes-models: every object of deploy/kubernetes/ is valid" \
    'python3 -c "
import json, sys, yaml
print(json.dumps([[f, d] for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d]))
" $(find "$root/deploy/kubernetes" -name "*.yaml" | sort) | (cd "$here" && node validate_k8s.mjs)'
check "the facts of check_deploy.py" 'python3 "$here/check_deploy.py" "$root" "$bin"'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
