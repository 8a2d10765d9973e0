#pragma once

#include "core/types.h"

#include <string>
#include <vector>

namespace vmalab {

// vm_flags bits with the kernel's numbering on x86-64 (include/linux/mm.h), so that the
// smaps mnemonics come out in the kernel's order (kernel-model.md §2).
enum VmFlagBit : unsigned
{
    VM_READ_BIT = 0,
    VM_WRITE_BIT = 1,
    VM_EXEC_BIT = 2,
    VM_SHARED_BIT = 3,
    VM_MAYREAD_BIT = 4,
    VM_MAYWRITE_BIT = 5,
    VM_MAYEXEC_BIT = 6,
    VM_MAYSHARE_BIT = 7,
    VM_GROWSDOWN_BIT = 8,
    VM_UFFD_MISSING_BIT = 9,
    VM_PFNMAP_BIT = 10,
    VM_MAYBE_GUARD_BIT = 11,
    VM_UFFD_WP_BIT = 12,
    VM_LOCKED_BIT = 13,
    VM_IO_BIT = 14,
    VM_SEQ_READ_BIT = 15,
    VM_RAND_READ_BIT = 16,
    VM_DONTCOPY_BIT = 17,
    VM_DONTEXPAND_BIT = 18,
    VM_LOCKONFAULT_BIT = 19,
    VM_ACCOUNT_BIT = 20,
    VM_NORESERVE_BIT = 21,
    VM_HUGETLB_BIT = 22,
    VM_SYNC_BIT = 23,
    VM_ARCH_1_BIT = 24,
    VM_WIPEONFORK_BIT = 25,
    VM_DONTDUMP_BIT = 26,
    VM_SOFTDIRTY_BIT = 27,
    VM_MIXEDMAP_BIT = 28,
    VM_HUGEPAGE_BIT = 29,
    VM_NOHUGEPAGE_BIT = 30,
    VM_MERGEABLE_BIT = 31,
    VM_SHADOW_STACK_BIT = 37,
    VM_DROPPABLE_BIT = 40,
    VM_UFFD_MINOR_BIT = 41,
    VM_SEALED_BIT = 42,
};

constexpr VmFlags bit(unsigned b) { return VmFlags { 1 } << b; }

constexpr VmFlags VM_READ = bit(VM_READ_BIT);
constexpr VmFlags VM_WRITE = bit(VM_WRITE_BIT);
constexpr VmFlags VM_EXEC = bit(VM_EXEC_BIT);
constexpr VmFlags VM_SHARED = bit(VM_SHARED_BIT);
constexpr VmFlags VM_MAYREAD = bit(VM_MAYREAD_BIT);
constexpr VmFlags VM_MAYWRITE = bit(VM_MAYWRITE_BIT);
constexpr VmFlags VM_MAYEXEC = bit(VM_MAYEXEC_BIT);
constexpr VmFlags VM_MAYSHARE = bit(VM_MAYSHARE_BIT);
constexpr VmFlags VM_GROWSDOWN = bit(VM_GROWSDOWN_BIT);
constexpr VmFlags VM_UFFD_MISSING = bit(VM_UFFD_MISSING_BIT);
constexpr VmFlags VM_PFNMAP = bit(VM_PFNMAP_BIT);
constexpr VmFlags VM_MAYBE_GUARD = bit(VM_MAYBE_GUARD_BIT);
constexpr VmFlags VM_UFFD_WP = bit(VM_UFFD_WP_BIT);
constexpr VmFlags VM_LOCKED = bit(VM_LOCKED_BIT);
constexpr VmFlags VM_IO = bit(VM_IO_BIT);
constexpr VmFlags VM_SEQ_READ = bit(VM_SEQ_READ_BIT);
constexpr VmFlags VM_RAND_READ = bit(VM_RAND_READ_BIT);
constexpr VmFlags VM_DONTCOPY = bit(VM_DONTCOPY_BIT);
constexpr VmFlags VM_DONTEXPAND = bit(VM_DONTEXPAND_BIT);
constexpr VmFlags VM_LOCKONFAULT = bit(VM_LOCKONFAULT_BIT);
constexpr VmFlags VM_ACCOUNT = bit(VM_ACCOUNT_BIT);
constexpr VmFlags VM_NORESERVE = bit(VM_NORESERVE_BIT);
constexpr VmFlags VM_HUGETLB = bit(VM_HUGETLB_BIT);
constexpr VmFlags VM_SYNC = bit(VM_SYNC_BIT);
constexpr VmFlags VM_ARCH_1 = bit(VM_ARCH_1_BIT);
constexpr VmFlags VM_WIPEONFORK = bit(VM_WIPEONFORK_BIT);
constexpr VmFlags VM_DONTDUMP = bit(VM_DONTDUMP_BIT);
constexpr VmFlags VM_SOFTDIRTY = bit(VM_SOFTDIRTY_BIT);
constexpr VmFlags VM_MIXEDMAP = bit(VM_MIXEDMAP_BIT);
constexpr VmFlags VM_HUGEPAGE = bit(VM_HUGEPAGE_BIT);
constexpr VmFlags VM_NOHUGEPAGE = bit(VM_NOHUGEPAGE_BIT);
constexpr VmFlags VM_MERGEABLE = bit(VM_MERGEABLE_BIT);
constexpr VmFlags VM_SHADOW_STACK = bit(VM_SHADOW_STACK_BIT);
constexpr VmFlags VM_DROPPABLE = bit(VM_DROPPABLE_BIT);
constexpr VmFlags VM_UFFD_MINOR = bit(VM_UFFD_MINOR_BIT);
constexpr VmFlags VM_SEALED = bit(VM_SEALED_BIT);

constexpr VmFlags VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
constexpr VmFlags VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
constexpr VmFlags VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
constexpr VmFlags VM_UFFD_FLAGS = VM_UFFD_MISSING | VM_UFFD_WP | VM_UFFD_MINOR;
// The series' VM_COPY_ON_FORK (kernel-model.md §2).
constexpr VmFlags VM_COPY_ON_FORK = VM_PFNMAP | VM_MIXEDMAP | VM_UFFD_WP | VM_MAYBE_GUARD;

// The smaps mnemonic of a bit, "" where smaps prints nothing.
const char* vmFlagMnemonic(unsigned bitNumber);
// The kernel's VM_* name of a bit ("VM_MAYBE_GUARD"), "" for unused bits.
const char* vmFlagName(unsigned bitNumber);
// Mnemonics of the set bits, lowest bit first, as smaps' VmFlags line lists them.
std::vector<std::string> vmFlagMnemonics(VmFlags flags);
// "rw-p" as /proc/PID/maps prints it.
std::string mapsPerms(VmFlags flags);

} // namespace vmalab
