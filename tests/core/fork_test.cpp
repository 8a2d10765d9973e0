// fork(): dup_mmap(), anon_vma_fork(), vma_needs_copy() per profile, copy_page_range() and
// copy-on-write faults afterwards (kernel-model.md §3.4, §11.3, §12, §17 P4/P5).
#include "core/engine/fork.h"
#include "core/engine/model_backend.h"
#include "core/engine/observe.h"

#include <gtest/gtest.h>

#include <csignal>

#include "tests/core/engine_fixture.h"

namespace vmalab::test {
namespace {

class ForkFixture : public EngineFixture
{
public:
    explicit ForkFixture(Profile profile = *builtinProfile("maybe-guard-fixed"))
        : EngineFixture(std::move(profile))
    {
    }

    std::int64_t fork()
    {
        last = OpTrace {};
        Tracer t(last);
        return doFork(world, 0, 1, t);
    }
    Mm& child() { return world.procs.at(1); }

    // Runs f in the child, as `in child { }` does.
    template <typename F>
    std::int64_t inChild(F&& f)
    {
        std::swap(world.procs[0], world.procs[1]);
        const std::int64_t r = f();
        std::swap(world.procs[0], world.procs[1]);
        return r;
    }
    std::int64_t madvise(std::uint64_t page, std::uint64_t pages, std::int64_t advice)
    {
        return op([&](OpContext& c) { return doMadvise(c, at(page), pages * pageSize, advice); });
    }
    std::int64_t mlock(std::uint64_t page, std::uint64_t pages)
    {
        return op([&](OpContext& c) { return doMlock(c, at(page), pages * pageSize, 0, false); });
    }
    bool traceHas(const std::string& fn, const std::string& text) const
    {
        for (const TraceStep& s : last.steps)
            if (s.kernelFn == fn && (s.what + " " + s.rule).find(text) != std::string::npos)
                return true;
        return false;
    }
};

TEST(Fork, DontcopyVmaLeavesAHoleInTheChild)
{
    ForkFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    ASSERT_EQ(f.madvise(2, 2, abi::MADV_DONTFORK), 0);
    EXPECT_GT(f.fork(), 0);
    EXPECT_TRUE(f.traceHas("dup_mmap", "VM_DONTCOPY"));
    EXPECT_EQ(f.picture(8), "AABBCCCC"); // parent: the dc piece splits it
    f.inChild([&] {
        EXPECT_EQ(f.picture(8), "AA  BBBB");
        EXPECT_EQ(f.pagePicture(8), "PP..PPPP");
        EXPECT_EQ(f.touch(2, 1, false), SIGSEGV);
        return 0;
    });
}

TEST(Fork, WipeOnForkVmaIsCopiedEmptyWithoutAnonVma)
{
    ForkFixture f;
    f.mmap(0, 4);
    f.touch(0, 4, true);
    ASSERT_EQ(f.madvise(0, 4, abi::MADV_WIPEONFORK), 0);
    f.fork();
    const Vma& c = *f.child().vmaAt(f.at(0));
    EXPECT_TRUE(c.vm_flags & VM_WIPEONFORK);
    EXPECT_EQ(c.anon_vma, noAnonVma);
    EXPECT_EQ(f.child().forkVmasPtCopied, 0u);
    EXPECT_EQ(f.pagePicture(4), "PPPP");
    f.inChild([&] {
        EXPECT_EQ(f.pagePicture(4), "....");
        return 0;
    });
}

TEST(Fork, ChildDoesNotInheritLockedFlags)
{
    ForkFixture f;
    f.mmap(0, 4);
    ASSERT_EQ(f.mlock(0, 2), 0);
    ASSERT_EQ(f.op([&](OpContext& c) { return doMlock(c, f.at(2), 2 * pageSize, 1, true); }), 0); // MLOCK_ONFAULT
    f.fork();
    EXPECT_TRUE(f.vmaAtPage(0).vm_flags & VM_LOCKED);
    EXPECT_TRUE(f.vmaAtPage(2).vm_flags & VM_LOCKONFAULT);
    EXPECT_EQ(f.child().vmaAt(f.at(0))->vm_flags & VM_LOCKED_MASK, 0u);
    EXPECT_EQ(f.child().vmaAt(f.at(2))->vm_flags & VM_LOCKED_MASK, 0u);
    EXPECT_TRUE(f.traceHas("vm_area_dup", "not inherited"));
}

TEST(Fork, NoMergeInTheChild)
{
    ForkFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    ASSERT_EQ(f.mlock(0, 4), 0);
    f.fork();
    f.inChild([&] {
        EXPECT_EQ(f.picture(8), "AAAABBBB");
        EXPECT_EQ(f.vmaAtPage(0).vm_flags, f.vmaAtPage(4).vm_flags);
        // Each child VMA got its own anon_vma, so even an mprotect round trip leaves them apart.
        EXPECT_NE(f.vmaAtPage(0).anon_vma, f.vmaAtPage(4).anon_vma);
        f.mprotect(0, 4, abi::PROT_READ);
        f.mprotect(0, 4, EngineFixture::rw);
        EXPECT_EQ(f.picture(8), "AAAABBBB");
        return 0;
    });
    EXPECT_NE(f.child().vmaAt(f.at(0))->id, f.vmaAtPage(0).id);
}

TEST(Fork, InheritedAnonVmaBlocksMergeWithFreshNeighbour)
{
    ForkFixture f;
    f.mmap(0, 4);
    f.touch(0, 4, true);
    f.fork();
    const Vma& inherited = *f.child().vmaAt(f.at(0));
    EXPECT_EQ(inherited.anonVmaChain, 2u);
    EXPECT_NE(inherited.anon_vma, f.vmaAtPage(0).anon_vma);
    EXPECT_TRUE(inherited.hadUncowedParents());
    f.inChild([&] {
        f.mmap(4, 4);
        EXPECT_EQ(f.picture(8), "AAAABBBB");
        return 0;
    });
    f.mmap(4, 4); // the parent's own anon_vma has a chain of one: it merges
    EXPECT_EQ(f.picture(8), "AAAAAAAA");
}

TEST(Fork, CowWriteInChildLeavesBothPresent)
{
    ForkFixture f;
    f.mmap(0, 4);
    f.touch(0, 4, true);
    f.fork();
    EXPECT_EQ(f.child().forkPtesCopied, 4u);
    EXPECT_TRUE(ptAt(f.mm(), f.at(1))->cowShared);
    EXPECT_TRUE(ptAt(f.child(), f.at(1))->cowShared);
    // Pss halves and pagemap's exclusive bit clears for shared pages.
    ObservedProcess before = observeProcess(f.world, 0);
    ASSERT_FALSE(before.pages.empty());
    for (const ObservedVma& v : before.vmas)
        if (v.start == f.at(0)) {
            EXPECT_EQ(v.smapsKb.at(3).second, 16u); // Rss
            EXPECT_EQ(v.smapsKb.at(4).second, 8u);  // Pss
        }
    f.inChild([&] {
        EXPECT_EQ(f.touch(1, 1, true), 0);
        EXPECT_TRUE(f.traceHas("wp_page_copy", "shared"));
        EXPECT_FALSE(ptAt(f.mm(), f.at(1))->cowShared);
        EXPECT_EQ(f.pagePicture(4), "PPPP");
        EXPECT_EQ(f.touch(2, 1, false), 0); // reads keep sharing
        EXPECT_TRUE(ptAt(f.mm(), f.at(2))->cowShared);
        return 0;
    });
    EXPECT_EQ(f.pagePicture(4), "PPPP");
    EXPECT_TRUE(ptAt(f.mm(), f.at(1))->cowShared);
    // The parent is the page's sole owner now: its write reuses the page.
    EXPECT_EQ(f.touch(1, 1, true), 0);
    EXPECT_TRUE(f.traceHas("do_wp_page", "reuses"));
    EXPECT_FALSE(ptAt(f.mm(), f.at(1))->cowShared);
    bool sawExclusive = false, sawShared = false;
    for (const PageRun& r : observeProcess(f.world, 0).pages)
        if (r.start >= f.at(0) && r.end <= f.at(4)) {
            sawExclusive = sawExclusive || (r.start == f.at(1) && r.exclusive);
            sawShared = sawShared || (r.start == f.at(2) && !r.exclusive);
        }
    EXPECT_TRUE(sawExclusive);
    EXPECT_TRUE(sawShared);
}

// P5: a shared memfd VMA with a guard and no anon_vma of its own is copied in every profile.
class ForkProfile : public ::testing::TestWithParam<const char*>
{
};

TEST_P(ForkProfile, SharedMemfdWithGuardIsCopied)
{
    ForkFixture f(*builtinProfile(GetParam()));
    const std::int64_t fd = f.memfd(4);
    f.mmap(0, 4, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd);
    f.touch(0, 4, true);
    ASSERT_EQ(f.madvise(1, 1, abi::MADV_GUARD_INSTALL), 0);
    f.fork();
    const std::string profile = GetParam();
    if (profile == "v6.18")
        EXPECT_TRUE(f.traceHas("vma_needs_copy", "anon_vma"));
    else if (profile == "maybe-guard")
        EXPECT_TRUE(f.traceHas("vma_needs_copy", "source"));
    else
        EXPECT_TRUE(f.traceHas("vma_needs_copy", "destination"));
    EXPECT_EQ(f.child().forkVmasPtCopied, 1u);
    EXPECT_EQ(f.child().forkPtesCopied, 4u);
    f.inChild([&] {
        EXPECT_EQ(f.pagePicture(4), "FGFF");
        EXPECT_EQ(f.touch(1, 1, false), SIGSEGV);
        return 0;
    });
}

TEST_P(ForkProfile, SharedMemfdWithoutAnonVmaIsNotCopied)
{
    ForkFixture f(*builtinProfile(GetParam()));
    const std::int64_t fd = f.memfd(4);
    f.mmap(0, 4, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd);
    f.touch(0, 4, true);
    f.fork();
    EXPECT_TRUE(f.traceHas("vma_needs_copy", "no anon_vma"));
    EXPECT_EQ(f.child().forkVmasPtCopied, 0u);
    EXPECT_EQ(f.child().forkPtesCopied, 0u);
    f.inChild([&] {
        EXPECT_EQ(f.pagePicture(4), "....");
        return 0;
    });
}

// P4: in the child, a new pgoff-contiguous shared mapping next to an inherited VMA that had
// guards merges only where guard install gave no anon_vma (the series).
TEST_P(ForkProfile, P4NewNeighbourOfInheritedGuardedVma)
{
    ForkFixture f(*builtinProfile(GetParam()));
    const std::int64_t fd = f.memfd(8);
    f.mmap(0, 4, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd);
    ASSERT_EQ(f.madvise(1, 1, abi::MADV_GUARD_INSTALL), 0);
    f.fork();
    f.inChild([&] {
        f.mmap(4, 4, EngineFixture::rw, abi::MAP_SHARED | abi::MAP_FIXED, fd, 4);
        EXPECT_EQ(f.picture(8), std::string(GetParam()) == "v6.18" ? "AAAABBBB" : "AAAAAAAA");
        return 0;
    });
}

INSTANTIATE_TEST_SUITE_P(Profiles, ForkProfile, ::testing::Values("v6.18", "maybe-guard", "maybe-guard-fixed"),
                         [](const ::testing::TestParamInfo<const char*>& i) {
                             std::string n = i.param;
                             for (char& ch : n)
                                 if (ch == '.' || ch == '-')
                                     ch = '_';
                             return n;
                         });

TEST(Fork, GrandchildChainGrowsAndFdsAreCopied)
{
    ForkFixture f;
    const std::int64_t fd = f.memfd(4);
    f.mmap(0, 4);
    f.touch(0, 4, true);
    f.fork();
    EXPECT_EQ(f.child().fds, f.mm().fds);
    EXPECT_TRUE(f.child().fds.count(static_cast<int>(fd)));
    Tracer t(f.last);
    doFork(f.world, 1, 2, t);
    EXPECT_EQ(f.world.procs.at(2).vmaAt(f.at(0))->anonVmaChain, 3u);
    EXPECT_NE(f.world.procs.at(2).pid, f.child().pid);
}

TEST(Fork, HistoryRunsForkAgain)
{
    ModelBackend backend(*builtinProfile("maybe-guard-fixed"));
    backend.keepHistory(true);
    ASSERT_FALSE(backend.start());
    const scenario::CallResult r = backend.fork(0, 1, {});
    ASSERT_FALSE(r.runtimeError);
    EXPECT_GT(r.value, 0);
    const History& h = *backend.history();
    ASSERT_EQ(h.opCount(), 1u);
    EXPECT_EQ(h.op(0).call, "fork()");
    EXPECT_EQ(h.afterStep(0, 0).procs.size(), 2u);
    EXPECT_EQ(h.afterOp(0).procs.at(1).mapCount(), backend.world().procs.at(0).mapCount());
}

} // namespace
} // namespace vmalab::test
