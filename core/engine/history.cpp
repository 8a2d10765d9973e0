#include "core/engine/history.h"

#include "core/assert.h"
#include "core/engine/call_text.h"
#include "core/engine/model_backend.h"
#include "core/engine/vma_merge.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <typeinfo>

namespace vmalab {

History::History(World initial, std::size_t checkpointEvery)
    : m_initial(std::move(initial))
    , m_checkpointEvery(std::max<std::size_t>(1, checkpointEvery))
{
}

namespace {

// One copy of a call for both its readers: History runs it again, the trace prints it.
class RecordedCall final : public TraceDeferred
{
public:
    RecordedCall(History::Call call, std::size_t shownArgs, std::string shownAs)
        : m_call(std::move(call))
        , m_shownArgs(static_cast<std::uint32_t>(std::min(shownArgs, m_call.args.size())))
        , m_shownAs(std::move(shownAs))
    {
    }
    void render(int, std::string& out) const override
    {
        if (!m_shownAs.empty()) {
            out += m_shownAs.str();
        } else if (m_shownArgs == m_call.args.size()) {
            out += formatCall(m_call.name, m_call.args);
        } else {
            const std::vector<scenario::Value> shown(m_call.args.begin(), m_call.args.begin() + m_shownArgs);
            out += formatCall(m_call.name, shown);
        }
    }
    const History::Call& call() const { return m_call; }

private:
    History::Call m_call;
    std::uint32_t m_shownArgs;
    TraceText m_shownAs; // 16 bytes where a std::string is 32
};

} // namespace

TraceText History::callText(Call call, std::size_t shownArgs, std::string shownAs)
{
    return TraceText::deferred(new RecordedCall(std::move(call), shownArgs, std::move(shownAs)), 0);
}

const History::Call* History::callIn(const TraceText& text)
{
    // typeid against a final class: a pointer compare where dynamic_cast walked the hierarchy.
    const TraceDeferred* source = text.source();
    if (!source || typeid(*source) != typeid(RecordedCall))
        return nullptr;
    return &static_cast<const RecordedCall*>(source)->call();
}

void History::record(OpTrace trace, const World& after, bool keepWorld)
{
    const Call* call = callIn(trace.call);
    VMALAB_ASSERT(call, "History::record() needs the trace's call text from History::callText()");
    const std::size_t op = m_calls.size();
    m_stepsBefore.push_back(m_microStepCount);
    m_microStepCount += trace.steps.size();
    // The step vector grew ahead of its steps (Tracer::add()); what History keeps should not carry
    // the slack.
    if (trace.steps.capacity() > trace.steps.size())
        trace.steps.shrink_to_fit();
    m_calls.push_back(call);
    m_traces.push_back(std::move(trace)); // moving the text keeps `call` where it is
    if (keepWorld || (op + 1) % m_checkpointEvery == 0)
        m_checkpoints.push_back({ op, after });
}

void History::runAgain(World& world, std::size_t op) const
{
    const Call& call = *m_calls[op];
    VMALAB_ASSERT(call.name != "exec", "an exec is always a checkpoint");
    OpTrace again;
    Tracer tracer(again);
    OpContext c { world, world.procs.at(static_cast<std::size_t>(call.proc)), tracer };
    executeCall(c, call.name, call.args);
}

const World& History::afterOp(std::size_t i) const
{
    if (i >= m_calls.size())
        throw std::out_of_range("History::afterOp() past the last operation");
    // The nearest kept world at or before i: a checkpoint, or a world rebuilt lately.
    const auto cp = std::upper_bound(m_checkpoints.begin(), m_checkpoints.end(), i,
                                     [](std::size_t op, const Checkpoint& c) { return op < c.op; });
    std::size_t next = 0; // the first operation to run again
    const World* from = &m_initial;
    if (cp != m_checkpoints.begin()) {
        const Checkpoint& c = *std::prev(cp);
        if (c.op == i)
            return c.world;
        next = c.op + 1;
        from = &c.world;
    }
    Rebuilt* slot = &m_rebuilt[0];
    for (Rebuilt& r : m_rebuilt) {
        if (r.op == i) {
            r.lastUse = ++m_useClock;
            return r.world;
        }
        if (r.op != static_cast<std::size_t>(-1) && r.op < i && r.op + 1 > next) {
            next = r.op + 1;
            from = &r.world;
        }
        if (r.lastUse < slot->lastUse)
            slot = &r;
    }
    World world = *from;
    for (std::size_t op = next; op <= i; ++op)
        runAgain(world, op);
    slot->op = i;
    slot->world = std::move(world);
    slot->lastUse = ++m_useClock;
    return slot->world;
}

const std::vector<World>& History::stepWorlds(std::size_t op) const
{
    if (m_cachedOp == op)
        return m_cachedSteps;
    World world = beforeOp(op);
    const Call& call = *m_calls.at(op);
    OpTrace again;
    Tracer tracer(again);
    std::vector<World> steps;
    tracer.recordWorlds(&world, &steps);
    OpContext c { world, world.procs.at(static_cast<std::size_t>(call.proc)), tracer };
    executeCall(c, call.name, call.args);
    VMALAB_ASSERT(steps.size() == m_traces.at(op).steps.size(), "running an operation again took other steps");
    m_cachedSteps = std::move(steps);
    m_cachedOp = op;
    return m_cachedSteps;
}

const World& History::afterStep(std::size_t op, std::size_t step) const
{
    if (step >= m_traces.at(op).steps.size())
        return afterOp(op);
    return stepWorlds(op)[step];
}

History::Position History::microStep(std::size_t n) const
{
    if (n >= m_microStepCount)
        throw std::out_of_range("History::microStep() past the last step");
    // The last operation with at most n steps before it (operations without steps share
    // their count with the next one, which is the one holding step n).
    const auto it = std::upper_bound(m_stepsBefore.begin(), m_stepsBefore.end(), n);
    const auto op = static_cast<std::size_t>(it - m_stepsBefore.begin()) - 1;
    return { op, n - m_stepsBefore[op] };
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
