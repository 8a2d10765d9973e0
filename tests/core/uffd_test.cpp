// userfaultfd: registration as a VMA modification, write-protection of PTEs (bits and markers),
// userfaults, release, fork (dup_userfaultfd() and vma_needs_copy() per profile) and mremap
// (kernel-model.md §12, §13, §17 P6/P7).
#include "core/engine/fork.h"
#include "core/engine/uffd.h"

#include <gtest/gtest.h>

#include <csignal>

#include "tests/core/engine_fixture.h"

namespace vmalab::test {
namespace {

using namespace abi;

Addr at(std::uint64_t page)
{
    return EngineFixture::at(page);
}

class UffdFixture : public EngineFixture
{
public:
    explicit UffdFixture(Profile profile = *builtinProfile("maybe-guard-fixed"))
        : EngineFixture(std::move(profile))
    {
    }

    std::int64_t uffd(std::uint64_t features = UFFD_FEATURE_SIGBUS)
    {
        const std::int64_t fd = op([&](OpContext& c) { return doUserfaultfd(c, O_CLOEXEC); });
        EXPECT_EQ(op([&](OpContext& c) { return doUffdioApi(c, fd, features); }), 0);
        return fd;
    }
    std::int64_t reg(std::int64_t fd, std::uint64_t page, std::uint64_t pages, std::uint64_t mode)
    {
        return op([&](OpContext& c) { return doUffdioRegister(c, fd, at(page), pages * pageSize, mode); });
    }
    std::int64_t unreg(std::int64_t fd, std::uint64_t page, std::uint64_t pages)
    {
        return op([&](OpContext& c) { return doUffdioUnregister(c, fd, at(page), pages * pageSize); });
    }
    std::int64_t wp(std::int64_t fd, std::uint64_t page, std::uint64_t pages, bool protect = true)
    {
        return op([&](OpContext& c) { return doUffdioWriteprotect(c, fd, at(page), pages * pageSize, protect); });
    }
    std::int64_t close(std::int64_t fd)
    {
        return op([&](OpContext& c) { return doClose(c, fd); });
    }
    std::int64_t fork()
    {
        last = OpTrace {};
        Tracer t(last);
        return doFork(world, 0, 1, t);
    }
    // Runs f with the child as the calling process, as `in child { }` does.
    template <typename F>
    std::int64_t inChild(F&& f)
    {
        last = OpTrace {};
        Tracer t(last);
        OpContext c { world, world.procs.at(1), t };
        return f(c);
    }
    const Pte* pte(std::size_t proc, std::uint64_t page) const { return ptAt(world.procs.at(proc), at(page)); }
    bool marker(std::size_t proc, std::uint64_t page) const
    {
        const Pte* p = pte(proc, page);
        return p && p->kind == Pte::Kind::Marker && p->state == PageState::Swap && p->uffdWp;
    }
    bool protectedPage(std::size_t proc, std::uint64_t page) const
    {
        const Pte* p = pte(proc, page);
        return p && p->state == PageState::Present && p->uffdWp;
    }
    VmFlags flagsAt(std::size_t proc, std::uint64_t page) const { return world.procs.at(proc).vmaAt(at(page))->vm_flags; }
};

TEST(Uffd, IoctlsBeforeTheApiHandshakeAreRefused)
{
    UffdFixture f;
    f.mmap(0, 8);
    const std::int64_t fd = f.op([&](OpContext& c) { return doUserfaultfd(c, 0); });
    EXPECT_EQ(fd, FIRST_USER_FD);
    EXPECT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING), -EINVAL);
    EXPECT_EQ(f.op([&](OpContext& c) { return doUffdioApi(c, fd, 1ull << 40); }), -EINVAL);
    EXPECT_EQ(f.op([&](OpContext& c) { return doUffdioApi(c, fd, 0); }), 0);
    EXPECT_EQ(f.op([&](OpContext& c) { return doUffdioApi(c, fd, 0); }), -EINVAL);
    EXPECT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING), 0);
    EXPECT_EQ(f.op([&](OpContext& c) { return doUffdioApi(c, 77, 0); }), -EBADF);
    const std::int64_t m = f.memfd(4);
    EXPECT_EQ(f.op([&](OpContext& c) { return doUffdioApi(c, m, 0); }), -ENOTTY);
}

