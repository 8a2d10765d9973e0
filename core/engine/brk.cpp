// brk(2): the program break (mm/mmap.c brk syscall and do_brk_flags()).

#include "core/engine/abi.h"
#include "core/engine/ops.h"
#include "core/vm_flags.h"

#include <cerrno>

namespace vmalab {

namespace {

// The break stays where it was: brk returns the old value on every refusal.
std::int64_t keepBreak(OpContext& c, const char* kernelFn, std::string why)
{
    c.trace.step(kernelFn, "the break stays at " + hexAddr(c.mm.brk), std::move(why));
    return static_cast<std::int64_t>(c.mm.brk);
}

// do_brk_flags(): grow the VMA that ends at oldbrk (VMG_FLAG_JUST_EXPAND: never the next
// one), or create an anonymous VMA for [oldbrk, newbrk).
void brkFlags(OpContext& c, Addr oldbrk, Addr newbrk)
{
    VmFlags flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    if (c.profile().machine.softDirty)
        flags |= VM_SOFTDIRTY;
    const Vma* prev = c.mm.lastBefore(oldbrk);
    // vma_prev_limit(start_brk): only a VMA at or above start_brk is the heap.
    if (prev && prev->vm_end == oldbrk && prev->vm_start >= c.mm.start_brk) {
        ProposedRange p;
        p.start = oldbrk;
        p.end = newbrk;
        p.flags = flags;
        p.pgoff = prev->vm_pgoff + prev->pages();
        if (Vma* grown = mergeNewRange(c, p, true)) {
            grown->vm_flags |= flags & VM_SOFTDIRTY;
            return;
        }
    }
    Vma v;
    v.id = c.world.newVmaId();
    v.vm_start = oldbrk;
    v.vm_end = newbrk;
    v.vm_pgoff = oldbrk >> pageShift;
    v.vm_flags = flags;
    const Vma& made = c.mm.insert(v);
    auto& s = c.trace.step("do_brk_flags", "creates " + describeVma(made),
        "no heap VMA ends at the old break, or it cannot take the range");
    s.created = { made.id };
}

} // namespace

std::int64_t doBrk(OpContext& c, Addr brk)
{
    c.trace.holding(Lock::MmapWrite);
    // Without CONFIG_COMPAT_BRK the lowest break is start_brk; below it (brk(0) included) the
    // call only reports the current break.
    if (brk < c.mm.start_brk || c.mm.start_brk == 0)
        return keepBreak(c, "brk", "the requested break lies below start_brk: brk() reports the current break");
    const Addr newbrk = pageAlignUp(brk);
    const Addr oldbrk = pageAlignUp(c.mm.brk);
    if (newbrk == oldbrk) {
        c.mm.brk = brk;
        c.trace.step("brk", "the break moves to " + hexAddr(brk) + " within its page", "no page is mapped or unmapped");
        return static_cast<std::int64_t>(brk);
    }
    if (brk <= c.mm.brk) {
        const Vma* v = c.mm.findVma(newbrk);
        if (!v || v->vm_start >= oldbrk)
            return keepBreak(c, "brk", "no VMA lies between the new and the old break: nothing to shrink");
        c.trace.step("brk", "shrinks the heap: unmaps " + describeRange(newbrk, oldbrk),
            "shrinking the break is always allowed");
        if (unmapRange(c, newbrk, oldbrk))
            return keepBreak(c, "do_vmi_align_munmap", "the unmap failed (vm.max_map_count)");
        c.mm.brk = brk;
        return static_cast<std::int64_t>(brk);
    }
    if (newbrk > c.mm.task_size || newbrk < oldbrk)
        return keepBreak(c, "check_brk_limits", "the new break lies beyond TASK_SIZE");
    // The next VMA may not come within a page (a growsdown one: within stack_guard_gap) of the new break.
    if (const Vma* next = c.mm.findVma(oldbrk); next && newbrk + pageSize > vmStartGap(*next))
        return keepBreak(c, "brk",
            "the new break would come within a page of " + describeVma(*next)
                + ((next->vm_flags & VM_GROWSDOWN) ? " (or within stack_guard_gap of the stack)" : ""));
    if (c.mm.mapCount() > c.profile().machine.maxMapCount)
        return keepBreak(c, "do_brk_flags", "the process has more than vm.max_map_count VMAs");
    brkFlags(c, oldbrk, newbrk);
    c.mm.brk = brk;
    return static_cast<std::int64_t>(brk);
}

} // namespace vmalab
