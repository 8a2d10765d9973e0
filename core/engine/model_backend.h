#pragma once

#include "core/engine/history.h"
#include "core/engine/trace.h"
#include "core/engine/world.h"
#include "core/scenario/backend.h"

#include <memory>
#include <vector>

namespace vmalab {

struct OpContext;

// Runs one call of the scenario language on the engine (the raw syscall's result, or a
// run-time error for calls the engine does not model).
scenario::CallResult executeCall(OpContext& c, const std::string& name, const std::vector<scenario::Value>& args);

// The interpreter's backend that runs every call on the model engine and keeps the trace.
class ModelBackend : public scenario::Backend
{
public:
    explicit ModelBackend(Profile profile);

    // Keep every state for time travel (History); off by default. History keeps a world
    // every `checkpointEvery` operations and rebuilds the others when asked.
    void keepHistory(bool on, std::size_t checkpointEvery = History::kDefaultCheckpointEvery)
    {
        m_keepHistory = on;
        m_checkpointEvery = checkpointEvery;
    }
    // Start from `initial` (a loaded snapshot) instead of the default process; call before
    // start(). The world keeps its own profile.
    void startFrom(World initial) { m_initial = std::make_unique<World>(std::move(initial)); }
    // Valid after start(); nullptr unless keepHistory(true) was called before it.
    const History* history() const { return m_history.get(); }

    std::string describe() const override;
    std::optional<std::string> missingFeature(const std::string& feature) const override;
    std::optional<std::string> start() override;
    scenario::CallResult call(scenario::ProcIndex proc, const std::string& name, const std::vector<scenario::Value>& args,
                              scenario::SourceLoc site) override;
    scenario::CallResult fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site) override;
    std::optional<std::string> startFromSnapshot(const snapshot::Snapshot& snap) override;
    void setRecordedResult(std::optional<std::int64_t> result) override { m_recorded = result; }
    scenario::CallResult exec(scenario::ProcIndex proc, const snapshot::Snapshot& snap, scenario::SourceLoc site) override;
    scenario::CallResult spawn(scenario::ProcIndex parent, scenario::ProcIndex child, const snapshot::Snapshot& snap,
                               scenario::SourceLoc site) override;
    std::vector<ObservedProcess> observe() override;
    void finish() override { }

    const World& world() const { return m_world; }
    const std::vector<OpTrace>& traces() const { return m_history ? m_history->traces() : m_traces; }

private:
    World m_world;
    std::vector<OpTrace> m_traces;
    bool m_keepHistory = false;
    std::size_t m_checkpointEvery = History::kDefaultCheckpointEvery;
    // A call ended in a run-time error after changing the world: History must keep the
    // world after the next operation, as running operations again would not see the change.
    bool m_worldChangedUnrecorded = false;
    std::unique_ptr<History> m_history;
    std::unique_ptr<World> m_initial; // set by startFrom()
    std::optional<std::int64_t> m_recorded; // the recorded result of the next call (recordings)

    // exec/spawn: process `proc` becomes the snapshot's (a trace without steps: History never
    // runs it again, it keeps the world after it).
    scenario::CallResult replaceWithSnapshot(scenario::ProcIndex proc, scenario::ProcIndex parent,
                                             const snapshot::Snapshot& snap, scenario::SourceLoc site,
                                             const std::string& text, bool keepPid);
};

} // namespace vmalab
