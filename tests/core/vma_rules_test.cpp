// The behaviours the kernel's userland VMA tests (tools/testing/vma) check, in our own
// words: VMAs are placed directly in the index, as those tests do, and the merge
// functions are called on them.
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

constexpr VmFlags kAnonRw = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

// Places a VMA of pages [from, to) with the given flags; pgoff follows the address.
Vma& place(EngineFixture& f, std::uint64_t from, std::uint64_t to, VmFlags flags = kAnonRw, AnonVmaId anon = noAnonVma)
{
    Vma v;
    v.id = f.world.newVmaId();
    v.vm_start = EngineFixture::at(from);
    v.vm_end = EngineFixture::at(to);
    v.vm_pgoff = v.vm_start >> pageShift;
    v.vm_flags = flags;
    v.anon_vma = anon;
    v.anonVmaChain = anon ? 1 : 0;
    return f.mm().insert(v);
}

Vma* mergeNew(EngineFixture& f, std::uint64_t from, std::uint64_t to, VmFlags flags = kAnonRw)
{
    ProposedRange p;
    p.start = EngineFixture::at(from);
    p.end = EngineFixture::at(to);
    p.flags = flags;
    p.pgoff = p.start >> pageShift;
    Vma* out = nullptr;
    f.op([&](OpContext& c) {
        out = mergeNewRange(c, p);
        return 0;
    });
    return out;
}

ModifyResult modify(EngineFixture& f, std::uint64_t vmaPage, std::uint64_t from, std::uint64_t to, VmFlags flags)
{
    ModifyResult r;
    f.op([&](OpContext& c) {
        r = vmaModify(c, f.vmaAtPage(vmaPage).vm_start, EngineFixture::at(from), EngineFixture::at(to), flags, noUffdCtx, "");
        return 0;
    });
    return r;
}

TEST(VmaRules, SimpleMergeJoinsPrevRangeAndNext)
{
    EngineFixture f;
    const VmaId prev = place(f, 0, 1).id;
    place(f, 2, 3);
    Vma* merged = mergeNew(f, 1, 2);
    ASSERT_NE(merged, nullptr);
    EXPECT_EQ(merged->id, prev);
    EXPECT_EQ(merged->vm_start, EngineFixture::at(0));
    EXPECT_EQ(merged->vm_end, EngineFixture::at(3));
    EXPECT_EQ(merged->vm_pgoff, EngineFixture::at(0) >> pageShift);
    EXPECT_EQ(f.mm().mapCount(), 1u);
}

TEST(VmaRules, SimpleModifySplitsAndKeepsOffsets)
{
    EngineFixture f;
    place(f, 0, 3);
    const ModifyResult r = modify(f, 0, 1, 2, VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC);
    ASSERT_EQ(r.err, 0);
    EXPECT_EQ(f.picture(3), "ABC");
    for (std::uint64_t p = 0; p < 3; ++p)
        EXPECT_EQ(f.vmaAtPage(p).vm_pgoff, EngineFixture::at(p) >> pageShift);
}

// Every combination of a prev and a next around a new range, compatible or not.
TEST(VmaRules, MergeNewEveryNeighbourCombination)
{
    const VmFlags other = kAnonRw | VM_DONTDUMP;
    for (int prevKind = 0; prevKind < 3; ++prevKind) {     // none, same flags, other flags
        for (int nextKind = 0; nextKind < 3; ++nextKind) {
            EngineFixture f;
            if (prevKind)
                place(f, 0, 2, prevKind == 1 ? kAnonRw : other);
            if (nextKind)
                place(f, 3, 5, nextKind == 1 ? kAnonRw : other);
            Vma* merged = mergeNew(f, 2, 3);
            const bool expectMerge = prevKind == 1 || nextKind == 1;
            EXPECT_EQ(merged != nullptr, expectMerge) << prevKind << nextKind;
            const std::size_t vmas = (prevKind ? 1 : 0) + (nextKind ? 1 : 0);
            const std::size_t joined = (prevKind == 1 && nextKind == 1) ? 1 : 0;
            EXPECT_EQ(f.mm().mapCount(), vmas - joined) << prevKind << nextKind;
        }
    }
}

TEST(VmaRules, SpecialFlagsNeverMerge)
{
    for (VmFlags special : { VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP }) {
        EngineFixture f;
        place(f, 0, 2, kAnonRw | special);
        EXPECT_EQ(mergeNew(f, 2, 3, kAnonRw | special), nullptr) << vmFlagName(__builtin_ctzll(special));
        place(f, 3, 5, kAnonRw | special);
        place(f, 5, 7, (kAnonRw | special) & ~VM_WRITE);
        modify(f, 5, 5, 7, kAnonRw | special);
        EXPECT_EQ(f.mm().mapCount(), 3u) << "no existing-range merge either";
    }
}

