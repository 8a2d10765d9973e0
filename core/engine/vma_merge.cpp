#include "core/engine/vma_merge.h"

#include "core/assert.h"
#include "core/vm_flags.h"

#include <cerrno>

namespace vmalab {

std::string describeRange(Addr start, Addr end)
{
    return "[" + hexAddr(start) + "-" + hexAddr(end) + ")";
}

std::string describeVma(const Vma& v)
{
    return "#" + std::to_string(v.id) + " " + describeRange(v.vm_start, v.vm_end) + " " + mapsPerms(v.vm_flags);
}

namespace {

std::string flagNames(VmFlags flags)
{
    std::string out;
    for (unsigned b = 0; b < 64; ++b) {
        if (flags & bit(b)) {
            if (!out.empty())
                out += "|";
            out += *vmFlagName(b) ? vmFlagName(b) : ("bit" + std::to_string(b)).c_str();
        }
    }
    return out;
}

// is_mergeable_vma(): flags outside the ignore mask, file, uffd context and anon name.
std::string refuseAttributes(const Vma& neighbour, const ProposedRange& p, const Profile& profile)
{
    const VmFlags differ = (neighbour.vm_flags ^ p.flags) & ~profile.mergeIgnoredFlags();
    if (differ)
        return "their flags differ in " + flagNames(differ);
    if (neighbour.vm_file != p.file)
        return "they map different files";
    if (neighbour.uffd_ctx != p.uffd_ctx)
        return "they belong to different userfaultfd contexts";
    if (neighbour.anon_name != p.anon_name)
        return "their anon names differ";
    return {};
}

// is_mergeable_anon_vma(): the range's anon_vma (with the VMA it comes from, if any)
// against the neighbour's.
std::string refuseAnonVma(const Vma& neighbour, const ProposedRange& p)
{
    const bool srcHasAnon = p.anon_vma != noAnonVma;
    const bool srcInherited = p.middle && p.middle->hadUncowedParents();
    if (neighbour.anon_vma == noAnonVma && srcHasAnon)
        return srcInherited ? "the range's anon_vma was inherited through fork (vma_had_uncowed_parents())" : "";
    if (neighbour.anon_vma != noAnonVma && !srcHasAnon)
        return neighbour.hadUncowedParents()
            ? "the neighbour's anon_vma was inherited through fork (vma_had_uncowed_parents())"
            : "";
    if (neighbour.anon_vma != p.anon_vma)
        return "they have different anon_vmas (#" + std::to_string(neighbour.anon_vma) + " and #"
            + std::to_string(p.anon_vma) + ")";
    return {};
}

void dupAnonVma(Vma& dst, const Vma& src)
{
    if (src.anon_vma != noAnonVma && dst.anon_vma == noAnonVma) {
        dst.anon_vma = src.anon_vma;
        dst.anonVmaChain = src.anonVmaChain;
    }
}

VmFlags stickyOf(const Profile& profile, VmFlags f)
{
    return f & profile.stickyFlags();
}

} // namespace

std::string refuseMergeAfter(const Vma& prev, const ProposedRange& p, const Profile& profile)
{
    if (prev.vm_end != p.start)
        return "prev does not end where the range starts";
    std::string why = refuseAttributes(prev, p, profile);
    if (why.empty())
        why = refuseAnonVma(prev, p);
    if (why.empty() && prev.vm_pgoff + prev.pages() != p.pgoff)
        why = "the page offsets are not contiguous (prev ends at pgoff " + hexAddr(prev.vm_pgoff + prev.pages())
            + ", the range starts at " + hexAddr(p.pgoff) + ")";
    return why;
}

std::string refuseMergeBefore(const Vma& next, const ProposedRange& p, const Profile& profile)
{
    if (next.vm_start != p.end)
        return "next does not start where the range ends";
    std::string why = refuseAttributes(next, p, profile);
    if (why.empty())
        why = refuseAnonVma(next, p);
    if (why.empty() && next.vm_pgoff != p.pgoff + p.pages())
        why = "the page offsets are not contiguous (the range ends at pgoff " + hexAddr(p.pgoff + p.pages())
            + ", next starts at " + hexAddr(next.vm_pgoff) + ")";
    return why;
}

bool anonVmasCompatible(const Vma& a, const Vma& b)
{
    return a.anon_vma == noAnonVma || b.anon_vma == noAnonVma || a.anon_vma == b.anon_vma;
}

Vma* mergeNewRange(OpContext& c, const ProposedRange& p, bool justExpand)
{
    const Vma* prevC = c.mm.lastBefore(p.start);
    if (prevC && prevC->vm_end > p.start)
        prevC = nullptr; // overlapping: not a neighbour (callers clear the range first)
    const Vma* nextC = c.mm.findVma(p.start);
    if (nextC && nextC->vm_start < p.end)
        nextC = nullptr;
    const std::string range = describeRange(p.start, p.end);
    if (p.flags & VM_SPECIAL) {
        c.trace.step("vma_merge_new_range", "no merge for " + range, "VM_SPECIAL mappings (IO, PFNMAP, MIXEDMAP, DONTEXPAND) never merge");
        return nullptr;
    }
    if (!prevC && !nextC) {
        c.trace.step("vma_merge_new_range", "no merge for " + range, "there is no VMA on either side");
        return nullptr;
    }
    const std::string whyNotLeft = prevC ? refuseMergeAfter(*prevC, p, c.profile()) : "there is no prev";
    const bool left = whyNotLeft.empty();
    std::string whyNotRight = justExpand ? "only the VMA before is expanded here" : nextC ? refuseMergeBefore(*nextC, p, c.profile()) : "there is no next";
    if (whyNotRight.empty() && left && !anonVmasCompatible(*prevC, *nextC))
        whyNotRight = "prev and next have different anon_vmas, so only prev can take the range";
    const bool right = whyNotRight.empty();

    if (!left && !right) {
        c.trace.step("vma_merge_new_range", "no merge for " + range,
                     "prev cannot take it: " + whyNotLeft + "; next cannot take it: " + whyNotRight);
        return nullptr;
    }
    VmFlags sticky = stickyOf(c.profile(), p.flags);
    if (left && right) {
        Vma& prev = c.mm.vmas.at(prevC->vm_start);
        const Vma next = *nextC;
        sticky |= stickyOf(c.profile(), next.vm_flags);
        prev.vm_end = next.vm_end;
        if (prev.anon_vma == noAnonVma && p.anon_vma != noAnonVma) {
            prev.anon_vma = p.anon_vma;
            prev.anonVmaChain = p.anonVmaChain;
        }
        dupAnonVma(prev, next);
        prev.vm_flags |= sticky;
        c.mm.erase(next.vm_start);
        auto& s = c.trace.step("vma_merge_new_range", describeVma(prev) + " absorbs " + range + " and #" + std::to_string(next.id),
                               "both neighbours are compatible with the range and with each other");
        s.changed = { prev.id };
        s.removed = { next.id };
        return &prev;
    }
    if (left) {
        Vma& prev = c.mm.vmas.at(prevC->vm_start);
        prev.vm_end = p.end;
        if (prev.anon_vma == noAnonVma && p.anon_vma != noAnonVma) {
            prev.anon_vma = p.anon_vma;
            prev.anonVmaChain = p.anonVmaChain;
        }
        prev.vm_flags |= sticky;
        auto& s = c.trace.step("vma_merge_new_range", "prev " + describeVma(prev) + " grows over " + range,
                               "prev continues the range; next cannot take it: " + whyNotRight);
        s.changed = { prev.id };
        return &prev;
    }
    const Addr nextStart = nextC->vm_start;
    Vma& next = c.mm.vmas.at(nextStart);
    next.vm_start = p.start;
    next.vm_pgoff = p.pgoff;
    if (next.anon_vma == noAnonVma && p.anon_vma != noAnonVma) {
        next.anon_vma = p.anon_vma;
        next.anonVmaChain = p.anonVmaChain;
    }
    next.vm_flags |= sticky;
    Vma& moved = c.mm.rekey(nextStart);
    auto& s = c.trace.step("vma_merge_new_range", "next " + describeVma(moved) + " grows down over " + range,
                           "next continues the range; prev cannot take it: " + whyNotLeft);
    s.changed = { moved.id };
    return &moved;
}

int splitVma(OpContext& c, Addr vmaStart, Addr at, bool newBelow, bool checkMapCount)
{
    Vma& orig = c.mm.vmas.at(vmaStart);
    VMALAB_ASSERT(orig.vm_start < at && at < orig.vm_end, "split outside the VMA");
    const char* fn = checkMapCount ? "split_vma" : "__split_vma";
    if (checkMapCount && c.mm.mapCount() >= c.profile().machine.maxMapCount) {
        c.trace.step(fn, "cannot split " + describeVma(orig) + " at " + hexAddr(at),
                     "the process already has vm.max_map_count (" + std::to_string(c.profile().machine.maxMapCount)
                         + ") VMAs: -ENOMEM");
        return -ENOMEM;
    }
    Vma part = orig; // vm_area_dup(): every flag, the file, anon_vma, uffd context and name
    part.id = c.world.newVmaId();
    if (newBelow) {
        part.vm_end = at;
        orig.vm_pgoff += (at - orig.vm_start) >> pageShift;
        orig.vm_start = at;
        const Vma& kept = c.mm.rekey(vmaStart);
        c.mm.insert(part);
        auto& s = c.trace.step(fn, "split " + describeVma(kept) + " at " + hexAddr(at) + ": new #" + std::to_string(part.id) + " takes the part below");
        s.created = { part.id };
        s.changed = { kept.id };
    } else {
        part.vm_start = at;
        part.vm_pgoff = orig.vm_pgoff + ((at - orig.vm_start) >> pageShift);
        orig.vm_end = at;
        c.mm.insert(part);
        auto& s = c.trace.step(fn, "split " + describeVma(orig) + " at " + hexAddr(at) + ": new #" + std::to_string(part.id) + " takes the part above");
        s.created = { part.id };
        s.changed = { orig.id };
    }
    return 0;
}

ModifyResult vmaModify(OpContext& c, Addr middleStart, Addr start, Addr end, VmFlags newFlags, UffdCtxId uffdCtx,
                       const std::string& anonName)
{
    const Vma middle = c.mm.vmas.at(middleStart);
    const Vma* prevC = c.mm.prevOf(middle);
    const Vma* nextC = c.mm.nextOf(middle);
    ProposedRange p;
    p.start = start;
    p.end = end;
    p.flags = newFlags;
    p.file = middle.vm_file;
    p.pgoff = middle.pgoffAt(start);
    p.anon_vma = middle.anon_vma;
    p.anonVmaChain = middle.anonVmaChain;
    p.uffd_ctx = uffdCtx;
    p.anon_name = anonName;
    p.middle = &middle;

    const bool leftSide = start == middle.vm_start;
    const bool rightSide = end == middle.vm_end;
    const std::string range = describeRange(start, end);
    std::string whyNotLeft = !leftSide ? "the range does not start at the VMA's start"
        : !prevC                       ? "there is no prev"
                                       : refuseMergeAfter(*prevC, p, c.profile());
    std::string whyNotRight = !rightSide ? "the range does not end at the VMA's end"
        : !nextC                         ? "there is no next"
                                         : refuseMergeBefore(*nextC, p, c.profile());
    if ((newFlags | middle.vm_flags) & VM_SPECIAL)
        whyNotLeft = whyNotRight = "VM_SPECIAL mappings never merge";
    if (whyNotLeft.empty() && whyNotRight.empty() && !anonVmasCompatible(*prevC, *nextC))
        whyNotRight = "prev and next have different anon_vmas, so only prev can take the range";
    const bool mergeLeft = whyNotLeft.empty();
    const bool mergeRight = whyNotRight.empty();
    const VmFlags sticky = stickyOf(c.profile(), newFlags | middle.vm_flags);
    const char* fn = "vma_merge_existing_range";

    if (mergeLeft && mergeRight) {
        //   |<--------------------->|
        //   |-------*********-------|
        //     prev   middle   next
        //    extend  delete  delete
        const Vma next = *nextC;
        Vma& prev = c.mm.vmas.at(prevC->vm_start);
        prev.vm_end = next.vm_end;
        dupAnonVma(prev, next.anon_vma != noAnonVma ? next : middle);
        prev.vm_flags |= sticky | stickyOf(c.profile(), next.vm_flags);
        c.mm.erase(next.vm_start);
        c.mm.erase(middle.vm_start);
        auto& s = c.trace.step(fn, "prev " + describeVma(prev) + " absorbs #" + std::to_string(middle.id) + " and #" + std::to_string(next.id),
                               "with its new attributes " + range + " matches both neighbours");
        s.changed = { prev.id };
        s.removed = { middle.id, next.id };
        return { 0, prev.vm_start };
    }
    if (mergeLeft) {
        Vma& prev = c.mm.vmas.at(prevC->vm_start);
        prev.vm_end = end;
        dupAnonVma(prev, middle);
        prev.vm_flags |= sticky;
        const VmaId prevId = prev.id;
        std::string what;
        std::vector<VmaId> changed { prevId }, removed;
        if (rightSide) {
            c.mm.erase(middle.vm_start);
            what = "prev " + describeVma(c.mm.vmas.at(prevC->vm_start)) + " absorbs all of #" + std::to_string(middle.id);
            removed.push_back(middle.id);
        } else {
            Vma& mid = c.mm.vmas.at(middle.vm_start);
            mid.vm_pgoff = mid.pgoffAt(end);
            mid.vm_start = end;
            const Vma& shrunk = c.mm.rekey(middle.vm_start);
            what = "prev " + describeVma(c.mm.vmas.at(prevC->vm_start)) + " grows over " + range + "; " + describeVma(shrunk)
                + " shrinks";
            changed.push_back(shrunk.id);
        }
        auto& s = c.trace.step(fn, what, "with its new attributes " + range + " continues prev; next cannot take it: " + whyNotRight);
        s.changed = changed;
        s.removed = removed;
        return { 0, prevC->vm_start };
    }
    if (mergeRight) {
        const Addr nextStart = nextC->vm_start;
        Vma& next = c.mm.vmas.at(nextStart);
        next.vm_start = start;
        next.vm_pgoff = p.pgoff;
        dupAnonVma(next, middle);
        next.vm_flags |= sticky;
        const std::string why = "with its new attributes " + range + " continues next; prev cannot take it: " + whyNotLeft;
        if (leftSide) {
            c.mm.erase(middle.vm_start);
            const Vma& grown = c.mm.rekey(nextStart);
            auto& s = c.trace.step(fn, "next " + describeVma(grown) + " absorbs all of #" + std::to_string(middle.id), why);
            s.changed = { grown.id };
            s.removed = { middle.id };
            return { 0, grown.vm_start };
        }
        c.mm.vmas.at(middle.vm_start).vm_end = start;
        const Vma& grown = c.mm.rekey(nextStart);
        const VmaId grownId = grown.id;
        auto& s = c.trace.step(fn, "next " + describeVma(grown) + " grows down over " + range + "; #" + std::to_string(middle.id) + " shrinks", why);
        s.changed = { grownId, middle.id };
        return { 0, start };
    }

    c.trace.step(fn, "no merge for " + range, "prev cannot take it: " + whyNotLeft + "; next cannot take it: " + whyNotRight);
    if (middle.vm_start < start) {
        if (int err = splitVma(c, middle.vm_start, start, true, true))
            return { err, 0 };
    }
    if (end < middle.vm_end) {
        if (int err = splitVma(c, start, end, false, true))
            return { err, 0 };
    }
    Vma& slice = c.mm.vmas.at(start);
    slice.vm_flags = newFlags | sticky;
    slice.uffd_ctx = uffdCtx;
    slice.anon_name = anonName;
    auto& s = c.trace.step("vma_modify", describeVma(slice) + " takes its new attributes in place");
    s.changed = { slice.id };
    return { 0, start };
}

void anonVmaPrepare(OpContext& c, Vma& v)
{
    if (v.anon_vma != noAnonVma)
        return;
    // anon_vma_compatible(): adjacent, same file, flags equal but for access bits (and the
    // merge-ignored ones), pgoff contiguous; and the neighbour's anon_vma must be its own.
    const VmFlags ignore = VM_ACCESS_FLAGS | c.profile().mergeIgnoredFlags();
    auto compatible = [&](const Vma& a, const Vma& b) {
        return a.vm_end == b.vm_start && a.vm_file == b.vm_file && !((a.vm_flags ^ b.vm_flags) & ~ignore)
            && b.vm_pgoff == a.vm_pgoff + a.pages();
    };
    auto reusable = [](const Vma& n) { return n.anon_vma != noAnonVma && n.anonVmaChain == 1; };
    const Vma* next = c.mm.nextOf(v);
    const Vma* prev = c.mm.prevOf(v);
    if (next && compatible(v, *next) && reusable(*next)) {
        v.anon_vma = next->anon_vma;
        v.anonVmaChain = 1;
        auto& s = c.trace.step("anon_vma_prepare", describeVma(v) + " reuses anon_vma #" + std::to_string(v.anon_vma) + " of next",
                               "find_mergeable_anon_vma(): next is adjacent and differs at most in protection");
        s.changed = { v.id };
        return;
    }
    if (prev && compatible(*prev, v) && reusable(*prev)) {
        v.anon_vma = prev->anon_vma;
        v.anonVmaChain = 1;
        auto& s = c.trace.step("anon_vma_prepare", describeVma(v) + " reuses anon_vma #" + std::to_string(v.anon_vma) + " of prev",
                               "find_mergeable_anon_vma(): prev is adjacent and differs at most in protection");
        s.changed = { v.id };
        return;
    }
    v.anon_vma = c.world.newAnonVma();
    v.anonVmaChain = 1;
    auto& s = c.trace.step("anon_vma_prepare", describeVma(v) + " gets a new anon_vma #" + std::to_string(v.anon_vma),
                           "no adjacent compatible VMA has an anon_vma of its own to share");
    s.changed = { v.id };
}

} // namespace vmalab
