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
        std::vector<std::uint64_t> pmdBlocks;
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            const PageOff lo = std::max(from, v.vm_pgoff), hi = std::min(to, v.vm_pgoff + v.pages());
            if (v.vm_file != file || lo >= hi)
                continue;
            const Addr start = v.vm_start + ((lo - v.vm_pgoff) << pageShift);
            const Addr end = v.vm_start + ((hi - v.vm_pgoff) << pageShift);
            mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
                if (p.state != PageState::Present || p.kind != Pte::Kind::File)
                    return;
                // Part of a PMD mapping cannot go alone: the PMD is split, which clears it whole.
                if (p.pmdMapped) {
                    const std::uint64_t blockPtes = pmdSize >> pageShift;
                    s &= ~(blockPtes - 1);
                    e = (e + blockPtes - 1) & ~(blockPtes - 1);
                    pmdBlocks.push_back(s / blockPtes);
                }
                runs.emplace_back(s, e);
            });
        }
        for (auto [s, e] : runs) {
            unmapped += mm.ptes.anyIn(s, e) ? e - s : 0;
            mm.ptes.erase(s, e);
        }
        for (std::uint64_t pmd : pmdBlocks)
            mm.pteTables.erase(pmd, pmd + 1); // the cleared PMD has no PTE table
    }
    return unmapped;
}

std::pair<PageOff, PageOff> largeFolioAt(const File& f, PageOff idx)
{
    const std::uint8_t* order = f.folioOrder.find(idx);
    if (!order || *order == 0)
        return { idx, idx };
    const PageOff first = idx & ~((PageOff { 1 } << *order) - 1);
    return { first, first + (PageOff { 1 } << *order) };
}

namespace {

constexpr PageOff blockPages = pmdSize >> pageShift;

// One PMD maps the file THP over the aligned block: every page present (pmdMapped).
void mapBlockByPmd(OpContext& c, Addr block)
{
    Pte huge { PageState::Present, Pte::Kind::File, false };
    huge.pmdMapped = true;
    setPmdLeaf(c.mm, block, huge);
}

bool blockPmdMapped(const Mm& mm, Addr block)
{
    bool any = false;
    mm.ptes.forEach(pageIndex(block), pageIndex(block + pmdSize),
        [&](std::uint64_t, std::uint64_t, const Pte& p) { any = any || p.pmdMapped; });
    return any;
}

void splitFilePmd(OpContext& c, Addr block, const std::string& caller, const std::string& why)
{
    if (!blockPmdMapped(c.mm, block))
        return;
    clearPtes(c.mm, block, block + pmdSize);
    c.mm.pteTables.erase(block / pmdSize, block / pmdSize + 1); // the PMD is left none, without a PTE table
    c.trace.step("__split_huge_pmd",
        caller + " splits the file PMD of " + describeRange(block, block + pmdSize) + ": all 512 pages are unmapped",
        why
            + "; a file or shmem PMD is only cleared, not remapped with PTEs, and the pages fault back from the "
              "page cache");
}

// Buddy split of the folio [first, first + 2^order) around page `at`: `at` ends in a small
// folio, and each half not holding it stays one folio of the half's order.
void splitAround(File& f, PageOff first, unsigned order, PageOff at)
{
    f.folioOrder.erase(first, first + (PageOff { 1 } << order));
    PageOff lo = first;
    while (order > 0) {
        --order;
        const PageOff half = lo + (PageOff { 1 } << order);
        const PageOff keepFrom = at < half ? half : lo;
        if (order > 0)
            f.folioOrder.assign(keepFrom, keepFrom + (PageOff { 1 } << order), static_cast<std::uint8_t>(order));
        if (at >= half)
            lo = half;
    }
}

} // namespace

void splitFilePmdAt(OpContext& c, Addr at)
{
    // Checked before the reason text is built: every split of every VMA comes through here.
    if (at % pmdSize != 0 && blockPmdMapped(c.mm, at & ~(pmdSize - 1)))
        splitFilePmd(c, at & ~(pmdSize - 1), "vma_adjust_trans_huge()",
            "a VMA boundary is made at " + hexAddr(at) + ", inside the block");
}

void splitFilePmdsIn(OpContext& c, Addr start, Addr end, const std::string& caller, const std::string& why)
{
    for (Addr block = start & ~(pmdSize - 1); block < end; block += pmdSize)
        splitFilePmd(c, block, caller, why);
}

void splitFilePmdsForMove(OpContext& c, Addr from, std::uint64_t len, Addr to)
{
    for (Addr block = from & ~(pmdSize - 1); block < from + len; block += pmdSize) {
        const bool whole = block >= from && block + pmdSize <= from + len;
        if (!whole || (to + (block - from)) % pmdSize != 0)
            splitFilePmd(c, block, "move_page_tables()",
                "the PMD cannot move whole to a 2 MiB aligned address, so it is split before the PTEs move");
    }
}

bool splitFileFolio(OpContext& c, FileId file, PageOff idx, const std::string& why)
{
    File& f = *c.world.file(file);
    const auto [first, last] = largeFolioAt(f, idx);
    if (first == last)
        return false;
    const std::uint64_t unmapped = unmapFilePages(c.world, file, first, last);
    f.folioOrder.erase(first, last);
    c.trace.step("split_folio",
        "splits the large folio of file pages " + hexAddr(first) + "-" + hexAddr(last) + " into small folios",
        why + "; unmap_folio() first unmaps it everywhere (" + std::to_string(unmapped)
            + " PTE(s)), the pages stay in the page cache");
    return true;
}