TEST(VmaRules, MergeExistingCasesKeepPgoffAndAnonVma)
{
    const VmFlags ro = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    // right partial: middle shrinks, next grows down with its pgoff moved back
    {
        EngineFixture f;
        place(f, 0, 4, ro);
        const VmaId next = place(f, 4, 6, kAnonRw, 7).id;
        modify(f, 0, 2, 4, kAnonRw);
        EXPECT_EQ(f.picture(6), "AABBBB");
        EXPECT_EQ(f.vmaAtPage(2).id, next);
        EXPECT_EQ(f.vmaAtPage(2).vm_pgoff, EngineFixture::at(2) >> pageShift);
        EXPECT_EQ(f.vmaAtPage(2).anon_vma, 7u);
    }
    // left partial: prev grows, middle's start and pgoff move up; prev takes middle's anon_vma
    {
        EngineFixture f;
        const VmaId prev = place(f, 0, 2, kAnonRw).id;
        place(f, 2, 6, ro, 9);
        modify(f, 2, 2, 4, kAnonRw);
        EXPECT_EQ(f.picture(6), "AAAABB");
        EXPECT_EQ(f.vmaAtPage(3).id, prev);
        EXPECT_EQ(f.vmaAtPage(3).anon_vma, 9u) << "dup_anon_vma(): the target imports the range's anon_vma";
        EXPECT_EQ(f.vmaAtPage(4).vm_pgoff, EngineFixture::at(4) >> pageShift);
    }
    // both: prev takes next's anon_vma when it has none
    {
        EngineFixture f;
        place(f, 0, 2, kAnonRw);
        place(f, 2, 4, ro);
        place(f, 4, 6, kAnonRw, 5);
        modify(f, 2, 2, 4, kAnonRw);
        EXPECT_EQ(f.picture(6), "AAAAAA");
        EXPECT_EQ(f.vmaAtPage(0).anon_vma, 5u);
    }
}

TEST(VmaRules, DistinctAnonVmasMergeWithPrevOnly)
{
    const VmFlags ro = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    EngineFixture f;
    place(f, 0, 2, kAnonRw, 1);
    place(f, 2, 4, ro);
    place(f, 4, 6, kAnonRw, 2);
    modify(f, 2, 2, 4, kAnonRw);
    EXPECT_EQ(f.picture(6), "AAAABB");

    EngineFixture g;
    place(g, 0, 2, kAnonRw, 1);
    place(g, 3, 5, kAnonRw, 2);
    mergeNew(g, 2, 3);
    EXPECT_EQ(g.picture(5), "AAABB");
}

TEST(VmaRules, InheritedAnonVmaBlocksMerging)
{
    EngineFixture f;
    Vma& prev = place(f, 0, 2, kAnonRw, 1);
    prev.anonVmaChain = 2; // inherited through fork: vma_had_uncowed_parents()
    EXPECT_EQ(mergeNew(f, 2, 3), nullptr);
}

// The sticky-flag series: VM_MAYBE_GUARD is ignored when deciding and kept in the result.
TEST(VmaRules, StickyGuardFlagPerProfile)
{
    for (int mask = 0; mask < 8; ++mask) {
        const bool prevGu = mask & 1, middleGu = mask & 2, nextGu = mask & 4;
        const VmFlags ro = VM_READ | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        for (const char* profile : { "maybe-guard", "v6.18" }) {
            EngineFixture f(*builtinProfile(profile));
            place(f, 0, 2, kAnonRw | (prevGu ? VM_MAYBE_GUARD : 0));
            place(f, 2, 4, ro | (middleGu ? VM_MAYBE_GUARD : 0));
            place(f, 4, 6, kAnonRw | (nextGu ? VM_MAYBE_GUARD : 0));
            modify(f, 2, 2, 4, kAnonRw | (middleGu ? VM_MAYBE_GUARD : 0));
            if (std::string(profile) == "maybe-guard") {
                EXPECT_EQ(f.picture(6), "AAAAAA") << "mask " << mask;
                EXPECT_EQ(bool(f.vmaAtPage(0).vm_flags & VM_MAYBE_GUARD), mask != 0) << "mask " << mask;
            } else if (mask == 0 || mask == 7) {
                EXPECT_EQ(f.picture(6), "AAAAAA") << "mask " << mask;
            } else {
                EXPECT_NE(f.picture(6), "AAAAAA") << "without the series the flag takes part: mask " << mask;
            }
        }
    }
}

} // namespace
} // namespace vmalab::test
