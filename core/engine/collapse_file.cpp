// MADV_COLLAPSE of shmem and file VMAs: collapse_file() builds one THP in the page cache,
// then collapse_pte_mapped_thp() maps it with a PMD in the calling VMA. What the running
// kernel does was measured case by case (docs/kernel-findings.md, "MADV_COLLAPSE of shmem").
#include "core/engine/file_pages.h"
#include "core/engine/guard.h"
#include "core/engine/page_table.h"
#include "core/engine/trace.h"
#include "core/engine/vma_merge.h"
#include "core/vm_flags.h"

#include <cerrno>
#include <string>
#include <utility>
#include <vector>

namespace vmalab {

std::uint64_t unmapFilePages(World& world, FileId file, PageOff from, PageOff to)
{
    std::uint64_t unmapped = 0;
    for (Mm& mm : world.procs) {
        std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            const PageOff lo = std::max(from, v.vm_pgoff), hi = std::min(to, v.vm_pgoff + v.pages());
            if (v.vm_file != file || lo >= hi)
                continue;
            const Addr start = v.vm_start + ((lo - v.vm_pgoff) << pageShift);
            const Addr end = v.vm_start + ((hi - v.vm_pgoff) << pageShift);
            mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
                if (p.state == PageState::Present && p.kind == Pte::Kind::File)
                    runs.emplace_back(s, e);
            });
        }
        for (auto [s, e] : runs) {
            mm.ptes.erase(s, e);
            unmapped += e - s;
        }
    }
    return unmapped;
}

namespace {

// Why collapse_pte_mapped_thp() cannot map the new THP in the calling VMA, or "".
std::string pmdMapRefusal(const OpContext& c, const Vma& v, Addr block)
{
    if (v.vm_flags & VM_UFFD_WP)
        return "the VMA is registered for userfaultfd write-protect, whose per-page bits a PMD cannot hold";
    bool guard = false, anon = false;
    c.mm.ptes.forEach(pageIndex(block), pageIndex(block + pmdSize), [&](std::uint64_t, std::uint64_t, const Pte& p) {
        guard = guard || p.state == PageState::Guard;
        anon = anon || (p.state != PageState::None && p.kind == Pte::Kind::Anon);
    });
    if (guard)
        return "a guard marker sits in the block, and a PMD mapping would lose it";
    if (anon)
        return "a private copy-on-write page sits in the block, and it is not part of the file's THP";
    return {};
}

bool anyCached(const File& f, PageOff from, PageOff to)
{
    bool any = false;
    f.pageCache.forEach(from, to, [&](std::uint64_t, std::uint64_t, const bool& cached) { any = any || cached; });
    return any;
}

} // namespace

std::int64_t madviseCollapseFile(OpContext& c, Addr vmaStart, Addr start, Addr end)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    File& f = *c.world.file(v.vm_file);
    const MachineConfig& m = c.profile().machine;
    auto refuse = [&](const std::string& why) {
        c.trace.step("thp_vma_allowable_order", describeVma(v) + " cannot take a THP", why + ": -EINVAL");
        return -EINVAL;
    };
    if (f.kind == File::Kind::Regular)
        return refuse("a regular file's page cache holds no THPs without CONFIG_READ_ONLY_THP_FOR_FS");
    if (m.shmemThpDeny)
        return refuse("shmem_enabled is \"deny\", which even MADV_COLLAPSE obeys");
    if (v.vm_flags & VM_NOHUGEPAGE)
        return refuse("MADV_NOHUGEPAGE forbids THPs even for MADV_COLLAPSE");
    // transhuge_vma_suitable(): a PMD can only map file pages whose offset is 2 MiB aligned
    // with their address.
    if (((v.vm_start >> pageShift) - v.vm_pgoff) % (pmdSize >> pageShift) != 0)
        return refuse("the file offset is not 2 MiB aligned with the address, so no PMD can map the file's THPs");
    if (!holdsAlignedBlock(v))
        return refuse("no aligned 2 MiB block fits in the VMA");
    const PageOff blockPages = pmdSize >> pageShift;
    return forEachCollapseBlock(c, start, end, [&](Addr block) -> std::int64_t {
        const PageOff from = v.pgoffAt(block), to = from + blockPages;
        if (!anyCached(f, from, to)) {
            c.trace.step("hpage_collapse_scan_file", "cannot collapse " + describeRange(block, block + pmdSize),
                "none of the block's file pages is in the page cache: there is nothing to collapse; the walk goes "
                "on, the call returns -EINVAL");
            return -EINVAL;
        }
        f.pageCache.assign(from, to, true);
        const std::uint64_t unmapped = unmapFilePages(c.world, f.id, from, to);
        c.trace.step("collapse_file",
            "builds one 2 MiB THP for file pages " + hexAddr(from) + "-" + hexAddr(to) + " and unmaps "
                + std::to_string(unmapped) + " PTE(s) of the old pages",
            "holes are filled with new zeroed pages, even past the end of the file; the old small pages leave "
            "every mapping, private copies and markers stay (retract_page_tables() skips VMAs with an anon_vma"
                + std::string(c.profile().behaviour.hasMaybeGuard ? " or VM_MAYBE_GUARD" : "")
                + ", so their guard markers survive)");
        const std::string why = pmdMapRefusal(c, v, block);
        if (!why.empty()) {
            c.trace.step("collapse_pte_mapped_thp", "cannot map the THP in " + describeRange(block, block + pmdSize),
                why + "; the block's file pages stay unmapped here, the walk goes on, the call returns -EINVAL");
            return -EINVAL;
        }
        setPtes(c.mm, block, block + pmdSize, Pte { PageState::Present, Pte::Kind::File, false });
        c.trace.step("collapse_pte_mapped_thp", "maps " + describeRange(block, block + pmdSize) + " with one PMD",
            "every page of the block is present, also those past the end of the file, which now read as zeros "
            "instead of raising SIGBUS");
        return 0;
    });
}

} // namespace vmalab
