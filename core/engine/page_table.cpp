#include "core/engine/page_table.h"

#include <vector>

namespace vmalab {

void setPtes(Mm& mm, Addr start, Addr end, const Pte& pte)
{
    if (start >= end)
        return;
    mm.ptes.assign(pageIndex(start), pageIndex(end), pte);
    mm.pteTables.assign(start / pmdSize, (end - 1) / pmdSize + 1, true);
}

void clearPtes(Mm& mm, Addr start, Addr end)
{
    mm.ptes.erase(pageIndex(start), pageIndex(end));
}

void freeUnusedPteTables(Mm& mm, Addr floor, Addr ceiling)
{
    if (floor >= ceiling)
        return;
    std::vector<std::uint64_t> unused;
    mm.pteTables.forEach(floor / pmdSize, (ceiling - 1) / pmdSize + 1, [&](std::uint64_t s, std::uint64_t e, bool) {
        for (std::uint64_t t = s; t < e; ++t)
            if (!mm.anyVmaIn(t * pmdSize, (t + 1) * pmdSize))
                unused.push_back(t);
    });
    for (std::uint64_t t : unused)
        mm.pteTables.erase(t, t + 1);
}

const Pte* ptAt(const Mm& mm, Addr addr)
{
    return mm.ptes.find(pageIndex(addr));
}

} // namespace vmalab