void splitFoliosForHole(OpContext& c, FileId file, PageOff from, PageOff to)
{
    File& f = *c.world.file(file);
    for (const PageOff edge : { from, to }) {
        const auto [first, last] = largeFolioAt(f, edge);
        if (first == last || first == edge)
            continue;
        const std::uint8_t order = *f.folioOrder.find(edge);
        const std::uint64_t unmapped = unmapFilePages(c.world, file, first, last);
        splitAround(f, first, order, edge);
        c.trace.step("try_folio_split_to_order",
            "splits the large folio of file pages " + hexAddr(first) + "-" + hexAddr(last) + " around page "
                + hexAddr(edge),
            "the range cuts it: page " + hexAddr(edge)
                + " ends in a small folio, the rest in aligned buddies; the "
                  "folio was unmapped everywhere first ("
                + std::to_string(unmapped) + " PTE(s))");
    }
    f.folioOrder.erase(from, to);
}

bool mapFileThpByPmd(OpContext& c, const Vma& v, Addr addr)
{
    const File& f = *c.world.file(v.vm_file);
    const auto [first, last] = largeFolioAt(f, v.pgoffAt(addr));
    const Addr block = addr & ~(pmdSize - 1);
    if (last - first != blockPages || block < v.vm_start || block + pmdSize > v.vm_end || v.pgoffAt(block) != first
        || (v.vm_flags & (VM_NOHUGEPAGE | VM_UFFD_WP | VM_UFFD_MINOR | VM_UFFD_MISSING))
        || c.mm.pteTables.find(block / pmdSize))
        return false;
    mapBlockByPmd(c, block);
    c.trace.step("do_set_pmd", "maps the file's THP at " + describeRange(block, block + pmdSize) + " with one PMD",
        "the faulting page lies in a PMD-size folio of the page cache, the VMA covers the aligned block and no "
        "PTE table sits there");
    return true;
}

std::pair<Addr, Addr> wholeFolioRange(const File& f, const Vma& v, Addr addr)
{
    const PageOff idx = v.pgoffAt(addr);
    const auto [first, last] = largeFolioAt(f, idx);
    if (first == last)
        return { 0, 0 };
    const Addr from = addr - ((idx - first) << pageShift), to = from + ((last - first) << pageShift);
    if (from < v.vm_start || to > v.vm_end || from / pmdSize != (to - 1) / pmdSize)
        return { 0, 0 };
    return { from, to };
}

bool shmemPageDirty(const File& f, PageOff idx)
{
    const bool* dirty = f.pageCache.find(idx);
    return dirty && *dirty;
}

void markShmemDirty(File& f, PageOff from, PageOff to)
{
    if (f.kind == File::Kind::Shmem)
        f.pageCache.assign(from, to, true);
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
    f.pageCache.forEach(from, to, [&](std::uint64_t, std::uint64_t, const bool&) { any = true; });
    return any;
}

// collapse_file(): one new THP replaces the block's small folios in the page cache, holes filled
// with zeroed pages (past EOF too for shmem); the new folio is dirty.
void collapseFileBlock(OpContext& c, File& f, PageOff from, PageOff to)
{
    f.pageCache.assign(from, to, true);
    f.folioOrder.assign(from, to, 9);
    const std::uint64_t unmapped = unmapFilePages(c.world, f.id, from, to);
    c.trace.step("collapse_file",
        "builds one 2 MiB THP for file pages " + hexAddr(from) + "-" + hexAddr(to) + " and unmaps "
            + std::to_string(unmapped) + " PTE(s) of the old pages",
        "holes are filled with new zeroed pages, even past the end of the file; the old small pages leave "
        "every mapping, private copies and markers stay (retract_page_tables() skips VMAs with an anon_vma"
            + std::string(c.profile().behaviour.hasMaybeGuard ? " or VM_MAYBE_GUARD" : "")
            + ", so their guard markers survive)");
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
    return forEachCollapseBlock(c, start, end, [&](Addr block) -> std::int64_t {
        const PageOff from = v.pgoffAt(block), to = from + blockPages;
        if (!anyCached(f, from, to)) {
            c.trace.step("hpage_collapse_scan_file", "cannot collapse " + describeRange(block, block + pmdSize),
                "none of the block's file pages is in the page cache: there is nothing to collapse; the walk goes "
                "on, the call returns -EINVAL");
            return -EINVAL;
        }
        if (largeFolioAt(f, from).second - from == blockPages) {
            c.trace.step("hpage_collapse_scan_file",
                "file pages " + hexAddr(from) + "-" + hexAddr(to) + " already form one THP",
                "nothing to build: only this VMA's mapping of it is made a PMD, other mappings keep theirs");
        } else {
            collapseFileBlock(c, f, from, to);
        }
        const std::string why = pmdMapRefusal(c, v, block);
        if (!why.empty()) {
            c.trace.step("collapse_pte_mapped_thp", "cannot map the THP in " + describeRange(block, block + pmdSize),
                why + "; the block's file pages stay unmapped here, the walk goes on, the call returns -EINVAL");
            return -EINVAL;
        }
        mapBlockByPmd(c, block);
        c.trace.step("collapse_pte_mapped_thp", "maps " + describeRange(block, block + pmdSize) + " with one PMD",
            "every page of the block is present, also those past the end of the file, which now read as zeros "
            "instead of raising SIGBUS");
        return 0;
    });
}

} // namespace vmalab