TEST(Uffd, RegistrationSplitsLikeAFlagChangeAndUnregisterMergesBack)
{
    UffdFixture f;
    f.mmap(0, 16);
    f.touch(0, 16, true);
    const std::int64_t fd = f.uffd();
    ASSERT_EQ(f.reg(fd, 4, 4, UFFDIO_REGISTER_MODE_MISSING), 0);
    EXPECT_EQ(f.picture(16), "AAAABBBBCCCCCCCC");
    EXPECT_TRUE(f.flagsAt(0, 4) & VM_UFFD_MISSING);
    // Same mode and context next door: the new piece merges into the registered one.
    ASSERT_EQ(f.reg(fd, 8, 4, UFFDIO_REGISTER_MODE_MISSING), 0);
    EXPECT_EQ(f.picture(16), "AAAABBBBBBBBCCCC");
    // WP replaces MISSING on the part it covers.
    ASSERT_EQ(f.reg(fd, 4, 2, UFFDIO_REGISTER_MODE_WP), 0);
    EXPECT_EQ(f.picture(16), "AAAABBCCCCCCDDDD");
    EXPECT_EQ(f.flagsAt(0, 4) & VM_UFFD_FLAGS, VM_UFFD_WP);
    ASSERT_EQ(f.unreg(fd, 0, 16), 0);
    EXPECT_EQ(f.picture(16), "AAAAAAAAAAAAAAAA");
    EXPECT_EQ(f.mm().vmaAt(at(0))->uffd_ctx, noUffdCtx);
}

TEST(Uffd, AVmaThatHasEveryRequestedModeIsLeftAsItIs)
{
    UffdFixture f;
    f.mmap(0, 8);
    const std::int64_t fd = f.uffd();
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    EXPECT_EQ(f.flagsAt(0, 0) & VM_UFFD_FLAGS, VM_UFFD_MISSING | VM_UFFD_WP);
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING), 0);
    EXPECT_EQ(f.flagsAt(0, 0) & VM_UFFD_FLAGS, VM_UFFD_MISSING | VM_UFFD_WP);
}

TEST(Uffd, RegistrationRefusesFilesOtherContextsAndEmptyRanges)
{
    UffdFixture f;
    const std::int64_t file = f.regularFile(16);
    f.mmap(0, 4, UffdFixture::rw, MAP_PRIVATE | MAP_FIXED, file);
    f.mmap(8, 4);
    const std::int64_t a = f.uffd(), b = f.uffd();
    EXPECT_EQ(f.reg(a, 0, 4, UFFDIO_REGISTER_MODE_MISSING), -EINVAL);
    EXPECT_EQ(f.reg(a, 8, 4, UFFDIO_REGISTER_MODE_MINOR), -EINVAL);
    EXPECT_EQ(f.reg(a, 8, 4, UFFDIO_REGISTER_MODE_WP), 0);
    EXPECT_EQ(f.reg(b, 8, 4, UFFDIO_REGISTER_MODE_WP), -EBUSY);
    EXPECT_EQ(f.unreg(b, 8, 4), -EINVAL);
    EXPECT_EQ(f.reg(a, 20, 4, UFFDIO_REGISTER_MODE_WP), -EINVAL);
    // A failed check changes nothing, even in VMAs the walk passed first.
    EXPECT_EQ(f.reg(b, 4, 8, UFFDIO_REGISTER_MODE_WP), -EBUSY);
    EXPECT_EQ(f.mm().mapCount(), 2u);
}

