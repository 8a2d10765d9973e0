#include "core/engine/validate.h"

#include "core/engine/page_table.h"

#include <cinttypes>
#include <cstdio>
#include <set>

namespace vmalab {

namespace {

std::string hex(std::uint64_t v)
{
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return buf;
}

std::string range(Addr start, Addr end)
{
    return hex(start) + "-" + hex(end);
}

class Checker
{
public:
    Checker(const World& world, std::vector<std::string>& out)
        : m_world(world)
        , m_out(out)
    {
    }

    void checkMm(const Mm& mm, std::size_t proc)
    {
        m_prefix = "proc " + std::to_string(proc) + ": ";
        checkVmas(mm);
        checkPtes(mm);
        for (const auto& [fd, file] : mm.fds) {
            if (fd < 0)
                fail("negative fd " + std::to_string(fd));
            if (!m_world.file(file))
                fail("fd " + std::to_string(fd) + " refers to file " + std::to_string(file) + ", which does not exist");
        }
        if (mm.brk < mm.start_brk)
            fail("brk " + hex(mm.brk) + " below start_brk " + hex(mm.start_brk));
    }

    void checkWorld()
    {
        m_prefix.clear();
        for (const auto& [id, f] : m_world.files) {
            if (id != f.id)
                fail("file indexed as " + std::to_string(id) + " has id " + std::to_string(f.id));
            if (id == noFile || id >= m_world.nextFileId)
                fail("file id " + std::to_string(id) + " was never handed out (next "
                    + std::to_string(m_world.nextFileId) + ")");
        }
        // anon_vma_fork() links a child's anon_vma to its parent's: the links must end at a root.
        for (const auto& [child, parent] : m_world.anonVmaParent) {
            if (child == noAnonVma || parent == noAnonVma || child >= m_world.nextAnonVmaId
                || parent >= m_world.nextAnonVmaId)
                fail("anon_vma link " + std::to_string(child) + " -> " + std::to_string(parent)
                    + " names an anon_vma never handed out");
            AnonVmaId id = child;
            std::size_t hops = 0;
            for (auto it = m_world.anonVmaParent.find(id); it != m_world.anonVmaParent.end();
                 it = m_world.anonVmaParent.find(id)) {
                id = it->second;
                if (++hops > m_world.anonVmaParent.size()) {
                    fail("anon_vma " + std::to_string(child) + " has a cycle in its parent links");
                    break;
                }
            }
        }
    }

private:
    void fail(const std::string& what) { m_out.push_back(m_prefix + what); }

    void checkVmas(const Mm& mm)
    {
        const Vma* prev = nullptr;
        std::size_t count = 0;
        std::set<VmaId> ids;
        for (const auto& [key, v] : mm.vmas) {
            ++count;
            const std::string name = "VMA " + range(v.vm_start, v.vm_end);
            if (key != v.vm_start)
                fail(name + " is indexed at " + hex(key));
            if (v.vm_start >= v.vm_end)
                fail(name + " is empty or inverted");
            if (!pageAligned(v.vm_start) || !pageAligned(v.vm_end))
                fail(name + " is not page-aligned");
            if (prev && prev->vm_end > v.vm_start)
                fail(name + " overlaps the VMA before it, " + range(prev->vm_start, prev->vm_end));
            if (v.id == 0 || v.id >= m_world.nextVmaId)
                fail(name + " has id " + std::to_string(v.id) + ", never handed out");
            else if (!ids.insert(v.id).second)
                fail(name + " shares its id " + std::to_string(v.id) + " with another VMA");
            if (v.vm_file != noFile && !m_world.file(v.vm_file))
                fail(name + " maps file " + std::to_string(v.vm_file) + ", which does not exist");
            if (v.anon_vma != noAnonVma && v.anon_vma >= m_world.nextAnonVmaId)
                fail(name + " has anon_vma " + std::to_string(v.anon_vma) + ", never handed out");
            if (v.anon_vma != noAnonVma && v.anonVmaChain == 0)
                fail(name + " has an anon_vma but an empty anon_vma_chain");
            if (v.anon_vma == noAnonVma && v.anonVmaChain != 0)
                fail(name + " has no anon_vma but " + std::to_string(v.anonVmaChain) + " anon_vma_chain entries");
            // The pgoff of the last page must not wrap (the kernel refuses such a mapping).
            if (v.vm_pgoff + v.pages() < v.vm_pgoff)
                fail(name + " has a page offset that wraps");
            prev = &v;
        }
        if (count != mm.vmas.size() || count != mm.mapCount())
            fail("map count " + std::to_string(mm.mapCount()) + " but the index holds " + std::to_string(count)
                + " VMAs");
        // find_vma() must agree with the index at both ends of every VMA.
        for (const auto& [key, v] : mm.vmas) {
            if (v.vm_start >= v.vm_end)
                continue; // reported above; lookups of an empty range mean nothing
            const Vma* found = mm.findVma(v.vm_start);
            if (!found || found->vm_start != v.vm_start)
                fail("find_vma(" + hex(v.vm_start) + ") does not find VMA " + range(v.vm_start, v.vm_end));
            const Vma* last = mm.vmaAt(v.vm_end - 1);
            if (!last || last->vm_start != v.vm_start)
                fail("vma_lookup(" + hex(v.vm_end - 1) + ") does not find VMA " + range(v.vm_start, v.vm_end));
        }
    }

