#pragma once

#include "core/engine/world.h"

namespace vmalab {

inline std::uint64_t pageIndex(Addr a) { return a >> pageShift; }

constexpr std::uint64_t pudSize = std::uint64_t { 1 } << 30; // what one PMD table maps
constexpr std::uint64_t pgdEntrySize = std::uint64_t { 1 } << 39; // what one PUD table maps

// Sets the PTEs of [start, end), allocating the PTE tables that hold them.
void setPtes(Mm& mm, Addr start, Addr end, const Pte& pte);
// Maps the aligned 2 MiB block with one PMD entry (`pte` describes each page): the PMD and
// PUD tables above it are allocated, no PTE table (do_set_pmd()).
void setPmdLeaf(Mm& mm, Addr block, const Pte& pte);
// Allocates the PTE tables with PMD indices [firstPmd, endPmd) and every table above them,
// as the walk down from the PGD does (__pte_alloc(), __pmd_alloc(), __pud_alloc()).
void allocPteTables(Mm& mm, std::uint64_t firstPmd, std::uint64_t endPmd);
// Clears every entry of [start, end): pages, swap entries and markers alike (zap_pte_range()
// as munmap uses it).
void clearPtes(Mm& mm, Addr start, Addr end);
// free_pgtables(): page tables within [floor, ceiling) whose whole span no VMA overlaps any
// more are freed, at every level: PTE tables (2 MiB), PMD tables (1 GiB), PUD tables (512 GiB).
// A table whose span still holds a VMA stays, even with nothing mapped below it.
void freeUnusedPteTables(Mm& mm, Addr floor, Addr ceiling);
const Pte* ptAt(const Mm& mm, Addr addr);

} // namespace vmalab
