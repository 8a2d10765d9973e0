#include "core/engine/fork.h"

#include "core/assert.h"
#include "core/engine/page_table.h"
#include "core/engine/uffd.h"
#include "core/engine/vma_merge.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <map>
#include <vector>

namespace vmalab {

namespace {

// is_cow_mapping(): private and possibly writable; fork write-protects its anonymous pages in
// both processes.
bool isCowMapping(VmFlags f)
{
    return (f & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

// copy_page_range() for one VMA once vma_needs_copy() said yes: every entry of the parent's
// range, as copy_present_ptes() / copy_nonpresent_pte() / copy_pte_marker() treat it.
// Returns the entries left non-none in the child.
std::uint64_t copyPageRange(Mm& child, Mm& parent, const Vma& dst, const Vma& src, Tracer& trace)
{
    const bool cow = isCowMapping(src.vm_flags);
    const bool childWp = dst.vm_flags & VM_UFFD_WP;
    // copy_pmd_range() allocates a PTE table in the child wherever the parent has one, before
    // it looks at the entries.
    parent.pteTables.forEach(src.vm_start / pmdSize, (src.vm_end - 1) / pmdSize + 1,
                             [&](std::uint64_t s, std::uint64_t e, bool) { allocPteTables(child, s, e); });
    std::uint64_t copied = 0, shared = 0, dropped = 0;
    std::vector<std::pair<std::pair<std::uint64_t, std::uint64_t>, Pte>> runs;
    parent.ptes.forEach(pageIndex(src.vm_start), pageIndex(src.vm_end),
                        [&](std::uint64_t s, std::uint64_t e, const Pte& p) { runs.push_back({ { s, e }, p }); });
    for (const auto& [range, p] : runs) {
        const auto [s, e] = range;
        const Addr from = s << pageShift, to = e << pageShift;
        Pte out = p;
        if (p.kind == Pte::Kind::Marker && p.state != PageState::Guard && !childWp) {
            dropped += e - s; // a uffd-wp marker survives only where the child VMA keeps `uw`
            continue;
        }
        if (!childWp)
            out.uffdWp = false;
        if (p.state == PageState::Present && p.kind == Pte::Kind::Anon && cow) {
            out.cowShared = true;
            Pte mine = p;
            mine.cowShared = true;
            parent.ptes.assign(s, e, mine);
            shared += e - s;
        }
        setPtes(child, from, to, out);
        copied += e - s;
    }
    std::string what = "copies " + std::to_string(copied) + " entr" + (copied == 1 ? "y" : "ies") + " of "
        + describeVma(src) + " into #" + std::to_string(dst.id);
    if (shared)
        what += "; " + std::to_string(shared) + " anonymous page(s) now shared and write-protected in both processes";
    if (dropped)
        what += "; " + std::to_string(dropped) + " uffd-wp marker(s) dropped";
    trace.step("copy_page_range", what,
               "present anonymous pages of a COW mapping are shared for copy-on-write; file pages, swap entries and "
               "guard markers are copied; uffd-wp bits and markers stay only where the child VMA is `uw`");
    trace.last().changed = { src.id };
    trace.last().created = { dst.id };
    return copied;
}

} // namespace

bool vmaNeedsCopy(const Profile& profile, const Vma& dst, const Vma& src, std::string& rule)
{
    switch (profile.behaviour.copyOnFork) {
    case CopyOnForkCheck::DstUffdSrcPfn:
        if (dst.vm_flags & VM_UFFD_WP) {
            rule = "v6.18: the child VMA is VM_UFFD_WP";
            return true;
        }
        if (src.vm_flags & (VM_PFNMAP | VM_MIXEDMAP)) {
            rule = "v6.18: the parent VMA is VM_PFNMAP/VM_MIXEDMAP";
            return true;
        }
        break;
    case CopyOnForkCheck::Src:
        if (src.vm_flags & VM_COPY_ON_FORK) {
            rule = "VM_MAYBE_GUARD series: the parent (source) VMA has a VM_COPY_ON_FORK flag";
            return true;
        }
        break;
    case CopyOnForkCheck::Dst:
        if (dst.vm_flags & VM_COPY_ON_FORK) {
            rule = "the fix: the child (destination) VMA has a VM_COPY_ON_FORK flag";
            return true;
        }
        break;
    }
    if (src.anon_vma != noAnonVma) {
        rule = "the parent VMA has an anon_vma (it may hold anonymous pages)";
        return true;
    }
    rule = "no flag asks for a copy and the parent VMA has no anon_vma: the child starts with empty page tables and faults afresh";
    return false;
}

unsigned cowShareCountAmong(const CowHolders& holders, std::size_t proc, Addr addr)
{
    auto heldBy = [&](std::size_t q) {
        return static_cast<std::size_t>(std::count_if(holders.begin(), holders.end(), [&](const auto& h) { return h.first == q; }));
    };
    const bool mineOnlyOne = heldBy(proc) <= 1;
    unsigned count = 1;
    std::vector<std::size_t> counted;
    for (const auto& holder : holders) {
        const std::size_t q = holder.first; // clang-14 lambdas cannot capture bindings
        if (q == proc || std::find(counted.begin(), counted.end(), q) != counted.end())
            continue;
        const bool sameAddress = std::any_of(holders.begin(), holders.end(), [&](const auto& h) { return h.first == q && h.second == addr; });
        if (sameAddress || (mineOnlyOne && heldBy(q) == 1)) {
            ++count;
            counted.push_back(q);
        }
    }
    return count;
}

unsigned cowShareCount(const World& world, std::size_t proc, const Vma& v, Addr addr)
{
    const PageOff index = v.pgoffAt(addr);
    const AnonVmaId root = world.anonVmaRoot(v.anon_vma);
    CowHolders holders;
    for (std::size_t i = 0; i < world.procs.size(); ++i) {
        const Mm& mm = world.procs[i];
        for (const auto& entry : mm.vmas) {
            const Vma& w = entry.second;
            if (w.anon_vma == noAnonVma || world.anonVmaRoot(w.anon_vma) != root || index < w.vm_pgoff
                || index >= w.vm_pgoff + w.pages())
                continue;
            const Addr at = w.vm_start + ((index - w.vm_pgoff) << pageShift);
            const Pte* p = ptAt(mm, at);
            if (p && p->state == PageState::Present && p->kind == Pte::Kind::Anon && p->cowShared)
                holders.emplace_back(i, at);
        }
    }
    return holders.empty() ? 0 : cowShareCountAmong(holders, proc, addr);
}

std::int64_t doFork(World& world, std::size_t parentIndex, std::size_t childIndex, Tracer& trace)
{
    VMALAB_ASSERT(parentIndex < world.procs.size() && parentIndex != childIndex, "fork from a process that does not exist");
    if (world.procs.size() <= childIndex)
        world.procs.resize(childIndex + 1);
    Mm& parent = world.procs[parentIndex];
    Mm& child = world.procs[childIndex];
    child = Mm {};
    child.pid = world.nextPid++;
    child.mmap_base = parent.mmap_base;
    child.task_size = parent.task_size;
    child.start_brk = parent.start_brk;
    child.brk = parent.brk;
    child.start_stack = parent.start_stack;
    child.fds = parent.fds; // dup_fd(): the child's table refers to the same open files
    child.fdAccess = parent.fdAccess;
    child.uffdFds = parent.uffdFds;
    for (const auto& [fd, ctx] : child.uffdFds)
        ++world.uffds.at(ctx).fdRefs;

    trace.holding(Lock::MmapWrite);
    trace.step("dup_mmap",
               "forks pid " + std::to_string(parent.pid) + " into pid " + std::to_string(child.pid) + ", copying "
                   + std::to_string(parent.mapCount()) + " VMA(s) in address order",
               "fork holds the parent's mmap write lock (each parent VMA write-locked) and the child's");

    std::map<UffdCtxId, UffdCtxId> forkedUffds; // dup_fctx(): one new context per parent context
    std::vector<Vma> sources;
    for (const auto& entry : parent.vmas)
        sources.push_back(entry.second);
    for (const Vma& src : sources) {
        if (src.vm_flags & VM_DONTCOPY) {
            trace.step("dup_mmap", "skips " + describeVma(src), "VM_DONTCOPY (MADV_DONTFORK): the child has a hole here");
            continue;
        }
        Vma dst = src;
        dst.id = world.newVmaId();
        const bool unlocked = dst.vm_flags & VM_LOCKED_MASK;
        dst.vm_flags &= ~VM_LOCKED_MASK;
        const bool wipe = src.vm_flags & VM_WIPEONFORK;
        dst.anon_vma = noAnonVma;
        dst.anonVmaChain = 0;
        if (!wipe && src.anon_vma != noAnonVma) {
            dst.anon_vma = world.newAnonVma();
            dst.anonVmaChain = src.anonVmaChain + 1;
            world.anonVmaParent.emplace(dst.anon_vma, src.anon_vma);
        }
        child.insert(dst);
        std::string rule = "vm_area_dup() copies flags, pgoff and file; inserted with vma_iter_bulk_store(): fork never merges";
        if (unlocked)
            rule += "; VM_LOCKED/VM_LOCKONFAULT are not inherited";
        if (wipe)
            rule += "; VM_WIPEONFORK: no anon_vma and no page tables, the child's copy starts empty";
        trace.step("vm_area_dup", "copies " + describeVma(src) + " into the child as " + describeVma(dst), rule);
        trace.last().created = { dst.id };
        if (dst.uffd_ctx != noUffdCtx) {
            dupUserfaultfd(world, childIndex, dst, forkedUffds, trace);
            *child.findVma(dst.vm_start) = dst;
            trace.last().changed = { dst.id };
        }
        if (dst.anon_vma != noAnonVma) {
            trace.step("anon_vma_fork",
                       "gives #" + std::to_string(dst.id) + " its own anon_vma #" + std::to_string(dst.anon_vma)
                           + " chained to the parent's #" + std::to_string(src.anon_vma) + " (chain length "
                           + std::to_string(dst.anonVmaChain) + ")",
                       "a chain longer than one means \"uncowed parents\": the VMA will not merge with a neighbour "
                       "that has no anon_vma or another one");
            trace.last().changed = { dst.id };
        }
        if (wipe)
            continue;
        std::string why;
        if (!vmaNeedsCopy(world.profile(), dst, src, why)) {
            trace.step("vma_needs_copy", "does not copy the page tables of " + describeVma(src), why);
            continue;
        }
        trace.step("vma_needs_copy", "copies the page tables of " + describeVma(src), why);
        ++child.forkVmasPtCopied;
        child.forkPtesCopied += copyPageRange(child, parent, dst, src, trace);
    }
    trace.step("dup_mmap", "pid " + std::to_string(child.pid) + " has " + std::to_string(child.mapCount()) + " VMA(s)",
               "the child's file descriptor table is a copy of the parent's");
    return child.pid;
}

} // namespace vmalab
