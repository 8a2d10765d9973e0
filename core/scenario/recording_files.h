#pragma once

#include "core/result.h"
#include "core/scenario/ast.h"

#include <functional>
#include <optional>
#include <string>

namespace vmalab::scenario {

// Reads a whole file: its bytes, or nullopt with *error set (e.g. strerror).
using FileReader = std::function<std::optional<std::string>(const std::string& path, std::string* error)>;

// Loads the snapshot files a recording names (start_from, recorded_end, exec("F"), spawn("F"))
// into scenario.snapshotFiles. Relative paths are taken from `baseDir` (the scenario file's
// directory). A file that cannot be read or is not a snapshot gives FILE:LINE:COL at its string.
Diagnostics loadRecordingFiles(Scenario& scenario, const std::string& baseDir, const FileReader& read);

// The path as the loader resolves it.
std::string resolveRecordingPath(const std::string& baseDir, const std::string& path);

// The start_from / recorded_end statement's path, if the scenario has one.
std::optional<std::string> startFromPath(const Scenario& scenario);
std::optional<std::string> recordedEndPath(const Scenario& scenario);

} // namespace vmalab::scenario