TEST(Uffd, AnonymousNonePagesGetMarkersOnlyWithWpUnpopulated)
{
    UffdFixture f;
    f.mmap(0, 8);
    f.mmap(16, 8);
    f.touch(0, 2, true);
    f.touch(16, 2, true);
    const std::int64_t plain = f.uffd(UFFD_FEATURE_SIGBUS);
    const std::int64_t marked = f.uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED);
    ASSERT_EQ(f.reg(plain, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.reg(marked, 16, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(plain, 0, 4), 0);
    ASSERT_EQ(f.wp(marked, 16, 4), 0);
    EXPECT_TRUE(f.protectedPage(0, 1));
    EXPECT_EQ(f.pte(0, 2), nullptr);
    EXPECT_TRUE(f.protectedPage(0, 17));
    EXPECT_TRUE(f.marker(0, 18));
    EXPECT_FALSE(f.marker(0, 20)); // beyond the protected range
    // Unprotect: bits go, markers become none.
    ASSERT_EQ(f.wp(marked, 16, 4, false), 0);
    EXPECT_FALSE(f.pte(0, 17)->uffdWp);
    EXPECT_EQ(f.pte(0, 18), nullptr);
}

TEST(Uffd, WritesToProtectedPagesUserfault)
{
    UffdFixture f;
    f.mmap(0, 8);
    f.touch(0, 4, true);
    const std::int64_t sigbus = f.uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED);
    ASSERT_EQ(f.reg(sigbus, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(sigbus, 0, 8), 0);
    EXPECT_EQ(f.touch(1, 1, false), 0);
    EXPECT_EQ(f.touch(1, 1, true), SIGBUS);
    // A read of a marker maps the zero page and keeps the protection; a write then faults.
    EXPECT_EQ(f.touch(5, 1, false), 0);
    EXPECT_TRUE(f.protectedPage(0, 5));
    EXPECT_EQ(f.pte(0, 5)->kind, Pte::Kind::ZeroPage);
    EXPECT_EQ(f.touch(6, 1, true), SIGBUS);
    EXPECT_TRUE(f.protectedPage(0, 6)); // the page was allocated before the write-protect fault

    // Without UFFD_FEATURE_SIGBUS the access waits for a monitor.
    f.mmap(16, 4);
    f.touch(16, 4, true);
    const std::int64_t waits = f.uffd(0);
    ASSERT_EQ(f.reg(waits, 16, 4, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(waits, 16, 4), 0);
    Tracer t(f.last);
    OpContext c { f.world, f.mm(), t };
    EXPECT_EQ(doTouch(c, at(17), pageSize, PROT_WRITE), 0);
    ASSERT_TRUE(c.userfaultWait.has_value());
    EXPECT_EQ(*c.userfaultWait, at(17));
}

TEST(Uffd, MissingModeFaultsOnEmptyPagesOnly)
{
    UffdFixture f;
    f.mmap(0, 8);
    f.touch(0, 2, true);
    const std::int64_t fd = f.uffd();
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING), 0);
    EXPECT_EQ(f.touch(0, 2, true), 0);
    EXPECT_EQ(f.touch(3, 1, false), SIGBUS);
    EXPECT_EQ(f.pte(0, 3), nullptr);
}

TEST(Uffd, ShmemZapLeavesMarkersWhereProtected)
{
    UffdFixture f;
    const std::int64_t m = f.memfd(16);
    f.mmap(0, 8, UffdFixture::rw, MAP_SHARED | MAP_FIXED, m);
    f.touch(0, 4, true);
    const std::int64_t fd = f.uffd();
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(fd, 0, 2), 0);
    EXPECT_EQ(f.op([&](OpContext& c) { return doMadvise(c, at(0), 4 * pageSize, MADV_DONTNEED); }), 0);
    EXPECT_TRUE(f.marker(0, 0));
    EXPECT_TRUE(f.marker(0, 1));
    EXPECT_EQ(f.pte(0, 2), nullptr);
}

TEST(Uffd, ADescriptorActsOnTheAddressSpaceThatMadeIt)
{
    UffdFixture f;
    f.mmap(0, 8);
    f.touch(0, 8, true);
    const std::int64_t fd = f.uffd();
    f.fork();
    EXPECT_EQ(f.inChild([&](OpContext& c) { return doUffdioRegister(c, fd, at(2), 2 * pageSize, UFFDIO_REGISTER_MODE_WP); }), 0);
    EXPECT_EQ(f.mm().mapCount(), 3u);
    EXPECT_EQ(f.world.procs[1].mapCount(), 1u);
    // The parent closes its descriptor; the child's keeps the context alive.
    EXPECT_EQ(f.close(fd), 0);
    EXPECT_TRUE(f.flagsAt(0, 2) & VM_UFFD_WP);
    EXPECT_EQ(f.inChild([&](OpContext& c) { return doClose(c, fd); }), 0);
    EXPECT_FALSE(f.flagsAt(0, 2) & VM_UFFD_WP);
    EXPECT_EQ(f.mm().mapCount(), 1u);
    EXPECT_TRUE(f.world.uffds.empty());
}

// kernel-model.md §17 P6: a shmem VMA registered WP without EVENT_FORK, no anon_vma.
std::uint64_t ptesCopiedForP6(const char* profile, bool eventFork)
{
    UffdFixture f(*builtinProfile(profile));
    const std::int64_t m = f.memfd(16);
    f.mmap(0, 16, UffdFixture::rw, MAP_SHARED | MAP_FIXED, m);
    f.touch(0, 8, true);
    const std::int64_t fd = f.uffd(UFFD_FEATURE_SIGBUS | (eventFork ? UFFD_FEATURE_EVENT_FORK : 0));
    EXPECT_EQ(f.reg(fd, 0, 16, UFFDIO_REGISTER_MODE_WP), 0);
    EXPECT_EQ(f.wp(fd, 0, 12), 0);
    f.fork();
    const Mm& child = f.world.procs[1];
    const VmFlags childFlags = child.vmaAt(at(0))->vm_flags;
    EXPECT_EQ((childFlags & VM_UFFD_WP) != 0, eventFork) << profile;
    if (eventFork) {
        EXPECT_TRUE(f.marker(1, 9)) << profile; // markers stay where the child keeps `uw`
        EXPECT_TRUE(f.protectedPage(1, 1)) << profile;
    } else if (child.forkPtesCopied) {
        EXPECT_FALSE(f.pte(1, 1)->uffdWp) << profile; // copied, but without the bits
        EXPECT_EQ(f.pte(1, 9), nullptr) << profile;   // and without the markers
    }
    return child.forkPtesCopied;
}

