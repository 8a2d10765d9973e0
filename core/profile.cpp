#include "core/profile.h"

#include "core/vm_flags.h"

namespace vmalab {

VmFlags Profile::mergeIgnoredFlags() const
{
    return behaviour.hasMaybeGuard ? (VM_SOFTDIRTY | VM_MAYBE_GUARD) : VM_SOFTDIRTY;
}

VmFlags Profile::stickyFlags() const
{
    return behaviour.hasMaybeGuard ? VM_MAYBE_GUARD : 0;
}

std::vector<std::string> builtinProfileNames()
{
    return { "v6.18", "maybe-guard", "maybe-guard-fixed" };
}

std::optional<Profile> builtinProfile(const std::string& name, const MachineConfig& machine)
{
    Profile p;
    p.name = name;
    p.machine = machine;
    if (name == "v6.18") {
        p.description = "Linux 6.18 without the VM_MAYBE_GUARD series";
        p.behaviour = { false, true, CopyOnForkCheck::DstUffdSrcPfn };
    } else if (name == "maybe-guard") {
        p.description = "6.18 with \"introduce VM_MAYBE_GUARD and make it sticky\" as posted (v3/v4)";
        p.behaviour = { true, false, CopyOnForkCheck::Src };
    } else if (name == "maybe-guard-fixed") {
        p.description = "the series plus the fix: vma_needs_copy() tests the destination VMA";
        p.behaviour = { true, false, CopyOnForkCheck::Dst };
    } else {
        return std::nullopt;
    }
    return p;
}

} // namespace vmalab
