#pragma once

#include "core/scenario/backend.h"

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

// Replay: runs a scenario on the running kernel, one real process ("agent") per scenario
// process, driven over a socket by this controlling process (docs/replay.md).
namespace vmalab::host {

class ReplayBackend : public scenario::Backend
{
public:
    ReplayBackend();
    ~ReplayBackend() override; // calls finish() if the caller did not
    ReplayBackend(const ReplayBackend&) = delete;
    ReplayBackend& operator=(const ReplayBackend&) = delete;

    std::string describe() const override; // "kernel 6.18.44-..."
    std::optional<std::string> missingFeature(const std::string& feature) const override;
    std::optional<std::string> start() override;
    scenario::CallResult call(scenario::ProcIndex proc, const std::string& name,
        const std::vector<scenario::Value>& args, scenario::SourceLoc site) override;
    scenario::CallResult fork(scenario::ProcIndex parent, scenario::ProcIndex child, scenario::SourceLoc site) override;
    std::vector<ObservedProcess> observe() override;
    void finish() override;

    // The real pid of a scenario process, -1 if there is none (tests, `--trace`).
    pid_t pidOf(scenario::ProcIndex proc) const;
    // How long a call may take before it counts as waiting for a userfaultfd monitor
    // (the contract says 2 s; tests may shorten it).
    void setBlockTimeout(std::chrono::milliseconds t) { m_blockTimeout = t; }

private:
    struct Agent
    {
        pid_t pid = -1;
        int channel = -1; // controller's end of the agent's socket
        bool alive = false;
        std::string ended; // why it is no longer alive, for later calls
    };
    // The controller's own copy of a userfaultfd whose scenario enabled events, read while
    // any agent call is pending; closed when the last scenario descriptor for it is closed.
    struct UffdWatch
    {
        int fd = -1;
        ~UffdWatch();
    };
    struct Exchange; // one request/reply round trip

    scenario::CallResult roundTrip(scenario::ProcIndex proc, Exchange& ex);
    bool pumpUffdEvents(int timeoutMs, int channel);
    std::string agentGone(scenario::ProcIndex proc);
    std::string blockedMessage(scenario::ProcIndex proc, const Exchange& ex);
    void endAgent(Agent& a);
    scenario::CallResult openFile(scenario::ProcIndex proc, const std::vector<scenario::Value>& args);
    void trackHandles(scenario::ProcIndex proc, const std::string& name, const std::vector<scenario::Value>& args,
        std::int64_t value);

    std::vector<Agent> m_agents; // index = ProcIndex
    std::map<std::pair<scenario::ProcIndex, std::int64_t>, std::shared_ptr<UffdWatch>> m_uffds;
    std::vector<int> m_forkedUffds; // children's new uffds from UFFD_EVENT_FORK, kept until finish()
    std::vector<std::string> m_tempFiles;
    std::vector<std::string> m_tempDirs;
    std::chrono::milliseconds m_blockTimeout { 2000 };
    bool m_started = false;
    bool m_finished = false;
};

} // namespace vmalab::host
