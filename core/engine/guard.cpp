#include "core/engine/guard.h"

#include "core/assert.h"
#include "core/engine/file_pages.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <functional>
#include <cerrno>
#include <string>
#include <vector>

namespace vmalab {

namespace {

// is_valid_guard_vma(): page-table markers need ordinary page tables, so special mappings and
// hugetlb are refused; install also refuses mlocked VMAs, whose pages must stay populated.
bool validGuardVma(OpContext& c, const Vma& v, bool allowLocked)
{
    const VmFlags refused = VM_SPECIAL | VM_HUGETLB | (allowLocked ? 0 : VM_LOCKED_MASK);
    if (!(v.vm_flags & refused))
        return true;
    std::string what = (v.vm_flags & VM_SPECIAL) ? "a special (VM_IO/VM_DONTEXPAND/VM_PFNMAP/VM_MIXEDMAP) mapping"
        : (v.vm_flags & VM_HUGETLB)              ? "a hugetlb mapping"
                                                 : "an mlocked mapping";
    c.trace.step("is_valid_guard_vma", describeVma(v) + " is " + what,
        allowLocked ? "guard regions cannot live in special or hugetlb mappings: -EINVAL; nothing changes"
                    : "guard install refuses special, hugetlb and mlocked mappings: -EINVAL; the VMA is neither "
                      "split nor flagged");
    return false;
}

// vma_flag_set_atomic(vma, VM_MAYBE_GUARD_BIT), the series only.
void setMaybeGuard(OpContext& c, Vma& v)
{
    const bool had = v.vm_flags & VM_MAYBE_GUARD;
    v.vm_flags |= VM_MAYBE_GUARD;
    auto& s = c.trace.step("vma_flag_set_atomic",
        had ? describeVma(v) + " already has VM_MAYBE_GUARD (gu); set_bit() leaves it"
            : "sets VM_MAYBE_GUARD (gu) on the whole of " + describeVma(v),
        "an atomic set_bit() under the mmap READ lock, before any page table changes, and never "
        "cleared: it is the one flag allowed to change without the write lock, safe because every "
        "other vm_flags writer holds the write lock and the readers that matter (merging, fork's "
        "vma_needs_copy()) hold it too; no split, so the whole VMA is marked");
    if (!had)
        s.changed = { v.id };
}

} // namespace

std::int64_t guardInstall(OpContext& c, Addr vmaStart, Addr start, Addr end)
{
    Vma& v = c.mm.vmas.at(vmaStart);
    if (!validGuardVma(c, v, false))
        return -EINVAL;
    const Behaviour& b = c.profile().behaviour;
    if (b.hasMaybeGuard)
        setMaybeGuard(c, v);
    if (v.isAnonymous() || b.guardPreparesAnonVmaForFiles) {
        if (v.anon_vma == noAnonVma)
            c.trace.step("madvise_guard_install", "prepares an anon_vma for " + describeVma(v),
                b.guardPreparesAnonVmaForFiles
                    ? "v6.18 calls anon_vma_prepare() on every guarded VMA, file-backed too, so that fork "
                      "copies the page tables holding the markers"
                    : "the series calls anon_vma_prepare() for private anonymous VMAs only");
        anonVmaPrepare(c, v);
    } else if (v.anon_vma == noAnonVma) {
        c.trace.step("madvise_guard_install", describeVma(v) + " gets no anon_vma",
            "with the series only private anonymous VMAs get one; VM_MAYBE_GUARD tells fork to copy page "
            "tables instead");
    }
    splitFilePmdsIn(c, start, end, "madvise_guard_install()",
        "the zap that clears the way for the markers meets a file PMD");
    std::uint64_t populated = 0;
    c.mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
        if (p.state != PageState::Guard)
            populated += e - s;
    });
    // The zap that clears the way re-installs a uffd-wp marker wherever a write-protected entry
    // of a `uw` file or shmem VMA stood (zap_install_uffd_wp_if_needed()); the next walk finds
    // that marker populated again, and the call never finishes (measured on 6.18.44).
    if (!v.isAnonymous() && (v.vm_flags & VM_UFFD_WP)) {
        std::uint64_t protectedEntries = 0;
        c.mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
            if (p.uffdWp && p.state != PageState::Guard)
                protectedEntries += e - s;
        });
        if (protectedEntries) {
            c.trace.step("madvise_guard_install",
                "loops forever over " + std::to_string(protectedEntries) + " write-protected entr"
                    + (protectedEntries == 1 ? "y" : "ies") + " of " + describeVma(v),
                "each zap leaves a uffd-wp marker where a protected entry was, the walk sees it as populated and "
                "zaps again; only a signal interrupts the call");
            c.neverReturns = "never returns: MADV_GUARD_INSTALL keeps zapping uffd-wp markers that the zap itself "
                             "re-installs (a shmem or file VMA registered for userfaultfd WP)";
            return 0;
        }
    }
    if (populated)
        c.trace.step("zap_page_range_single",
            "zaps " + std::to_string(populated) + " populated entr" + (populated == 1 ? "y" : "ies") + " in "
                + describeRange(start, end),
            "the guard walk met present pages or swap entries, so the range is zapped as MADV_DONTNEED does "
            "(anonymous data is lost, the page cache keeps file data) and walked again");
    // After the zap every entry is none or a guard marker, so the net effect is one marker per page.
    setPtes(c.mm, start, end, Pte { PageState::Guard, Pte::Kind::Marker, false });
    c.trace.step("guard_install_pte_entry", "installs guard markers in " + describeRange(start, end),
        "every none PTE becomes a guard marker (page tables are allocated to hold them); markers already "
        "there stay; the VMA is not split");
    return 0;
}

