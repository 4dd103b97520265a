#!/usr/bin/env bash
# Regenerates data/netdb/netdb.bin from the pinned @ip-location-db/asn npm package.
#
#   data/netdb/generate.sh            # uses the pinned version below
#   NETDB_PACKAGE_VERSION=2.3.X data/netdb/generate.sh
#
# Needs npm (only to download the package tarball from the registry), tar and cargo.
# The CSVs and the tarball stay in a temporary directory that is removed on exit; only
# the derived netdb.bin is written into the repository.
set -euo pipefail

PINNED_VERSION="2.3.2026061719"
VERSION="${NETDB_PACKAGE_VERSION:-$PINNED_VERSION}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetching @ip-location-db/asn@$VERSION" >&2
(cd "$work" && npm pack --silent "@ip-location-db/asn@$VERSION" >/dev/null)
tar -xzf "$work"/ip-location-db-asn-"$VERSION".tgz -C "$work"

cargo run --quiet --release --manifest-path "$root/Cargo.toml" -p servedby-netdb \
    --bin netdb-gen -- "$work/package" "$here/netdb.bin"
