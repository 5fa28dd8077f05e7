#!/bin/sh
# ctest's entry to validate.mjs: says what to do when node or the npm packages are missing.
#   run.sh DEPLOY_K8S_DIR EDGEGW_BINARY
here=$(dirname "$0")
if ! command -v node >/dev/null; then
    echo "k8s manifests: node not found: run deploy/setup.sh (Debian's nodejs and npm)" >&2
    exit 1
fi
if [ ! -d "$here/node_modules/kubernetes-models" ]; then
    echo "k8s manifests: $here/node_modules missing: run deploy/setup.sh (npm ci there)" >&2
    exit 1
fi
exec node "$here/validate.mjs" "$@"
