// do_mprotect_pkey() and mprotect_fixup().
#include "tests/core/engine_fixture.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

using namespace abi;

TEST(Mprotect, ArgumentChecks)
{
    EngineFixture f;
    f.mmap(0, 4);
    auto mp = [&](Addr a, std::uint64_t len, std::int64_t prot) {
        return f.op([&](OpContext& c) { return doMprotect(c, a, len, prot); });
    };
    const Addr w = EngineFixture::window;
    EXPECT_EQ(mp(w + 1, pageSize, PROT_READ), -EINVAL);
    EXPECT_EQ(mp(w + 1, 0, PROT_READ), -EINVAL) << "alignment is checked before the length";
    EXPECT_EQ(mp(w, 0, 0x40), 0) << "a zero length returns before prot is checked";
    EXPECT_EQ(mp(w, pageSize, 0x40), -EINVAL);
    EXPECT_EQ(mp(w, pageSize, PROT_READ | PROT_SEM), 0) << "PROT_SEM is accepted and ignored";
    EXPECT_EQ(mp(w, pageSize, PROT_GROWSDOWN | PROT_GROWSUP), -EINVAL);
    EXPECT_EQ(mp(w, pageSize, PROT_READ | PROT_GROWSDOWN), -EINVAL) << "not a VM_GROWSDOWN VMA";
    EXPECT_EQ(mp(w - pageSize, pageSize, PROT_READ), -ENOMEM) << "nothing mapped there";
    EXPECT_EQ(mp(w - pageSize, 2 * pageSize, PROT_READ), -ENOMEM) << "starts in a hole";
}

TEST(Mprotect, HoleChangesThePartBeforeIt)
{
    EngineFixture f;
    f.mmap(0, 2);
    f.mmap(3, 2);
    EXPECT_EQ(f.mprotect(0, 5, PROT_READ), -ENOMEM);
    EXPECT_EQ(mapsPerms(f.vmaAtPage(0).vm_flags), "r--p");
    EXPECT_EQ(mapsPerms(f.vmaAtPage(3).vm_flags), "rw-p");
    EXPECT_EQ(f.mprotect(3, 4, PROT_READ), -ENOMEM) << "a hole after the last VMA";
    EXPECT_EQ(mapsPerms(f.vmaAtPage(3).vm_flags), "r--p");
}

TEST(Mprotect, AccountingAsymmetryDecidesRemerging)
{
    // Unfaulted: losing write drops VM_ACCOUNT, regaining it charges again, so the pieces merge.
    EngineFixture f;
    f.mmap(0, 4);
    f.mprotect(1, 1, PROT_READ);
    EXPECT_FALSE(f.vmaAtPage(1).vm_flags & VM_ACCOUNT);
    f.mprotect(1, 1, EngineFixture::rw);
    EXPECT_EQ(f.picture(4), "AAAA");

    // Read-only from the start: no VM_ACCOUNT; making it writable charges it.
    EngineFixture g;
    g.mmap(0, 2, PROT_READ);
    g.mprotect(0, 2, EngineFixture::rw);
    EXPECT_TRUE(g.vmaAtPage(0).vm_flags & VM_ACCOUNT);

    // Faulted: VM_ACCOUNT stays when write goes.
    EngineFixture h;
    h.mmap(0, 4);
    h.touch(0, 1, true);
    h.mprotect(1, 1, PROT_READ);
    EXPECT_TRUE(h.vmaAtPage(1).vm_flags & VM_ACCOUNT);
}

TEST(Mprotect, ProtNoneKeepsPages)
{
    EngineFixture f;
    f.mmap(0, 2);
    f.touch(0, 2, true);
    f.mprotect(0, 2, PROT_NONE);
    EXPECT_EQ(f.pagePicture(2), "PP");
    EXPECT_EQ(f.touch(0, 1, false), SIGSEGV);
}

TEST(Mprotect, SharedFileWithoutMayWriteIsRefused)
{
    EngineFixture f;
    f.mmap(0, 2);
    Vma& v = f.mm().vmas.at(EngineFixture::at(0));
    v.vm_flags &= ~VM_MAYWRITE;
    EXPECT_EQ(f.mprotect(0, 2, EngineFixture::rw), -EACCES);
}

} // namespace
} // namespace vmalab::test
