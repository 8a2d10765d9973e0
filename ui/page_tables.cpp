#include "ui/page_tables.h"

#include <algorithm>
#include <map>

namespace vmalab::ui {

namespace {

constexpr unsigned pgdShift = 39;
constexpr unsigned pudShift = 30;
constexpr unsigned pmdShift = 21;
constexpr unsigned entriesPerTable = 512;

unsigned levelShift(PtLevel level)
{
    switch (level) {
    case PtLevel::Pgd:
    case PtLevel::P4d:
        return pgdShift;
    case PtLevel::Pud:
        return pudShift;
    case PtLevel::Pmd:
        return pmdShift;
    case PtLevel::Pte:
        return pageShift;
    }
    return pageShift;
}

PtLevel nextLevel(PtLevel level)
{
    return static_cast<PtLevel>(static_cast<int>(level) + 1);
}

// Candidate VMAs of other processes that may map folios of one anon_vma tree.
struct ShareIndex
{
    struct Candidate
    {
        int proc;
        const Vma* vma;
    };
    std::map<AnonVmaId, std::vector<Candidate>> byRoot;

    explicit ShareIndex(const World& world)
    {
        for (std::size_t p = 0; p < world.procs.size(); ++p)
            for (const auto& e : world.procs[p].vmas)
                if (e.second.anon_vma != noAnonVma)
                    byRoot[world.anonVmaRoot(e.second.anon_vma)].push_back({ static_cast<int>(p), &e.second });
    }

    std::vector<PtShare> find(const World& world, int proc, const Vma& v, Addr addr) const
    {
        std::vector<PtShare> out;
        if (v.anon_vma == noAnonVma)
            return out;
        const auto it = byRoot.find(world.anonVmaRoot(v.anon_vma));
        if (it == byRoot.end())
            return out;
        const PageOff index = v.pgoffAt(addr);
        for (const Candidate& c : it->second) {
            if (c.proc == proc || index < c.vma->vm_pgoff || index >= c.vma->vm_pgoff + c.vma->pages())
                continue;
            const Addr other = c.vma->vm_start + ((index - c.vma->vm_pgoff) << pageShift);
            const Pte* pte = world.procs[static_cast<std::size_t>(c.proc)].ptes.find(other >> pageShift);
            if (pte && pte->cowShared && pte->state == PageState::Present && pte->kind == Pte::Kind::Anon)
                out.push_back({ c.proc, c.vma->id, other });
        }
        return out;
    }
};

bool sameShares(const std::vector<PtShare>& a, const std::vector<PtShare>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].proc != b[i].proc || a[i].vma != b[i].vma)
            return false;
    return true;
}

class Walker
{
public:
    Walker(const World& world, int proc, std::size_t maxNodes, PageTableWalk& out)
        : m_world(world)
        , m_mm(world.procs[static_cast<std::size_t>(proc)])
        , m_proc(proc)
        , m_maxNodes(maxNodes)
        , m_out(out)
        , m_shares(world)
    {
    }

    // Entries of a table at `level` over [start, end) (inside one table of that level).
    std::vector<PtNode> table(PtLevel level, Addr start, Addr end)
    {
        if (level == PtLevel::Pte)
            return ptes(start, end);
        std::vector<PtNode> nodes;
        const unsigned shift = levelShift(level);
        const std::uint64_t span = std::uint64_t { 1 } << shift;
        for (Addr a = start; a < end;) {
            const Addr entryEnd = std::min<Addr>(end, (a & ~(span - 1)) + span);
            const Pte* hugePte = level == PtLevel::Pmd ? pmdLeaf(a) : nullptr;
            const bool present = hugePte || hasTable(level, a, entryEnd);
            const unsigned index = ptIndex(level, a);
            if (!present && !nodes.empty() && !nodes.back().present && nodes.back().end == a) {
                nodes.back().last = index;
                nodes.back().end = entryEnd;
            } else {
                PtNode n;
                n.level = level;
                n.first = n.last = index;
                n.start = a;
                n.end = entryEnd;
                n.present = present;
                if (hugePte) {
                    n.huge = true;
                    n.pte = *hugePte;
                    n.kind = pageKind(hugePte);
                    m_out.pages[static_cast<int>(n.kind)] += (entryEnd - a) >> pageShift;
                } else if (present) {
                    if (level == PtLevel::Pgd) {
                        // P4D folded: one entry, the PGD's, that points to the PUD table.
                        ++m_out.pudTables;
                        PtNode p4d = n;
                        p4d.level = PtLevel::P4d;
                        p4d.children = table(PtLevel::Pud, a, entryEnd);
                        n.children.push_back(std::move(p4d));
                    } else {
                        if (level == PtLevel::Pud)
                            ++m_out.pmdTables;
                        if (level == PtLevel::Pmd)
                            ++m_out.pteTables;
                        n.children = table(nextLevel(level), a, entryEnd);
                    }
                }
                nodes.push_back(std::move(n));
            }
            a = entryEnd;
        }
        return nodes;
    }

private:
    // Whether the entry of `level` covering [start, end) points to a table: the tables one level
    // down, as the model tracks them.
    bool hasTable(PtLevel level, Addr start, Addr end) const
    {
        const RunMap<bool>& below = level == PtLevel::Pgd ? m_mm.pudTables
            : level == PtLevel::Pud                        ? m_mm.pmdTables
                                                           : m_mm.pteTables;
        const unsigned shift = levelShift(level);
        return below.anyIn(start >> shift, ((end - 1) >> shift) + 1);
    }

