#include "core/engine/vma_merge.h"

#include "core/assert.h"
#include "core/engine/file_pages.h"
#include "core/vm_flags.h"

#include <cerrno>
#include <cstdio>
#include <utility>

namespace vmalab {

void appendRange(std::string& out, Addr start, Addr end)
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "[0x%llx-0x%llx)", static_cast<unsigned long long>(start),
                  static_cast<unsigned long long>(end));
    out += buf;
}

void VmaText::append(std::string& out) const
{
    out += '#';
    out += std::to_string(id);
    out += ' ';
    appendRange(out, start, end);
    out += ' ';
    out += mapsPerms(flags);
}

std::string describeRange(Addr start, Addr end)
{
    std::string out;
    appendRange(out, start, end);
    return out;
}

std::string describeVma(const Vma& v)
{
    std::string out;
    VmaText::of(v).append(out);
    return out;
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
MergeRefusal refuseAttributes(const Vma& neighbour, const ProposedRange& p, const Profile& profile)
{
    const VmFlags differ = (neighbour.vm_flags ^ p.flags) & ~profile.mergeIgnoredFlags();
    if (differ)
        return { MergeRefusal::FlagsDiffer, nullptr, differ, 0 };
    if (neighbour.vm_file != p.file)
        return MergeRefusal::because("they map different files");
    if (neighbour.uffd_ctx != p.uffd_ctx)
        return MergeRefusal::because("they belong to different userfaultfd contexts");
    if (neighbour.anon_name != p.anon_name)
        return MergeRefusal::because("their anon names differ");
    return {};
}

// is_mergeable_anon_vma(): the range's anon_vma (with the VMA it comes from, if any)
// against the neighbour's.
MergeRefusal refuseAnonVma(const Vma& neighbour, const ProposedRange& p)
{
    const bool srcHasAnon = p.anon_vma != noAnonVma;
    const bool srcInherited = p.middle && p.middle->hadUncowedParents();
    if (neighbour.anon_vma == noAnonVma && srcHasAnon)
        return srcInherited
            ? MergeRefusal::because("the range's anon_vma was inherited through fork (vma_had_uncowed_parents())")
            : MergeRefusal {};
    if (neighbour.anon_vma != noAnonVma && !srcHasAnon)
        return neighbour.hadUncowedParents()
            ? MergeRefusal::because("the neighbour's anon_vma was inherited through fork (vma_had_uncowed_parents())")
            : MergeRefusal {};
    if (neighbour.anon_vma != p.anon_vma)
        return { MergeRefusal::AnonVmasDiffer, nullptr, neighbour.anon_vma, p.anon_vma };
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

void MergeRefusal::append(std::string& out) const
{
    switch (code) {
    case None:
        return;
    case Text:
        out += text;
        return;
    case FlagsDiffer:
        out += "their flags differ in " + flagNames(a);
        return;
    case AnonVmasDiffer:
        out += "they have different anon_vmas (#" + std::to_string(a) + " and #" + std::to_string(b) + ")";
        return;
    case PgoffAfter:
        out += "the page offsets are not contiguous (prev ends at pgoff " + hexAddr(a) + ", the range starts at "
            + hexAddr(b) + ")";
        return;
    case PgoffBefore:
        out += "the page offsets are not contiguous (the range ends at pgoff " + hexAddr(a) + ", next starts at "
            + hexAddr(b) + ")";
        return;
    }
}

std::string MergeRefusal::str() const
{
    std::string out;
    append(out);
    return out;
}

MergeRefusal mergeAfterRefusal(const Vma& prev, const ProposedRange& p, const Profile& profile)
{
    if (prev.vm_end != p.start)
        return MergeRefusal::because("prev does not end where the range starts");
    MergeRefusal why = refuseAttributes(prev, p, profile);
    if (why.ok())
        why = refuseAnonVma(prev, p);
    if (why.ok() && prev.vm_pgoff + prev.pages() != p.pgoff)
        why = { MergeRefusal::PgoffAfter, nullptr, prev.vm_pgoff + prev.pages(), p.pgoff };
    return why;
}

MergeRefusal mergeBeforeRefusal(const Vma& next, const ProposedRange& p, const Profile& profile)
{
    if (next.vm_start != p.end)
        return MergeRefusal::because("next does not start where the range ends");
    MergeRefusal why = refuseAttributes(next, p, profile);
    if (why.ok())
        why = refuseAnonVma(next, p);
    if (why.ok() && next.vm_pgoff != p.pgoff + p.pages())
        why = { MergeRefusal::PgoffBefore, nullptr, p.pgoff + p.pages(), next.vm_pgoff };
    return why;
}

std::string refuseMergeAfter(const Vma& prev, const ProposedRange& p, const Profile& profile)
{
    return mergeAfterRefusal(prev, p, profile).str();
}

std::string refuseMergeBefore(const Vma& next, const ProposedRange& p, const Profile& profile)
{
    return mergeBeforeRefusal(next, p, profile).str();
}

bool anonVmasCompatible(const Vma& a, const Vma& b)
{
    return a.anon_vma == noAnonVma || b.anon_vma == noAnonVma || a.anon_vma == b.anon_vma;
}

Vma* mergeNewRange(OpContext& c, const ProposedRange& p, bool justExpand)
{
    const Mm& mm = c.mm; // lookups through const: the mutable ones copy what they find
    const Vma* prevC = mm.lastBefore(p.start);
    if (prevC && prevC->vm_end > p.start)
        prevC = nullptr; // overlapping: not a neighbour (callers clear the range first)
    const Vma* nextC = mm.findVma(p.start);
    if (nextC && nextC->vm_start < p.end)
        nextC = nullptr;
    const Addr rs = p.start, re = p.end;
    auto noMerge = [&](MergeRefusal left, MergeRefusal right) {
        c.trace.deferredStep("vma_merge_new_range", [=](std::string& what, std::string& rule) {
            what += "no merge for ";
            appendRange(what, rs, re);
            if (right.ok()) {
                left.append(rule);
                return;
            }
            rule += "prev cannot take it: ";
            left.append(rule);
            rule += "; next cannot take it: ";
            right.append(rule);
        });
    };
    if (p.flags & VM_SPECIAL) {
        noMerge(MergeRefusal::because("VM_SPECIAL mappings (IO, PFNMAP, MIXEDMAP, DONTEXPAND) never merge"), {});
        return nullptr;
    }
    if (!prevC && !nextC) {
        noMerge(MergeRefusal::because("there is no VMA on either side"), {});
        return nullptr;
    }
    const MergeRefusal whyNotLeft
        = prevC ? mergeAfterRefusal(*prevC, p, c.profile()) : MergeRefusal::because("there is no prev");
    const bool left = whyNotLeft.ok();
    MergeRefusal whyNotRight = justExpand ? MergeRefusal::because("only the VMA before is expanded here")
        : nextC                           ? mergeBeforeRefusal(*nextC, p, c.profile())
                                          : MergeRefusal::because("there is no next");
    if (whyNotRight.ok() && left && !anonVmasCompatible(*prevC, *nextC))
        whyNotRight = MergeRefusal::because("prev and next have different anon_vmas, so only prev can take the range");
    const bool right = whyNotRight.ok();

    if (!left && !right) {
        noMerge(whyNotLeft, whyNotRight);
        return nullptr;
    }
    VmFlags sticky = stickyOf(c.profile(), p.flags);
    if (left && right) {
        const Vma next = *nextC;
        Vma& prev = c.mm.vmas.at(prevC->vm_start);
        sticky |= stickyOf(c.profile(), next.vm_flags);
        prev.vm_end = next.vm_end;
        if (prev.anon_vma == noAnonVma && p.anon_vma != noAnonVma) {
            prev.anon_vma = p.anon_vma;
            prev.anonVmaChain = p.anonVmaChain;
        }
        dupAnonVma(prev, next);
        prev.vm_flags |= sticky;
        c.mm.erase(next.vm_start);
        const VmaText pt = VmaText::of(prev);
        const VmaId nextId = next.id;
        auto& s = c.trace.deferredStep("vma_merge_new_range", [=](std::string& what, std::string& rule) {
            pt.append(what);
            what += " absorbs ";
            appendRange(what, rs, re);
            what += " and #" + std::to_string(nextId);
            rule += "both neighbours are compatible with the range and with each other";
        });
        s.changed = { pt.id };
        s.removed = { nextId };
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
        const VmaText pt = VmaText::of(prev);
        auto& s = c.trace.deferredStep("vma_merge_new_range", [=](std::string& what, std::string& rule) {
            what += "prev ";
            pt.append(what);
            what += " grows over ";
            appendRange(what, rs, re);
            rule += "prev continues the range; next cannot take it: ";
            whyNotRight.append(rule);
        });
        s.changed = { pt.id };
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
    const VmaText mt = VmaText::of(moved);
    auto& s = c.trace.deferredStep("vma_merge_new_range", [=](std::string& what, std::string& rule) {
        what += "next ";
        mt.append(what);
        what += " grows down over ";
        appendRange(what, rs, re);
        rule += "next continues the range; prev cannot take it: ";
        whyNotLeft.append(rule);
    });
    s.changed = { mt.id };
    return &moved;
}

int splitVma(OpContext& c, Addr vmaStart, Addr at, bool newBelow, bool checkMapCount)
{
    VmaCursor cur = c.mm.vmas.floor(vmaStart);
    VMALAB_ASSERT(cur && c.mm.vmas.key(cur) == vmaStart, "split of a VMA not in the index");
    return splitVma(c, cur, at, newBelow, checkMapCount);
}

int splitVma(OpContext& c, VmaCursor& cur, Addr at, bool newBelow, bool checkMapCount)
{
    auto& vmas = c.mm.vmas;
    Vma& orig = vmas.valueForWrite(cur);
    VMALAB_ASSERT(orig.vm_start < at && at < orig.vm_end, "split outside the VMA");
    const char* fn = checkMapCount ? "split_vma" : "__split_vma";
    if (checkMapCount && c.mm.mapCount() >= c.profile().machine.maxMapCount) {
        c.trace.step(fn, "cannot split " + describeVma(orig) + " at " + hexAddr(at),
                     "the process already has vm.max_map_count (" + std::to_string(c.profile().machine.maxMapCount)
                         + ") VMAs: -ENOMEM");
        return -ENOMEM;
    }
    splitFilePmdAt(c, at); // vma_adjust_trans_huge()
    Vma part = orig; // vm_area_dup(): every flag, the file, anon_vma, uffd context and name
    part.id = c.world.newVmaId();
    const VmaId partId = part.id;
    VmaText kept;
    if (newBelow) {
        part.vm_end = at;
        orig.vm_pgoff += (at - orig.vm_start) >> pageShift;
        orig.vm_start = at;
        kept = VmaText::of(vmas.rekey(cur, at));
    } else {
        part.vm_start = at;
        part.vm_pgoff = orig.vm_pgoff + ((at - orig.vm_start) >> pageShift);
        orig.vm_end = at;
        kept = VmaText::of(orig);
    }
    VMALAB_ASSERT(part.vm_start < part.vm_end, "empty VMA");
    const Addr partStart = part.vm_start;
    vmas.insertBeside(cur, newBelow, partStart, std::move(part)); // the cursor stays on orig
    auto& s = c.trace.deferredStep(fn, [=](std::string& what, std::string&) {
        what += "split ";
        kept.append(what);
        what += " at " + hexAddr(at) + ": new #" + std::to_string(partId)
            + (newBelow ? " takes the part below" : " takes the part above");
    });
    s.created = { partId };
    s.changed = { kept.id };
    return 0;
}

namespace {

// What vmaModify() decided, for its trace step.
struct ModifyText
{
    Addr start = 0;
    Addr end = 0;
    MergeRefusal whyNotLeft;
    MergeRefusal whyNotRight;

    void range(std::string& out) const { appendRange(out, start, end); }
};

} // namespace

ModifyResult vmaModify(OpContext& c, Addr middleStart, Addr start, Addr end, VmFlags newFlags, UffdCtxId uffdCtx,
                       const std::string& anonName)
{
    VmaCursor cur = c.mm.vmas.floor(middleStart);
    VMALAB_ASSERT(cur && c.mm.vmas.key(cur) == middleStart, "vma_modify() of a VMA not in the index");
    return vmaModify(c, cur, start, end, newFlags, uffdCtx, anonName);
}

ModifyResult vmaModify(OpContext& c, VmaCursor& cur, Addr start, Addr end, VmFlags newFlags, UffdCtxId uffdCtx,
                       const std::string& anonName)
{
    auto& vmas = c.mm.vmas;
    const auto& index = std::as_const(vmas); // looks through const: the mutable ones copy what they find
    const Vma& middle = index.value(cur); // valid until the first change below
    const Vma* prevC = index.peekPrev(cur);
    const Vma* nextC = index.peekNext(cur);
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
    ModifyText t { start, end, {}, {} };
    t.whyNotLeft = !leftSide ? MergeRefusal::because("the range does not start at the VMA's start")
        : !prevC             ? MergeRefusal::because("there is no prev")
                             : mergeAfterRefusal(*prevC, p, c.profile());
    t.whyNotRight = !rightSide ? MergeRefusal::because("the range does not end at the VMA's end")
        : !nextC               ? MergeRefusal::because("there is no next")
                               : mergeBeforeRefusal(*nextC, p, c.profile());
    if ((newFlags | middle.vm_flags) & VM_SPECIAL)
        t.whyNotLeft = t.whyNotRight = MergeRefusal::because("VM_SPECIAL mappings never merge");
    if (t.whyNotLeft.ok() && t.whyNotRight.ok() && !anonVmasCompatible(*prevC, *nextC))
        t.whyNotRight = MergeRefusal::because("prev and next have different anon_vmas, so only prev can take the range");
    const bool mergeLeft = t.whyNotLeft.ok();
    const bool mergeRight = t.whyNotRight.ok();
    // vma_adjust_trans_huge(): a boundary that moves inside the VMA splits a file PMD there.
    if (mergeLeft && !rightSide)
        splitFilePmdAt(c, end);
    if (mergeRight && !leftSide)
        splitFilePmdAt(c, start);
    const VmFlags sticky = stickyOf(c.profile(), newFlags | middle.vm_flags);
    const char* fn = "vma_merge_existing_range";
    // What the changes below still need of the middle VMA once its box may be gone.
    const VmaId middleId = middle.id;
    const Addr middleStart = middle.vm_start, middleEnd = middle.vm_end;
    Vma middleAnon; // dupAnonVma()'s source: the anon_vma fields only
    middleAnon.anon_vma = middle.anon_vma;
    middleAnon.anonVmaChain = middle.anonVmaChain;

    if (mergeLeft && mergeRight) {
        //   |<--------------------->|
        //   |-------*********-------|
        //     prev   middle   next
        //    extend  delete  delete
        Vma nextAnon;
        nextAnon.anon_vma = nextC->anon_vma;
        nextAnon.anonVmaChain = nextC->anonVmaChain;
        const Addr nextEnd = nextC->vm_end;
        const VmFlags nextSticky = stickyOf(c.profile(), nextC->vm_flags);
        const VmaId nextId = nextC->id;
        index.next(cur);
        vmas.erase(cur); // next; the cursor moves back to middle
        vmas.erase(cur); // middle; the cursor moves back to prev
        Vma& prev = vmas.valueForWrite(cur);
        prev.vm_end = nextEnd;
        dupAnonVma(prev, nextAnon.anon_vma != noAnonVma ? nextAnon : middleAnon);
        prev.vm_flags |= sticky | nextSticky;
        const VmaText pt = VmaText::of(prev);
        auto& s = c.trace.deferredStep(fn, [=](std::string& what, std::string& rule) {
            what += "prev ";
            pt.append(what);
            what += " absorbs #" + std::to_string(middleId) + " and #" + std::to_string(nextId);
            rule += "with its new attributes ";
            t.range(rule);
            rule += " matches both neighbours";
        });
        s.changed = { pt.id };
        s.removed = { middleId, nextId };
        return { 0, pt.start, pt.end };
    }
    if (mergeLeft) {
        VmaText shrunk;
        if (rightSide) {
            vmas.erase(cur); // the cursor moves back to prev
        } else {
            Vma& mid = vmas.valueForWrite(cur);
            mid.vm_pgoff = mid.pgoffAt(end);
            mid.vm_start = end;
            shrunk = VmaText::of(vmas.rekey(cur, end));
            index.prev(cur);
        }
        Vma& prev = vmas.valueForWrite(cur);
        prev.vm_end = end;
        dupAnonVma(prev, middleAnon);
        prev.vm_flags |= sticky;
        const VmaText pt = VmaText::of(prev);
        auto& s = c.trace.deferredStep(fn, [=](std::string& what, std::string& rule) {
            what += "prev ";
            pt.append(what);
            if (rightSide) {
                what += " absorbs all of #" + std::to_string(middleId);
            } else {
                what += " grows over ";
                t.range(what);
                what += "; ";
                shrunk.append(what);
                what += " shrinks";
            }
            rule += "with its new attributes ";
            t.range(rule);
            rule += " continues prev; next cannot take it: ";
            t.whyNotRight.append(rule);
        });
        s.changed = { pt.id };
        if (rightSide)
            s.removed = { middleId };
        else
            s.changed.push_back(shrunk.id);
        return { 0, pt.start, pt.end };
    }
    if (mergeRight) {
        if (leftSide) {
            vmas.erase(cur); // middle first: next takes its key
            if (!cur)
                cur = index.first();
            else
                index.next(cur);
        } else {
            vmas.valueForWrite(cur).vm_end = start;
            index.next(cur);
        }
        Vma& next = vmas.rekey(cur, start);
        next.vm_start = start;
        next.vm_pgoff = p.pgoff;
        dupAnonVma(next, middleAnon);
        next.vm_flags |= sticky;
        const VmaText gt = VmaText::of(next);
        auto& s = c.trace.deferredStep(fn, [=](std::string& what, std::string& rule) {
            what += "next ";
            gt.append(what);
            if (leftSide) {
                what += " absorbs all of #" + std::to_string(middleId);
            } else {
                what += " grows down over ";
                t.range(what);
                what += "; #" + std::to_string(middleId) + " shrinks";
            }
            rule += "with its new attributes ";
            t.range(rule);
            rule += " continues next; prev cannot take it: ";
            t.whyNotLeft.append(rule);
        });
        if (leftSide) {
            s.changed = { gt.id };
            s.removed = { middleId };
        } else {
            s.changed = { gt.id, middleId };
        }
        return { 0, gt.start, gt.end };
    }

    c.trace.deferredStep(fn, [=](std::string& what, std::string& rule) {
        what += "no merge for ";
        t.range(what);
        rule += "prev cannot take it: ";
        t.whyNotLeft.append(rule);
        rule += "; next cannot take it: ";
        t.whyNotRight.append(rule);
    });
    // The cursor stays on the middle VMA through both splits: it keeps its identity as the slice.
    if (middleStart < start) {
        if (int err = splitVma(c, cur, start, true, true))
            return { err, 0, 0 };
    }
    if (end < middleEnd) {
        if (int err = splitVma(c, cur, end, false, true))
            return { err, 0, 0 };
    }
    Vma& slice = vmas.valueForWrite(cur);
    VMALAB_ASSERT(slice.vm_start == start && slice.vm_end == end, "vma_modify() lost the slice");
    slice.vm_flags = newFlags | sticky;
    slice.uffd_ctx = uffdCtx;
    slice.anon_name = anonName;
    const VmaText st = VmaText::of(slice);
    auto& s = c.trace.deferredStep("vma_modify", [=](std::string& what, std::string&) {
        st.append(what);
        what += " takes its new attributes in place";
    });
    s.changed = { st.id };
    return { 0, start, st.end };
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
    const Mm& mm = c.mm;
    const Vma* next = mm.nextOf(v);
    const Vma* prev = mm.prevOf(v);
    // Which anon_vma v gets: 0 reuses next's, 1 prev's, 2 a new one.
    int source = 2;
    if (next && compatible(v, *next) && reusable(*next)) {
        v.anon_vma = next->anon_vma;
        source = 0;
    } else if (prev && compatible(*prev, v) && reusable(*prev)) {
        v.anon_vma = prev->anon_vma;
        source = 1;
    } else {
        v.anon_vma = c.world.newAnonVma();
    }
    v.anonVmaChain = 1;
    const VmaText vt = VmaText::of(v);
    const AnonVmaId anon = v.anon_vma;
    auto& s = c.trace.deferredStep("anon_vma_prepare", [=](std::string& what, std::string& rule) {
        vt.append(what);
        if (source == 2) {
            what += " gets a new anon_vma #" + std::to_string(anon);
            rule += "no adjacent compatible VMA has an anon_vma of its own to share";
            return;
        }
        const char* side = source == 0 ? "next" : "prev";
        what += " reuses anon_vma #" + std::to_string(anon) + " of " + side;
        rule += std::string("find_mergeable_anon_vma(): ") + side
            + " is adjacent and differs at most in protection";
    });
    s.changed = { vt.id };
}

} // namespace vmalab
