#include "core/engine/fault.h"

#include "core/engine/file_pages.h"
#include "core/engine/fork.h"
#include "core/engine/page_table.h"
#include "core/engine/uffd.h"
#include "core/engine/abi.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace vmalab {

namespace {

constexpr std::uint64_t faultAroundPages = 16; // fault_around_bytes = 64 KiB

// handle_userfault(): with UFFD_FEATURE_SIGBUS the access gets SIGBUS at once; otherwise the
// faulting thread sleeps until a monitor resolves the fault.
FaultResult userfault(OpContext& c, const Vma& v, Addr addr, const char* mode)
{
    const std::string what = std::string(mode) + " userfault at " + hexAddr(addr) + " in " + describeVma(v);
    if (uffdHasFeature(c.world, v, abi::UFFD_FEATURE_SIGBUS)) {
        c.trace.step("handle_userfault", what, "the context has UFFD_FEATURE_SIGBUS: no monitor is asked, the access gets SIGBUS");
        return FaultResult::Bus;
    }
    c.trace.step("handle_userfault", what,
                 "the thread sleeps until a monitor resolves the fault (UFFDIO_COPY, ZEROPAGE, CONTINUE or WRITEPROTECT)");
    return FaultResult::Userfault;
}

bool thpAllowed(const OpContext& c, const Vma& v)
{
    const auto mode = c.profile().machine.thp;
    if (!v.isAnonymous() || (v.vm_flags & VM_NOHUGEPAGE) || mode == MachineConfig::Thp::Never)
        return false;
    return mode == MachineConfig::Thp::Always || (v.vm_flags & VM_HUGEPAGE);
}

// Stack growth: an access in the gap below a VM_GROWSDOWN VMA extends it down to the page
// (expand_downwards()), unless that would come within stack_guard_gap of an accessible VMA
// below or exceed RLIMIT_STACK.
Vma* growStack(OpContext& c, Addr addr)
{
    Vma* v = c.mm.findVma(addr);
    if (!v || !(v->vm_flags & VM_GROWSDOWN) || v->vm_start <= addr)
        return nullptr;
    const Addr newStart = pageAlignDown(addr);
    constexpr Addr stackGuardGap = 256 * pageSize;
    if (const Vma* prev = c.mm.prevOf(*v)) {
        const bool accessible = prev->vm_flags & VM_ACCESS_FLAGS;
        if (!(prev->vm_flags & VM_GROWSDOWN) && accessible && newStart - prev->vm_end < stackGuardGap) {
            c.trace.step("expand_downwards", "the stack " + describeVma(*v) + " cannot grow to " + hexAddr(newStart),
                         "an accessible VMA lies within stack_guard_gap (256 pages) below: SIGSEGV");
            return nullptr;
        }
    }
    if (v->vm_end - newStart > c.profile().machine.stackRlimit) {
        c.trace.step("expand_downwards", "the stack cannot grow to " + hexAddr(newStart), "RLIMIT_STACK would be exceeded: SIGSEGV");
        return nullptr;
    }
    anonVmaPrepare(c, *v);
    const Addr oldStart = v->vm_start;
    v->vm_pgoff -= (oldStart - newStart) >> pageShift;
    v->vm_start = newStart;
    Vma& grown = c.mm.rekey(oldStart);
    auto& s = c.trace.step("expand_downwards", describeVma(grown) + " grows down to " + hexAddr(newStart),
                           "the access lies in the gap just below a VM_GROWSDOWN VMA");
    s.changed = { grown.id };
    return &grown;
}

// Fills the page cache around a file fault: shmem allocates the page; a regular file reads
// around it (do_sync_mmap_readahead(): read_ahead_kb centred on the page), except with
// MADV_RANDOM, which reads just the page.
void fillPageCache(OpContext& c, const Vma& v, File& f, PageOff idx)
{
    if (f.pageCache.find(idx))
        return;
    if (f.kind == File::Kind::Shmem) {
        f.pageCache.assign(idx, idx + 1, false); // clean until written (shmemPageDirty())
        return;
    }
    auto fill = [&](PageOff from, PageOff to, const char* rule) {
        to = std::min(to, f.sizePages());
        f.pageCache.assign(from, std::max(to, idx + 1), true);
        c.trace.step("do_sync_mmap_readahead", "reads file pages " + hexAddr(from) + "-" + hexAddr(to) + " into the page cache",
                     rule);
    };
    // The order of these rules was measured on 6.18 (docs/kernel-findings.md).
    if (v.vm_flags & VM_HUGEPAGE) {
        const PageOff from = idx & ~PageOff { 511 };
        fill(from, from + ((v.vm_flags & VM_RAND_READ) ? 512 : 1024),
             "MADV_HUGEPAGE: read-ahead of whole PMD-sized folios from the aligned 512-page block, even with MADV_RANDOM");
        return;
    }
    const std::uint64_t window = std::max<std::uint64_t>(1, c.profile().machine.readAheadKb / 4);
    if (v.vm_flags & VM_SEQ_READ) {
        fill(idx, idx + window, "MADV_SEQUENTIAL: synchronous read-ahead from the faulting page forwards");
        return;
    }
    if (v.vm_flags & VM_EXEC) {
        fill(idx, std::min(idx + window, v.vm_pgoff + v.pages()),
             "executable mapping: read-ahead runs from the faulting page to the end of the VMA, even with MADV_RANDOM");
        return;
    }
    if (v.vm_flags & VM_RAND_READ) {
        f.pageCache.assign(idx, idx + 1, true);
        return;
    }
    const PageOff from = idx > window / 2 ? idx - window / 2 : 0;
    fill(from, from + window, "read-around: a window of read_ahead_kb centred on the faulting page");
}

// Maps the cached pages of [from, to) whose PTEs are none, up to EOF unless `pastEof`: a
// shmem folio mapped whole crosses i_size, the 16-page window does not (measured on 6.18).
std::uint64_t mapCachedPages(OpContext& c, const Vma& v, const File& f, Addr from, Addr to, bool pastEof)
{
    std::uint64_t mapped = 0;
    for (Addr a = from; a < to; a += pageSize) {
        const PageOff idx = v.pgoffAt(a);
        if ((idx >= f.sizePages() && !pastEof) || !f.pageCache.find(idx) || ptAt(c.mm, a))
            continue;
        setPtes(c.mm, a, a + pageSize, Pte { PageState::Present, Pte::Kind::File, false });
        ++mapped;
    }
    return mapped;
}

// do_fault_around() + filemap_map_pages(): a PMD-size folio is mapped with a PMD where
// do_set_pmd() can; otherwise the cached pages of the 16-page block (aligned by virtual
// address, clipped to the VMA, its PTE table and EOF) whose PTEs are none, and every large
// folio met there whole when it lies inside the VMA and the PTE table (Linux 6.18).
// True when the PMD was mapped.
bool faultAround(OpContext& c, const Vma& v, const File& f, Addr addr)
{
    if (v.vm_flags & (VM_UFFD_WP | VM_UFFD_MINOR)) {
        c.trace.step("should_fault_around", "maps no neighbours of " + hexAddr(addr),
                     "uffd_disable_fault_around(): WP and MINOR registrations must see every fault themselves");
        return false;
    }
    Addr from = std::max(v.vm_start, addr & ~(faultAroundPages * pageSize - 1));
    Addr to = std::min({ v.vm_end, from + faultAroundPages * pageSize, (addr & ~(pmdSize - 1)) + pmdSize });
    from = std::max(from, addr & ~(pmdSize - 1));
    // filemap_map_pages() looks for folios from the window's start up to EOF only: a window
    // wholly past EOF finds none, not even a THP that covers it (measured).
    const bool windowInFile = v.pgoffAt(from) < f.sizePages();
    if (windowInFile && mapFileThpByPmd(c, v, addr))
        return true;
    std::uint64_t mapped = 0, whole = 0;
    for (Addr a = from; a < to && v.pgoffAt(a) < f.sizePages(); a += pageSize) {
        const auto [folioFrom, folioTo] = wholeFolioRange(f, v, a);
        if (folioFrom == folioTo)
            continue;
        whole += mapCachedPages(c, v, f, folioFrom, folioTo, f.kind == File::Kind::Shmem);
        a = std::max(a, folioTo - pageSize);
    }
    mapped = mapCachedPages(c, v, f, from, to, false) + whole;
    c.trace.step("do_fault_around", "maps " + std::to_string(mapped) + " cached page(s) of " + describeRange(from, to)
                     + (whole ? " and of the large folios met there" : ""),
                 whole ? "read faults on files map the cached neighbours in the 16-page block, and a large folio "
                         "whole when it lies inside the VMA and one PTE table"
                       : "read faults on files map the already-cached neighbours in the 16-page block");
    return false;
}

// A write through touch stores data: the page is no longer a zero-filled part of a THP.
void markWritten(World& w, Mm& mm, Addr addr)
{
    const Pte* p = ptAt(mm, addr);
    const Vma* v = mm.vmaAt(addr);
    if (p && p->state == PageState::Present && p->kind == Pte::Kind::File && v && (v->vm_flags & VM_SHARED))
        if (File* f = w.file(v->vm_file))
            markShmemDirty(*f, v->pgoffAt(addr), v->pgoffAt(addr) + 1);
    if (!p || !p->zeroFilled)
        return;
    Pte written = *p;
    written.zeroFilled = false;
    mm.ptes.assign(pageIndex(addr), pageIndex(addr) + 1, written);
}

FaultResult anonFault(OpContext& c, Vma& v, Addr addr, bool write)
{
    const Addr block = addr & ~(pmdSize - 1);
    // A PMD-level fault needs an empty PMD: once any entry (a guard marker, a small page) sits in
    // the block, a PTE table exists and the fault is served at PTE level (__handle_mm_fault()).
    if (thpAllowed(c, v) && block >= v.vm_start && block + pmdSize <= v.vm_end
        && !c.mm.ptes.anyIn(pageIndex(block), pageIndex(block + pmdSize))) {
        anonVmaPrepare(c, v);
        if (v.vm_flags & VM_UFFD_MISSING)
            return userfault(c, v, addr, "MISSING");
        const bool zero = !write && c.profile().machine.thpUseZeroPage;
        // Every subpage of a new THP starts zero-filled; the access that wrote one clears it (touch).
        Pte huge { PageState::Present, zero ? Pte::Kind::ZeroPage : Pte::Kind::Anon, false };
        huge.zeroFilled = !zero;
        setPtes(c.mm, block, block + pmdSize, huge);
        c.trace.step("do_huge_pmd_anonymous_page",
                     (zero ? "maps the huge zero page at " : "maps a new 2 MiB THP at ") + describeRange(block, block + pmdSize),
                     "THP is allowed here and the aligned 2 MiB block lies wholly inside the VMA");
        return FaultResult::Ok;
    }
    // do_anonymous_page() allocates the PTE table first, and prepares the anon_vma before it
    // asks userfaultfd only for a write.
    allocPteTables(c.mm, addr / pmdSize, addr / pmdSize + 1);
    if ((v.vm_flags & VM_UFFD_MISSING) && write)
        anonVmaPrepare(c, v);
    if (v.vm_flags & VM_UFFD_MISSING)
        return userfault(c, v, addr, "MISSING");
    if (!write) {
        setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::ZeroPage, false });
        c.trace.pageStep("do_anonymous_page", "maps the shared zero page", "maps the shared zero page", addr,
                         "a read fault on private anonymous memory needs no page of its own (and no anon_vma)");
        return FaultResult::Ok;
    }
    anonVmaPrepare(c, v);
    setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::Anon, false });
    c.trace.pageStep("do_anonymous_page", "maps a new zeroed anonymous page", "maps new zeroed anonymous pages", addr, "a write fault on private anonymous memory");
    return FaultResult::Ok;
}

