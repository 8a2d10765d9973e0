#include "core/engine/observe.h"

#include "core/engine/fork.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <map>

namespace vmalab {

namespace {

using FilePage = std::pair<FileId, PageOff>;

// How many PTEs map each page-cache page, across every process (the folio's mapcount).
std::map<FilePage, unsigned> fileMapCounts(const World& world)
{
    std::map<FilePage, unsigned> counts;
    for (const Mm& mm : world.procs) {
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            if (v.vm_file == noFile)
                continue;
            mm.ptes.forEach(pageIndex(v.vm_start), pageIndex(v.vm_end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
                if (p.state != PageState::Present || p.kind != Pte::Kind::File)
                    return;
                for (std::uint64_t i = s; i < e; ++i)
                    ++counts[{ v.vm_file, v.pgoffAt(i << pageShift) }];
            });
        }
    }
    return counts;
}

// Who maps each COW-shared anonymous page, the page known by its VMA's root anon_vma and linear
// index as rmap finds it (see cowShareCount()); cowShareCountAmong() turns the holders into a
// count. After mremap two VMAs of one process may cover the same indexes with different pages,
// and neither is shared with itself.
std::map<FilePage, CowHolders> anonShareCounts(const World& world)
{
    std::map<FilePage, CowHolders> counts;
    for (std::size_t proc = 0; proc < world.procs.size(); ++proc) {
        const Mm& mm = world.procs[proc];
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            mm.ptes.forEach(pageIndex(v.vm_start), pageIndex(v.vm_end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
                if (p.state != PageState::Present || p.kind != Pte::Kind::Anon || !p.cowShared)
                    return;
                for (std::uint64_t i = s; i < e; ++i)
                    counts[{ world.anonVmaRoot(v.anon_vma), v.pgoffAt(i << pageShift) }].emplace_back(proc, i << pageShift);
            });
        }
    }
    return counts;
}

} // namespace

std::string vmaName(const World& world, const Mm& mm, const Vma& v)
{
    if (const File* f = world.file(v.vm_file)) {
        if (f->path == "/dev/zero" && !v.anon_name.empty() && world.profile().machine.anonVmaName)
            return "[anon_shmem:" + v.anon_name + "]";
        return f->deleted ? f->path + " (deleted)" : f->path;
    }
    if (!v.specialName.empty())
        return v.specialName;
    // vma_is_initial_heap(): the VMA overlaps [start_brk, brk).
    if (v.vm_start < mm.brk && v.vm_end > mm.start_brk && mm.start_brk)
        return "[heap]";
    if (v.vm_start <= mm.start_stack && v.vm_end >= mm.start_stack)
        return "[stack]";
    if (!v.anon_name.empty() && world.profile().machine.anonVmaName)
        return "[anon:" + v.anon_name + "]";
    return {};
}

