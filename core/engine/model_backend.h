#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"
#include "core/scenario/backend.h"

#include <vector>

namespace vmalab {

// The interpreter's backend that runs every call on the model engine and keeps the trace.
class ModelBackend : public scenario::Backend
{
public:
    explicit ModelBackend(Profile profile);

    std::string describe() const override;
    std::optional<std::string> missingFeature(const std::string& feature) const override;
    std::optional<std::string> start() override;
    scenario::CallResult call(scenario::ProcIndex proc, const std::string& name, const std::vector<scenario::Value>& args,
                              scenario::SourceLoc site) override;
    scenario::CallResult fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site) override;
    std::vector<ObservedProcess> observe() override;
    void finish() override { }

    const World& world() const { return m_world; }
    const std::vector<OpTrace>& traces() const { return m_traces; }

private:
    World m_world;
    std::vector<OpTrace> m_traces;
};

} // namespace vmalab