FaultResult fileFault(OpContext& c, Vma& v, Addr addr, bool write)
{
    File* f = c.world.file(v.vm_file);
    const PageOff idx = v.pgoffAt(addr);
    if (idx >= f->sizePages()) {
        // do_read_fault() tries fault-around before ->fault() finds the page beyond EOF, so
        // cached neighbours inside the file get mapped first.
        // A shmem folio mapped whole (by PMD or PTEs) may cover the page past EOF.
        if (!write && (faultAround(c, v, *f, addr) || ptAt(c.mm, addr)))
            return FaultResult::Ok;
        // do_cow_fault() prepares the anon_vma before ->fault() finds the page missing, so a
        // private write beyond EOF still leaves the VMA with one (it decides later merges).
        if (write && !(v.vm_flags & VM_SHARED))
            anonVmaPrepare(c, v);
        c.trace.step("filemap_fault", "page " + hexAddr(idx) + " of the file lies beyond its end", "an access beyond EOF: SIGBUS");
        return FaultResult::Bus;
    }
    const bool cached = f->pageCache.find(idx) != nullptr;
    if (f->kind == File::Kind::Shmem
        && ((!cached && (v.vm_flags & VM_UFFD_MISSING)) || (cached && (v.vm_flags & VM_UFFD_MINOR)))) {
        if (!write)
            faultAround(c, v, *f, addr);
        if (write && !(v.vm_flags & VM_SHARED))
            anonVmaPrepare(c, v); // do_cow_fault() prepares it before shmem_fault() asks userfaultfd
        allocPteTables(c.mm, addr / pmdSize, addr / pmdSize + 1);
        return userfault(c, v, addr, cached ? "MINOR" : "MISSING");
    }
    fillPageCache(c, v, *f, idx);
    if (!write) {
        faultAround(c, v, *f, addr);
        if (!ptAt(c.mm, addr)) {
            setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::File, false });
            c.trace.pageStep("do_read_fault", "maps a page-cache page", "maps page-cache pages", addr);
        }
        return FaultResult::Ok;
    }
    if (v.vm_flags & VM_SHARED) {
        markShmemDirty(*f, idx, idx + 1);
        if (mapFileThpByPmd(c, v, addr))
            return FaultResult::Ok;
        // finish_fault(): a shmem large folio is mapped whole when it fits and its PTEs are all none.
        const auto [folioFrom, folioTo] = wholeFolioRange(*f, v, addr);
        if (f->kind == File::Kind::Shmem && folioFrom != folioTo && !(v.vm_flags & VM_UFFD_FLAGS)
            && !c.mm.ptes.anyIn(pageIndex(folioFrom), pageIndex(folioTo))) {
            setPtes(c.mm, folioFrom, folioTo, Pte { PageState::Present, Pte::Kind::File, false });
            c.trace.step("finish_fault", "maps the whole large folio " + describeRange(folioFrom, folioTo) + " writable",
                "a write to a shared shmem mapping maps the faulting page's large folio whole when it lies inside the VMA "
                "and one PTE table and none of its PTEs is set");
            return FaultResult::Ok;
        }
        setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::File, false });
        c.trace.pageStep("do_shared_fault", "maps a page-cache page writable", "maps page-cache pages writable", addr, "a write to a shared file mapping writes the page cache");
        return FaultResult::Ok;
    }
    anonVmaPrepare(c, v);
    setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::Anon, false });
    c.trace.pageStep("do_cow_fault", "copies a file page into a new anonymous page",
                         "copies file pages into new anonymous pages", addr,
                     "a write to a private file mapping gets a private copy");
    return FaultResult::Ok;
}

} // namespace

