#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"

#include <cstddef>
#include <vector>

namespace vmalab {

// Every state a model run went through: the world before the first operation, after each
// operation, and after each step of each operation. Time travel is an index into it.
// (docs/history.md)
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

    explicit History(World initial);

    void record(OpTrace trace, std::vector<World> afterSteps, World after);

    std::size_t opCount() const { return m_ops.size(); }
    const OpTrace& op(std::size_t i) const { return m_ops.at(i).trace; }
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
        OpTrace trace;
        std::vector<World> afterSteps; // one per trace step
        World after;
    };
    World m_initial;
    std::vector<Op> m_ops;
    std::vector<Position> m_microSteps;
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
