#include "core/host/runner.h"

#include "core/engine/model_backend.h"
#include "core/host/host_facts.h"
#include "core/host/probe.h"
#include "core/host/replay.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vmalab::host {

Result<scenario::Scenario> loadScenarioFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Diagnostic { path, 0, 0, std::string("cannot open: ") + std::strerror(errno) };
    std::stringstream text;
    text << in.rdbuf();
    if (in.bad())
        return Diagnostic { path, 0, 0, std::string("cannot read: ") + std::strerror(errno) };
    return scenario::parseScenario(text.str(), path);
}

Result<Profile> resolveProfile(const std::string& name, std::vector<std::string>* notes)
{
    const MachineConfig machine = readMachineConfig(notes);
    if (name == "host")
        return hostProfile(machine, notes);
    if (auto p = builtinProfile(name, machine))
        return *p;
    std::string known = "host";
    for (const std::string& n : builtinProfileNames())
        known += ", " + n;
    return Diagnostic { "", 0, 0, "unknown profile \"" + name + "\" (known: " + known + ")" };
}

ModelRun runOnModel(const scenario::Scenario& scenario, const Profile& profile)
{
    ModelBackend backend(profile);
    ModelRun run;
    run.outcome = scenario::runScenario(scenario, backend);
    run.traces = backend.traces();
    return run;
}

scenario::RunOutcome runOnKernel(const scenario::Scenario& scenario)
{
    ReplayBackend backend;
    return scenario::runScenario(scenario, backend);
}

} // namespace vmalab::host