TEST(Uffd, ForkWithoutEventForkCopiesPageTablesOnlyInTheSeriesAsPosted)
{
    EXPECT_EQ(ptesCopiedForP6("v6.18", false), 0u);
    EXPECT_EQ(ptesCopiedForP6("maybe-guard", false), 8u);
    EXPECT_EQ(ptesCopiedForP6("maybe-guard-fixed", false), 0u);
}

TEST(Uffd, ForkWithEventForkCopiesInEveryProfile)
{
    for (const char* p : { "v6.18", "maybe-guard", "maybe-guard-fixed" })
        EXPECT_EQ(ptesCopiedForP6(p, true), 12u) << p;
}

TEST(Uffd, EventForkGivesTheChildItsOwnContext)
{
    UffdFixture f;
    f.mmap(0, 8);
    const std::int64_t fd = f.uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_EVENT_FORK);
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_MISSING), 0);
    f.fork();
    const UffdCtxId parentCtx = f.mm().vmaAt(at(0))->uffd_ctx;
    const UffdCtxId childCtx = f.world.procs[1].vmaAt(at(0))->uffd_ctx;
    EXPECT_NE(childCtx, noUffdCtx);
    EXPECT_NE(childCtx, parentCtx);
    EXPECT_EQ(f.world.uffd(childCtx)->owner, 1u);
}

TEST(Uffd, MoveWithoutEventRemapLeavesTheContext)
{
    UffdFixture f;
    f.mmap(0, 8);
    f.touch(0, 2, true);
    const std::int64_t fd = f.uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED);
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(fd, 0, 4), 0);
    ASSERT_EQ(f.op([&](OpContext& c) {
        return doMremap(c, at(0), 8 * pageSize, 8 * pageSize, MREMAP_MAYMOVE | MREMAP_FIXED, at(32));
    }), static_cast<std::int64_t>(at(32)));
    EXPECT_EQ(f.mm().vmaAt(at(32))->uffd_ctx, noUffdCtx);
    EXPECT_FALSE(f.flagsAt(0, 32) & VM_UFFD_WP);
    EXPECT_FALSE(f.pte(0, 32)->uffdWp);
    EXPECT_EQ(f.pte(0, 34), nullptr);
}

// Measured on 6.18.44: MADV_GUARD_INSTALL over write-protected entries of a `uw` shmem VMA
// never returns (each zap re-installs the uffd-wp markers the next walk finds populated). In
// an anonymous VMA the zap drops them and the install succeeds.
TEST(Uffd, GuardInstallOverProtectedShmemNeverReturns)
{
    UffdFixture f;
    const std::int64_t m = f.memfd(16);
    f.mmap(0, 8, UffdFixture::rw, MAP_SHARED | MAP_FIXED, m);
    f.mmap(16, 8);
    f.touch(0, 4, true);
    f.touch(16, 4, true);
    const std::int64_t fd = f.uffd(UFFD_FEATURE_SIGBUS | UFFD_FEATURE_WP_UNPOPULATED);
    ASSERT_EQ(f.reg(fd, 0, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.reg(fd, 16, 8, UFFDIO_REGISTER_MODE_WP), 0);
    ASSERT_EQ(f.wp(fd, 0, 8), 0);
    ASSERT_EQ(f.wp(fd, 16, 8), 0);
    Tracer t(f.last);
    OpContext shmem { f.world, f.mm(), t };
    doMadvise(shmem, at(2), 4 * pageSize, MADV_GUARD_INSTALL);
    ASSERT_TRUE(shmem.neverReturns.has_value());
    OpContext anon { f.world, f.mm(), t };
    EXPECT_EQ(doMadvise(anon, at(18), 4 * pageSize, MADV_GUARD_INSTALL), 0);
    EXPECT_FALSE(anon.neverReturns.has_value());
    EXPECT_EQ(f.pte(0, 18)->state, PageState::Guard);
}

} // namespace
} // namespace vmalab::test
