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

    // Keep every state for time travel (History); off by default.
    void keepHistory(bool on) { m_keepHistory = on; }
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
    std::vector<ObservedProcess> observe() override;
    void finish() override { }

    const World& world() const { return m_world; }
    const std::vector<OpTrace>& traces() const { return m_history ? m_history->traces() : m_traces; }

private:
    World m_world;
    std::vector<OpTrace> m_traces;
    bool m_keepHistory = false;
    std::unique_ptr<History> m_history;
    std::unique_ptr<World> m_initial; // set by startFrom()
};

} // namespace vmalab