std::int64_t guardRemove(OpContext& c, Addr vmaStart, Addr start, Addr end)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    if (!validGuardVma(c, v, true))
        return -EINVAL;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> guards;
    c.mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
        if (p.state == PageState::Guard)
            guards.emplace_back(s, e);
    });
    std::uint64_t n = 0;
    for (auto [s, e] : guards) {
        c.mm.ptes.erase(s, e);
        n += e - s;
    }
    c.trace.step("guard_remove_pte_entry",
        "clears " + std::to_string(n) + " guard marker(s) in " + describeRange(start, end),
        "guard markers become none (the next access faults a page in); other entries stay; VM_MAYBE_GUARD "
        "is never cleared, and locked VMAs are allowed");
    return 0;
}

} // namespace vmalab

namespace vmalab {

namespace {

// hpage_collapse_scan_pmd() for one block, as MADV_COLLAPSE sees it: empty and zero-page PTEs are
// accepted in any number, but a guard marker cannot be swapped in, and a block without one
// writable present page has nothing to collapse (SCAN_PAGE_RO / SCAN_PMD_NULL). "" or why not.
std::string collapseRefusal(const OpContext& c, const Vma& v, Addr block)
{
    bool guard = false, writable = false;
    c.mm.ptes.forEach(pageIndex(block), pageIndex(block + pmdSize), [&](std::uint64_t, std::uint64_t, const Pte& p) {
        guard = guard || p.state == PageState::Guard;
        writable = writable || (p.state == PageState::Present && p.kind == Pte::Kind::Anon);
    });
    if (guard)
        return "the block holds a guard marker, which a collapse would lose: the block fails";
    if (!writable || !(v.vm_flags & VM_WRITE))
        return "the block has no writable present anonymous page (only empty entries or zero pages): the block fails";
    return {};
}

} // namespace

bool holdsAlignedBlock(const Vma& v)
{
    const Addr lastBlock = (v.vm_end - std::min<Addr>(v.vm_end, pmdSize)) & ~(pmdSize - 1);
    return v.vm_end - v.vm_start >= pmdSize && lastBlock >= v.vm_start;
}

std::int64_t forEachCollapseBlock(
    OpContext& c, Addr start, Addr end, const std::function<std::int64_t(Addr block)>& collapseBlock)
{
    // The blocks are the aligned 2 MiB ranges wholly inside [start, end): start rounds up, end
    // rounds down. When start rounds up past end the kernel's block count underflows and the
    // call fails; when they meet there is nothing to do and it succeeds.
    const Addr hstart = (start + pmdSize - 1) & ~(pmdSize - 1);
    const Addr hend = end & ~(pmdSize - 1);
    if (hstart > hend) {
        c.trace.step("madvise_collapse", "no aligned 2 MiB block lies in " + describeRange(start, end),
            "the range starts inside a block and ends before the next one: nothing collapses, -EINVAL");
        return -EINVAL;
    }
    if (hstart == hend) {
        c.trace.step("madvise_collapse", "no aligned 2 MiB block lies in " + describeRange(start, end),
            "the range is shorter than a block: nothing to do, 0");
        return 0;
    }
    std::int64_t ret = 0;
    for (Addr block = hstart; block < hend; block += pmdSize)
        if (collapseBlock(block) != 0)
            ret = -EINVAL;
    return ret;
}

std::int64_t madviseCollapse(OpContext& c, Addr vmaStart, Addr start, Addr end)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    if (!v.isAnonymous())
        return madviseCollapseFile(c, vmaStart, start, end);
    // thp_vma_allowable_order() with forced collapse: sysfs "enabled" is ignored, VM_NOHUGEPAGE
    // is not, and the VMA must be able to hold one aligned 2 MiB block.
    const bool fits = holdsAlignedBlock(v);
    if ((v.vm_flags & VM_NOHUGEPAGE) || !fits) {
        c.trace.step("thp_vma_allowable_order", describeVma(v) + " cannot take a THP",
            (v.vm_flags & VM_NOHUGEPAGE) ? "MADV_NOHUGEPAGE forbids THPs even for MADV_COLLAPSE: -EINVAL"
                                         : "no aligned 2 MiB block fits in the VMA: -EINVAL");
        return -EINVAL;
    }
    // Only a page fault may give a THP to an anonymous VMA without an anon_vma (measured: an
    // untouched VMA refuses even a range holding no whole block).
    if (v.anon_vma == noAnonVma) {
        c.trace.step("thp_vma_allowable_order", describeVma(v) + " cannot take a THP",
            "no page has faulted in yet, so the VMA has no anon_vma, and only the fault path may allocate a "
            "THP without one: -EINVAL");
        return -EINVAL;
    }
    return forEachCollapseBlock(c, start, end, [&](Addr block) -> std::int64_t {
        const std::string why = collapseRefusal(c, v, block);
        if (!why.empty()) {
            c.trace.step("hpage_collapse_scan_pmd", "cannot collapse " + describeRange(block, block + pmdSize),
                why + "; the walk goes on, the call returns -EINVAL");
            return -EINVAL;
        }
        // Present anonymous pages keep whether they were ever written; swapped-in pages hold data;
        // empty entries and zero pages are filled with zeros.
        std::vector<std::pair<std::uint64_t, std::uint64_t>> written;
        c.mm.ptes.forEach(pageIndex(block), pageIndex(block + pmdSize), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
            if (p.kind == Pte::Kind::Anon && (p.state == PageState::Swap || (p.state == PageState::Present && !p.zeroFilled)))
                written.emplace_back(s, e);
        });
        Pte filled { PageState::Present, Pte::Kind::Anon, false };
        filled.zeroFilled = true;
        setPtes(c.mm, block, block + pmdSize, filled);
        for (const auto& run : written)
            c.mm.ptes.assign(run.first, run.second, Pte { PageState::Present, Pte::Kind::Anon, false });
        c.trace.step("collapse_huge_page", "maps " + describeRange(block, block + pmdSize) + " with one 2 MiB THP",
            "empty entries and zero pages become zero-filled parts of the THP, so every page is present (an "
            "existing THP counts as collapsed)");
        return 0;
    });
}

} // namespace vmalab
