#!/bin/sh
# Runs a GUI test in a real X server (Xvfb) on the xcb platform; ctest counts exit 77 as skipped.
if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "SKIPPED: xvfb-run is not installed (Debian: apt-get install xvfb; ./dev.sh test installs it)"
    exit 77
fi
QT_QPA_PLATFORM=xcb exec xvfb-run -a -s "-screen 0 1920x1200x24" "$@"