    // The PTE of a file THP mapped by the PMD entry at `a`, or nullptr.
    const Pte* pmdLeaf(Addr a) const
    {
        if (m_mm.pteTables.find(a >> pmdShift))
            return nullptr;
        const Pte* pte = m_mm.ptes.find(a >> pageShift);
        return pte && pte->pmdMapped ? pte : nullptr;
    }

    std::vector<PtNode> ptes(Addr start, Addr end)
    {
        std::vector<PtNode> nodes;
        // Adds page `a`; true when nodes.back() now ends with it.
        auto add = [&](Addr a, const Pte* pte) -> bool {
            const PageKind kind = pageKind(pte);
            const bool present = pte != nullptr && pte->state != PageState::None;
            std::vector<PtShare> shared;
            if (pte && pte->cowShared)
                if (const Vma* v = m_mm.vmaAt(a))
                    shared = m_shares.find(m_world, m_proc, *v, a);
            m_out.pages[static_cast<int>(kind)] += 1;
            m_out.uffdWpPages += pte && pte->uffdWp ? 1 : 0;
            if (!shared.empty()) {
                ++m_out.cowSharedPages;
                for (const PtShare& s : shared)
                    if (std::find(m_out.sharedWithProcs.begin(), m_out.sharedWithProcs.end(), s.proc)
                        == m_out.sharedWithProcs.end())
                        m_out.sharedWithProcs.push_back(s.proc);
            }
            if (!nodes.empty()) {
                PtNode& b = nodes.back();
                const bool samePte = b.present == present && (!present || b.pte == *pte);
                if (b.end == a && samePte && sameShares(b.shared, shared)) {
                    ++b.last;
                    b.end = a + pageSize;
                    return true;
                }
            }
            if (m_nodes >= m_maxNodes) {
                m_out.truncated = true;
                return false;
            }
            ++m_nodes;
            PtNode n;
            n.level = PtLevel::Pte;
            n.first = n.last = ptIndex(PtLevel::Pte, a);
            n.start = a;
            n.end = a + pageSize;
            n.present = present;
            if (present)
                n.pte = *pte;
            n.kind = kind;
            n.shared = std::move(shared);
            nodes.push_back(std::move(n));
            return true;
        };
        // Page by page only where sharing may split runs; elsewhere whole runs at once.
        Addr at = start;
        auto none = [&](Addr to) {
            if (at >= to)
                return;
            const std::uint64_t pagesNone = (to - at) >> pageShift;
            if (add(at, nullptr) && pagesNone > 1) {
                nodes.back().last += static_cast<unsigned>(pagesNone - 1);
                nodes.back().end = to;
            }
            m_out.pages[static_cast<int>(PageKind::None)] += pagesNone - 1;
            at = to;
        };
        m_mm.ptes.forEach(start >> pageShift, end >> pageShift, [&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
            none(s << pageShift);
            if (pte.cowShared) {
                for (std::uint64_t i = s; i < e; ++i)
                    add(i << pageShift, &pte);
            } else {
                const std::uint64_t n = e - s;
                if (add(s << pageShift, &pte) && n > 1) {
                    nodes.back().last += static_cast<unsigned>(n - 1);
                    nodes.back().end = e << pageShift;
                }
                m_out.pages[static_cast<int>(pageKind(&pte))] += n - 1;
                m_out.uffdWpPages += pte.uffdWp ? n - 1 : 0;
            }
            at = e << pageShift;
        });
        none(end);
        return nodes;
    }

