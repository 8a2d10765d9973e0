#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/ops.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>
#include <utility>

namespace vmalab {

using namespace abi;

namespace {


// mprotect_fixup(): the accounting rule, then vma_modify_flags() on the VMA at `cur`, which
// it uses up (a look through const must not copy the VMA). Returns where the VMA that covers
// [start, end) afterwards ends, or -errno.
std::int64_t mprotectFixup(OpContext& c, VmaCursor& cur, Addr start, Addr end, VmFlags newFlags)
{
    const Vma& v = std::as_const(c.mm).vmas.value(cur);
    const VmFlags oldFlags = v.vm_flags;
    if (newFlags == oldFlags) {
        const VmaText vt = VmaText::of(v);
        c.trace.deferredStep("mprotect_fixup", [=](std::string& what, std::string& rule) {
            vt.append(what);
            what += " already has that protection";
            rule += "nothing to change, so no split and no merge";
        });
        return static_cast<std::int64_t>(vt.end);
    }
    if (newFlags & VM_WRITE) {
        if (!(oldFlags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
            newFlags |= VM_ACCOUNT;
            const std::uint64_t pages = (end - start) >> pageShift;
            c.trace.deferredStep("mprotect_fixup", [=](std::string& what, std::string& rule) {
                what += "charges " + std::to_string(pages) + " page(s) to the commit limit";
                rule += "a private mapping becomes writable for the first time: it gains VM_ACCOUNT";
            });
        }
    } else if ((oldFlags & VM_ACCOUNT) && v.isAnonymous() && v.anon_vma == noAnonVma) {
        newFlags &= ~VM_ACCOUNT;
        c.trace.literalStep(
            "mprotect_fixup", "drops VM_ACCOUNT from the range",
            "an anonymous VMA that never faulted (no anon_vma) stops being charged when it loses write");
    }
    const bool lockedGainsWrite = (oldFlags & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (newFlags & VM_WRITE);
    const ModifyResult r = vmaModify(c, cur, start, end, newFlags, v.uffd_ctx, v.anon_name);
    if (r.err)
        return r.err;
    if (lockedGainsWrite) {
        populateVmaRange(c, start, end);
        return static_cast<std::int64_t>(std::as_const(c.mm).vmas.at(r.vmaStart).vm_end);
    }
    return static_cast<std::int64_t>(r.vmaEnd);
}

} // namespace

std::int64_t doMprotect(OpContext& c, Addr start, std::uint64_t len, std::int64_t prot)
{
    c.trace.holding(Lock::MmapWrite);
    const std::int64_t grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
    prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows == (PROT_GROWSDOWN | PROT_GROWSUP))
        return refuseCall(c, "do_mprotect_pkey", -EINVAL, "PROT_GROWSDOWN and PROT_GROWSUP together: -EINVAL");
    if (start & (pageSize - 1))
        return refuseCall(c, "do_mprotect_pkey", -EINVAL, "the start is not page aligned: -EINVAL");
    if (len == 0) {
        c.trace.step("do_mprotect_pkey", "nothing to do", "the length is 0");
        return 0;
    }
    len = pageAlignUp(len);
    Addr end = start + len;
    if (end <= start)
        return refuseCall(c, "do_mprotect_pkey", -ENOMEM, "the range wraps around the address space: -ENOMEM");
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM))
        return refuseCall(c, "arch_validate_prot", -EINVAL, "unknown protection bits: -EINVAL");

    const Mm& mm = c.mm; // lookups through const: the mutable ones copy what they find
    VmaCursor cur = mm.findVmaCursor(start); // one walk: vma_modify() starts from it
    const Vma* first = cur ? &mm.vmas.value(cur) : nullptr;
    if (!first || first->vm_start >= end)
        return refuseCall(c, "do_mprotect_pkey", -ENOMEM, "no VMA in the range: -ENOMEM");
    if (grows & PROT_GROWSDOWN) {
        if (!(first->vm_flags & VM_GROWSDOWN))
            return refuseCall(c, "do_mprotect_pkey", -EINVAL, "PROT_GROWSDOWN on a VMA that does not grow down: -EINVAL");
        start = first->vm_start;
    } else if (first->vm_start > start) {
        return refuseCall(c, "do_mprotect_pkey", -ENOMEM, "the range starts in a hole: -ENOMEM");
    }

    VmFlags protFlags = 0;
    if (prot & PROT_READ)
        protFlags |= VM_READ;
    if (prot & PROT_WRITE)
        protFlags |= VM_WRITE;
    if (prot & PROT_EXEC)
        protFlags |= VM_EXEC;

    Addr tmp = first->vm_start;
    Addr nstart = start;
    std::int64_t error = 0;
    for (const Vma* v = first; v && v->vm_start < end;) {
        if (v->vm_start != tmp) {
            c.trace.step("do_mprotect_pkey", "stops at the hole before " + describeVma(*v),
                         "the range has a hole: -ENOMEM, and the VMAs before it keep their new protection");
            error = -ENOMEM;
            break;
        }
        const VmFlags newFlags = protFlags | (v->vm_flags & ~VM_ACCESS_FLAGS);
        if ((newFlags & ~(newFlags >> 4)) & VM_ACCESS_FLAGS) {
            c.trace.step("do_mprotect_pkey", "refuses " + describeVma(*v),
                         "the protection asks for access whose VM_MAY* bit is clear: -EACCES");
            error = -EACCES;
            break;
        }
        tmp = std::min(v->vm_end, end);
        const std::int64_t r = mprotectFixup(c, cur, nstart, tmp, newFlags);
        if (r < 0) {
            error = r;
            break;
        }
        tmp = static_cast<Addr>(r);
        nstart = tmp;
        if (tmp >= end)
            break; // the next VMA starts at or after tmp: the loop would stop there
        cur = mm.findVmaCursor(tmp); // vma_modify() used the cursor up
        v = cur ? &mm.vmas.value(cur) : nullptr;
    }
    if (!error && tmp < end) {
        c.trace.step("do_mprotect_pkey", "the range ends in a hole", "part of the range is not mapped: -ENOMEM");
        error = -ENOMEM;
    }
    return error;
}

} // namespace vmalab
