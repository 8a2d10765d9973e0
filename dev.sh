#!/usr/bin/env bash
# vmalab's two entry points (README.md, "Quick start"), for a Debian 12 machine:
#   ./dev.sh run    install what is missing, build, and open vmalab on the first lesson
#   ./dev.sh test   install what is missing, build, and run every test
# Both are incremental: with nothing changed they only check and return.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake ninja-build g++ pkg-config zlib1g-dev libzstd-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
    qt6-base-dev qt6-charts-dev libqt6opengl6-dev qt6-svg-dev libgif-dev xvfb)
JOBS=$(nproc)

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    echo "dev.sh: installing ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_build DIR [CMAKE ARGS...] [-- TARGETS...]
configure_build() {
    local dir=$1
    shift
    local args=() targets=()
    while (($#)); do
        if [ "$1" = "--" ]; then shift; targets=("$@"); break; fi
        args+=("$1")
        shift
    done
    [ "${CI:-}" = "true" ] && args+=(-DVMALAB_WERROR=ON)
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S . -B "$dir" -G Ninja "${args[@]}"
    fi
    if ((${#targets[@]})); then
        cmake --build "$dir" -j "$JOBS" --target "${targets[@]}"
    else
        cmake --build "$dir" -j "$JOBS"
    fi
}

cmd_run() {
    install_missing
    configure_build build
    if [ -x build/app/vmalab ]; then
        exec build/app/vmalab resources/scenarios/default.vlab
    fi
    exec build/app/vmalab-cli run resources/scenarios/default.vlab --emit maps,pages --trace
}

cmd_test() {
    install_missing
    configure_build build
    (cd build && ctest --output-on-failure -j "$JOBS")
    # The Qt-free core again under AddressSanitizer and UBSan.
    configure_build build-asan -DVMALAB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
        -- vmalab_core_tests vmalab_scenario_tests vmalab_report_tests vmalab_lesson_tests vmalab_hardening_tests
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --output-on-failure -j "$JOBS" -L core)
}

case "${1:-}" in
run) cmd_run ;;
test) cmd_test ;;
*)
    echo "usage: ./dev.sh run|test" >&2
    exit 2
    ;;
esac
