#include "core/assert.h"
#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/file_pages.h"
#include "core/engine/guard.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>
#include <functional>
#include <vector>

namespace vmalab {

using namespace abi;

namespace {



// madvise_behavior_valid() on this machine's configuration.
bool adviceValid(const OpContext& c, std::int64_t advice)
{
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED: case MADV_DONTNEED:
    case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK: case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
    case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
    case MADV_DONTNEED_LOCKED: case MADV_COLLAPSE: case MADV_HWPOISON: case MADV_SOFT_OFFLINE:
        return true;
    case MADV_MERGEABLE: case MADV_UNMERGEABLE:
        return c.profile().machine.ksm;
    case MADV_GUARD_INSTALL: case MADV_GUARD_REMOVE:
        return c.profile().machine.guardRegions;
    default:
        return false;
    }
}

bool isFlagAdvice(std::int64_t advice)
{
    switch (advice) {
    case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_DONTFORK: case MADV_DOFORK:
    case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP:
    case MADV_DODUMP: case MADV_WIPEONFORK: case MADV_KEEPONFORK:
        return true;
    default:
        return false;
    }
}

// vma_ksm_compatible(): KSM only merges private anonymous-capable memory.
bool ksmCompatible(const Vma& v)
{
    return !(v.vm_flags & (VM_SHARED | VM_MAYSHARE | VM_PFNMAP | VM_IO | VM_DONTEXPAND | VM_HUGETLB | VM_MIXEDMAP | VM_DROPPABLE));
}

// madvise_vma_behavior() for flag advice: the new flags of the VMA, or -errno. *why says
// which rule decided.
std::int64_t newFlagsFor(const Vma& v, std::int64_t advice, VmFlags* out, std::string* why)
{
    VmFlags f = v.vm_flags;
    switch (advice) {
    case MADV_NORMAL:
        f &= ~(VM_RAND_READ | VM_SEQ_READ);
        break;
    case MADV_SEQUENTIAL:
        f = (f & ~VM_RAND_READ) | VM_SEQ_READ;
        break;
    case MADV_RANDOM:
        f = (f & ~VM_SEQ_READ) | VM_RAND_READ;
        break;
    case MADV_DONTFORK:
        f |= VM_DONTCOPY;
        break;
    case MADV_DOFORK:
        if (f & VM_IO) {
            *why = "MADV_DOFORK on a VM_IO mapping: -EINVAL";
            return -EINVAL;
        }
        f &= ~VM_DONTCOPY;
        break;
    case MADV_WIPEONFORK:
        if (v.vm_file != noFile || (v.vm_flags & VM_SHARED)) {
            *why = "MADV_WIPEONFORK applies to private anonymous memory only: -EINVAL";
            return -EINVAL;
        }
        f |= VM_WIPEONFORK;
        break;
    case MADV_KEEPONFORK:
        if (v.vm_flags & VM_DROPPABLE) {
            *why = "a droppable mapping must stay VM_WIPEONFORK: -EINVAL";
            return -EINVAL;
        }
        f &= ~VM_WIPEONFORK;
        break;
    case MADV_DONTDUMP:
        f |= VM_DONTDUMP;
        break;
    case MADV_DODUMP:
        if ((!(f & VM_HUGETLB) && (f & VM_SPECIAL)) || (f & VM_DROPPABLE)) {
            *why = "MADV_DODUMP on a special or droppable mapping: -EINVAL";
            return -EINVAL;
        }
        f &= ~VM_DONTDUMP;
        break;
    case MADV_MERGEABLE:
        // ksm_madvise(): shared, special and hugetlb mappings are left alone without an error.
        if (!(f & VM_MERGEABLE) && ksmCompatible(v))
            f |= VM_MERGEABLE;
        break;
    case MADV_UNMERGEABLE:
        f &= ~VM_MERGEABLE;
        break;
    case MADV_HUGEPAGE:
        f = (f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
        break;
    case MADV_NOHUGEPAGE:
        f = (f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
        break;
    default:
        VMALAB_ASSERT(false, "not a flag advice");
    }
    *out = f;
    return 0;
}

// madvise_update_vma(): nothing to do when the flags (and name) stay; else vma_modify_flags().
// Returns the end of the VMA that now covers the slice, or -errno (-ENOMEM of a split is
// reported as -EAGAIN, as madvise does for kernel resource shortages).
std::int64_t updateVma(OpContext& c, Addr vmaStart, Addr start, Addr end, VmFlags newFlags, const std::string& name)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    if (newFlags == v.vm_flags && name == v.anon_name) {
        c.trace.step("madvise_update_vma", describeVma(v) + " already has that advice", "nothing changes, so no split and no merge");
        return static_cast<std::int64_t>(std::min(v.vm_end, end));
    }
    const ModifyResult r = vmaModify(c, vmaStart, start, end, newFlags, v.uffd_ctx, name);
    if (r.err)
        return r.err == -ENOMEM ? -EAGAIN : r.err;
    return static_cast<std::int64_t>(c.mm.vmas.at(r.vmaStart).vm_end);
}

// zap_page_range_single() as MADV_DONTNEED uses it: every entry but guard markers goes. In a
// file or shmem VMA registered for WP, an entry that was write-protected leaves a uffd-wp marker
// behind (zap_install_uffd_wp_if_needed()), so the protection outlives the page.
void zapKeepingGuards(Mm& mm, const Vma& v, Addr start, Addr end)
{
    const bool keepWp = !v.isAnonymous() && (v.vm_flags & VM_UFFD_WP);
    std::vector<std::pair<std::uint64_t, std::uint64_t>> gone, protectedRuns;
    mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
        if (p.state == PageState::Guard)
            return;
        if (keepWp && p.uffdWp)
            protectedRuns.emplace_back(s, e);
        else
            gone.emplace_back(s, e);
    });
    for (auto [s, e] : gone)
        mm.ptes.erase(s, e);
    for (auto [s, e] : protectedRuns)
        mm.ptes.assign(s, e, Pte { PageState::Swap, Pte::Kind::Marker, true });
}

