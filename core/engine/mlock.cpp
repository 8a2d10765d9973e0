#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/ops.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>

namespace vmalab {

using namespace abi;

namespace {



// mlock_fixup(): special, hugetlb and droppable mappings are skipped without an error; the
// others get the new lock flags through vma_modify_flags(). Returns the end of the VMA that
// covers the slice afterwards, or -errno.
std::int64_t mlockFixup(OpContext& c, Addr vmaStart, Addr start, Addr end, VmFlags newFlags)
{
    const Vma& v = c.mm.vmas.at(vmaStart);
    if (newFlags == v.vm_flags) {
        c.trace.step("mlock_fixup", describeVma(v) + " already has those lock flags", "nothing changes, so no split and no merge");
        return static_cast<std::int64_t>(v.vm_end);
    }
    if (v.vm_flags & (VM_SPECIAL | VM_HUGETLB | VM_DROPPABLE)) {
        c.trace.step("mlock_fixup", "skips " + describeVma(v), "special, hugetlb and droppable mappings are never locked (and it is no error)");
        return static_cast<std::int64_t>(v.vm_end);
    }
    const ModifyResult r = vmaModify(c, vmaStart, start, end, newFlags, v.uffd_ctx, v.anon_name);
    if (r.err)
        return r.err;
    return static_cast<std::int64_t>(c.mm.vmas.at(r.vmaStart).vm_end);
}

// apply_vma_lock_flags(): the first VMA must contain start; a hole stops the loop with -ENOMEM
// and the VMAs before it keep their new flags.
std::int64_t applyLockFlags(OpContext& c, Addr start, Addr end, VmFlags lockFlags)
{
    if (end < start)
        return refuseCall(c, "apply_vma_lock_flags", -EINVAL, "the range wraps around the address space: -EINVAL");
    if (end == start)
        return 0;
    const Vma* first = c.mm.vmaAt(start);
    if (!first)
        return refuseCall(c, "apply_vma_lock_flags", -ENOMEM, "no VMA contains the start: -ENOMEM");
    Addr tmp = first->vm_start;
    Addr nstart = start;
    for (const Vma* v = first; v && v->vm_start < end; v = c.mm.findVma(tmp)) {
        if (v->vm_start != tmp)
            return refuseCall(c, "apply_vma_lock_flags", -ENOMEM,
                        "a hole before " + describeVma(*v) + ": -ENOMEM, and the VMAs before it keep their new flags");
        const VmFlags newFlags = (v->vm_flags & ~VM_LOCKED_MASK) | lockFlags;
        const std::int64_t r = mlockFixup(c, v->vm_start, nstart, std::min(v->vm_end, end), newFlags);
        if (r < 0)
            return r;
        tmp = static_cast<Addr>(r);
        nstart = tmp;
    }
    if (tmp < end)
        return refuseCall(c, "apply_vma_lock_flags", -ENOMEM, "the range ends in a hole: -ENOMEM");
    return 0;
}

} // namespace

std::int64_t doMlock(OpContext& c, Addr start, std::uint64_t len, std::int64_t flags, bool hasFlags)
{
    const char* fn = hasFlags ? "mlock2" : "do_mlock";
    if (hasFlags && (flags & ~MLOCK_ONFAULT))
        return refuseCall(c, fn, -EINVAL, "unknown mlock2 flags: -EINVAL");
    // The start is rounded down and the length grows to cover it: an unaligned start is fine.
    len = pageAlignUp(len + (start & (pageSize - 1)));
    start = pageAlignDown(start);
    c.trace.holding(Lock::MmapWrite);
    const VmFlags lockFlags = VM_LOCKED | ((flags & MLOCK_ONFAULT) ? VM_LOCKONFAULT : 0);
    if (std::int64_t err = applyLockFlags(c, start, start + len, lockFlags))
        return err;
    c.trace.holding(Lock::MmapRead);
    const int err = mmPopulate(c, start, start + len, false);
    if (err == -EFAULT)
        return refuseCall(c, "__mlock_posix_error_return", -ENOMEM, "population failed (-EFAULT), which mlock reports as -ENOMEM; the VMAs stay locked");
    if (err == -ENOMEM)
        return refuseCall(c, "__mlock_posix_error_return", -EAGAIN, "population ran out of memory, which mlock reports as -EAGAIN");
    return err;
}

std::int64_t doMunlock(OpContext& c, Addr start, std::uint64_t len)
{
    len = pageAlignUp(len + (start & (pageSize - 1)));
    start = pageAlignDown(start);
    c.trace.holding(Lock::MmapWrite);
    return applyLockFlags(c, start, start + len, 0);
}

} // namespace vmalab
