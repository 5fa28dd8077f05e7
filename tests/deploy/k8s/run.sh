#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# ctest's entry to validate.mjs. deploy/setup.sh installs node and the npm packages; a tree set
# up before they were needed gets the packages here (npm ci: pinned by package-lock.json).
#   run.sh DEPLOY_K8S_DIR EDGEGW_BINARY
here=$(dirname "$0")
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "k8s manifests: node/npm not found: run deploy/setup.sh (Debian's nodejs and npm)" >&2
    exit 1
fi
if ! cmp -s "$here/package-lock.json" "$here/node_modules/.edgegw-lock" 2>/dev/null; then
    echo "k8s manifests: npm ci in $here (deploy/setup.sh does this too)"
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || {
        echo "k8s manifests: npm ci failed in $here" >&2
        exit 1
    }
    cp "$here/package-lock.json" "$here/node_modules/.edgegw-lock"
fi
exec node "$here/validate.mjs" "$@"
