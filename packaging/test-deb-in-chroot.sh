#!/bin/bash
# Builds vmalab's .deb with cpack, installs it with apt on a clean Debian 12 (bookworm) root
# made by debootstrap, and runs `vmalab-cli --version` and `vmalab --screenshot` there.
#
#   packaging/test-deb-in-chroot.sh BUILD_DIR            the whole test (needs root)
#   packaging/test-deb-in-chroot.sh --prepare BUILD_DIR  only create the cached root
#
# BUILD_DIR is a configured build tree with the GUI on. The pristine root is cached as
# BUILD_DIR/deb-test/bookworm-minbase.tar (and downloaded packages in BUILD_DIR/deb-test/apt),
# so a rerun skips debootstrap and most downloads. Each run unpacks a fresh copy of the root.
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian).
# Exit status: 0 all well, 1 a step failed (its output is shown), 2 bad usage.
set -euo pipefail

prepare_only=0
if [[ ${1:-} == --prepare ]]; then
    prepare_only=1
    shift
fi
if [[ $# -ne 1 || ! -f $1/CMakeCache.txt ]]; then
    echo "usage: $0 [--prepare] BUILD_DIR (a configured vmalab build tree)" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$build/deb-test
cache_tar=$work/bookworm-minbase.tar
apt_cache=$work/apt
root=$work/root
started=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" $(( $(date +%s) - started )); }
fail() { echo "test-deb-in-chroot: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "needs root (debootstrap, chroot, mount)"
mkdir -p "$work" "$apt_cache/partial"

mounted=()
cleanup() {
    local i
    for (( i=${#mounted[@]}-1; i>=0; i-- )); do
        umount -l "${mounted[$i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT

if [[ ! -f $cache_tar ]]; then
    step "debootstrap bookworm (minbase) from $mirror: once, cached in $cache_tar"
    command -v debootstrap >/dev/null || fail "debootstrap is missing: apt-get install debootstrap"
    rm -rf "$work/bootstrap"
    debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" > "$work/debootstrap.log" 2>&1 \
        || { tail -30 "$work/debootstrap.log"; fail "debootstrap failed (log: $work/debootstrap.log)"; }
    echo "deb $mirror bookworm main" > "$work/bootstrap/etc/apt/sources.list"
    rm -rf "$work/bootstrap/var/cache/apt/archives/"*.deb
    tar -C "$work/bootstrap" -cf "$cache_tar.tmp" . && mv "$cache_tar.tmp" "$cache_tar"
    rm -rf "$work/bootstrap"
fi
[[ $prepare_only -eq 1 ]] && { step "root prepared"; exit 0; }

step "build and package (cpack -G DEB)"
cmake --build "$build" --target vmalab vmalab-cli vmalab_docs -j2
rm -f "$build"/vmalab_*.deb
(cd "$build" && cpack -G DEB > "$work/cpack.log" 2>&1) || { tail -30 "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$build"/vmalab_*.deb | head -1)
[[ -f $deb ]] || fail "cpack made no .deb"
dpkg-deb -I "$deb" > "$work/deb-info.txt"
sed -n '/Package:/,$p;/Depends:/p' "$work/deb-info.txt"
depends=$(dpkg-deb -f "$deb" Depends)
for pkg in libqt6widgets6 libqt6charts6 libqt6svg6 libqt6gui6 libqt6core6 libstdc++6; do
    [[ $depends == *"$pkg"* ]] || fail "Depends lacks $pkg: $depends"
done
dpkg-deb -c "$deb" > "$work/deb-contents.txt" # not piped into grep -q: pipefail would see SIGPIPE
grep -q './usr/share/applications/io.github.vmalab.vmalab.desktop' "$work/deb-contents.txt" || fail "no .desktop file"

step "fresh root from the cache"
rm -rf "$root"
mkdir -p "$root"
tar -C "$root" -xf "$cache_tar"
cp /etc/resolv.conf "$root/etc/resolv.conf"
for m in proc dev sys; do
    mount --bind "/$m" "$root/$m"
    mounted+=("$root/$m")
done
mount --bind "$apt_cache" "$root/var/cache/apt/archives"
mounted+=("$root/var/cache/apt/archives")
cp "$deb" "$root/tmp/vmalab.deb"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

step "apt install the .deb (resolving Depends from $mirror)"
in_root apt-get update -qq || fail "apt-get update failed in the root"
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q --no-install-recommends /tmp/vmalab.deb \
    > "$work/apt-install.log" 2>&1 || { tail -30 "$work/apt-install.log"; fail "apt-get install failed"; }
grep -E '^(Setting up|Unpacking) vmalab' "$work/apt-install.log" || true

step "vmalab-cli --version"
out=$(in_root vmalab-cli --version) || fail "vmalab-cli --version failed"
echo "$out"
[[ $out == "vmalab-cli "* && $out == *v6.18* ]] || fail "unexpected --version output"

step "vmalab-cli run on an installed scenario"
in_root vmalab-cli run /usr/share/vmalab/scenarios/default.vlab --profile v6.18 --emit maps > "$work/run.out" 2>&1 \
    || { cat "$work/run.out"; fail "vmalab-cli run failed"; }
head -3 "$work/run.out"

step "vmalab --version and --screenshot (offscreen)"
in_root vmalab --version || fail "vmalab --version failed"
in_root /usr/bin/env QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=/tmp vmalab --screenshot /tmp/x.png \
    || fail "vmalab --screenshot failed"
[[ $(head -c 8 "$root/tmp/x.png" | od -An -c | tr -d ' ') == '211PNG\r\n032\n' ]] || fail "/tmp/x.png is not a PNG"

step "man pages and completion installed"
for f in /usr/share/man/man1/vmalab.1.gz /usr/share/man/man1/vmalab-cli.1.gz \
         /usr/share/bash-completion/completions/vmalab-cli /usr/share/metainfo/io.github.vmalab.vmalab.metainfo.xml \
         /usr/share/vmalab/lessons/01_merging_basics.vlab; do
    [[ -f $root$f ]] || fail "$f is not installed"
done

step "all well: the .deb installs and runs on a clean Debian 12 root"
