#!/usr/bin/env bash
# Builds switchman's release packages for Linux x64, from this checkout:
#   <output>/switchman-VERSION-linux-x64.tar.gz   the binary, the systemd unit, a configuration, completion, the docs
#   <output>/switchman_VERSION_amd64.deb          the same installed as a Debian service (built with dpkg-deb)
# VERSION is <Version> from Directory.Build.props. What the packages hold and why: docs/install.md.
#
# The binary is self-contained (no .NET needed on the host) and one file. It is ReadyToRun, as bench/failover.sh
# publishes it: the code is compiled ahead, so the CLI and the completion start in less than half the time, a node is
# ready sooner, and its first requests (a standby's, just after it takes a VIP) do not wait for the JIT; it costs
# ~40 MB and four times the CPU to build. It is not trimmed: the admin API, the change log and the cluster's state
# serialize JSON by reflection, which trimming breaks (38 trim warnings, IL2026). Figures: docs/install.md.
#
# Usage: bash eng/package.sh [--output DIR] [--no-ready-to-run]
#   --output DIR        where the packages go (default: artifacts/package)
#   --no-ready-to-run   the same packages with code the JIT compiles at start: a quarter of the CPU time to build (the
#                       packaging tests use it to stay short); releases are built without it
set -euo pipefail
cd "$(dirname "$0")/.."

output=artifacts/package
ready_to_run=true
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output=${2:?--output needs a directory}; shift 2 ;;
    --no-ready-to-run) ready_to_run=false; shift ;;
    *) echo "usage: bash eng/package.sh [--output DIR] [--no-ready-to-run]" >&2; exit 2 ;;
  esac
done

for tool in dotnet dpkg-deb tar gzip; do
  command -v "$tool" >/dev/null || { echo "package.sh: $tool is needed and not in PATH" >&2; exit 1; }
done

version=$(dotnet msbuild src/Switchman/Switchman.csproj -getProperty:Version -nologo)
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
  echo "package.sh: <Version> '$version' is not MAJOR.MINOR.PATCH[-PRERELEASE]" >&2
  exit 1
fi
# Debian sorts '~' before anything, as SemVer sorts a prerelease before its release: 1.0.0~rc.1 < 1.0.0.
deb_version=${version/-/\~}
# Every file in both packages carries the last commit's time, so that two builds of one commit differ only where the
# compiler's output does.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

mkdir -p "$output"
output=$(cd "$output" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

echo "package.sh: publishing switchman $version (Release, linux-x64, self-contained, single file, ReadyToRun: $ready_to_run)"
# DebugType=embedded: a stack trace in a bug report still has its line numbers, with no .pdb beside the binary.
dotnet publish src/Switchman/Switchman.csproj -c Release -r linux-x64 --self-contained \
  -p:PublishSingleFile=true -p:PublishReadyToRun=$ready_to_run -p:DebugType=embedded \
  -o "$stage/publish" --nologo -v quiet
binary=$stage/publish/switchman
"$binary" --version >/dev/null

# Lays out, under $1, what both packages share apart from the binary: docs, examples and the copyright notes.
copy_docs() {
  install -d -m 0755 "$1" "$1/design" "$1/examples"
  install -m 0644 docs/*.md "$1/"
  install -m 0644 docs/design/*.md "$1/design/"
  cp -r examples/. "$1/examples/"
  install -m 0644 packaging/copyright "$1/copyright"
}

# The tarball: one directory, named as the archive.
name=switchman-$version-linux-x64
tree=$stage/$name
install -d -m 0755 "$tree"
install -m 0755 "$binary" "$tree/switchman"
install -m 0644 packaging/switchman.yaml "$tree/switchman.yaml"
install -m 0644 packaging/switchman.service "$tree/switchman.service"
install -m 0644 packaging/completion/switchman.bash "$tree/switchman.bash"
sed "s/@VERSION@/$version/g" packaging/tarball/README.md > "$tree/README.md"
copy_docs "$tree/docs"

# The .deb: the tree as installed, then DEBIAN/ (control, conffiles, maintainer scripts, md5sums).
root=$stage/deb
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/switchman" \
  "$root/usr/share/bash-completion/completions"
install -m 0755 "$binary" "$root/usr/bin/switchman"
install -m 0644 packaging/switchman.service "$root/lib/systemd/system/switchman.service"
install -m 0644 packaging/switchman.yaml "$root/etc/switchman/switchman.yaml"
install -m 0644 packaging/completion/switchman.bash "$root/usr/share/bash-completion/completions/switchman"
copy_docs "$root/usr/share/doc/switchman"
install -m 0644 packaging/deb/conffiles "$root/DEBIAN/conffiles"
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$root/DEBIAN/"
# dpkg checks conffiles by its own hashes: md5sums lists the other files (dpkg --verify, debsums).
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
  > "$root/DEBIAN/md5sums"
installed_kib=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$deb_version/" -e "s/@INSTALLED_SIZE@/$installed_kib/" packaging/deb/control > "$root/DEBIAN/control"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

find "$stage/$name" "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
tarball=$output/$name.tar.gz
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner -C "$stage" -cf - "$name" \
  | gzip -n > "$tarball"
deb=$output/switchman_${deb_version}_amd64.deb
# zstd: every dpkg of a release .NET 10 supports reads it (Debian 12's, Ubuntu's since 21.10); at its default level it
# takes half a second where xz -6 takes over a minute, for 59 MB instead of 43 MB.
dpkg-deb -Zzstd --build --root-owner-group "$root" "$deb" >/dev/null

for file in "$tarball" "$deb"; do
  echo "package.sh: $file ($(du -h "$file" | cut -f1))"
done