FaultResult handleFault(OpContext& c, Addr addr, bool write)
{
    addr = pageAlignDown(addr);
    Vma* v = c.mm.findVma(addr);
    if (!v || v->vm_start > addr)
        v = growStack(c, addr);
    if (!v) {
        c.trace.step("lock_mm_and_find_vma", "no VMA maps " + hexAddr(addr), "an access outside every VMA: SIGSEGV");
        return FaultResult::Segv;
    }
    const bool allowed = write ? (v->vm_flags & VM_WRITE) : (v->vm_flags & VM_ACCESS_FLAGS);
    if (!allowed) {
        c.trace.step("access_error", std::string(write ? "write to " : "read of ") + hexAddr(addr) + " in " + describeVma(*v),
                     write ? "the VMA is not writable: SIGSEGV" : "the VMA is PROT_NONE: SIGSEGV");
        return FaultResult::Segv;
    }
    const Pte* pte = ptAt(c.mm, addr);
    if (pte && pte->state == PageState::Guard) {
        c.trace.step("handle_pte_marker", "the PTE at " + hexAddr(addr) + " holds a guard marker", "accessing a guard region: SIGSEGV");
        return FaultResult::Segv;
    }
    if (pte && pte->state == PageState::Swap && pte->kind != Pte::Kind::Marker) {
        // do_swap_page(): the page comes back from swap, mapped exclusively again, still
        // write-protected where the entry carried the uffd-wp bit.
        Pte in = *pte;
        in.state = PageState::Present;
        setPtes(c.mm, addr, addr + pageSize, in);
        c.trace.pageStep("do_swap_page", "swaps a page back in", "swaps pages back in", addr,
                         "the PTE held a swap entry: the page is read back from swap");
        pte = ptAt(c.mm, addr);
    }
    const bool uw = v->vm_flags & VM_UFFD_WP;
    bool markerWp = false;
    if (pte && pte->kind == Pte::Kind::Marker) {
        clearPtes(c.mm, addr, addr + pageSize);
        if (uw) {
            markerWp = true;
            c.trace.step("pte_marker_handle_uffd_wp", "the PTE at " + hexAddr(addr) + " holds a uffd-wp marker",
                         "the VMA is still `uw`: the page is faulted in as if missing and keeps the uffd-wp bit");
        } else {
            c.trace.step("pte_marker_clear", "drops the stale uffd-wp marker at " + hexAddr(addr),
                         "the VMA is no longer `uw`: the fault proceeds as for a none PTE");
        }
        pte = nullptr;
    }
    if (pte && pte->state == PageState::Present && write && pte->uffdWp && uw) {
        if (!uffdHasFeature(c.world, *v, abi::UFFD_FEATURE_WP_ASYNC))
            return userfault(c, *v, addr, "WP");
        Pte open = *pte;
        open.uffdWp = false;
        setPtes(c.mm, addr, addr + pageSize, open);
        c.trace.pageStep("do_wp_page", "clears the uffd-wp bit", "clear the uffd-wp bit", addr,
                         "UFFD_FEATURE_WP_ASYNC: the kernel resolves write-protect faults itself");
        pte = ptAt(c.mm, addr);
    }
    if (pte && pte->state == PageState::Present) {
        if (!write || (pte->kind == Pte::Kind::Anon && !pte->cowShared)
            || (pte->kind == Pte::Kind::File && (v->vm_flags & VM_SHARED)))
            return FaultResult::Ok;
        if (pte->kind == Pte::Kind::Anon) {
            // do_wp_page() on a page fork write-protected: the sole remaining owner reuses it
            // (wp_can_reuse_anon_folio()), anyone else copies it (wp_page_copy()).
            const bool alone = cowShareCount(c.world, static_cast<std::size_t>(&c.mm - c.world.procs.data()), *v, addr) <= 1;
            Pte mine = *pte;
            mine.cowShared = false;
            setPtes(c.mm, addr, addr + pageSize, mine);
            if (alone)
                c.trace.pageStep("do_wp_page", "reuses its formerly shared anonymous page", "reuses its formerly shared anonymous pages", addr,
                                 "no other process maps the page any more: it becomes exclusive again without a copy");
            else
                c.trace.pageStep("wp_page_copy", "copies a page shared since fork into a new exclusive page",
                                 "copies pages shared since fork into new exclusive pages", addr,
                                 "a write to an anonymous page COW-shared with another process breaks the sharing");
            return FaultResult::Ok;
        }
        if (pte->pmdMapped)
            splitFilePmdsIn(c, addr, addr + pageSize, "do_huge_pmd_wp_page()",
                "a write to a private mapping of a file THP needs a private copy of one page");
        anonVmaPrepare(c, *v);
        const bool fromZero = pte->kind == Pte::Kind::ZeroPage;
        setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Present, Pte::Kind::Anon, false });
        c.trace.pageStep("do_wp_page", fromZero ? "replaces the zero page with a new anonymous page" : "copies a file page into a new anonymous page",
                         fromZero ? "replaces zero pages with new anonymous pages" : "copies file pages into new anonymous pages", addr, "a write to a read-only page of a private mapping breaks COW");
        return FaultResult::Ok;
    }
    const FaultResult r = v->isAnonymous() ? anonFault(c, *v, addr, write) : fileFault(c, *v, addr, write);
    if (markerWp && r != FaultResult::Ok && !ptAt(c.mm, addr)) {
        // The fault stopped before installing a page (a MISSING userfault, SIGBUS): the
        // marker was never replaced.
        setPtes(c.mm, addr, addr + pageSize, Pte { PageState::Swap, Pte::Kind::Marker, true });
        return r;
    }
    if (r != FaultResult::Ok || !markerWp)
        return r;
    // The new entry inherits the marker's protection (pte_mkuffd_wp() also takes write away),
    // so a write retries into do_wp_page() and its write-protect userfault.
    if (const Pte* now = ptAt(c.mm, addr)) {
        Pte kept = *now;
        kept.uffdWp = true;
        setPtes(c.mm, addr, addr + pageSize, kept);
    }
    if (!write)
        return r;
    if (!uffdHasFeature(c.world, *v, abi::UFFD_FEATURE_WP_ASYNC))
        return userfault(c, *v, addr, "WP");
    Pte open = *ptAt(c.mm, addr);
    open.uffdWp = false;
    setPtes(c.mm, addr, addr + pageSize, open);
    return r;
}