// How many PTEs in all processes map page `idx` of file `file`.
unsigned fileMappers(const World& w, FileId file, PageOff idx)
{
    unsigned n = 0;
    for (const Mm& mm : w.procs) {
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            if (v.vm_file != file || idx < v.vm_pgoff || idx >= v.vm_pgoff + v.pages())
                continue;
            const Pte* p = ptAt(mm, v.vm_start + ((idx - v.vm_pgoff) << pageShift));
            if (p && p->state == PageState::Present && p->kind == Pte::Kind::File)
                ++n;
        }
    }
    return n;
}

// MADV_PAGEOUT without swap: anonymous pages cannot go anywhere and stay; page-cache pages
// mapped only here are unmapped by reclaim (shrink_folio_list() unmaps before it looks at
// dirtiness or swap), pages mapped elsewhere too are skipped.
std::uint64_t pageOut(OpContext& c, const Vma& v, Addr start, Addr end)
{
    std::vector<Addr> gone;
    for (Addr a = start; a < end; a += pageSize) {
        const Pte* p = ptAt(c.mm, a);
        if (p && p->state == PageState::Present && p->kind == Pte::Kind::File && fileMappers(c.world, v.vm_file, v.pgoffAt(a)) == 1)
            gone.push_back(a);
    }
    // Reclaim takes the pages out of the page cache as well as the page table (measured on
    // 6.18: fault-around never maps them again; a fault on one reads or allocates it anew).
    // Without swap a written shmem page cannot be written out: it stays cached (measured).
    File* f = c.world.file(v.vm_file);
    const bool keepDirty = f && f->kind == File::Kind::Shmem && !c.profile().machine.swap;
    for (Addr a : gone) {
        clearPtes(c.mm, a, a + pageSize);
        if (f && !(keepDirty && shmemPageDirty(*f, v.pgoffAt(a))))
            f->pageCache.erase(v.pgoffAt(a), v.pgoffAt(a) + 1);
    }
    return gone.size();
}

// MADV_PAGEOUT with swap (madvise_cold_or_pageout_pte_range(), then reclaim): a present
// anonymous page that only this process maps leaves for swap; its PTE becomes a swap entry
// that keeps the uffd-wp bit. Returns how many went.
std::uint64_t swapOut(OpContext& c, Addr start, Addr end)
{
    std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
    std::vector<Pte> values;
    c.mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
        if (p.state == PageState::Present && p.kind == Pte::Kind::Anon && !p.cowShared) {
            runs.emplace_back(s, e);
            values.push_back(Pte { PageState::Swap, Pte::Kind::Anon, p.uffdWp });
        }
    });
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        c.mm.ptes.assign(runs[i].first, runs[i].second, values[i]);
        n += runs[i].second - runs[i].first;
    }
    return n;
}

