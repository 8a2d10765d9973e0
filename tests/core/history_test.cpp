// Time travel over a model run: every operation and every step keeps its world.
#include "core/engine/abi.h"
#include "core/engine/history.h"
#include "core/engine/model_backend.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

using namespace abi;
using scenario::Value;

Value num(std::int64_t v) { return Value { v, {}, false }; }

TEST(History, KeepsEveryOperationAndStep)
{
    ModelBackend m(*builtinProfile("maybe-guard-fixed"));
    m.keepHistory(true);
    ASSERT_FALSE(m.start());
    const std::size_t initialVmas = m.history()->initial().procs[0].mapCount();
    const Addr base = 0x100000000;
    auto call = [&](const char* name, std::vector<Value> args) { return m.call(0, name, args, {}).value; };
    call("mmap", { num(base), num(6 * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) });
    call("mprotect", { num(base + 2 * 4096), num(2 * 4096), num(PROT_READ) });
    call("mprotect", { num(base + 2 * 4096), num(2 * 4096), num(PROT_READ | PROT_WRITE) });

    const History& h = *m.history();
    ASSERT_EQ(h.opCount(), 3u);
    EXPECT_EQ(h.afterOp(0).procs[0].mapCount(), initialVmas + 1);
    EXPECT_EQ(h.afterOp(1).procs[0].mapCount(), initialVmas + 3) << "split in three";
    EXPECT_EQ(h.afterOp(2).procs[0].mapCount(), initialVmas + 1) << "merged back";
    EXPECT_EQ(h.beforeOp(1).procs[0].mapCount(), initialVmas + 1);

    // The splitting mprotect has a step after its first split: one more VMA than before it.
    const OpTrace& split = h.op(1);
    std::size_t firstSplit = split.steps.size();
    for (std::size_t s = 0; s < split.steps.size(); ++s)
        if (split.steps[s].kernelFn == "split_vma") {
            firstSplit = s;
            break;
        }
    ASSERT_LT(firstSplit, split.steps.size());
    EXPECT_EQ(h.afterStep(1, firstSplit).procs[0].mapCount(), initialVmas + 2);

    std::size_t total = 0;
    for (std::size_t i = 0; i < h.opCount(); ++i)
        total += h.op(i).steps.size();
    EXPECT_EQ(h.microStepCount(), total);
    EXPECT_EQ(h.microStep(h.op(0).steps.size()), (History::Position { 1, 0 }));
    EXPECT_EQ(h.afterMicroStep(total - 1).procs[0].mapCount(), initialVmas + 1);
}

TEST(History, CompareVmasNamesAddedRemovedChanged)
{
    ModelBackend m(*builtinProfile("maybe-guard-fixed"));
    m.keepHistory(true);
    ASSERT_FALSE(m.start());
    const Addr base = 0x100000000;
    m.call(0, "mmap", { num(base), num(6 * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) }, {});
    m.call(0, "mprotect", { num(base + 2 * 4096), num(2 * 4096), num(PROT_READ) }, {});
    const History& h = *m.history();
    const auto changes = compareVmas(h.afterOp(0), h.afterOp(1), 0);
    int added = 0, changed = 0, removed = 0;
    for (const VmaChange& c : changes) {
        added += c.kind == VmaChange::Kind::Added;
        changed += c.kind == VmaChange::Kind::Changed;
        removed += c.kind == VmaChange::Kind::Removed;
    }
    EXPECT_EQ(added, 2);
    EXPECT_EQ(changed, 1) << "the original keeps the middle slice";
    EXPECT_EQ(removed, 0);
}

} // namespace
} // namespace vmalab::test

namespace vmalab::test {
namespace {

// A change made in place (a fault giving a VMA its anon_vma) must not reach the worlds
// History kept before it.
TEST(History, EarlierWorldsDoNotSeeLaterChanges)
{
    ModelBackend m(*builtinProfile("maybe-guard-fixed"));
    m.keepHistory(true);
    ASSERT_FALSE(m.start());
    const Addr base = 0x100000000;
    m.call(0, "mmap", { num(base), num(4 * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) }, {});
    m.call(0, "touch", { num(base), num(4096), num(PROT_WRITE) }, {});
    const History& h = *m.history();
    EXPECT_EQ(h.afterOp(0).procs[0].vmaAt(base)->anon_vma, noAnonVma);
    EXPECT_NE(h.afterOp(1).procs[0].vmaAt(base)->anon_vma, noAnonVma);
    EXPECT_EQ(compareVmas(h.afterOp(0), h.afterOp(1), 0).size(), 1u);
}

} // namespace
} // namespace vmalab::test

#include "core/engine/call_text.h"

namespace vmalab::test {
namespace {

TEST(CallText, NamesFlagsAdviceAndErrors)
{
    EXPECT_EQ(formatCall("mmap", { num(0), num(0x200000), num(PROT_NONE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE), num(-1), num(0) }),
              "mmap(NULL, 0x200000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)");
    EXPECT_EQ(formatCall("mprotect", { num(0x7ffff7a12000), num(0x2000), num(PROT_READ | PROT_WRITE) }),
              "mprotect(0x7ffff7a12000, 0x2000, PROT_READ | PROT_WRITE)");
    EXPECT_EQ(formatCall("madvise", { num(0x1000), num(4096), num(102) }), "madvise(0x1000, 0x1000, MADV_GUARD_INSTALL)");
    EXPECT_EQ(formatCall("mmap", { num(0x1000), num(4096), num(0x40), num(0x3 | 0x100000), num(3), num(0) }),
              "mmap(0x1000, 0x1000, 0x40, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, 3, 0)");
    EXPECT_EQ(formatResult(-22), "-EINVAL");
    EXPECT_EQ(formatResult(0x7ffff7a00000), "0x7ffff7a00000");
}

} // namespace
} // namespace vmalab::test
