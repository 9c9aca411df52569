#!/usr/bin/env bash
# fetch-kernel.sh ARCH OUTDIR: puts Debian's stock kernel for ARCH (arm64 or
# riscv64) at OUTDIR/Image, a raw Image a boot loader can jump into, and its
# package version at OUTDIR/Image.version. Nothing happens when OUTDIR/Image
# is already there. Concurrent calls for one OUTDIR are serialised (flock).
#
# A fetched kernel is also kept in a cache every clone on the machine
# shares ($AXVCPU_KERNEL_CACHE, default ~/.cache/axvcpu/kernels; `off`
# disables it): for 24 hours after its fetch, a call copies it from there
# instead of asking the mirror (a fresh clone's boots then start at once);
# after that the mirror is asked again and its answer kept.
#
# apt works in a private state directory under OUTDIR (its own sources,
# lists, cache and architecture, all given as options), so the host's apt
# configuration, package lists and dpkg architectures are never touched.
set -euo pipefail

usage() { echo "usage: $0 arm64|riscv64 OUTDIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
arch=$1
outdir=$2
# arm64 is in bookworm (6.1); riscv64 is not (apt would skip it silently),
# so it comes from trixie (6.12), whose Release file bookworm's keyring verifies.
case "$arch" in
  arm64) suite=bookworm ;;
  riscv64) suite=trixie ;;
  *) usage ;;
esac

# Boots run in parallel and each fetches first: one fetch per OUTDIR at a
# time, the others wait for it and then find the Image there.
mkdir -p "$outdir"
exec 9>"$outdir/.fetch.lock"
flock 9

if [ -f "$outdir/Image" ] && [ -f "$outdir/Image.version" ]; then
  echo "fetch-kernel: $arch: $outdir/Image is there ($(cat "$outdir/Image.version")), nothing to do"
  exit 0
fi

# The shared cache: CACHE/ARCH is a symbolic link to the directory of the
# last kernel fetched (CACHE/ARCH-<package>_<version>, complete before the
# link is switched to it, never changed after), so a reader sees one whole
# kernel even while another clone stores a newer one. Neither function
# fails the fetch: a cache that cannot be read or written is not used.
cache=${AXVCPU_KERNEL_CACHE:-$HOME/.cache/axvcpu/kernels}
max_age_minutes=$((24 * 60))
copy_from_cache() {
  [ "$cache" != off ] || return 1
  local cached
  cached=$(readlink -f "$cache/$arch") || return 1
  [ -f "$cached/Image" ] && [ -f "$cached/Image.version" ] || return 1
  [ -n "$(find "$cached/Image.version" -mmin -"$max_age_minutes")" ] || return 1
  cp "$cached/Image" "$outdir/Image.tmp" && cp "$cached/Image.version" "$outdir/Image.version" &&
    mv "$outdir/Image.tmp" "$outdir/Image" || return 1
  echo "fetch-kernel: $arch: $outdir/Image <- the kernel cache ($(cat "$outdir/Image.version"), fetched" \
    "$(( ($(date +%s) - $(stat -c %Y "$cached/Image.version")) / 60 )) min ago; the mirror is asked again after 24 h)"
}
store_in_cache() {  # PACKAGE VERSION
  [ "$cache" != off ] || return 0
  mkdir -p "$cache" || return 1
  local dir="$cache/$arch-$1_$2" tmp
  if [ ! -d "$dir" ]; then
    tmp=$(mktemp -d "$cache/.store.XXXXXX") || return 1
    cp "$outdir/Image" "$outdir/Image.version" "$tmp/" && chmod 755 "$tmp" && mv -T "$tmp" "$dir" ||
      { rm -rf "$tmp"; [ -d "$dir" ] || return 1; }
  fi
  # The fetch time is the version file's: the 24 hours start again.
  touch "$dir/Image.version" &&
    ln -sfn "$(basename "$dir")" "$cache/.$arch.link.$$" && mv -T "$cache/.$arch.link.$$" "$cache/$arch" || return 1
  find "$cache" -maxdepth 1 -name "$arch-*" -type d ! -name "$(basename "$dir")" -mmin +"$max_age_minutes" \
    -exec rm -rf {} + 2>/dev/null
  return 0
}
if copy_from_cache; then exit 0; fi
rm -f "$outdir/Image.tmp"

