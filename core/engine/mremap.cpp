#include "core/assert.h"
#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/file_pages.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/engine/uffd.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>

namespace vmalab {

using namespace abi;

namespace {



// One mremap request as the kernel's struct vma_remap_struct carries it: the source range,
// the new length and where it goes.
struct Remap
{
    Addr addr = 0;
    std::uint64_t oldLen = 0;
    std::uint64_t newLen = 0;
    std::int64_t flags = 0;
    Addr newAddr = 0;
    Addr recorded = 0; // where a recording says the kernel moved it (0: none)

    bool impliesNewAddr() const { return flags & (MREMAP_FIXED | MREMAP_DONTUNMAP); }
    bool expands() const { return newLen > oldLen; }
    bool shrinks() const { return newLen < oldLen; }
    std::uint64_t delta() const { return expands() ? newLen - oldLen : oldLen - newLen; }
};

// security_vm_enough_memory_mm() with overcommit_memory 0: refuse a charge larger than RAM + swap.
bool enoughMemory(const OpContext& c, std::uint64_t pages)
{
    const MachineConfig& m = c.profile().machine;
    return m.overcommitMemory == 1 || pages <= (m.memTotalKb + m.swapTotalKb) / 4;
}

// check_prep_vma(): what the VMA at r.addr must allow. 0 or -errno; sets *populate when a
// locked VMA grows (the new part is faulted in after the lock is dropped).
std::int64_t checkPrepVma(OpContext& c, const Remap& r, bool* populate)
{
    const Vma* v = c.mm.vmaAt(r.addr);
    if (!v)
        return refuseCall(c, "check_prep_vma", -EFAULT, "no VMA contains the old address: -EFAULT");
    // A shrink or a same-size resize in place maps nothing new and checks nothing more, so the
    // old range may run past the VMA's end (even over holes).
    if (!r.expands() && !r.impliesNewAddr())
        return 0;
    if (r.oldLen == 0 && !(v->vm_flags & (VM_SHARED | VM_MAYSHARE)))
        return refuseCall(c, "check_prep_vma", -EINVAL, "old_len 0 duplicates a mapping, which only shared mappings allow: -EINVAL");
    if ((r.flags & MREMAP_DONTUNMAP) && (v->vm_flags & (VM_DONTEXPAND | VM_PFNMAP)))
        return refuseCall(c, "check_prep_vma", -EINVAL, "MREMAP_DONTUNMAP of a VM_DONTEXPAND or VM_PFNMAP mapping: -EINVAL");
    const std::uint64_t copied = r.shrinks() ? r.newLen : r.oldLen;
    if (copied > v->vm_end - r.addr)
        return refuseCall(c, "check_prep_vma", -EFAULT, "the old range runs past the end of " + describeVma(*v) + ": -EFAULT");
    if (r.newLen <= copied)
        return 0;
    if (v->vm_flags & VM_LOCKED)
        *populate = true;
    const PageOff pgoff = v->pgoffAt(r.addr);
    if (pgoff + (r.newLen >> pageShift) < pgoff)
        return refuseCall(c, "check_prep_vma", -EINVAL, "the file offset of the grown mapping wraps: -EINVAL");
    if (v->vm_flags & (VM_DONTEXPAND | VM_PFNMAP))
        return refuseCall(c, "check_prep_vma", -EFAULT, "a VM_DONTEXPAND or VM_PFNMAP mapping cannot grow: -EFAULT");
    return 0;
}

// get_unmapped_area() for a move without MREMAP_FIXED: the hint (MREMAP_DONTUNMAP's new_addr)
// if its range is free, else the highest gap below mmap_base that fits, at its top.
std::int64_t placeMove(OpContext& c, Addr hint, std::uint64_t len)
{
    const Mm& mm = c.mm;
    const Addr low = std::max<Addr>(pageSize, c.profile().machine.mmapMinAddr);
    if (hint && hint >= low && hint <= mm.task_size - len && !mm.anyVmaIn(hint, hint + len))
        return static_cast<std::int64_t>(hint);
    Addr hi = mm.mmap_base;
    for (auto it = mm.vmas.lower_bound(hi);;) {
        const Vma* below = it == mm.vmas.begin() ? nullptr : &std::prev(it)->second;
        const Addr lo = std::max(below ? below->vm_end : 0, low);
        const Addr top = std::min(hi, it == mm.vmas.end() ? mm.task_size : it->second.vm_start);
        if (top > lo && top - lo >= len)
            return static_cast<std::int64_t>(top - len);
        if (!below || below->vm_end <= low)
            return -ENOMEM;
        hi = below->vm_start;
        --it;
    }
}

// move_page_tables(): every entry of [from, from + len) moves to `to`: pages, zero pages and
// markers alike. PTE tables are allocated where the entries land.
void movePtes(Mm& mm, Addr from, std::uint64_t len, Addr to)
{
    if (len == 0)
        return;
    mm.ptes.move(pageIndex(from), pageIndex(from + len), pageIndex(to));
    mm.ptes.forEach(pageIndex(to), pageIndex(to + len), [&](std::uint64_t s, std::uint64_t e, const Pte&) {
        allocPteTables(mm, (s << pageShift) / pmdSize, ((e << pageShift) - 1) / pmdSize + 1);
    });
}

// copy_vma(): the destination VMA for [r.addr, r.addr + r.oldLen) of the VMA at r.addr,
// merged with its new neighbours where it can be (vma_merge_new_range()). An anonymous VMA
// that never faulted takes the pgoff of its new address, so it can merge there.
void copyVma(OpContext& c, const Remap& r)
{
    const Vma src = *c.mm.vmaAt(r.addr);
    ProposedRange p;
    p.start = r.newAddr;
    p.end = r.newAddr + r.newLen;
    p.flags = src.vm_flags;
    p.file = src.vm_file;
    p.pgoff = src.pgoffAt(r.addr);
    p.anon_vma = src.anon_vma;
    p.anonVmaChain = src.anonVmaChain;
    p.uffd_ctx = src.uffd_ctx;
    p.anon_name = src.anon_name;
    // The source VMA is what the kernel calls copied_from: an anon_vma it inherited through
    // fork may not be handed to a neighbour without one.
    p.middle = &src;
    if (src.isAnonymous() && src.anon_vma == noAnonVma) {
        p.pgoff = r.newAddr >> pageShift;
        c.trace.step("copy_vma", "the moved range takes pgoff " + hexAddr(p.pgoff) + " of its new address",
                     "an anonymous VMA without an anon_vma has no pages tied to its old offset");
    }
    if (mergeNewRange(c, p))
        return;
    Vma v = src; // vm_area_dup(): flags, file, anon_vma, uffd context and name
    v.id = c.world.newVmaId();
    v.vm_start = p.start;
    v.vm_end = p.end;
    v.vm_pgoff = p.pgoff;
    const Vma& made = c.mm.insert(v);
    auto& s = c.trace.step("copy_vma", "creates " + describeVma(made) + " as the destination", "no neighbour could take the range");
    s.created = { made.id };
}

// A move whose userfaultfd context did not ask for UFFD_FEATURE_EVENT_REMAP: move_ptes()
// clears the uffd-wp bits and drops the markers it moves, and mremap_userfaultfd_prep() takes
// the destination VMA (all of it, even what it merged with) out of the context.
void forgetUffdAfterMove(OpContext& c, Addr start, Addr end)
{
    std::vector<std::pair<std::uint64_t, std::uint64_t>> markers;
    c.mm.ptes.update(pageIndex(start), pageIndex(end), [](Pte p) {
        p.uffdWp = false;
        return p;
    });
    c.mm.ptes.forEach(pageIndex(start), pageIndex(end), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
        if (p.kind == Pte::Kind::Marker && p.state != PageState::Guard)
            markers.emplace_back(s, e);
    });
    for (const auto& [s, e] : markers)
        c.mm.ptes.erase(s, e);
    Vma* dst = c.mm.findVma(start);
    VMALAB_ASSERT(dst && dst->vm_start <= start, "the moved mapping is in place");
    dst->uffd_ctx = noUffdCtx;
    dst->vm_flags &= ~VM_UFFD_FLAGS;
    auto& s = c.trace.step("mremap_userfaultfd_prep", describeVma(*dst) + " leaves its userfaultfd context and loses um/uw/ui",
                           "the context lacks UFFD_FEATURE_EVENT_REMAP: the monitor is not told about the move, so the new "
                           "range is no longer tracked");
    s.changed = { dst->id };
}

// move_vma(): copy the VMA to r.newAddr, move its page tables, then unmap the source (or,
// with MREMAP_DONTUNMAP, keep it without its pages and without mlock).
std::int64_t moveVma(OpContext& c, const Remap& r)
{
    if (c.mm.mapCount() + 2 > c.profile().machine.maxMapCount)
        return refuseCall(c, "prep_move_vma", -ENOMEM, "the move could need two more VMAs than vm.max_map_count allows: -ENOMEM");
    const Vma& src = *c.mm.vmaAt(r.addr);
    if (src.vm_flags & VM_ACCOUNT) {
        const std::uint64_t charged = (r.flags & MREMAP_DONTUNMAP) ? r.newLen : r.delta();
        if (!enoughMemory(c, charged >> pageShift))
            return refuseCall(c, "vrm_calc_charge", -ENOMEM, "overcommit refuses the charge: -ENOMEM");
    }
    const Addr srcStart = src.vm_start, srcEnd = src.vm_end;
    const bool dropUffd = uffdWithoutEventRemap(c.world, src);
    copyVma(c, r);
    splitFilePmdsForMove(c, r.addr, r.oldLen, r.newAddr);
    movePtes(c.mm, r.addr, r.oldLen, r.newAddr);
    c.trace.step("move_page_tables", "moves the page-table entries of " + describeRange(r.addr, r.addr + r.oldLen) + " to "
                     + hexAddr(r.newAddr),
                 dropUffd ? "pages, zero pages and guard markers travel with the mapping; uffd-wp bits and markers are "
                            "dropped on the way (the context lacks UFFD_FEATURE_EVENT_REMAP)"
                          : "pages, zero pages and guard markers travel with the mapping");
    if (dropUffd)
        forgetUffdAfterMove(c, r.newAddr, r.newAddr + r.oldLen);
    if (r.flags & MREMAP_DONTUNMAP) {
        Vma* old = c.mm.findVma(r.addr);
        VMALAB_ASSERT(old && old->vm_start <= r.addr, "the DONTUNMAP source vanished");
        old->vm_flags &= ~VM_LOCKED_MASK;
        std::string what = describeVma(*old) + " stays mapped without its pages and without VM_LOCKED";
        // The whole VMA was copied elsewhere: its anon_vma links are dropped (unlink_anon_vmas()).
        if (old->vm_start == srcStart && old->vm_end == srcEnd && r.addr == srcStart && r.addr + r.oldLen == srcEnd
            && !old->contains(r.newAddr)) {
            old->anon_vma = noAnonVma;
            old->anonVmaChain = 0;
            what += "; it loses its anon_vma";
        }
        auto& s = c.trace.step("dontunmap_complete", what, "MREMAP_DONTUNMAP keeps the old range, which now reads as empty");
        s.changed = { old->id };
        return static_cast<std::int64_t>(r.newAddr);
    }
    if (r.oldLen)
        unmapRange(c, r.addr, r.addr + r.oldLen);
    return static_cast<std::int64_t>(r.newAddr);
}

// mremap_to(): a move to a given (MREMAP_FIXED) or chosen address, shrinking first if asked.
std::int64_t mremapTo(OpContext& c, Remap r)
{
    if (r.flags & MREMAP_FIXED) {
        if (c.mm.anyVmaIn(r.newAddr, r.newAddr + r.newLen)) {
            c.trace.step("mremap_to", "MREMAP_FIXED: unmaps " + describeRange(r.newAddr, r.newAddr + r.newLen) + " first",
                         "whatever is at the target is replaced, as with MAP_FIXED");
            if (int err = unmapRange(c, r.newAddr, r.newAddr + r.newLen))
                return err;
        }
        if (!c.mm.vmaAt(r.addr))
            return refuseCall(c, "mremap_to", -EFAULT, "the source is gone after unmapping the target: -EFAULT");
    }
    if (r.shrinks()) {
        c.trace.step("shrink_vma", "unmaps the tail " + describeRange(r.addr + r.newLen, r.addr + r.oldLen), "the mapping shrinks before it moves");
        if (int err = unmapRange(c, r.addr + r.newLen, r.addr + r.oldLen))
            return err;
        if (!c.mm.vmaAt(r.addr))
            return refuseCall(c, "shrink_vma", -EFAULT, "the source is gone after the shrink: -EFAULT");
        r.oldLen = r.newLen;
    }
    if (!(r.flags & MREMAP_FIXED)) {
        if (!(r.flags & MREMAP_DONTUNMAP) && recordedRangeFree(c.mm, r.recorded, r.newLen)) {
            r.newAddr = r.recorded;
            c.trace.step("get_unmapped_area", "places the moved mapping at " + hexAddr(r.newAddr),
                         "the recording says the kernel moved it here, and that range is free in the model");
            return moveVma(c, r);
        }
        const std::int64_t place = placeMove(c, (r.flags & MREMAP_DONTUNMAP) ? r.newAddr : 0, r.newLen);
        if (place < 0)
            return refuseCall(c, "get_unmapped_area", place, "no gap fits the new length: -ENOMEM");
        r.newAddr = static_cast<Addr>(place);
        c.trace.step("get_unmapped_area", "places the moved mapping at " + hexAddr(r.newAddr),
                     (r.flags & MREMAP_DONTUNMAP) ? "the hint if free, else the highest gap that fits" : "the highest gap that fits");
    }
    return moveVma(c, r);
}

// expand_vma(): grow in place when the old range ends at the VMA's end and the space after
// it is free (vma_merge_extend(), which may also merge with the next VMA); else move if
// MREMAP_MAYMOVE allows it.
std::int64_t expandVma(OpContext& c, Remap r)
{
    const Vma& v = *c.mm.vmaAt(r.addr);
    const Addr end = v.vm_end + r.delta();
    const bool atEnd = v.vm_end - r.addr == r.oldLen;
    const bool room = end > v.vm_end && end <= c.mm.task_size && !c.mm.anyVmaIn(v.vm_end, end);
    if (atEnd && room) {
        if ((v.vm_flags & VM_ACCOUNT) && !enoughMemory(c, r.delta() >> pageShift))
            return refuseCall(c, "vrm_calc_charge", -ENOMEM, "overcommit refuses the charge: -ENOMEM");
        ProposedRange p;
        p.start = v.vm_end;
        p.end = end;
        p.flags = v.vm_flags;
        p.file = v.vm_file;
        p.pgoff = v.vm_pgoff + v.pages();
        p.anon_vma = v.anon_vma;
        p.anonVmaChain = v.anonVmaChain;
        p.uffd_ctx = v.uffd_ctx;
        p.anon_name = v.anon_name;
        c.trace.step("vrm_can_expand_in_place", "grows " + describeVma(v) + " in place to " + hexAddr(end),
                     "the old range ends at the VMA's end and nothing is mapped after it");
        if (!mergeNewRange(c, p, false))
            return refuseCall(c, "vma_merge_extend", -ENOMEM, "the VMA cannot be extended: -ENOMEM");
        return static_cast<std::int64_t>(r.addr);
    }
    if (!(r.flags & MREMAP_MAYMOVE))
        return refuseCall(c, "expand_vma", -ENOMEM,
                    std::string(atEnd ? "something is mapped after the VMA" : "the old range does not end at the VMA's end")
                        + " and MREMAP_MAYMOVE is not given: -ENOMEM");
    return mremapTo(c, r);
}

// remap_move() (6.17+): a pure MREMAP_FIXED move of equal lengths may span several VMAs and
// holes (but not start in a hole); each VMA piece moves on its own and the gaps between the
// pieces are kept at the destination.
std::int64_t remapMove(OpContext& c, const Remap& whole)
{
    const Addr start = whole.addr, end = whole.addr + whole.oldLen;
    std::int64_t res = -EFAULT;
    bool seen = false;
    Addr target = whole.newAddr;
    Addr lastEnd = 0;
    Addr cursor = start;
    while (cursor < end) {
        const Vma* v = c.mm.findVma(cursor);
        if (!v || v->vm_start >= end)
            break;
        if (!seen && start < v->vm_start)
            return refuseCall(c, "remap_move", -EFAULT, "the range starts in a hole: -EFAULT");
        Remap r = whole;
        r.addr = std::max(v->vm_start, start);
        r.oldLen = r.newLen = std::min(end, v->vm_end) - r.addr;
        r.newAddr = target + (seen ? v->vm_start - lastEnd : 0);
        lastEnd = v->vm_end;
        if (v->uffd_ctx != noUffdCtx && (seen || v->vm_end < end))
            return refuseCall(c, "remap_move", -EFAULT, "a userfaultfd-registered VMA cannot move together with others: -EFAULT");
        if (seen)
            c.trace.step("remap_move", "next piece " + describeRange(r.addr, r.addr + r.oldLen) + " goes to " + hexAddr(r.newAddr),
                         "a move of several VMAs keeps the gaps between them");
        bool populate = false;
        std::int64_t got = checkPrepVma(c, r, &populate);
        if (!got)
            got = mremapTo(c, r);
        if (got < 0)
            return got;
        if (!seen)
            res = got;
        seen = true;
        target = static_cast<Addr>(got) + r.newLen;
        cursor = r.addr + r.oldLen;
    }
    return res;
}

} // namespace

