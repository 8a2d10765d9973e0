# Live process snapshots: the data, the smaps/status parsers, the file format and the
# semantic diff (docs/snapshots.md). Pure: the capture itself is in core/host/capture.cpp.
list(APPEND VMALAB_CORE_SOURCES
    snapshot/smaps_text.cpp snapshot/smaps_text.h
    snapshot/snapshot.cpp snapshot/snapshot.h
    snapshot/snapshot_diff.cpp snapshot/snapshot_diff.h
    snapshot/snapshot_format.cpp snapshot/snapshot_format.h
    snapshot/snapshot_summary.cpp snapshot/snapshot_summary.h
)
find_package(nlohmann_json 3 REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
# Linked by core/CMakeLists.txt once vmalab_core exists.
set(VMALAB_SNAPSHOT_LIBS nlohmann_json::nlohmann_json PkgConfig::ZSTD)
