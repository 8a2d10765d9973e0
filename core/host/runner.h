#pragma once

#include "core/engine/trace.h"
#include "core/profile.h"
#include "core/result.h"
#include "core/scenario/ast.h"
#include "core/scenario/outcome.h"

#include <string>
#include <vector>

namespace vmalab::host {

// Reads and parses a scenario file. Problems come back as FILE:LINE:COL diagnostics.
Result<scenario::Scenario> loadScenarioFile(const std::string& path);

// A profile by name: "host" (the running kernel's configuration and the behaviour the probe
// finds) or a built-in behaviour profile on the running machine's configuration.
Result<Profile> resolveProfile(const std::string& name, std::vector<std::string>* notes = nullptr);

struct ModelRun
{
    scenario::RunOutcome outcome;
    std::vector<OpTrace> traces;
};

ModelRun runOnModel(const scenario::Scenario& scenario, const Profile& profile);
scenario::RunOutcome runOnKernel(const scenario::Scenario& scenario);

} // namespace vmalab::host