    const World& m_world;
    const Mm& m_mm;
    int m_proc;
    std::size_t m_maxNodes;
    std::size_t m_nodes = 0;
    PageTableWalk& m_out;
    ShareIndex m_shares;
};

} // namespace

const char* ptLevelName(PtLevel level)
{
    switch (level) {
    case PtLevel::Pgd:
        return "PGD";
    case PtLevel::P4d:
        return "P4D";
    case PtLevel::Pud:
        return "PUD";
    case PtLevel::Pmd:
        return "PMD";
    case PtLevel::Pte:
        return "PTE";
    }
    return "";
}

unsigned ptIndex(PtLevel level, Addr a)
{
    return static_cast<unsigned>((a >> levelShift(level)) & (entriesPerTable - 1));
}

std::uint64_t ptEntrySpan(PtLevel level)
{
    return std::uint64_t { 1 } << levelShift(level);
}

PageTableWalk walkPageTables(const World& world, int proc, Addr start, Addr end, std::size_t maxNodes)
{
    PageTableWalk out;
    out.proc = proc;
    out.start = start & ~(pageSize - 1);
    out.end = (end + pageSize - 1) & ~(pageSize - 1);
    if (proc < 0 || proc >= static_cast<int>(world.procs.size()) || out.start >= out.end)
        return out;
    Walker w(world, proc, maxNodes, out);
    out.roots = w.table(PtLevel::Pgd, out.start, out.end);
    std::sort(out.sharedWithProcs.begin(), out.sharedWithProcs.end());
    return out;
}

std::vector<PtShare> sharedFolio(const World& world, int proc, Addr addr)
{
    if (proc < 0 || proc >= static_cast<int>(world.procs.size()))
        return {};
    const Mm& mm = world.procs[static_cast<std::size_t>(proc)];
    const Pte* pte = mm.ptes.find(addr >> pageShift);
    const Vma* v = mm.vmaAt(addr);
    if (!pte || !pte->cowShared || !v)
        return {};
    return ShareIndex(world).find(world, proc, *v, addr & ~(pageSize - 1));
}

std::vector<CowLink> cowLinks(const World& world)
{
    std::vector<CowLink> out;
    const ShareIndex index(world);
    for (std::size_t p = 0; p < world.procs.size(); ++p) {
        const Mm& mm = world.procs[p];
        mm.ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
            if (!pte.cowShared)
                return;
            for (std::uint64_t i = s; i < e; ++i) {
                const Addr a = i << pageShift;
                const Vma* v = mm.vmaAt(a);
                if (!v)
                    continue;
                for (const PtShare& sh : index.find(world, static_cast<int>(p), *v, a)) {
                    // Each pair once, and only where the rows line up (same address).
                    if (sh.proc <= static_cast<int>(p) || sh.addr != a)
                        continue;
                    if (!out.empty() && out.back().procA == static_cast<int>(p) && out.back().procB == sh.proc
                        && out.back().end == a)
                        out.back().end = a + pageSize;
                    else
                        out.push_back({ static_cast<int>(p), sh.proc, a, a + pageSize });
                }
            }
        });
    }
    return out;
}

int forkParentOf(const World& world, int proc)
{
    if (proc < 0 || proc >= static_cast<int>(world.procs.size()))
        return -1;
    std::map<AnonVmaId, int> owner;
    for (std::size_t p = 0; p < world.procs.size(); ++p)
        for (const auto& e : world.procs[p].vmas)
            if (e.second.anon_vma != noAnonVma && static_cast<int>(p) != proc)
                owner.emplace(e.second.anon_vma, static_cast<int>(p));
    for (const auto& e : world.procs[static_cast<std::size_t>(proc)].vmas) {
        const auto it = world.anonVmaParent.find(e.second.anon_vma);
        if (it == world.anonVmaParent.end())
            continue;
        const auto o = owner.find(it->second);
        if (o != owner.end())
            return o->second;
    }
    return -1;
}

} // namespace vmalab::ui