// The cold, pageout and free walkers split a THP the range only partly covers (pageout also one
// it covers whole: reclaim without swap splits it); the split maps the subpages that were never
// written to the shared zero page (measured on 6.18). A THP shows as present anonymous pages
// with zero-filled ones; fork-shared THPs are skipped. Returns how many pages went to the zero page.
// Whether v maps a zero-filled page of the THP block at `block`.
bool vmaHoldsZeroFilled(const Mm& mm, const Vma& v, Addr block)
{
    bool any = false;
    mm.ptes.forEach(pageIndex(std::max(v.vm_start, block)), pageIndex(std::min(v.vm_end, block + pmdSize)),
        [&](std::uint64_t, std::uint64_t, const Pte& p) { any = any || p.zeroFilled; });
    return any;
}

std::uint64_t splitThps(OpContext& c, Addr start, Addr end, bool splitWhole)
{
    std::uint64_t n = 0;
    for (Addr block = start & ~(pmdSize - 1); block < end; block += pmdSize) {
        const bool whole = start <= block && block + pmdSize <= end;
        if (whole && !splitWhole)
            continue;
        bool covered = false, filled = false, shared = false;
        // The range must reach the THP itself: a zero-filled page of it, or a present anonymous
        // page in a VMA that holds some (small pages of a VMA mapped over part of the block later
        // are not the THP's).
        c.mm.ptes.forEach(pageIndex(std::max(start, block)), pageIndex(std::min(end, block + pmdSize)),
                          [&](std::uint64_t s, std::uint64_t, const Pte& p) {
                              if (p.state != PageState::Present || p.kind != Pte::Kind::Anon || covered)
                                  return;
                              const Vma* owner = c.mm.vmaAt(s << pageShift);
                              covered = p.zeroFilled || (owner && vmaHoldsZeroFilled(c.mm, *owner, block));
                          });
        std::vector<std::pair<std::uint64_t, std::uint64_t>> runs;
        std::vector<Pte> values;
        c.mm.ptes.forEach(pageIndex(block), pageIndex(block + pmdSize), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
            shared = shared || (p.state == PageState::Present && p.kind == Pte::Kind::Anon && p.cowShared);
            if (!p.zeroFilled)
                return;
            filled = true;
            // remove_migration_ptes() keeps a page of a VM_LOCKED VMA (measured: an mlocked part
            // of the THP keeps its zero-filled pages as anonymous pages).
            for (std::uint64_t i = s; i < e; ++i) {
                const Vma* owner = c.mm.vmaAt(i << pageShift);
                Pte small = p;
                small.zeroFilled = false;
                if (!owner || !(owner->vm_flags & VM_LOCKED))
                    small = Pte { PageState::Present, Pte::Kind::ZeroPage, p.uffdWp };
                runs.emplace_back(i, i + 1);
                values.push_back(small);
            }
        });
        if (!covered || !filled || shared)
            continue;
        std::uint64_t zeroed = 0;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            c.mm.ptes.assign(runs[i].first, runs[i].second, values[i]);
            if (values[i].kind == Pte::Kind::ZeroPage)
                zeroed += runs[i].second - runs[i].first;
        }
        n += zeroed;
        c.trace.step("split_folio", "splits the THP at " + describeRange(block, block + pmdSize),
                     "the advice covers only part of it (or pages it out): " + std::to_string(zeroed)
                         + " never-written page(s) now map the shared zero page, written pages and those of mlocked VMAs stay");
    }
    return n;
}

// Whether a process other than the current one maps a page of file pages [first, last)
// (folio_maybe_mapped_shared(): the cold and pageout walkers leave such folios alone).
bool mappedElsewhere(const OpContext& c, FileId file, PageOff first, PageOff last)
{
    for (const Mm& mm : c.world.procs) {
        if (&mm == &c.mm)
            continue;
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& w = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            const PageOff lo = std::max(first, w.vm_pgoff), hi = std::min(last, w.vm_pgoff + w.pages());
            if (w.vm_file != file || lo >= hi)
                continue;
            bool mapped = false;
            mm.ptes.forEach(pageIndex(w.vm_start + ((lo - w.vm_pgoff) << pageShift)),
                pageIndex(w.vm_start + ((hi - w.vm_pgoff) << pageShift)), [&](std::uint64_t, std::uint64_t, const Pte& p) {
                    mapped = mapped || (p.state == PageState::Present && p.kind == Pte::Kind::File);
                });
            if (mapped)
                return true;
        }
    }
    return false;
}

