#pragma once

#include "core/snapshot/snapshot.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

// What a captured address space is made of, at a glance: totals per kind of mapping, the
// largest VMAs and the most fragmented stretches (many VMAs side by side, as allocators,
// JITs and guard-page schemes leave them). The GUI's snapshot charts draw these.
namespace vmalab::snapshot {

enum class RegionKind
{
    Anonymous, // private anonymous, not heap or stack
    Heap,
    Stack, // [stack] and thread stacks named [stack:TID]
    File, // mappings of regular files
    Shmem, // shared anonymous, memfd, SysV shm, /dev/shm
    Special, // [vdso], [vvar], [vsyscall] and other kernel-provided names
};
constexpr std::size_t kRegionKindCount = 6;

const char* regionKindName(RegionKind k); // "anonymous", "heap", ...

// The kind of one VMA, from its name, inode and perms (what maps shows).
RegionKind regionKindOf(const ObservedVma& vma);

struct KindTotals
{
    std::uint64_t vmas = 0;
    std::uint64_t sizeBytes = 0;
    std::uint64_t rssBytes = 0; // smaps Rss
    std::uint64_t swapBytes = 0; // smaps Swap
    std::uint64_t guardPages = 0; // guard markers in the page runs
};

// A stretch of VMAs with no gap between them.
struct Stretch
{
    Addr start = 0;
    Addr end = 0;
    std::size_t vmas = 0;
    std::string firstName; // the name of its first named VMA, "" when none is named
};

struct ProcessSummary
{
    std::int64_t pid = 0;
    std::string comm;
    std::array<KindTotals, kRegionKindCount> kinds {};
    KindTotals total;
    std::vector<ObservedVma> largest; // by size, largest first
    std::vector<Stretch> mostFragmented; // by VMA count, then size; only stretches of >= 2 VMAs
};

// `top` bounds the two lists.
ProcessSummary summarizeProcess(const SnapshotProcess& p, std::size_t top = 10);

} // namespace vmalab::snapshot
