#!/usr/bin/env bash
# Installs the Debian packages given as arguments, skipping those present.
set -euo pipefail
need=()
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		need+=("$p")
	fi
done
if [ ${#need[@]} -eq 0 ]; then
	echo "deps: all present: $*"
	exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the packaged daemons; the tests start their own on free ports.
for svc in mosquitto snmpd; do
	if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true; fi
done
echo "deps: installed ${need[*]}"
