#include "core/engine/page_table.h"

#include <vector>

namespace vmalab {

void setPtes(Mm& mm, Addr start, Addr end, const Pte& pte)
{
    if (start >= end)
        return;
    mm.ptes.assign(pageIndex(start), pageIndex(end), pte);
    allocPteTables(mm, start / pmdSize, (end - 1) / pmdSize + 1);
}

namespace {

void allocUpperTables(Mm& mm, Addr start, Addr end)
{
    mm.pmdTables.assign(start / pudSize, (end - 1) / pudSize + 1, true);
    mm.pudTables.assign(start / pgdEntrySize, (end - 1) / pgdEntrySize + 1, true);
}

// Frees the tables of `tables` (each spanning `span` bytes) within [floor, ceiling) that no VMA
// overlaps.
void freeUnused(const Mm& mm, RunMap<bool>& tables, std::uint64_t span, Addr floor, Addr ceiling)
{
    std::vector<std::uint64_t> unused;
    tables.forEach(floor / span, (ceiling - 1) / span + 1, [&](std::uint64_t s, std::uint64_t e, bool) {
        for (std::uint64_t t = s; t < e; ++t)
            if (!mm.anyVmaIn(t * span, (t + 1) * span))
                unused.push_back(t);
    });
    for (std::uint64_t t : unused)
        tables.erase(t, t + 1);
}

} // namespace

void setPmdLeaf(Mm& mm, Addr block, const Pte& pte)
{
    mm.ptes.assign(pageIndex(block), pageIndex(block + pmdSize), pte);
    mm.pteTables.erase(block / pmdSize, block / pmdSize + 1);
    allocUpperTables(mm, block, block + pmdSize);
}

void allocPteTables(Mm& mm, std::uint64_t firstPmd, std::uint64_t endPmd)
{
    if (firstPmd >= endPmd)
        return;
    mm.pteTables.assign(firstPmd, endPmd, true);
    allocUpperTables(mm, firstPmd * pmdSize, endPmd * pmdSize);
}

void clearPtes(Mm& mm, Addr start, Addr end)
{
    mm.ptes.erase(pageIndex(start), pageIndex(end));
}

void freeUnusedPteTables(Mm& mm, Addr floor, Addr ceiling)
{
    if (floor >= ceiling)
        return;
    freeUnused(mm, mm.pteTables, pmdSize, floor, ceiling);
    freeUnused(mm, mm.pmdTables, pudSize, floor, ceiling);
    freeUnused(mm, mm.pudTables, pgdEntrySize, floor, ceiling);
}

const Pte* ptAt(const Mm& mm, Addr addr)
{
    return mm.ptes.find(pageIndex(addr));
}

} // namespace vmalab
