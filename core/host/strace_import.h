#pragma once

#include "core/host/record_events.h"
#include "core/result.h"

#include <string>
#include <string_view>

// Importing `strace -f -e trace=memory,process` output as a recording (docs/recording.md),
// as a best effort: without the live process there are no snapshots, no page states and no
// file identities (a mapped descriptor becomes an open_mapped of "fd N").
namespace vmalab::host {

// Accepts lines with `[pid N] ` prefixes (strace -f to a terminal), `N ` prefixes (strace -f
// -o FILE) or none, `<unfinished ...>` / `<... NAME resumed>` pairs, `= -1 ENOMEM (...)`
// results, and ignores calls outside the memory and process classes. A memory call whose
// arguments cannot be read is an error at sourceName:line:col.
Result<Recording> importStrace(std::string_view text, const std::string& sourceName);

Result<Recording> importStraceFile(const std::string& path);

} // namespace vmalab::host
