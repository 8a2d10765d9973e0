#pragma once

#include "core/observed.h"
#include "core/profile.h"
#include "core/types.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

// A snapshot: what observing live processes yields, kept whole so that it can be saved,
// compared with another one and loaded into the engine (docs/snapshots.md).
namespace vmalab::snapshot {

// An smaps line whose value is not "N kB" (THPeligible, ProtectionKey, fields of future
// kernels), kept verbatim. afterKb is how many kB fields came before it, so the file order
// can be rebuilt.
struct TextField
{
    std::string name;
    std::string value;
    std::size_t afterKb = 0;
    bool operator==(const TextField&) const = default;
};

struct SnapshotVma
{
    // The maps line (name exactly as printed, escapes and " (deleted)" included), the
    // "N kB" fields in order and the VmFlags mnemonics (unknown ones kept).
    ObservedVma vma;
    std::vector<TextField> textFields;
    bool operator==(const SnapshotVma& o) const;
};

// pagemap and /proc/kpageflags of a run of pages.
struct SnapshotPageRun
{
    PageRun run;
    // The kpageflags bits in kKpfKept of every page of the run (0 when not read).
    std::uint64_t kpageflags = 0;
    bool operator==(const SnapshotPageRun&) const = default;
};

// kpageflags bits (Documentation/admin-guide/mm/pagemap.rst) a snapshot keeps. Bits that
// change from page to page (referenced, active, lru, dirty) are dropped so that runs stay long.
constexpr unsigned kKpfMmap = 11;
constexpr unsigned kKpfAnon = 12;
constexpr unsigned kKpfSwapbacked = 14;
constexpr unsigned kKpfHuge = 17;
constexpr unsigned kKpfKsm = 21;
constexpr unsigned kKpfThp = 22;
constexpr unsigned kKpfZeroPage = 24;
constexpr std::uint64_t kKpfKept = (std::uint64_t { 1 } << kKpfMmap) | (std::uint64_t { 1 } << kKpfAnon)
    | (std::uint64_t { 1 } << kKpfSwapbacked) | (std::uint64_t { 1 } << kKpfHuge) | (std::uint64_t { 1 } << kKpfKsm)
    | (std::uint64_t { 1 } << kKpfThp) | (std::uint64_t { 1 } << kKpfZeroPage);

struct SnapshotProcess
{
    std::int64_t pid = 0;
    std::int64_t ppid = 0;
    std::string name; // Name: of /proc/PID/status (the comm)
    std::uint64_t start_brk = 0; // mm->start_brk (/proc/PID/stat field 47); 0: unknown
    std::vector<std::pair<std::string, std::string>> status; // every /proc/PID/status line, verbatim
    std::vector<SnapshotVma> vmas; // by address
    std::vector<SnapshotPageRun> pages; // by address; covers every page of every VMA
    bool operator==(const SnapshotProcess&) const = default;

    // The process as the emitters and `check` see it (kB fields and page runs only).
    ObservedProcess observed() const;
};

// uname(2) and the host profile of the machine the snapshot was taken on.
struct HostInfo
{
    std::string sysname;
    std::string nodename;
    std::string release;
    std::string version;
    std::string machine;
    std::string behaviour; // the built-in behaviour profile the probe found ("maybe-guard-fixed")
    MachineConfig config;
    std::vector<std::string> notes; // what the host probe could not read
};

struct Snapshot
{
    std::int64_t realtimeNs = 0; // CLOCK_REALTIME at the start of the capture
    std::int64_t monotonicNs = 0; // CLOCK_MONOTONIC, to space the entries of a timeline
    bool frozen = false; // the process was stopped (SIGSTOP) while it was read
    std::string pagemapMethod; // "PAGEMAP_SCAN" or "pread"
    bool kpageflags = false; // kpageflags bits were read
    std::vector<std::string> notes; // what the capture could not read, and why
    HostInfo host;
    std::vector<SnapshotProcess> processes;
};

// Page counts of one range by state.
struct PageCounts
{
    std::uint64_t none = 0;
    std::uint64_t present = 0;
    std::uint64_t swap = 0;
    std::uint64_t guard = 0;
    bool operator==(const PageCounts&) const = default;
};

// Counts of the pages of [start, end) in sorted runs.
PageCounts countPages(const std::vector<SnapshotPageRun>& runs, Addr start, Addr end);

} // namespace vmalab::snapshot
