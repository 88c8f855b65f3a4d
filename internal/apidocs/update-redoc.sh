#!/usr/bin/env bash
# Fetches bundles/redoc.standalone.js of the npm package redoc at the
# version pinned in apidocs.go and compares it with the vendored copy.
#   ./update-redoc.sh -check   fail unless the vendored file is exactly the
#                              published one with the pinned SHA-256
#   ./update-redoc.sh          replace the vendored file (then update
#                              RedocSHA256 in apidocs.go to the printed digest)
set -euo pipefail
cd "$(dirname "$0")"
version=$(sed -n 's/^const RedocVersion = "\(.*\)"$/\1/p' apidocs.go)
pinned=$(sed -n 's/^const RedocSHA256 = "\(.*\)"$/\1/p' apidocs.go)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "redoc@$version" >/dev/null && tar xzf "redoc-$version.tgz")
fetched="$tmp/package/bundles/redoc.standalone.js"
digest=$(sha256sum "$fetched" | cut -d' ' -f1)
echo "redoc@$version bundles/redoc.standalone.js sha256 $digest"
if [ "${1:-}" = "-check" ]; then
  [ "$digest" = "$pinned" ] || { echo "npm's redoc@$version is not the pinned digest $pinned"; exit 1; }
  cmp -s "$fetched" redoc.standalone.js || { echo "vendored redoc.standalone.js differs from redoc@$version"; exit 1; }
  echo "vendored redoc.standalone.js is redoc@$version"
  exit 0
fi
cp "$fetched" redoc.standalone.js
cp "$tmp/package/bundles/redoc.standalone.js.LICENSE.txt" redoc.standalone.js.LICENSE.txt
cp "$tmp/package/LICENSE" LICENSE.redoc
echo "updated; set RedocSHA256 = \"$digest\" in apidocs.go"
