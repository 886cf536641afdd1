#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for the local stack (fonts-dejavu-core and,
# for Chinese prompts, fonts-wqy-microhei: the simulators draw prompts on their pictures;
# espeak-ng: the speech simulator speaks real audio; python3-pytest: the Python client's
# tests; python3-pip, -setuptools, -wheel, -venv: `pip install ./clients/python` offline;
# chromium: the web app's browser tests), then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql-15 postgresql-15-cron postgresql-15-pgtap postgresql-15-plpgsql-check
  libtap-parser-sourcehandler-pgtap-perl ffmpeg fonts-dejavu-core fonts-wqy-microhei espeak-ng python3-pytest
  python3-pip python3-setuptools python3-wheel python3-venv chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# `npm install` follows package-lock.json like `npm ci`, but tolerates the optional packages of
# other platforms that this machine's registry mirror does not carry (npm ci refuses those).
npm install --no-audit --no-fund
