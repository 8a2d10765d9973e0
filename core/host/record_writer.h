#pragma once

#include "core/host/record_events.h"

#include <cstdint>
#include <string>

// The scenario text of a recording (docs/recording.md, "Example"): header comments,
// `profile "host"`, `start_from`, `recorded_end`, then the events in order, each process's
// in an `in pPID { }` block (the main process's at the top level). A pure function, so
// tests feed it hand-made events.
namespace vmalab::host {

std::string writeRecording(const Recording& recording);

// "PROT_READ|PROT_WRITE", "MAP_PRIVATE|MAP_ANONYMOUS", "MADV_DONTNEED"...; bits without a
// name are appended in hex.
std::string protText(std::uint64_t prot);
std::string mapFlagsText(std::uint64_t flags);
std::string madviseText(std::uint64_t advice);
std::string mremapFlagsText(std::uint64_t flags);

// The handle name of a mapped file: f_<dev>_<inode>, with _rw / _wr for other open modes.
std::string fileHandleName(const RecordedFile& file);

} // namespace vmalab::host
