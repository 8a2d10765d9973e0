#pragma once

#include "core/engine/world.h"
#include "core/vm_flags.h"

#include <functional>

namespace vmalab::ui::test {

// A big address space for the map's tests and its render benchmark: `count` VMAs of 1 to 4
// pages with one-page gaps, alternating perms so none would merge, every third one with a
// present page, and a guard marker in the last page of each VMA `guardAt` picks.
inline World manySmallVmas(int count, const std::function<bool(int)>& guardAt)
{
    World w;
    w.procs.resize(1);
    Mm& mm = w.procs[0];
    mm.pid = 1000;
    Addr at = 0x7f0000000000;
    for (int i = 0; i < count; ++i) {
        Vma v;
        v.id = w.newVmaId();
        v.vm_start = at;
        v.vm_end = at + static_cast<Addr>(1 + i % 4) * pageSize;
        v.vm_flags = VM_READ | VM_MAYREAD | VM_MAYWRITE | ((i % 2) ? VM_WRITE : 0);
        mm.insert(v);
        if (i % 3 == 0)
            mm.ptes.assign(v.vm_start >> pageShift, (v.vm_start >> pageShift) + 1, Pte {});
        if (guardAt(i)) {
            Pte g;
            g.state = PageState::Guard;
            g.kind = Pte::Kind::Marker;
            mm.ptes.assign((v.vm_end >> pageShift) - 1, v.vm_end >> pageShift, g);
        }
        at = v.vm_end + pageSize;
    }
    return w;
}

} // namespace vmalab::ui::test