// madvise_cold_or_pageout_pte_range() on the large folios of a file mapped in [start, end):
// one the range covers only in part (or this VMA maps only in part) is split into small
// folios, which unmaps it everywhere; one it covers whole is left mapped by MADV_COLD and
// unmapped by MADV_PAGEOUT (without swap the dirty folio stays in the page cache, whole).
void reclaimLargeFileFolios(OpContext& c, const Vma& v, Addr start, Addr end, bool pageout)
{
    const File& f = *c.world.file(v.vm_file);
    for (Addr a = start; a < end; a += pageSize) {
        const Pte* p = ptAt(c.mm, a);
        const PageOff idx = v.pgoffAt(a);
        const auto [first, last] = largeFolioAt(f, idx);
        if (!p || p->state != PageState::Present || p->kind != Pte::Kind::File || first == last)
            continue;
        const Addr folioFrom = a - ((idx - first) << pageShift), folioTo = folioFrom + ((last - first) << pageShift);
        const Addr next = std::min(end, folioTo);
        if (mappedElsewhere(c, v.vm_file, first, last)) {
            a = next - pageSize;
            continue;
        }
        bool mappedWhole = folioFrom >= v.vm_start && folioTo <= v.vm_end;
        if (mappedWhole)
            c.mm.ptes.forEach(pageIndex(folioFrom), pageIndex(folioTo), [&](std::uint64_t, std::uint64_t, const Pte& q) {
                mappedWhole = mappedWhole && q.state == PageState::Present && q.kind == Pte::Kind::File;
            });
        if (!(start <= folioFrom && folioTo <= end) || !mappedWhole) {
            splitFileFolio(c, v.vm_file, idx, "the reclaim advice covers only part of it");
        } else if (pageout) {
            splitFilePmdsIn(c, folioFrom, folioTo, "try_to_unmap()", "reclaim unmaps the THP");
            clearPtes(c.mm, folioFrom, folioTo);
            c.trace.step("reclaim_pages", "unmaps the large folio at " + describeRange(folioFrom, folioTo),
                "MADV_PAGEOUT covers it whole: reclaim unmaps it, and without a place to write it the dirty folio "
                "stays in the page cache");
        }
        a = next - pageSize;
    }
}

// vfs_fallocate(PUNCH_HOLE) of MADV_REMOVE: the file's pages leave the page cache and every
// mapping of them (private COW copies stay).
void punchHole(OpContext& c, FileId fileId, PageOff from, PageOff to)
{
    splitFoliosForHole(c, fileId, from, to);
    c.world.file(fileId)->pageCache.erase(from, to);
    unmapFilePages(c.world, fileId, from, to);
}

