#!/usr/bin/env bash
# make run: the whole system on embedded defaults (tools/ngic-demo, built by make run).
# Arguments go to ngic-demo (ngic-demo --help lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/ngic-demo --bin ./bin "$@"
