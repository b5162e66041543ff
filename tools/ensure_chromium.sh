#!/usr/bin/env bash
# Make Debian's Chromium available for the browser tests (Playwright drives it through executable_path;
# never `playwright install`, which downloads a browser). Prints the path; exit 1 with the reason if it cannot.
set -euo pipefail
for c in chromium chromium-browser; do
  if p=$(command -v "$c"); then echo "$p"; exit 0; fi
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  command -v chromium && exit 0
fi
echo "chromium not found and could not be installed (needs root and apt-get): install Debian's chromium package" >&2
exit 1