std::int64_t doTouch(OpContext& c, Addr addr, std::uint64_t len, std::int64_t access)
{
    const bool write = access & 2; // PROT_WRITE
    const Addr start = pageAlignDown(addr);
    const Addr end = pageAlignUp(addr + len);
    c.trace.holding(Lock::VmaRead);
    for (Addr a = start; a < end && a >= start; a += pageSize) {
        const Pte* pte = ptAt(c.mm, a);
        const Vma* v = c.mm.vmaAt(a);
        // A present page the access may use needs no fault.
        if (pte && pte->state == PageState::Present && v && (v->vm_flags & (write ? VM_WRITE : VM_ACCESS_FLAGS))
            && !(write && pte->uffdWp)) {
            if (!write || (pte->kind == Pte::Kind::Anon && !pte->cowShared) || (pte->kind == Pte::Kind::File && (v->vm_flags & VM_SHARED))) {
                if (write)
                    markWritten(c.world, c.mm, a);
                continue;
            }
        }
        switch (handleFault(c, a, write)) {
        case FaultResult::Ok:
            if (write)
                markWritten(c.world, c.mm, a);
            break;
        case FaultResult::Segv:
            return SIGSEGV;
        case FaultResult::Bus:
            return SIGBUS;
        case FaultResult::Userfault:
            c.userfaultWait = a;
            return 0;
        }
    }
    return 0;
}

