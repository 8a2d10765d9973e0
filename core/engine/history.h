#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"
#include "core/scenario/backend.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace vmalab {

// Every state a model run went through: the world before the first operation, after each
// operation, and after each step of each operation. Time travel is an index into it.
// It keeps the world after every `checkpointEvery`-th operation (and after any operation
// that cannot be run again); the worlds between are rebuilt on demand by running the
// operations again from the checkpoint before them (the engine is deterministic), as are
// the worlds after the steps inside an operation. Keeping a world per operation cost
// ~3 KB an operation and, because the live world then shared every node with History, a
// path copy per change (docs/history.md, docs/benchmarks.md).
//
// References returned by initial() and by checkpoints stay valid for the History's life;
// a rebuilt world lives in a small cache and stays valid until kRebuiltKept more rebuilt
// worlds have been asked for (so `compareVmas(h.beforeOp(i), h.afterOp(i), p)` is safe);
// one from afterStep() inside an operation until steps of another operation are asked for.
class History
{
public:
    // A position: operation `op` (0-based), and within it step `step`; step == the
    // operation's step count means "after the whole operation".
    struct Position
    {
        std::size_t op = 0;
        std::size_t step = 0;
        bool operator==(const Position&) const = default;
    };

    // What to run again to rebuild an operation's worlds.
    struct Call
    {
        int proc = 0;
        std::string name;
        std::vector<scenario::Value> args;
    };

    static constexpr std::size_t kDefaultCheckpointEvery = 32;
    static constexpr std::size_t kRebuiltKept = 4;

    // checkpointEvery 1 keeps every world (as before checkpoints).
    explicit History(World initial, std::size_t checkpointEvery = kDefaultCheckpointEvery);

    // The text for OpTrace::call that also holds the call, so History keeps it once: the
    // trace shows `name(the first shownArgs arguments)`, or `shownAs` when it is given.
    static TraceText callText(Call call, std::size_t shownArgs, std::string shownAs = {});
    // The call a text from callText() holds (nullptr for any other text).
    static const Call* callIn(const TraceText& text);

    // trace.call must come from callText(). `after` is copied only when History keeps it.
    // keepWorld: the operation cannot be run again (exec of a snapshot), or the world before
    // it is not the one after the last recorded operation (a call that failed with a
    // run-time error changed it).
    void record(OpTrace trace, const World& after, bool keepWorld = false);

    std::size_t opCount() const { return m_calls.size(); }
    const OpTrace& op(std::size_t i) const { return m_traces.at(i); }
    const std::vector<OpTrace>& traces() const { return m_traces; }
    const World& initial() const { return m_initial; }
    const World& afterOp(std::size_t i) const; // throws std::out_of_range past the end
    const World& afterStep(std::size_t op, std::size_t step) const;
    // The world just before operation i (the initial world for i == 0).
    const World& beforeOp(std::size_t i) const { return i == 0 ? m_initial : afterOp(i - 1); }

    // Micro-steps count every trace step of every operation, in order; micro-step n is the
    // world after that step.
    std::size_t microStepCount() const { return m_microStepCount; }
    Position microStep(std::size_t n) const; // throws std::out_of_range past the end
    const World& afterMicroStep(std::size_t n) const;

    // How many worlds History holds besides the initial one (checkpoints; not the cache).
    std::size_t worldsKept() const { return m_checkpoints.size(); }
    std::size_t checkpointEvery() const { return m_checkpointEvery; }

private:
    struct Checkpoint
    {
        std::size_t op;
        World world;
    };
    struct Rebuilt
    {
        std::size_t op = static_cast<std::size_t>(-1);
        World world;
        std::uint64_t lastUse = 0;
    };
    const std::vector<World>& stepWorlds(std::size_t op) const;
    void runAgain(World& world, std::size_t op) const;

    World m_initial;
    std::size_t m_checkpointEvery;
    std::deque<const Call*> m_calls; // held by m_traces[i].call (callText())
    std::deque<Checkpoint> m_checkpoints; // by op, ascending; a deque so references stay valid
    std::vector<OpTrace> m_traces; // apart from m_calls so ModelBackend can hand them out as they are
    std::vector<std::size_t> m_stepsBefore; // micro-steps before operation i: 8 bytes an operation
    std::size_t m_microStepCount = 0;
    // Worlds rebuilt lately (stepping and scanning stay near one place), least recently used
    // replaced first.
    mutable std::array<Rebuilt, kRebuiltKept> m_rebuilt;
    mutable std::uint64_t m_useClock = 0;
    // The step worlds of the operation looked at last (stepping usually stays in one).
    mutable std::size_t m_cachedOp = static_cast<std::size_t>(-1);
    mutable std::vector<World> m_cachedSteps;
};

// What changed between two states of one process, by VMA identity.
struct VmaChange
{
    enum class Kind
    {
        Added,
        Removed,
        Changed, // range, flags, pgoff, file, anon_vma, name or uffd context differ
    };
    Kind kind = Kind::Changed;
    VmaId id = 0;
    const Vma* before = nullptr; // points into the worlds compared
    const Vma* after = nullptr;
};

std::vector<VmaChange> compareVmas(const World& before, const World& after, std::size_t procIndex);

} // namespace vmalab
