#pragma once

#include "core/engine/world.h"

namespace vmalab {

inline std::uint64_t pageIndex(Addr a) { return a >> pageShift; }

// Sets the PTEs of [start, end), allocating the PTE tables that hold them.
void setPtes(Mm& mm, Addr start, Addr end, const Pte& pte);
// Clears every entry of [start, end): pages, swap entries and markers alike (zap_pte_range()
// as munmap uses it).
void clearPtes(Mm& mm, Addr start, Addr end);
// free_pgtables(): PTE tables within [floor, ceiling) that no VMA overlaps any more are freed.
void freeUnusedPteTables(Mm& mm, Addr floor, Addr ceiling);
const Pte* ptAt(const Mm& mm, Addr addr);

} // namespace vmalab
