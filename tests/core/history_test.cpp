// Time travel over a model run: every operation and every step keeps its world.
#include "core/engine/abi.h"
#include "core/engine/history.h"
#include "core/engine/model_backend.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

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

// Many operations over a tree several levels deep: every micro-step maps to its operation
// and step in order, and every kept world still shows the VMA count it had.
TEST(History, ManyOperationsKeepTheirWorldsAndSteps)
{
    ModelBackend m(*builtinProfile("maybe-guard-fixed"));
    m.keepHistory(true);
    ASSERT_FALSE(m.start());
    const Addr base = 0x100000000;
    const std::int64_t pages = 400;
    m.call(0, "mmap", { num(base), num(pages * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) }, {});
    std::vector<std::size_t> counts { m.world().procs[0].mapCount() };
    for (std::int64_t p = 1; p < pages; p += 2) {
        m.call(0, "mprotect", { num(static_cast<std::int64_t>(base) + p * 4096), num(4096), num(PROT_READ) }, {});
        counts.push_back(m.world().procs[0].mapCount());
    }
    for (std::int64_t p = 1; p + 2 < pages; p += 6) { // merge three into one, then split again
        const Value at = num(static_cast<std::int64_t>(base) + p * 4096);
        m.call(0, "mprotect", { at, num(4096), num(PROT_READ | PROT_WRITE) }, {});
        counts.push_back(m.world().procs[0].mapCount());
        m.call(0, "mprotect", { at, num(4096), num(PROT_READ) }, {});
        counts.push_back(m.world().procs[0].mapCount());
    }
    const History& h = *m.history();
    ASSERT_EQ(h.opCount(), counts.size());
    for (std::size_t i = 0; i < counts.size(); ++i)
        EXPECT_EQ(h.afterOp(i).procs[0].mapCount(), counts[i]) << "operation " << i;
    std::size_t n = 0;
    for (std::size_t op = 0; op < h.opCount(); ++op)
        for (std::size_t s = 0; s < h.op(op).steps.size(); ++s, ++n)
            ASSERT_EQ(h.microStep(n), (History::Position { op, s })) << "micro-step " << n;
    EXPECT_EQ(h.microStepCount(), n);
    EXPECT_THROW((void)h.microStep(n), std::out_of_range);
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

namespace vmalab::test {
namespace {

// History keeps one world per `checkpointEvery` operations, and rebuilds the others equal to
// the world the run had then (what it returns does not depend on the checkpoint interval).
TEST(History, KeepsAWorldEveryCheckpointAndRebuildsTheRest)
{
    auto run = [](std::size_t every) {
        auto m = std::make_unique<ModelBackend>(*builtinProfile("maybe-guard-fixed"));
        m->keepHistory(true, every);
        EXPECT_FALSE(m->start());
        const Addr base = 0x100000000;
        const std::int64_t pages = 200;
        m->call(0, "mmap", { num(base), num(pages * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) }, {});
        for (std::int64_t p = 1; p < pages; p += 2)
            m->call(0, "mprotect", { num(static_cast<std::int64_t>(base) + p * 4096), num(4096), num(PROT_READ) }, {});
        for (std::int64_t p = 1; p + 2 < pages; p += 4) {
            m->call(0, "touch", { num(static_cast<std::int64_t>(base) + p * 4096), num(4096), num(PROT_READ) }, {});
            m->call(0, "mprotect", { num(static_cast<std::int64_t>(base) + p * 4096), num(4096), num(PROT_READ | PROT_WRITE) }, {});
        }
        return m;
    };
    const auto every = run(1);
    const auto sparse = run(10);
    const History& want = *every->history();
    const History& got = *sparse->history();
    ASSERT_EQ(got.opCount(), want.opCount());
    EXPECT_EQ(want.worldsKept(), want.opCount());
    EXPECT_EQ(got.worldsKept(), got.opCount() / 10) << "memory per operation: one world in ten";
    auto same = [](const World& a, const World& b) {
        return a.procs.size() == b.procs.size() && a.procs[0].vmas == b.procs[0].vmas && a.procs[0].ptes == b.procs[0].ptes
            && a.nextVmaId == b.nextVmaId && a.nextAnonVmaId == b.nextAnonVmaId;
    };
    for (std::size_t i = got.opCount(); i-- > 0;) // backwards: every world from its checkpoint
        ASSERT_TRUE(same(got.afterOp(i), want.afterOp(i))) << "operation " << i;
    for (std::size_t i = 0; i < got.opCount(); ++i) // forwards: each from the one before
        ASSERT_TRUE(same(got.afterOp(i), want.afterOp(i))) << "operation " << i;
    for (std::size_t n = 0; n < got.microStepCount(); n += 7)
        ASSERT_TRUE(same(got.afterMicroStep(n), want.afterMicroStep(n))) << "micro-step " << n;
    EXPECT_TRUE(same(got.afterOp(got.opCount() - 1), sparse->world()));
    EXPECT_THROW((void)got.afterOp(got.opCount()), std::out_of_range);
}

// A call that fails with a run-time error is not an operation, but it may have changed the
// world: the next operation's world is kept, so no rebuild runs from a world without it.
TEST(History, KeepsTheWorldAfterARunTimeError)
{
    ModelBackend m(*builtinProfile("maybe-guard-fixed"));
    m.keepHistory(true, 100);
    ASSERT_FALSE(m.start());
    const Addr base = 0x100000000;
    m.call(0, "mmap", { num(base), num(4 * 4096), num(PROT_READ | PROT_WRITE), num(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED), num(-1), num(0) }, {});
    EXPECT_TRUE(m.call(0, "no_such_call", {}, {}).runtimeError);
    m.call(0, "mprotect", { num(base), num(4096), num(PROT_READ) }, {});
    m.call(0, "mprotect", { num(base + 4096), num(4096), num(PROT_READ) }, {});
    const History& h = *m.history();
    ASSERT_EQ(h.opCount(), 3u);
    EXPECT_EQ(h.worldsKept(), 1u);
    EXPECT_EQ(h.afterOp(2).procs[0].mapCount(), m.world().procs[0].mapCount());
    EXPECT_EQ(h.op(1).call, "mprotect(0x100000000, 0x1000, PROT_READ)");
}

} // namespace
} // namespace vmalab::test

namespace vmalab::test {
namespace {

// A step's id lists keep two ids inline and grow onto the heap past that; copies and moves
// keep the ids and leave the source valid.
TEST(IdList, GrowsCopiesMovesAndComparesLikeAVector)
{
    IdList a { 1, 2 };
    EXPECT_EQ(a.size(), 2u);
    a.push_back(3);
    a.push_back(4);
    a.push_back(5);
    EXPECT_EQ(a, (std::vector<VmaId> { 1, 2, 3, 4, 5 }));
    IdList b = a;
    EXPECT_EQ(b, a);
    IdList c = std::move(b);
    EXPECT_EQ(c, a);
    EXPECT_TRUE(b.empty()); // NOLINT(bugprone-use-after-move): a moved-from list is empty
    b.push_back(9);
    EXPECT_EQ(b.front(), 9u);
    IdList small { 7 };
    c = small;
    EXPECT_EQ(c, (std::vector<VmaId> { 7 }));
    small = std::vector<VmaId> { 4, 5, 6 };
    const std::vector<VmaId> asVector = small;
    EXPECT_EQ(asVector, (std::vector<VmaId> { 4, 5, 6 }));
    EXPECT_FALSE(small == IdList({ 4, 5 }));
}

} // namespace
} // namespace vmalab::test