int populateVmaRange(OpContext& c, Addr start, Addr end)
{
    const Vma* v = c.mm.vmaAt(start);
    if (!v || (v->vm_flags & VM_LOCKONFAULT))
        return 0;
    const bool write = (v->vm_flags & (VM_WRITE | VM_SHARED)) == VM_WRITE;
    if (!(v->vm_flags & VM_ACCESS_FLAGS)) {
        c.trace.step("populate_vma_page_range", "nothing to populate in " + describeVma(*v), "get_user_pages() cannot fault a PROT_NONE VMA: -EFAULT");
        return -EFAULT;
    }
    for (Addr a = start; a < end; a += pageSize) {
        const Pte* pte = ptAt(c.mm, a);
        if (pte && pte->state == PageState::Present
            && (!write || (pte->kind == Pte::Kind::Anon && !pte->cowShared && !pte->uffdWp)))
            continue;
        const FaultResult r = handleFault(c, a, write);
        if (r == FaultResult::Userfault)
            c.userfaultWait = a;
        if (r != FaultResult::Ok)
            return -EFAULT;
    }
    return 0;
}

int mmPopulate(OpContext& c, Addr start, Addr end, bool ignoreErrors)
{
    c.trace.step("__mm_populate", "faults in " + describeRange(start, end),
                 "MAP_POPULATE or VM_LOCKED: get_user_pages() touches every page (as writes for private writable VMAs)");
    Addr a = start;
    while (a < end) {
        const Vma* v = c.mm.findVma(a);
        if (!v || v->vm_start >= end)
            break;
        a = std::max(a, v->vm_start);
        const Addr to = std::min(end, v->vm_end);
        if (!(v->vm_flags & (VM_IO | VM_PFNMAP))) {
            const int err = populateVmaRange(c, a, to);
            if (err && !ignoreErrors)
                return err;
        }
        a = to;
    }
    return 0;
}

} // namespace vmalab
