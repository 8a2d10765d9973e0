#include "core/host/runner.h"

#include "core/engine/model_backend.h"
#include "core/host/host_facts.h"
#include "core/host/probe.h"
#include "core/host/replay.h"
#include "core/scenario/interpreter.h"
#include "core/scenario/parser.h"
#include "core/scenario/recording_files.h"

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
    auto parsed = scenario::parseScenario(text.str(), path);
    if (!parsed)
        return parsed;
    // A recording names snapshot files beside it (docs/recording.md).
    const auto slash = path.rfind('/');
    const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
    Diagnostics missing = scenario::loadRecordingFiles(*parsed, dir, [](const std::string& file, std::string* error) {
        std::ifstream f(file, std::ios::binary);
        std::stringstream bytes;
        bytes << f.rdbuf();
        if (!f || f.bad()) {
            *error = std::strerror(errno);
            return std::optional<std::string>();
        }
        return std::optional<std::string>(bytes.str());
    });
    if (!missing.empty())
        return missing;
    return parsed;
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