// Page-table advice on [start, end) of the VMA at vmaStart. 0 or -errno.
std::int64_t pageAdvice(OpContext& c, Addr vmaStart, Addr start, Addr end, std::int64_t advice)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    const std::string range = describeRange(start, end);
    switch (advice) {
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE: {
        const VmFlags forbidden = VM_PFNMAP | (advice == MADV_DONTNEED_LOCKED ? 0 : VM_LOCKED);
        if (v.vm_flags & forbidden)
            return refuseCall(c, "madvise_dontneed_free_valid_vma", -EINVAL,
                        describeVma(v) + (advice == MADV_DONTNEED_LOCKED ? " is VM_PFNMAP" : " is mlocked or VM_PFNMAP") + ": -EINVAL");
        if (advice == MADV_FREE) {
            if (!v.isAnonymous())
                return refuseCall(c, "madvise_free_single_vma", -EINVAL, "MADV_FREE applies to private anonymous memory only: -EINVAL");
            splitThps(c, start, end, false);
            c.trace.step("madvise_free_single_vma", "marks the pages of " + range + " lazily freeable",
                         "they stay mapped until reclaim needs them, so the page states do not change");
            return 0;
        }
        splitFilePmdsIn(c, start, end, "zap_pmd_range()", "the zap meets a file PMD (a part of its block splits it, "
                                                           "all of it zaps it: either way the whole block goes)");
        zapKeepingGuards(c.mm, v, start, end);
        c.trace.step("zap_page_range_single", "zaps " + range,
                     (!v.isAnonymous() && (v.vm_flags & VM_UFFD_WP))
                         ? "pages go (file pages refault); guard markers stay, and write-protected entries leave uffd-wp markers"
                         : "pages and zero pages go (anonymous data is lost, file pages refault); guard markers stay");
        return 0;
    }
    case MADV_WILLNEED:
        if (File* f = c.world.file(v.vm_file); f && f->kind == File::Kind::Regular) {
            const PageOff from = v.pgoffAt(start), to = std::min(v.pgoffAt(end), f->sizePages());
            if (from < to)
                f->pageCache.assign(from, to, true);
            c.trace.step("madvise_willneed", "reads the file behind " + range + " into the page cache", "read-ahead only: no PTE changes");
        } else {
            c.trace.step("madvise_willneed", "nothing to read for " + range, "anonymous and shmem memory is only swapped in, and there is no swap");
        }
        return 0;
    case MADV_COLD:
    case MADV_PAGEOUT: {
        if (v.vm_flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB))
            return refuseCall(c, advice == MADV_COLD ? "madvise_cold" : "madvise_pageout", -EINVAL,
                        "reclaim advice on an mlocked, VM_PFNMAP or hugetlb mapping: -EINVAL");
        splitThps(c, start, end, advice == MADV_PAGEOUT);
        if (v.vm_file != noFile)
            reclaimLargeFileFolios(c, v, start, end, advice == MADV_PAGEOUT);
        if (advice == MADV_COLD) {
            c.trace.step("madvise_cold", "deactivates the pages of " + range,
                         "a reclaim hint; the model keeps every page mapped");
            return 0;
        }
        if (c.profile().machine.swap) {
            const std::uint64_t anon = swapOut(c, start, end);
            const std::uint64_t n = pageOut(c, v, start, end);
            c.trace.step("madvise_pageout",
                         "swaps out " + std::to_string(anon) + " anonymous page(s) and reclaims " + std::to_string(n)
                             + " page-cache page(s) of " + range,
                         "with swap, anonymous pages mapped by this process alone become swap entries (the zero page "
                         "and pages still shared copy-on-write stay); page-cache pages mapped nowhere else are unmapped");
            return 0;
        }
        const std::uint64_t n = pageOut(c, v, start, end);
        c.trace.step("madvise_pageout", "reclaims " + std::to_string(n) + " page-cache page(s) of " + range,
                     "without swap only page-cache pages mapped nowhere else can be unmapped; anonymous pages stay");
        return 0;
    }
    case MADV_REMOVE: {
        if (v.vm_flags & VM_LOCKED)
            return refuseCall(c, "madvise_remove", -EINVAL, "MADV_REMOVE on an mlocked mapping: -EINVAL");
        if (v.vm_file == noFile)
            return refuseCall(c, "madvise_remove", -EINVAL, "MADV_REMOVE needs a file (or shared anonymous) mapping: -EINVAL");
        if ((v.vm_flags & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE))
            return refuseCall(c, "madvise_remove", -EACCES, "MADV_REMOVE needs a shared writable mapping: -EACCES");
        const FileId file = v.vm_file;
        const PageOff from = v.pgoffAt(start), to = v.pgoffAt(end);
        punchHole(c, file, from, to);
        c.trace.step("vfs_fallocate", "punches a hole in file pages " + hexAddr(from) + "-" + hexAddr(to),
                     "the pages leave the page cache and every mapping of them");
        return 0;
    }
    case MADV_GUARD_INSTALL:
        return guardInstall(c, vmaStart, start, end);
    case MADV_GUARD_REMOVE:
        return guardRemove(c, vmaStart, start, end);
    case MADV_COLLAPSE:
        return madviseCollapse(c, vmaStart, start, end);
    default:
        VMALAB_ASSERT(false, "not a page advice");
        return -EINVAL;
    }
}

