#pragma once

#include "core/result.h"
#include "core/snapshot/snapshot.h"

#include <string>
#include <string_view>
#include <vector>

// The snapshot file (docs/snapshots.md): JSON compressed with zstd, one file holding one
// snapshot or a timeline of them. Reading never trusts the input: every field is checked and
// problems come back as diagnostics, so the reader is safe to fuzz.
namespace vmalab::snapshot {

constexpr int kFormatVersion = 2;
constexpr const char* kFormatName = "vmalab-snapshot";
constexpr const char* kFileExtension = ".vsnap";

// The uncompressed JSON document of a timeline (one entry for a single snapshot).
std::string snapshotsToJson(const std::vector<Snapshot>& timeline);
// The file's bytes: snapshotsToJson() compressed with zstd.
std::string writeSnapshots(const std::vector<Snapshot>& timeline);

// A file's bytes, zstd-compressed or plain JSON. sourceName names the file in diagnostics.
Result<std::vector<Snapshot>> parseSnapshots(std::string_view bytes, const std::string& sourceName = {});
// A file that holds exactly one snapshot.
Result<Snapshot> parseSnapshot(std::string_view bytes);

} // namespace vmalab::snapshot
