#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>

namespace vmalab {

using namespace abi;

Addr vmStartGap(const Vma& v)
{
    constexpr Addr stackGuardGap = 256 * pageSize;
    if (!(v.vm_flags & VM_GROWSDOWN))
        return v.vm_start;
    return v.vm_start > stackGuardGap ? v.vm_start - stackGuardGap : 0;
}

namespace {

// unmapped_area_topdown(): the highest free gap of `length` below highLimit; the range is
// placed at the top of that gap. 0 when nothing fits.
Addr searchTopDown(const Mm& mm, std::uint64_t length, Addr lowLimit, Addr highLimit)
{
    const Vma* above = nullptr;
    auto it = mm.vmas.lower_bound(highLimit);
    if (it != mm.vmas.end())
        above = &it->second;
    for (;;) {
        const Vma* below = it == mm.vmas.begin() ? nullptr : &std::prev(it)->second;
        Addr lo = std::max(below ? below->vm_end : 0, lowLimit);
        Addr hi = std::min(above ? vmStartGap(*above) : mm.task_size, highLimit);
        if (hi > lo && hi - lo >= length)
            return hi - length;
        if (!below || below->vm_end <= lowLimit)
            return 0;
        above = below;
        --it;
    }
}

// unmapped_area(): the lowest free gap of `length` at or above lowLimit.
Addr searchBottomUp(const Mm& mm, std::uint64_t length, Addr lowLimit)
{
    Addr lo = lowLimit;
    for (auto it = mm.vmas.upper_bound(lowLimit);; ++it) {
        if (it != mm.vmas.begin()) {
            const Vma& prev = std::prev(it)->second;
            lo = std::max(lo, prev.vm_end);
        }
        const Addr hi = it == mm.vmas.end() ? mm.task_size : vmStartGap(it->second);
        if (hi > lo && hi - lo >= length)
            return lo;
        if (it == mm.vmas.end())
            return 0;
    }
}

struct Placement
{
    std::int64_t addr = 0; // or -errno
    std::string how;
};

// __get_unmapped_area() for non-MAP_FIXED requests: the hint if its range is free,
// otherwise a top-down search below mmap_base (padded by 2 MiB and aligned where THP
// alignment applies: thp_get_unmapped_area()).
Placement findPlace(const OpContext& c, Addr hint, std::uint64_t len, PageOff pgoff, bool thpAlign)
{
    const Mm& mm = c.mm;
    const Addr lowLimit = std::max<Addr>(pageSize, c.profile().machine.mmapMinAddr);
    if (hint) {
        hint = pageAlignUp(hint);
        const Vma* next = mm.findVma(hint);
        const Vma* prev = mm.lastBefore(hint);
        if (mm.task_size - len >= hint && hint >= c.profile().machine.mmapMinAddr && (!next || hint + len <= vmStartGap(*next))
            && (!prev || hint >= prev->vm_end))
            return { static_cast<std::int64_t>(hint), "the hint's range is free" };
    }
    if (thpAlign && len + pmdSize > len) {
        const Addr off = pgoff << pageShift;
        if (Addr ret = searchTopDown(mm, len + pmdSize, lowLimit, mm.mmap_base)) {
            const Addr sub = (off - ret) & (pmdSize - 1);
            ret = sub == 0 ? ret + pmdSize : ret + sub;
            return { static_cast<std::int64_t>(ret),
                     "thp_get_unmapped_area(): the length is a multiple of 2 MiB, so the top-down search asks for 2 MiB more and aligns" };
        }
    }
    if (Addr ret = searchTopDown(mm, len, lowLimit, mm.mmap_base))
        return { static_cast<std::int64_t>(ret), "top-down search: the highest gap below mmap_base that fits, at its top" };
    if (Addr ret = searchBottomUp(mm, len, pageAlignUp(mm.task_size / 3)))
        return { static_cast<std::int64_t>(ret), "nothing fits below mmap_base: bottom-up search from TASK_UNMAPPED_BASE" };
    return { -ENOMEM, "no gap of that size anywhere" };
}

} // namespace

bool recordedRangeFree(const Mm& mm, Addr recorded, std::uint64_t len)
{
    return recorded != 0 && (recorded & (pageSize - 1)) == 0 && recorded <= mm.task_size && len <= mm.task_size - recorded
        && !mm.anyVmaIn(recorded, recorded + len);
}

namespace {

VmFlags protToVmFlags(std::int64_t prot)
{
    VmFlags f = 0;
    if (prot & PROT_READ)
        f |= VM_READ;
    if (prot & PROT_WRITE)
        f |= VM_WRITE;
    if (prot & PROT_EXEC)
        f |= VM_EXEC;
    return f;
}

// security_vm_enough_memory_mm() with overcommit_memory 0: refuse a charge larger than RAM + swap.
bool enoughMemory(const OpContext& c, std::uint64_t pages)
{
    const MachineConfig& m = c.profile().machine;
    if (m.overcommitMemory == 1)
        return true;
    return pages <= (m.memTotalKb + m.swapTotalKb) / 4;
}


} // namespace

std::int64_t doMmap(OpContext& c, Addr addr, std::uint64_t len, std::int64_t prot, std::int64_t flags,
                    std::int64_t fd, std::int64_t off, Addr recorded)
{
    c.trace.holding(Lock::MmapWrite);
    if (off & (pageSize - 1))
        return refuseCall(c, "ksys_mmap_pgoff", -EINVAL, "the offset is not page aligned: -EINVAL");
    FileId fileId = noFile;
    if (!(flags & MAP_ANONYMOUS)) {
        auto it = c.mm.fds.find(static_cast<int>(fd));
        if (fd >= 0 && fd <= 0x7fffffff && c.mm.uffdFds.count(static_cast<int>(fd)))
            return refuseCall(c, "do_mmap", -ENODEV, "fd " + std::to_string(fd) + " is a userfaultfd, which cannot be mapped: -ENODEV");
        if (fd < 0 || fd > 0x7fffffff || it == c.mm.fds.end())
            return refuseCall(c, "ksys_mmap_pgoff", -EBADF, "not MAP_ANONYMOUS and fd " + std::to_string(fd) + " is not open: -EBADF");
        fileId = it->second;
        if (flags & MAP_HUGETLB)
            return refuseCall(c, "ksys_mmap_pgoff", -EINVAL, "MAP_HUGETLB on a file that is not on hugetlbfs: -EINVAL");
    } else if (flags & MAP_HUGETLB) {
        return refuseCall(c, "hugetlb_file_setup", -ENOMEM, "no huge pages are reserved (the model has no hugetlb pool): -ENOMEM");
    }
    PageOff pgoff = static_cast<std::uint64_t>(off) >> pageShift;

    // do_mmap()
    if (len == 0)
        return refuseCall(c, "do_mmap", -EINVAL, "the length is 0: -EINVAL");
    if (flags & MAP_FIXED_NOREPLACE)
        flags |= MAP_FIXED;
    if (!(flags & MAP_FIXED)) {
        addr = pageAlignDown(addr);
        if (addr && addr < c.profile().machine.mmapMinAddr)
            addr = pageAlignUp(c.profile().machine.mmapMinAddr);
    }
    len = pageAlignUp(len);
    if (len == 0)
        return refuseCall(c, "do_mmap", -ENOMEM, "the length rounded up to pages overflows: -ENOMEM");
    if (pgoff + (len >> pageShift) < pgoff)
        return refuseCall(c, "do_mmap", -EOVERFLOW, "the file offset plus the length wraps: -EOVERFLOW");
    if (c.mm.mapCount() > c.profile().machine.maxMapCount)
        return refuseCall(c, "do_mmap", -ENOMEM, "the process has more than vm.max_map_count VMAs: -ENOMEM");

    // __get_unmapped_area()
    const Addr taskSize = c.mm.task_size;
    if (len > taskSize)
        return refuseCall(c, "__get_unmapped_area", -ENOMEM, "the length exceeds TASK_SIZE: -ENOMEM");
    const File* file = c.world.file(fileId);
    if (flags & MAP_FIXED) {
        if (len > taskSize - c.profile().machine.mmapMinAddr)
            return refuseCall(c, "arch_get_unmapped_area_topdown", -ENOMEM, "the length exceeds the usable address space: -ENOMEM");
    } else {
        const bool anonThp = !file && !(flags & MAP_SHARED) && addr == 0 && (len % pmdSize) == 0;
        const bool fileThp = file && file->kind == File::Kind::Regular && !c.profile().machine.tmpIsTmpfs
            && len >= pmdSize;
        Placement place;
        if (recordedRangeFree(c.mm, recorded, len))
            place = { static_cast<std::int64_t>(recorded),
                      "the recording says the kernel placed it here, and that range is free in the model" };
        else
            place = findPlace(c, addr, len, file ? pgoff : 0, anonThp || fileThp);
        if (place.addr < 0)
            return refuseCall(c, "vm_unmapped_area", place.addr, place.how + ": -ENOMEM");
        c.trace.step("get_unmapped_area", "places the mapping at " + hexAddr(place.addr), place.how);
        addr = static_cast<Addr>(place.addr);
    }
    if (addr > taskSize - len)
        return refuseCall(c, "__get_unmapped_area", -ENOMEM, "the range ends beyond TASK_SIZE: -ENOMEM");
    if (addr & (pageSize - 1))
        return refuseCall(c, "__get_unmapped_area", -EINVAL, "MAP_FIXED with an address that is not page aligned: -EINVAL");
    const Addr end = addr + len;
    if ((flags & MAP_FIXED_NOREPLACE) && c.mm.anyVmaIn(addr, end))
        return refuseCall(c, "do_mmap", -EEXIST, "MAP_FIXED_NOREPLACE and the range overlaps an existing VMA: -EEXIST");

    VmFlags vmFlags = protToVmFlags(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (flags & MAP_GROWSDOWN)
        vmFlags |= VM_GROWSDOWN;
    if (flags & MAP_LOCKED)
        vmFlags |= VM_LOCKED;
    if (flags & MAP_SYNC)
        vmFlags |= VM_SYNC;
    if (flags & MAP_STACK)
        vmFlags |= VM_NOHUGEPAGE;
    std::int64_t type = flags & MAP_TYPE;
    if (file) {
        // file_mmap_ok(): offset + length must stay within MAX_LFS_FILESIZE (LLONG_MAX).
        constexpr std::uint64_t maxFileSize = 0x7fffffffffffffffull;
        if (len > maxFileSize || pgoff > (maxFileSize - len) >> pageShift)
            return refuseCall(c, "file_mmap_ok", -EOVERFLOW, "the file offset plus the length passes the largest file size: -EOVERFLOW");
        if (type == MAP_SHARED) {
            flags &= LEGACY_MAP_MASK;
        }
        // The open mode: open_mapped() handles may be read-only or write-only (others are O_RDWR).
        const auto mode = c.mm.fdAccess.find(static_cast<int>(fd));
        const bool canWrite = mode == c.mm.fdAccess.end() || mode->second != 0;
        const bool canRead = mode == c.mm.fdAccess.end() || mode->second != 1;
        if (type == MAP_SHARED || type == MAP_SHARED_VALIDATE) {
            if (type == MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK))
                return refuseCall(c, "do_mmap", -EOPNOTSUPP, "MAP_SHARED_VALIDATE with a flag this file does not support: -EOPNOTSUPP");
            if ((prot & PROT_WRITE) && !canWrite)
                return refuseCall(c, "do_mmap", -EACCES, "a shared writable mapping of a file not open for writing: -EACCES");
            vmFlags |= VM_SHARED | VM_MAYSHARE;
            if (!canWrite) {
                vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
                c.trace.step("do_mmap", "clears VM_MAYWRITE and VM_SHARED", "the file is not open for writing, so the mapping can never be written");
            }
        } else if (type != MAP_PRIVATE) {
            return refuseCall(c, "do_mmap", -EINVAL, "a file mapping must be MAP_SHARED, MAP_SHARED_VALIDATE or MAP_PRIVATE: -EINVAL");
        }
        if (!canRead)
            return refuseCall(c, "do_mmap", -EACCES, "the file is not open for reading: -EACCES");
        if (vmFlags & VM_GROWSDOWN)
            return refuseCall(c, "do_mmap", -EINVAL, "MAP_GROWSDOWN on a file mapping: -EINVAL");
    } else {
        if (type == MAP_SHARED) {
            if (vmFlags & VM_GROWSDOWN)
                return refuseCall(c, "do_mmap", -EINVAL, "MAP_GROWSDOWN on a shared anonymous mapping: -EINVAL");
            pgoff = 0;
            vmFlags |= VM_SHARED | VM_MAYSHARE;
        } else if (type == MAP_DROPPABLE || type == MAP_PRIVATE) {
            if (type == MAP_DROPPABLE) {
                if ((flags & MAP_LOCKED) || (vmFlags & VM_GROWSDOWN))
                    return refuseCall(c, "do_mmap", -EINVAL, "MAP_DROPPABLE cannot be locked or grow down: -EINVAL");
                vmFlags |= VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
            }
            pgoff = addr >> pageShift;
        } else {
            return refuseCall(c, "do_mmap", -EINVAL, "an anonymous mapping must be MAP_SHARED or MAP_PRIVATE: -EINVAL");
        }
    }
    if ((flags & MAP_NORESERVE) && c.profile().machine.overcommitMemory != 2)
        vmFlags |= VM_NORESERVE;

    // __mmap_region()
    if (c.mm.anyVmaIn(addr, end)) {
        c.trace.step("__mmap_setup", "MAP_FIXED over existing mappings in " + describeRange(addr, end),
                     "what was there is unmapped first; the new mapping replaces it");
        if (int err = unmapRange(c, addr, end))
            return err;
    }
    const bool accountable = (vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE;
    if (accountable) {
        if (!enoughMemory(c, len >> pageShift))
            return refuseCall(c, "security_vm_enough_memory_mm", -ENOMEM, "overcommit refuses to commit more than RAM + swap: -ENOMEM");
        vmFlags |= VM_ACCOUNT;
    }
    if (c.profile().machine.softDirty)
        vmFlags |= VM_SOFTDIRTY;

    ProposedRange p;
    p.start = addr;
    p.end = end;
    p.flags = vmFlags;
    p.file = fileId;
    p.pgoff = pgoff;
    Vma* vma = mergeNewRange(c, p);
    if (!vma) {
        Vma v;
        v.id = c.world.newVmaId();
        v.vm_start = addr;
        v.vm_end = end;
        v.vm_pgoff = pgoff;
        v.vm_flags = vmFlags;
        v.vm_file = fileId;
        if (!file && (vmFlags & VM_SHARED)) {
            // shmem_zero_setup(): shared anonymous memory is a fresh unlinked shmem file.
            File& zero = c.world.newFile(File::Kind::Shmem, "/dev/zero", len);
            zero.deleted = true;
            v.vm_file = zero.id;
        }
        vma = &c.mm.insert(v);
        auto& s = c.trace.step("__mmap_new_vma", "creates " + describeVma(*vma),
                               v.vm_file != fileId ? "shared anonymous memory is backed by a new shmem file, /dev/zero (deleted)" : "");
        s.created = { vma->id };
    }
    const bool populate = (vmFlags & VM_LOCKED) || (flags & (MAP_POPULATE | MAP_NONBLOCK)) == MAP_POPULATE;
    if (populate)
        mmPopulate(c, addr, end, true);
    return static_cast<std::int64_t>(addr);
}

int unmapRange(OpContext& c, Addr start, Addr end)
{
    Vma* first = c.mm.findVma(start);
    if (!first || first->vm_start >= end)
        return 0;
    if (first->vm_start < start) {
        if (end < first->vm_end && c.mm.mapCount() >= c.profile().machine.maxMapCount) {
            c.trace.step("vms_gather_munmap_vmas", "cannot split " + describeVma(*first) + " twice",
                         "unmapping the inside of a VMA needs a new VMA and the process has vm.max_map_count: -ENOMEM");
            return -ENOMEM;
        }
        splitVma(c, first->vm_start, start, true, false);
    }
    std::vector<VmaId> removed;
    for (;;) {
        Vma* v = c.mm.findVma(start);
        if (!v || v->vm_start >= end)
            break;
        if (v->vm_end > end)
            splitVma(c, v->vm_start, end, false, false);
        removed.push_back(v->id);
        c.mm.erase(v->vm_start);
    }
    const Vma* prev = c.mm.lastBefore(start);
    const Vma* next = c.mm.findVma(end);
    clearPtes(c.mm, start, end);
    freeUnusedPteTables(c.mm, prev ? prev->vm_end : 0, next ? next->vm_start : c.mm.task_size);
    auto& s = c.trace.step("vms_complete_munmap_vmas", "detaches " + std::to_string(removed.size()) + " VMA(s) in " + describeRange(start, end)
                               + " and zaps their page tables",
                           "pages, guard markers and uffd-wp markers go with them; page-table pages that no VMA needs are freed");
    s.removed = std::move(removed);
    return 0;
}

std::int64_t doMunmap(OpContext& c, Addr start, std::uint64_t len)
{
    c.trace.holding(Lock::MmapWrite);
    const Addr taskSize = c.mm.task_size;
    if ((start & (pageSize - 1)) || start > taskSize || len > taskSize - start)
        return refuseCall(c, "do_vmi_munmap", -EINVAL, "the start is not page aligned or the range leaves the address space: -EINVAL");
    const Addr end = start + pageAlignUp(len);
    if (end == start)
        return refuseCall(c, "do_vmi_munmap", -EINVAL, "the length is 0: -EINVAL");
    if (!c.mm.anyVmaIn(start, end)) {
        c.trace.step("do_vmi_munmap", "nothing is mapped in " + describeRange(start, end), "unmapping a hole succeeds");
        return 0;
    }
    return unmapRange(c, start, end);
}

} // namespace vmalab