# The machine's own Debian mirror: the first source that serves a release
# under its bare codename (so not -security or -updates), in deb822 files
# first, then one-line files. Whatever this machine can reach, we can.
mirror_candidates() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush() { if (deb && enabled && main && uri != "") print uri; deb = 0; enabled = 1; main = 0; uri = "" }
      BEGIN { enabled = 1 }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "enabled:" { enabled = ($2 != "no") }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    # deb [options] URI SUITE COMPONENTS...
    [ -f "$f" ] || continue
    awk '$1 == "deb" { sub(/^deb[ \t]+(\[[^]]*\][ \t]+)?/, ""); if ($2 !~ /-/) print $1 }' "$f"
  done
}
# awk, not head: it reads everything, so no writer dies of SIGPIPE under pipefail.
mirror=$(mirror_candidates | awk 'NR == 1')
[ -n "$mirror" ] || { echo "fetch-kernel: no Debian mirror found in /etc/apt/sources.list{,.d}" >&2; exit 1; }

state="$outdir/apt"
rm -rf "$state"
mkdir -p "$state/sources" "$state/lists/partial" "$state/cache/archives/partial" "$state/debs"
# As root, apt downloads as its sandbox user _apt: let it write where
# `apt-get download` puts the package (apt does the same for its partial dirs).
if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$state/debs"; fi
cat >"$state/sources/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite
Components: main
Architectures: $arch
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$state/sources"
  -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
  -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch")

echo "fetch-kernel: $arch: apt-get update ($mirror $suite main, private state in $state)"
apt-get "${apt_opts[@]}" -qq update

# linux-image-ARCH is a meta package; its dependency names the versioned
# image package (linux-image-6.1.0-NN-arm64) whose files we want.
meta=linux-image-$arch
pkg=$(apt-cache "${apt_opts[@]}" depends "$meta" | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !p { p = $2 } END { print p }')
[ -n "$pkg" ] || { echo "fetch-kernel: $meta names no versioned linux-image package" >&2; exit 1; }
version=$(apt-cache "${apt_opts[@]}" show "$pkg" | awk '$1 == "Version:" && !v { v = $2 } END { print v }')
echo "fetch-kernel: $arch: $meta -> $pkg $version, downloading"
(cd "$state/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg")

deb=$(ls "$state/debs"/*.deb)
tree="$state/tree"
# Both packages hold the raw Image (an EFI-stub header, not compressed,
# despite the arm64 name), named after the package's ABI and flavour:
# boot/vmlinuz-* on arm64, boot/vmlinux-* on riscv64. Its header's magic
# (arm64: "ARM\x64" at 0x38; riscv64: "RSC\x05" at 0x38) is checked, so a
# package that one day ships a compressed or ELF kernel is refused here
# rather than hanging QEMU later.
case "$arch" in
  arm64) member=boot/vmlinuz-${pkg#linux-image-} want=41524d64 ;;
  riscv64) member=boot/vmlinux-${pkg#linux-image-} want=52534305 ;;
esac
# Only that file: boot/ comes first in the package, and tar stops once it
# has it (--occurrence), so the modules, most of the package, are neither
# decompressed nor written (dpkg-deb -x took 7 s of CPU for arm64's; this
# takes 1). dpkg-deb then dies of the closed pipe, as it should: what it
# says is shown only when tar did not get the file.
mkdir -p "$tree"
{ dpkg-deb --fsys-tarfile "$deb" 2>"$state/dpkg-deb.err" || true; } | tar -x -C "$tree" --occurrence "./$member" ||
  { cat "$state/dpkg-deb.err" >&2; echo "fetch-kernel: no $member taken out of $deb" >&2; exit 1; }
image=$tree/$member
magic=$(od -An -tx1 -j 56 -N 4 "$image" | tr -d ' \n')
[ "$magic" = "$want" ] || { echo "fetch-kernel: ${image#"$tree"/} is not a raw $arch Image (magic $magic at 0x38)" >&2; exit 1; }

mkdir -p "$outdir"
cp "$image" "$outdir/Image.tmp"
echo "$pkg $version" >"$outdir/Image.version"
mv "$outdir/Image.tmp" "$outdir/Image"
rm -rf "$state"
echo "fetch-kernel: $arch: $outdir/Image <- ${image#"$tree"/} ($(stat -c %s "$outdir/Image") bytes, $pkg $version)"

# Into the shared cache, for the next clone.
store_in_cache "$pkg" "$version" || echo "fetch-kernel: $arch: the kernel cache $cache is not writable: not kept"