// madvise_populate(): fault every page in, stopping at the first hole (-ENOMEM), mapping that
// refuses the access (-EINVAL) or fatal fault (-EFAULT). Pages before the failure stay.
std::int64_t populate(OpContext& c, Addr start, Addr end, bool write)
{
    c.trace.holding(Lock::MmapRead);
    for (Addr a = start; a < end;) {
        const Vma* v = c.mm.vmaAt(a);
        if (!v)
            return refuseCall(c, "faultin_page_range", -ENOMEM, "no VMA at " + hexAddr(a) + ": -ENOMEM");
        const VmFlags f = v->vm_flags;
        if ((f & (VM_IO | VM_PFNMAP)) || (write ? !(f & VM_WRITE) : !(f & VM_READ)))
            return refuseCall(c, "check_vma_flags", -EINVAL,
                        describeVma(*v) + (write ? " is not writable" : " is not readable") + " (or is VM_IO/VM_PFNMAP): -EINVAL");
        const Addr to = std::min(end, v->vm_end);
        for (; a < to; a += pageSize) {
            const Pte* p = ptAt(c.mm, a);
            if (p && p->state == PageState::Present && !(write && p->uffdWp)
                && (!write || (p->kind == Pte::Kind::Anon && !p->cowShared) || (p->kind == Pte::Kind::File && (f & VM_SHARED))))
                continue;
            const FaultResult r = handleFault(c, a, write);
            if (r == FaultResult::Userfault)
                c.userfaultWait = a;
            if (r != FaultResult::Ok)
                return refuseCall(c, "faultin_page_range", -EFAULT, "the fault at " + hexAddr(a) + " fails (guard marker or SIGBUS): -EFAULT");
        }
    }
    return 0;
}

// madvise_walk_vmas(): visit(vmaStart, from, to) for every mapped piece in address order; it
// returns -errno to stop, or where the walk goes on. Holes make the result -ENOMEM at the end.
std::int64_t walkVmas(OpContext& c, Addr start, Addr end, const std::function<std::int64_t(Addr, Addr, Addr)>& visit)
{
    std::int64_t unmapped = 0;
    Addr a = start;
    while (a < end) {
        const Vma* v = c.mm.findVma(a);
        if (!v) {
            c.trace.step("madvise_walk_vmas", "nothing is mapped from " + hexAddr(a), "a hole in the range: -ENOMEM once the walk ends");
            return -ENOMEM;
        }
        if (a < v->vm_start) {
            c.trace.step("madvise_walk_vmas", "skips the hole " + describeRange(a, std::min(end, v->vm_start)),
                         "a hole in the range: -ENOMEM once the mapped parts are done");
            unmapped = -ENOMEM;
            a = v->vm_start;
            if (a >= end)
                break;
        }
        const Addr to = std::min(end, v->vm_end);
        const std::int64_t r = visit(v->vm_start, a, to);
        if (r < 0)
            return r;
        a = std::max(to, static_cast<Addr>(r));
    }
    return unmapped;
}

} // namespace

bool madviseModelled(std::int64_t advice)
{
    return advice != MADV_HWPOISON && advice != MADV_SOFT_OFFLINE;
}

std::string madviseNotModelled(const World& world, const Mm& mm, Addr start, std::uint64_t len, std::int64_t advice)
{
    if (!madviseModelled(advice))
        return "madvise advice " + std::to_string(advice) + " is not modelled yet by this version of vmalab";
    // Regular files' THPs (CONFIG_READ_ONLY_THP_FOR_FS) are not modelled; without the option
    // such a collapse fails, which is modelled.
    if (advice != MADV_COLLAPSE || (start & (pageSize - 1)) || !world.profile().machine.readOnlyThpForFs)
        return {};
    const Addr end = start + pageAlignUp(len);
    for (const Vma* v = mm.findVma(start); v && v->vm_start < end && end > start; v = mm.nextOf(*v))
        if (!v->isAnonymous() && world.file(v->vm_file)->kind == File::Kind::Regular)
            return "MADV_COLLAPSE of a regular file with CONFIG_READ_ONLY_THP_FOR_FS is not modelled yet by this "
                   "version of vmalab";
    return {};
}

