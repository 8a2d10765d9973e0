#pragma once

#include "core/observed.h"
#include "core/result.h"
#include "core/types.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

// Readers for /proc/PID/smaps and /proc/PID/pagemap (kernel-model.md §15). The parsers
// are pure functions of their input so tests can feed them fixtures.
namespace vmalab::host {

// /proc/PID/smaps text into VMAs, in file order. Every name form the kernel prints is kept
// as printed ("/memfd:x (deleted)", "[anon:n]", paths with spaces, no name). Every
// `Field:  N kB` line goes into smapsKb in order, including fields this code does not know;
// numeric lines without a unit (THPeligible, ProtectionKey) are accepted and not kept.
// Malformed or truncated text gives one diagnostic per bad line, at sourceName:line:col.
Result<std::vector<ObservedVma>> parseSmaps(std::string_view text, const std::string& sourceName);

// pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
constexpr std::uint64_t kPmPresent = std::uint64_t { 1 } << 63;
constexpr std::uint64_t kPmSwap = std::uint64_t { 1 } << 62;
constexpr std::uint64_t kPmFile = std::uint64_t { 1 } << 61;
constexpr std::uint64_t kPmGuard = std::uint64_t { 1 } << 58;
constexpr std::uint64_t kPmUffdWp = std::uint64_t { 1 } << 57;
constexpr std::uint64_t kPmExclusive = std::uint64_t { 1 } << 56;

// The run of one page from its pagemap entry (scenario-language.md, `pages`).
PageRun pageFromEntry(Addr addr, std::uint64_t entry);

// Runs over n consecutive pages starting at `start`, one entry each; neighbours in the same
// state (all PageRun fields) join.
std::vector<PageRun> runsFromEntries(Addr start, const std::uint64_t* entries, std::size_t n);

// Runs for every page of every VMA, read from an open /proc/PID/pagemap with pread; runs
// never cross a VMA boundary. Pages the file does not give (e.g. [vsyscall], above the user
// address range) are reported as none.
std::vector<PageRun> pageRunsFromPagemap(const std::vector<ObservedVma>& vmas, int pagemapFd);

// mm->start_brk from the text of /proc/PID/stat (field 47; the comm in field 2 may hold spaces
// and parentheses). nullopt when the text has no such field.
std::optional<std::uint64_t> parseStartBrk(std::string_view statText);
// The same read from /proc/PID/stat; 0 when it cannot be read (the field is 0 without ptrace
// access to the process).
std::uint64_t readStartBrk(pid_t pid);

// smaps and pagemap of a live process. Errors name the process and what would allow access.
Result<ObservedProcess> readProcess(pid_t pid);

} // namespace vmalab::host
