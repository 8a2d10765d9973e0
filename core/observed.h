#pragma once

#include "core/types.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vmalab {

// What procfs shows of one process: the model renders its state into these types,
// replay parses /proc/PID/smaps and /proc/PID/pagemap into the same types, and the
// emitters and `check` work on them alone.

enum class PageState
{
    None,
    Present,
    Swap,
    Guard,
};

const char* pageStateName(PageState s); // "none", "present", "swap", "guard"

// One run of pages in the same state, never crossing a VMA boundary.
struct PageRun
{
    Addr start = 0;
    Addr end = 0; // exclusive
    PageState state = PageState::None;
    bool uffdWp = false;    // pagemap bit 57
    bool exclusive = false; // pagemap bit 56 (printed as an extra, never compared)
    bool file = false;      // pagemap bit 61 (printed as an extra, never compared)
    bool operator==(const PageRun&) const = default;
};

struct ObservedVma
{
    Addr start = 0;
    Addr end = 0;
    std::string perms; // "rw-p"
    std::uint64_t offset = 0;
    unsigned devMajor = 0;
    unsigned devMinor = 0;
    std::uint64_t inode = 0;
    std::string name; // as maps prints it, e.g. "/memfd:x (deleted)", "[heap]", "" for none
    // smaps fields in kB, in the kernel's order of appearance; at least Size, Rss,
    // Anonymous, Locked. Replay keeps every field it read.
    std::vector<std::pair<std::string, std::uint64_t>> smapsKb;
    std::vector<std::string> vmFlags; // mnemonics in the kernel's order

    std::uint64_t kb(const std::string& field) const; // 0 when absent
};

struct ObservedProcess
{
    std::string name; // scenario process name: "main", "child"...
    std::int64_t pid = 0;
    std::vector<ObservedVma> vmas;  // sorted by address
    std::vector<PageRun> pages;     // sorted; covers every page of every VMA
    std::vector<std::pair<std::string, std::int64_t>> stats; // model only ("vmas", "pte_tables", ...)
};

} // namespace vmalab