std::int64_t doMadvise(OpContext& c, Addr start, std::uint64_t len, std::int64_t advice)
{
    if (!adviceValid(c, advice))
        return refuseCall(c, "madvise_behavior_valid", -EINVAL, "unknown advice " + std::to_string(advice) + ": -EINVAL");
    VMALAB_ASSERT(madviseModelled(advice), "madvise advice that the model does not implement");
    if (start & (pageSize - 1))
        return refuseCall(c, "madvise_should_skip", -EINVAL, "the start is not page aligned: -EINVAL");
    const std::uint64_t alignedLen = pageAlignUp(len);
    if (len && !alignedLen)
        return refuseCall(c, "madvise_should_skip", -EINVAL, "the length rounds up to 0: -EINVAL");
    const Addr end = start + alignedLen;
    if (end < start)
        return refuseCall(c, "madvise_should_skip", -EINVAL, "the range wraps around the address space: -EINVAL");
    if (end == start) {
        c.trace.step("madvise_should_skip", "nothing to do", "the length is 0");
        return 0;
    }
    if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE)
        return populate(c, start, end, advice == MADV_POPULATE_WRITE);

    const bool flagAdvice = isFlagAdvice(advice);
    c.trace.holding(flagAdvice ? Lock::MmapWrite : Lock::MmapRead);
    if (advice == MADV_GUARD_INSTALL || advice == MADV_GUARD_REMOVE)
        c.trace.step("madvise_lock", "takes the mmap read lock",
                     "guard install and remove only change page tables (and, with the series, one flag bit set "
                     "atomically), so the read lock suffices; vmalab follows the series here, not the later move "
                     "to per-VMA locks");
    return walkVmas(c, start, end, [&](Addr vmaStart, Addr from, Addr to) -> std::int64_t {
        if (!flagAdvice) {
            const std::int64_t r = pageAdvice(c, vmaStart, from, to, advice);
            return r < 0 ? r : static_cast<std::int64_t>(to);
        }
        const Vma& v = c.mm.vmas.at(vmaStart);
        VmFlags newFlags = 0;
        std::string why;
        if (std::int64_t err = newFlagsFor(v, advice, &newFlags, &why))
            return refuseCall(c, "madvise_vma_behavior", err, describeVma(v) + ": " + why);
        return updateVma(c, vmaStart, from, to, newFlags, v.anon_name);
    });
}

std::int64_t doSetAnonName(OpContext& c, Addr start, std::uint64_t len, const std::string& name)
{
    if (!c.profile().machine.anonVmaName)
        return refuseCall(c, "prctl_set_vma", -EINVAL, "the kernel has no CONFIG_ANON_VMA_NAME: -EINVAL");
    if (name.size() >= 80)
        return refuseCall(c, "strndup_user", -EINVAL, "the name is longer than 79 characters: -EINVAL");
    for (char ch : name) {
        const bool printable = ch > 0x1f && ch < 0x7f;
        if (!printable || ch == '\\' || ch == '`' || ch == '$' || ch == '[' || ch == ']')
            return refuseCall(c, "prctl_set_vma", -EINVAL, "the name holds a character names may not use: -EINVAL");
    }
    if (start & (pageSize - 1))
        return refuseCall(c, "madvise_set_anon_name", -EINVAL, "the start is not page aligned: -EINVAL");
    const std::uint64_t alignedLen = pageAlignUp(len);
    if (len && !alignedLen)
        return refuseCall(c, "madvise_set_anon_name", -EINVAL, "the length rounds up to 0: -EINVAL");
    const Addr end = start + alignedLen;
    if (end < start)
        return refuseCall(c, "madvise_set_anon_name", -EINVAL, "the range wraps around the address space: -EINVAL");
    if (end == start)
        return 0;
    c.trace.holding(Lock::MmapWrite);
    return walkVmas(c, start, end, [&](Addr vmaStart, Addr from, Addr to) -> std::int64_t {
        const Vma& v = c.mm.vmas.at(vmaStart);
        const File* f = c.world.file(v.vm_file);
        const bool anonShmem = f && f->path == "/dev/zero" && (v.vm_flags & VM_SHARED);
        if (f && !anonShmem)
            return refuseCall(c, "madvise_vma_behavior", -EBADF, describeVma(v) + " maps a file; only anonymous memory takes a name: -EBADF");
        return updateVma(c, vmaStart, from, to, v.vm_flags, name);
    });
}

} // namespace vmalab
