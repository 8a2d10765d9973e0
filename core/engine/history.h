#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"
#include "core/scenario/backend.h"

#include <cstddef>
#include <vector>

namespace vmalab {

// Every state a model run went through: the world before the first operation, after each
// operation, and after each step of each operation. Time travel is an index into it.
// Worlds share what they did not change (PersistentMap), so a world per operation is cheap;
// the world after a step inside an operation is rebuilt on demand by running that one
// operation again from the world before it (the engine is deterministic). (docs/history.md)
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

    // What to run again to rebuild an operation's steps.
    struct Call
    {
        int proc = 0;
        std::string name;
        std::vector<scenario::Value> args;
    };

    explicit History(World initial);

    void record(Call call, OpTrace trace, World after);

    std::size_t opCount() const { return m_ops.size(); }
    const OpTrace& op(std::size_t i) const { return m_traces.at(i); }
    const std::vector<OpTrace>& traces() const { return m_traces; }
    const World& initial() const { return m_initial; }
    const World& afterOp(std::size_t i) const { return m_ops.at(i).after; }
    const World& afterStep(std::size_t op, std::size_t step) const;
    // The world just before operation i (the initial world for i == 0).
    const World& beforeOp(std::size_t i) const { return i == 0 ? m_initial : afterOp(i - 1); }

    // Micro-steps count every trace step of every operation, in order; micro-step n is the
    // world after that step.
    std::size_t microStepCount() const { return m_microSteps.size(); }
    Position microStep(std::size_t n) const { return m_microSteps.at(n); }
    const World& afterMicroStep(std::size_t n) const;

private:
    struct Op
    {
        Call call;
        World after;
    };
    const std::vector<World>& stepWorlds(std::size_t op) const;

    World m_initial;
    std::vector<Op> m_ops;
    std::vector<OpTrace> m_traces; // apart from m_ops so ModelBackend can hand them out as they are
    std::vector<Position> m_microSteps;
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
