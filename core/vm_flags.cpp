#include "core/vm_flags.h"

namespace vmalab {

namespace {

struct FlagInfo
{
    const char* mnemonic;
    const char* name;
};

// Indexed by bit number; show_smap_vma_flags() prints the set bits in this order.
constexpr FlagInfo kFlags[64] = {
    { "rd", "VM_READ" }, { "wr", "VM_WRITE" }, { "ex", "VM_EXEC" }, { "sh", "VM_SHARED" },
    { "mr", "VM_MAYREAD" }, { "mw", "VM_MAYWRITE" }, { "me", "VM_MAYEXEC" }, { "ms", "VM_MAYSHARE" },
    { "gd", "VM_GROWSDOWN" }, { "um", "VM_UFFD_MISSING" }, { "pf", "VM_PFNMAP" }, { "gu", "VM_MAYBE_GUARD" },
    { "uw", "VM_UFFD_WP" }, { "lo", "VM_LOCKED" }, { "io", "VM_IO" }, { "sr", "VM_SEQ_READ" },
    { "rr", "VM_RAND_READ" }, { "dc", "VM_DONTCOPY" }, { "de", "VM_DONTEXPAND" }, { "lf", "VM_LOCKONFAULT" },
    { "ac", "VM_ACCOUNT" }, { "nr", "VM_NORESERVE" }, { "ht", "VM_HUGETLB" }, { "sf", "VM_SYNC" },
    { "ar", "VM_ARCH_1" }, { "wf", "VM_WIPEONFORK" }, { "dd", "VM_DONTDUMP" }, { "sd", "VM_SOFTDIRTY" },
    { "mm", "VM_MIXEDMAP" }, { "hg", "VM_HUGEPAGE" }, { "nh", "VM_NOHUGEPAGE" }, { "mg", "VM_MERGEABLE" },
    { "", "VM_PKEY_BIT0" }, { "", "VM_PKEY_BIT1" }, { "", "VM_PKEY_BIT2" }, { "", "VM_PKEY_BIT3" },
    { "", "" }, { "ss", "VM_SHADOW_STACK" }, { "", "" }, { "", "" },
    { "dp", "VM_DROPPABLE" }, { "ui", "VM_UFFD_MINOR" }, { "sl", "VM_SEALED" },
};

} // namespace

const char* vmFlagMnemonic(unsigned bitNumber)
{
    if (bitNumber >= 64 || !kFlags[bitNumber].mnemonic)
        return "";
    return kFlags[bitNumber].mnemonic;
}

const char* vmFlagName(unsigned bitNumber)
{
    if (bitNumber >= 64 || !kFlags[bitNumber].name)
        return "";
    return kFlags[bitNumber].name;
}

std::vector<std::string> vmFlagMnemonics(VmFlags flags)
{
    std::vector<std::string> out;
    for (unsigned b = 0; b < 64; ++b)
        if ((flags & bit(b)) && *vmFlagMnemonic(b))
            out.emplace_back(vmFlagMnemonic(b));
    return out;
}

std::string mapsPerms(VmFlags flags)
{
    std::string p = "----";
    if (flags & VM_READ)
        p[0] = 'r';
    if (flags & VM_WRITE)
        p[1] = 'w';
    if (flags & VM_EXEC)
        p[2] = 'x';
    p[3] = (flags & VM_MAYSHARE) ? 's' : 'p';
    return p;
}

} // namespace vmalab