std::int64_t doMremap(OpContext& c, Addr addr, std::uint64_t oldLen, std::uint64_t newLen, std::int64_t flags,
                      Addr newAddr, Addr recorded)
{
    const Addr taskSize = c.mm.task_size;
    Remap r { addr, pageAlignUp(oldLen), pageAlignUp(newLen), flags, newAddr, recorded };
    if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP))
        return refuseCall(c, "check_mremap_params", -EINVAL, "unknown flags: -EINVAL");
    if (addr & (pageSize - 1))
        return refuseCall(c, "check_mremap_params", -EINVAL, "the old address is not page aligned: -EINVAL");
    if (r.newLen == 0 || r.newLen > taskSize)
        return refuseCall(c, "check_mremap_params", -EINVAL, "the new length is 0 (after rounding) or beyond TASK_SIZE: -EINVAL");
    if (r.impliesNewAddr()) {
        if (r.newAddr > taskSize - r.newLen)
            return refuseCall(c, "check_mremap_params", -EINVAL, "the new range leaves the address space: -EINVAL");
        if (r.newAddr & (pageSize - 1))
            return refuseCall(c, "check_mremap_params", -EINVAL, "the new address is not page aligned: -EINVAL");
        if (!(flags & MREMAP_MAYMOVE))
            return refuseCall(c, "check_mremap_params", -EINVAL, "MREMAP_FIXED and MREMAP_DONTUNMAP need MREMAP_MAYMOVE: -EINVAL");
        if ((flags & MREMAP_DONTUNMAP) && r.oldLen != r.newLen)
            return refuseCall(c, "check_mremap_params", -EINVAL, "MREMAP_DONTUNMAP cannot resize: -EINVAL");
        if (r.addr + r.oldLen > r.newAddr && r.newAddr + r.newLen > r.addr)
            return refuseCall(c, "check_mremap_params", -EINVAL, "the old and new ranges overlap: -EINVAL");
    }
    c.trace.holding(Lock::MmapWrite);
    if (c.mm.mapCount() + 4 > c.profile().machine.maxMapCount)
        return refuseCall(c, "check_map_count_against_split_early", -ENOMEM,
                    "unmapping and moving could need four more VMAs than vm.max_map_count allows: -ENOMEM");

    if ((flags & MREMAP_FIXED) && r.oldLen == r.newLen)
        return remapMove(c, r);

    bool populate = false;
    if (std::int64_t err = checkPrepVma(c, r, &populate))
        return err;
    std::int64_t res = 0;
    if (r.impliesNewAddr()) {
        res = mremapTo(c, r);
    } else if (r.oldLen == r.newLen) {
        c.trace.step("mremap_at", "nothing to do", "same length and no new address: mremap returns the old address");
        return static_cast<std::int64_t>(addr);
    } else if (r.shrinks()) {
        c.trace.step("shrink_vma", "unmaps the tail " + describeRange(addr + r.newLen, addr + r.oldLen), "shrinking in place unmaps what is cut off");
        if (int err = unmapRange(c, addr + r.newLen, addr + r.oldLen))
            return err;
        return static_cast<std::int64_t>(addr);
    } else {
        res = expandVma(c, r);
    }
    if (res >= 0 && populate) {
        c.trace.holding(Lock::MmapRead);
        mmPopulate(c, static_cast<Addr>(res) + r.oldLen, static_cast<Addr>(res) + r.newLen, true);
    }
    return res;
}

} // namespace vmalab
