#include "core/engine/model_backend.h"
#include "core/engine/observe.h"
#include "core/engine/snapshot_world.h"
#include "core/engine/validate.h"
#include "core/vm_flags.h"

#include <gtest/gtest.h>

#include "tests/snapshot/snapshot_test_util.h"

namespace vmalab {
namespace {

using namespace snapshot::testing;

constexpr Addr P = pageSize;
constexpr Addr Heap = 0x555555559000;
constexpr Addr Lib = 0x7ffff7d84000;
constexpr Addr Stack = 0x7ffffffde000;

// A small process: [heap] with 3 pages written, a library's two segments (text pages
// present from the page cache), a named anonymous mapping and [stack].
snapshot::Snapshot sample()
{
    std::vector<snapshot::SnapshotVma> vmas = {
        makeVma(Heap, Heap + 8 * P, "rw-p", "[heap]", "rd wr mr mw me ac"),
        makeVma(Lib, Lib + 4 * P, "r-xp", "/usr/lib/libx.so", "rd ex mr mw me"),
        makeVma(Lib + 4 * P, Lib + 6 * P, "rw-p", "/usr/lib/libx.so", "rd wr mr mw me ac"),
        makeVma(Lib + 16 * P, Lib + 20 * P, "rw-p", "[anon:arena]", "rd wr mr mw me ac"),
        makeVma(Stack, Stack + 33 * P, "rw-p", "[stack]", "rd wr mr mw me gd ac"),
    };
    for (int i = 1; i <= 2; ++i) {
        vmas[std::size_t(i)].vma.devMajor = 0xfd;
        vmas[std::size_t(i)].vma.devMinor = 1;
        vmas[std::size_t(i)].vma.inode = 4242;
    }
    vmas[2].vma.offset = 4 * P;
    auto s = oneProcess(std::move(vmas),
        { { Heap, Heap + 3 * P, PageState::Present }, { Lib, Lib + 2 * P, PageState::Present },
            { Stack + 31 * P, Stack + 33 * P, PageState::Present } });
    for (snapshot::SnapshotPageRun& r : s.processes.front().pages)
        if (r.run.start >= Lib && r.run.end <= Lib + 2 * P && r.run.state == PageState::Present)
            r.run.file = true;
    s.processes.front().pid = 4321;
    return s;
}

Profile profile()
{
    MachineConfig machine;
    machine.anonVmaName = true; // the sample names a mapping [anon:arena]
    return *builtinProfile("maybe-guard-fixed", machine);
}

TEST(SnapshotWorld, VmasAndPagesComeBackAsTheyWereCaptured)
{
    std::vector<SnapshotAssumption> assumptions;
    auto world = worldFromSnapshot(sample(), profile(), &assumptions);
    ASSERT_TRUE(world) << world.error().front().message;
    EXPECT_TRUE(validateWorld(*world).empty()) << validateWorld(*world).front();
    ASSERT_EQ(world->procs.size(), 1u);
    const Mm& mm = world->procs.front();
    EXPECT_EQ(mm.pid, 4321);
    EXPECT_EQ(mm.mapCount(), 5u);
    EXPECT_EQ(mm.start_brk, Heap);
    EXPECT_EQ(mm.brk, Heap + 8 * P);

    const ObservedProcess seen = observeWorld(*world).front();
    const snapshot::Snapshot snap = sample();
    const snapshot::SnapshotProcess& captured = snap.processes.front();
    ASSERT_EQ(seen.vmas.size(), captured.vmas.size());
    for (std::size_t i = 0; i < seen.vmas.size(); ++i) {
        EXPECT_EQ(seen.vmas[i].start, captured.vmas[i].vma.start);
        EXPECT_EQ(seen.vmas[i].end, captured.vmas[i].vma.end);
        EXPECT_EQ(seen.vmas[i].perms, captured.vmas[i].vma.perms);
        EXPECT_EQ(seen.vmas[i].name, captured.vmas[i].vma.name) << i;
        EXPECT_EQ(seen.vmas[i].vmFlags, captured.vmas[i].vma.vmFlags) << i;
    }
    // Both library segments map one file, known by device and inode.
    const Vma* text = mm.vmaAt(Lib);
    const Vma* data = mm.vmaAt(Lib + 4 * P);
    ASSERT_TRUE(text && data);
    EXPECT_EQ(text->vm_file, data->vm_file);
    EXPECT_EQ(data->vm_pgoff, 4u);
    EXPECT_EQ(mm.vmaAt(Lib + 16 * P)->anon_name, "arena");
    EXPECT_EQ(mm.vmaAt(Heap)->vm_pgoff, Heap >> pageShift);

    std::uint64_t present = 0;
    for (const PageRun& r : seen.pages)
        if (r.state == PageState::Present)
            present += (r.end - r.start) / P;
    EXPECT_EQ(present, 7u);
    bool saidPgoff = false;
    for (const SnapshotAssumption& a : assumptions)
        saidPgoff = saidPgoff || a.text.find("vm_pgoff") != std::string::npos;
    EXPECT_TRUE(saidPgoff);
}

TEST(SnapshotWorld, MprotectOnACapturedHeapIsPredicted)
{
    std::vector<SnapshotAssumption> assumptions;
    auto world = worldFromSnapshot(sample(), profile(), &assumptions);
    ASSERT_TRUE(world);
    const World before = *world;
    ModelBackend backend(profile());
    backend.startFrom(std::move(*world));
    ASSERT_FALSE(backend.start());
    std::vector<scenario::Value> args(3);
    args[0].num = static_cast<std::int64_t>(Heap + 2 * P);
    args[1].num = static_cast<std::int64_t>(2 * P);
    args[2].num = 1; // PROT_READ
    const scenario::CallResult r = backend.call(0, "mprotect", args, {});
    ASSERT_FALSE(r.runtimeError);
    EXPECT_EQ(r.value, 0);
    EXPECT_TRUE(validateWorld(backend.world()).empty());

    // [heap] becomes rw- | r-- | rw-; the rest stays as captured.
    const ObservedProcess after = backend.observe().front();
    ASSERT_EQ(after.vmas.size(), 7u);
    EXPECT_EQ(after.vmas[0].end, Heap + 2 * P);
    EXPECT_EQ(after.vmas[1].start, Heap + 2 * P);
    EXPECT_EQ(after.vmas[1].end, Heap + 4 * P);
    EXPECT_EQ(after.vmas[1].perms, "r--p");
    EXPECT_EQ(after.vmas[2].perms, "rw-p");

    // The prediction rests on the heap's assumptions, not on the stack's.
    const auto used = assumptionsUsed(assumptions, before, backend.world());
    bool pgoff = false, stack = false;
    for (const SnapshotAssumption* a : used) {
        pgoff = pgoff || a->text.find("vm_pgoff") != std::string::npos;
        stack = stack || a->text.find("start_stack") != std::string::npos;
    }
    EXPECT_TRUE(pgoff);
    EXPECT_FALSE(stack);
}

TEST(SnapshotWorld, GuardPagesAndUnknownFlags)
{
    auto s = oneProcess({ makeVma(Heap, Heap + 4 * P, "rw-p", "", "rd wr mr mw me gu ac zz") },
        { { Heap + 3 * P, Heap + 4 * P, PageState::Guard } });
    std::vector<SnapshotAssumption> assumptions;
    auto world = worldFromSnapshot(s, profile(), &assumptions);
    ASSERT_TRUE(world);
    const Vma* v = world->procs.front().vmaAt(Heap);
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->vm_flags & VM_MAYBE_GUARD);
    const ObservedProcess seen = observeWorld(*world).front();
    ASSERT_EQ(seen.pages.size(), 2u);
    EXPECT_EQ(seen.pages[1].state, PageState::Guard);
    bool unknown = false;
    for (const SnapshotAssumption& a : assumptions)
        unknown = unknown || a.text.find("\"zz\"") != std::string::npos;
    EXPECT_TRUE(unknown);
}

TEST(SnapshotWorld, RefusesAnEmptySnapshotAndStrayPages)
{
    EXPECT_FALSE(worldFromSnapshot(snapshot::Snapshot {}, profile()));
    auto s = oneProcess({ makeVma(Heap, Heap + P) });
    s.processes.front().pages.push_back(
        { PageRun { Heap + 4 * P, Heap + 5 * P, PageState::Present, false, true, false }, 0 });
    auto w = worldFromSnapshot(s, profile());
    ASSERT_FALSE(w);
    EXPECT_NE(w.error().front().message.find("outside every VMA"), std::string::npos);
}

TEST(SnapshotWorld, MnemonicsToFlags)
{
    std::vector<std::string> unknown;
    EXPECT_EQ(vmFlagsFromMnemonics({ "rd", "wr", "mr", "mw", "me", "ac" }, &unknown),
        VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT);
    EXPECT_TRUE(unknown.empty());
    EXPECT_EQ(vmFlagsFromMnemonics({ "gd", "??" }, &unknown), VM_GROWSDOWN);
    EXPECT_EQ(unknown, std::vector<std::string> { "??" });
}

} // namespace
} // namespace vmalab
