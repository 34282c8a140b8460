#!/usr/bin/env bash
# make run: the edge gateway on embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
exec ./bin/ngic-edge demo
