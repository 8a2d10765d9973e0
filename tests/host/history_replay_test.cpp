// History with checkpoints: the worlds it rebuilds by running operations again are the
// worlds a run keeping every world holds, on the differential tester's random sequences.
#include "core/engine/history.h"
#include "core/engine/model_backend.h"
#include "core/host/differential.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace vmalab::test {
namespace {

// Everything a world holds, field by field (World has no operator==: its profile is shared).
std::string worldDifference(const World& a, const World& b)
{
    if (a.procs.size() != b.procs.size())
        return "process count";
    for (std::size_t p = 0; p < a.procs.size(); ++p) {
        const Mm& x = a.procs[p];
        const Mm& y = b.procs[p];
        const std::string where = "process " + std::to_string(p) + ": ";
        if (x.pid != y.pid)
            return where + "pid";
        if (!(x.vmas == y.vmas))
            return where + "VMAs";
        if (!(x.ptes == y.ptes) || !(x.pteTables == y.pteTables))
            return where + "page tables";
        if (x.fds != y.fds || x.uffdFds != y.uffdFds || x.fdAccess != y.fdAccess)
            return where + "descriptors";
        if (x.mmap_base != y.mmap_base || x.task_size != y.task_size || x.start_brk != y.start_brk || x.brk != y.brk
            || x.start_stack != y.start_stack || x.forkVmasPtCopied != y.forkVmasPtCopied
            || x.forkPtesCopied != y.forkPtesCopied)
            return where + "layout or counters";
    }
    if (!(a.files == b.files))
        return "files";
    if (!(a.anonVmaParent == b.anonVmaParent))
        return "anon_vma parents";
    if (!(a.uffds == b.uffds))
        return "userfaultfd contexts";
    if (a.nextVmaId != b.nextVmaId || a.nextFileId != b.nextFileId || a.nextAnonVmaId != b.nextAnonVmaId
        || a.nextUffdCtxId != b.nextUffdCtxId || a.nextInode != b.nextInode || a.nextPid != b.nextPid)
        return "id counters";
    return {};
}

struct HistoryRun
{
    std::unique_ptr<ModelBackend> backend;
    const History* history = nullptr;
};

HistoryRun runWithHistory(const scenario::Scenario& s, std::size_t checkpointEvery)
{
    HistoryRun r;
    r.backend = std::make_unique<ModelBackend>(*builtinProfile("v6.18"));
    r.backend->keepHistory(true, checkpointEvery);
    scenario::runScenario(s, *r.backend);
    r.history = r.backend->history();
    return r;
}

TEST(HistoryCheckpoints, RebuiltWorldsEqualKeptWorldsOnRandomSequences)
{
    std::size_t opsChecked = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        const std::string text = host::generateSequence(seed, 60);
        auto parsed = scenario::parseScenario(text, "fuzz.vlab");
        ASSERT_TRUE(parsed.has_value()) << text;
        const HistoryRun every = runWithHistory(*parsed, 1);
        ASSERT_NE(every.history, nullptr);
        const History& want = *every.history;
        EXPECT_EQ(want.worldsKept(), want.opCount()) << "checkpointEvery 1 keeps every world";
        for (std::size_t n : { std::size_t(3), std::size_t(7), History::kDefaultCheckpointEvery }) {
            const HistoryRun sparse = runWithHistory(*parsed, n);
            const History& got = *sparse.history;
            ASSERT_EQ(got.opCount(), want.opCount());
            EXPECT_LE(got.worldsKept(), want.opCount() / n + 8) << "seed " << seed;
            // Forward, backward and in random order: every path through the cache.
            std::vector<std::size_t> order(got.opCount());
            for (std::size_t i = 0; i < order.size(); ++i)
                order[i] = i;
            std::vector<std::size_t> visits = order;
            visits.insert(visits.end(), order.rbegin(), order.rend());
            std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
            visits.insert(visits.end(), order.begin(), order.end());
            for (std::size_t i : visits) {
                ASSERT_EQ(worldDifference(got.afterOp(i), want.afterOp(i)), "")
                    << "seed " << seed << ", checkpoint every " << n << ", operation " << i << "\n" << text;
                ++opsChecked;
            }
            if (got.opCount() > 0) {
                EXPECT_EQ(worldDifference(got.afterOp(got.opCount() - 1), sparse.backend->world()), "");
                // Micro-steps too: the world before an operation is rebuilt first.
                const std::size_t last = got.opCount() - 1;
                for (std::size_t s = 0; s < got.op(last).steps.size(); ++s)
                    ASSERT_EQ(worldDifference(got.afterStep(last, s), want.afterStep(last, s)), "")
                        << "seed " << seed << ", step " << s;
            }
        }
    }
    EXPECT_GT(opsChecked, 1000u);
}

// Two rebuilt worlds asked for one after the other are both still valid (compareVmas(before, after)).
TEST(HistoryCheckpoints, RecentRebuiltWorldsStayValid)
{
    auto parsed = scenario::parseScenario(host::generateSequence(7, 60), "fuzz.vlab");
    ASSERT_TRUE(parsed.has_value());
    const HistoryRun every = runWithHistory(*parsed, 1);
    const HistoryRun sparse = runWithHistory(*parsed, 16);
    const History& h = *sparse.history;
    ASSERT_GT(h.opCount(), 20u);
    const World& a = h.afterOp(5);
    const World& b = h.afterOp(12);
    const World& c = h.beforeOp(3);
    EXPECT_EQ(worldDifference(a, every.history->afterOp(5)), "");
    EXPECT_EQ(worldDifference(b, every.history->afterOp(12)), "");
    EXPECT_EQ(worldDifference(c, every.history->afterOp(2)), "");
}

} // namespace
} // namespace vmalab::test
