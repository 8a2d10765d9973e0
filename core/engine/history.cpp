#include "core/engine/history.h"

#include "core/assert.h"
#include "core/engine/model_backend.h"
#include "core/engine/vma_merge.h"

#include <map>

namespace vmalab {

History::History(World initial)
    : m_initial(std::move(initial))
{
}

void History::record(Call call, OpTrace trace, World after)
{
    const std::size_t index = m_ops.size();
    for (std::size_t s = 0; s < trace.steps.size(); ++s)
        m_microSteps.push_back({ index, s });
    m_ops.push_back({ std::move(call), std::move(after) });
    m_traces.push_back(std::move(trace));
}

const std::vector<World>& History::stepWorlds(std::size_t op) const
{
    if (m_cachedOp == op)
        return m_cachedSteps;
    World world = beforeOp(op);
    const Op& o = m_ops.at(op);
    OpTrace again;
    Tracer tracer(again);
    std::vector<World> steps;
    tracer.recordWorlds(&world, &steps);
    OpContext c { world, world.procs.at(static_cast<std::size_t>(o.call.proc)), tracer };
    executeCall(c, o.call.name, o.call.args);
    VMALAB_ASSERT(steps.size() == m_traces.at(op).steps.size(), "running an operation again took other steps");
    m_cachedSteps = std::move(steps);
    m_cachedOp = op;
    return m_cachedSteps;
}

const World& History::afterStep(std::size_t op, std::size_t step) const
{
    const Op& o = m_ops.at(op);
    if (step >= m_traces.at(op).steps.size())
        return o.after;
    return stepWorlds(op)[step];
}

const World& History::afterMicroStep(std::size_t n) const
{
    const Position p = microStep(n);
    return afterStep(p.op, p.step);
}

std::vector<VmaChange> compareVmas(const World& before, const World& after, std::size_t procIndex)
{
    std::map<VmaId, const Vma*> old;
    if (procIndex < before.procs.size())
        for (const auto& [start, v] : before.procs[procIndex].vmas)
            old[v.id] = &v;
    std::vector<VmaChange> out;
    if (procIndex < after.procs.size()) {
        for (const auto& [start, v] : after.procs[procIndex].vmas) {
            auto it = old.find(v.id);
            if (it == old.end()) {
                out.push_back({ VmaChange::Kind::Added, v.id, nullptr, &v });
                continue;
            }
            if (!(*it->second == v))
                out.push_back({ VmaChange::Kind::Changed, v.id, it->second, &v });
            old.erase(it);
        }
    }
    for (const auto& [id, v] : old)
        out.push_back({ VmaChange::Kind::Removed, id, v, nullptr });
    return out;
}

} // namespace vmalab