namespace {

// One process, given the world-wide sharing counts (built once for all processes).
ObservedProcess observeWith(const World& world, std::size_t procIndex, const std::map<FilePage, unsigned>& mapCounts,
                            const std::map<FilePage, CowHolders>& anonCounts)
{
    const Mm& mm = world.procs.at(procIndex);
    ObservedProcess out;
    out.pid = mm.pid;
    for (const auto& vmaEntry : mm.vmas) {
        const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
        ObservedVma o;
        o.start = v.vm_start;
        o.end = v.vm_end;
        o.perms = mapsPerms(v.vm_flags);
        const File* f = world.file(v.vm_file);
        if (f) {
            o.offset = v.vm_pgoff << pageShift;
            o.devMajor = f->devMajor;
            o.devMinor = f->devMinor;
            o.inode = f->inode;
        }
        o.name = vmaName(world, mm, v);
        o.vmFlags = vmFlagMnemonics(v.vm_flags);

        std::uint64_t rss = 0, anon = 0, swapped = 0, pssBytesTimes1k = 0;
        Addr cursor = v.vm_start;
        auto addRun = [&](Addr s, Addr e, PageState state, bool wp, bool excl, bool file) {
            if (s >= e)
                return;
            if (!out.pages.empty()) {
                PageRun& last = out.pages.back();
                if (last.end == s && last.start >= v.vm_start && last.state == state && last.uffdWp == wp
                    && last.exclusive == excl && last.file == file) {
                    last.end = e;
                    return;
                }
            }
            out.pages.push_back(PageRun { s, e, state, wp, excl, file });
        };
        mm.ptes.forEach(pageIndex(v.vm_start), pageIndex(v.vm_end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
            const Addr from = s << pageShift, to = e << pageShift;
            addRun(cursor, from, PageState::None, false, false, false);
            cursor = to;
            const std::uint64_t n = e - s;
            if (p.state != PageState::Present || p.kind == Pte::Kind::Marker) {
                if (p.state == PageState::Swap && p.kind != Pte::Kind::Marker)
                    swapped += n;
                addRun(from, to, p.state, p.uffdWp, false, false);
                return;
            }
            if (p.kind == Pte::Kind::ZeroPage) {
                addRun(from, to, PageState::Present, p.uffdWp, false, false);
                return;
            }
            rss += n;
            if (p.kind == Pte::Kind::Anon) {
                anon += n;
                if (!p.cowShared) {
                    pssBytesTimes1k += n * pageSize * 1024;
                    addRun(from, to, PageState::Present, p.uffdWp, true, false);
                    return;
                }
                // pagemap's bit 56 follows the map count, so a page whose other sharers all
                // wrote (and copied) reads exclusive again before this process writes it.
                for (std::uint64_t i = s; i < e; ++i) {
                    auto it = anonCounts.find({ world.anonVmaRoot(v.anon_vma), v.pgoffAt(i << pageShift) });
                    const unsigned count = it == anonCounts.end() ? 1 : cowShareCountAmong(it->second, procIndex, i << pageShift);
                    pssBytesTimes1k += pageSize * 1024 / count;
                    addRun(i << pageShift, (i + 1) << pageShift, PageState::Present, p.uffdWp, count == 1, false);
                }
                return;
            }
            // Page-cache pages: exclusive only while this is their one mapping.
            for (std::uint64_t i = s; i < e; ++i) {
                auto it = mapCounts.find({ v.vm_file, v.pgoffAt(i << pageShift) });
                const unsigned count = it == mapCounts.end() ? 1 : it->second;
                pssBytesTimes1k += pageSize * 1024 / count;
                addRun(i << pageShift, (i + 1) << pageShift, PageState::Present, p.uffdWp, count == 1, true);
            }
        });
        addRun(cursor, v.vm_end, PageState::None, false, false, false);

        const std::uint64_t pssKb = pssBytesTimes1k / 1024 / 1024;
        o.smapsKb = {
            { "Size", v.pages() * 4 },
            { "KernelPageSize", 4 },
            { "MMUPageSize", 4 },
            { "Rss", rss * 4 },
            { "Pss", pssKb },
            { "Anonymous", anon * 4 },
            { "Swap", swapped * 4 },
            { "Locked", (v.vm_flags & VM_LOCKED) ? pssKb : 0 },
        };
        out.vmas.push_back(std::move(o));
    }
    out.stats = {
        { "vmas", static_cast<std::int64_t>(mm.mapCount()) },
        { "pte_tables", 0 },
        { "fork.vmas_pt_copied", static_cast<std::int64_t>(mm.forkVmasPtCopied) },
        { "fork.ptes_copied", static_cast<std::int64_t>(mm.forkPtesCopied) },
    };
    std::int64_t tables = 0;
    mm.pteTables.forEachAll([&](std::uint64_t s, std::uint64_t e, bool) { tables += static_cast<std::int64_t>(e - s); });
    out.stats[1].second = tables;
    return out;
}

} // namespace

ObservedProcess observeProcess(const World& world, std::size_t procIndex)
{
    return observeWith(world, procIndex, fileMapCounts(world), anonShareCounts(world));
}

std::vector<ObservedProcess> observeWorld(const World& world)
{
    const auto mapCounts = fileMapCounts(world);
    const auto anonCounts = anonShareCounts(world);
    std::vector<ObservedProcess> out;
    for (std::size_t i = 0; i < world.procs.size(); ++i)
        out.push_back(observeWith(world, i, mapCounts, anonCounts));
    return out;
}

} // namespace vmalab