    void checkPtes(const Mm& mm)
    {
        mm.ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
            const Addr start = s << pageShift;
            const Addr end = e << pageShift;
            const std::string name = "PTEs " + range(start, end);
            if (pte.state == PageState::None)
                fail(name + " are stored with state none (a none entry is stored as no entry)");
            // Every entry sits inside a VMA: munmap zaps what it removes, mremap moves it.
            for (Addr a = start; a < end && a >= start;) {
                const Vma* v = mm.vmaAt(a);
                if (!v) {
                    const Vma* next = mm.findVma(a);
                    const Addr holeEnd = next && next->vm_start < end ? next->vm_start : end;
                    fail(
                        name + " (" + pageStateName(pte.state) + "): " + range(a, holeEnd) + " lies outside every VMA");
                    a = holeEnd;
                    continue;
                }
                if (pte.kind == Pte::Kind::File && pte.state == PageState::Present && v->vm_file == noFile)
                    fail(name + " map file pages in anonymous VMA " + range(v->vm_start, v->vm_end));
                if (pte.kind == Pte::Kind::Anon && pte.state == PageState::Present && v->anon_vma == noAnonVma)
                    fail(name + " map anonymous pages in VMA " + range(v->vm_start, v->vm_end)
                        + ", which has no anon_vma");
                a = v->vm_end;
            }
            // A PTE lives in a page-table page: the table for its PMD must exist. A page mapped
            // by a PMD entry has no PTE table, only the PMD table holding that entry.
            if (pte.pmdMapped)
                requireTables(mm.pmdTables, pudSize, start, end, name + ": no PMD table for the PUD at ");
            else
                requireTables(mm.pteTables, pmdSize, start, end, name + ": no PTE table for the PMD at ");
        });
        // Every table hangs from an entry of the level above.
        mm.pteTables.forEachAll([&](std::uint64_t s, std::uint64_t e, bool) {
            requireTables(mm.pmdTables, pudSize, s * pmdSize, e * pmdSize, "PTE tables: no PMD table for the PUD at ");
        });
        mm.pmdTables.forEachAll([&](std::uint64_t s, std::uint64_t e, bool) {
            requireTables(mm.pudTables, pgdEntrySize, s * pudSize, e * pudSize, "PMD tables: no PUD table for the PGD entry at ");
        });
    }

    // Fails unless `tables` (one per `span` bytes) covers every table slot of [start, end).
    void requireTables(const RunMap<bool>& tables, std::uint64_t span, Addr start, Addr end, const std::string& what)
    {
        const std::uint64_t first = start / span;
        const std::uint64_t last = (end - 1) / span;
        std::uint64_t covered = first;
        tables.forEach(first, last + 1, [&](std::uint64_t ts, std::uint64_t te, bool present) {
            if (ts > covered)
                return;
            if (present)
                covered = te;
        });
        if (covered <= last)
            fail(what + hex(covered * span));
    }

    const World& m_world;
    std::vector<std::string>& m_out;
    std::string m_prefix;
};

} // namespace

std::vector<std::string> validateMm(const World& world, const Mm& mm, std::size_t proc)
{
    std::vector<std::string> out;
    Checker(world, out).checkMm(mm, proc);
    return out;
}

std::vector<std::string> validateWorld(const World& world)
{
    std::vector<std::string> out;
    Checker checker(world, out);
    for (std::size_t i = 0; i < world.procs.size(); ++i)
        checker.checkMm(world.procs[i], i);
    checker.checkWorld();
    return out;
}

} // namespace vmalab
