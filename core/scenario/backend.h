#pragma once

#include "core/observed.h"
#include "core/scenario/ast.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmalab::scenario {

// A call argument: numbers for everything but the name strings of memfd_create,
// open_file and prctl.
struct Value
{
    std::int64_t num = 0;
    std::string str;
    bool isString = false;
};

// Index of a scenario process in creation order; main is 0.
using ProcIndex = int;

struct CallResult
{
    std::int64_t value = 0;               // raw syscall result or -errno; touch: 0, SIGSEGV or SIGBUS
    std::optional<std::string> runtimeError; // set: the run stops with FILE:LINE:COL: error: this
};

// Where the interpreter sends calls: the model engine or the real kernel.
class Backend
{
public:
    virtual ~Backend() = default;

    // Name of the environment, for messages: "model (profile v6.18)", "kernel 6.18.44".
    virtual std::string describe() const = 0;

    // require "FEATURE": nullopt when available, else the reason it is missing.
    virtual std::optional<std::string> missingFeature(const std::string& feature) const = 0;

    // Called once before the first statement runs, with the scenario (for narration/locations).
    virtual std::optional<std::string> start() = 0;

    // One call (any name from the contract's call table except fork) in process `proc`.
    // `site` is where the call is written, for traces.
    virtual CallResult call(ProcIndex proc, const std::string& name, const std::vector<Value>& args,
                            SourceLoc site) = 0;

    // fork() in `parent`; on success the new process gets index `child` (the next free index)
    // and value is its pid (invented by the model).
    virtual CallResult fork(ProcIndex parent, ProcIndex child, SourceLoc site) = 0;

    // Recordings (docs/recording.md). The model implements these; the defaults refuse, with
    // the reason as a run-time error.
    // start_from: the world starts as the snapshot's processes (called before start()).
    virtual std::optional<std::string> startFromSnapshot(const snapshot::Snapshot&) { return recordingRefusal(); }
    // The result the recording gave the next call() or fork() (nullopt: none given), so the
    // model can place a mapping where the kernel did and give a fork child its pid.
    virtual void setRecordedResult(std::optional<std::int64_t>) { }
    // exec("FILE"): the process's address space becomes the snapshot's process.
    virtual CallResult exec(ProcIndex proc, const snapshot::Snapshot&, SourceLoc)
    {
        (void)proc;
        return { 0, recordingRefusal() };
    }
    // NAME = spawn("FILE"): a new process `child` whose address space is the snapshot's.
    virtual CallResult spawn(ProcIndex parent, ProcIndex child, const snapshot::Snapshot&, SourceLoc)
    {
        (void)parent;
        (void)child;
        return { 0, recordingRefusal() };
    }

    // The state of every process after the run, in creation order (names filled by the caller).
    virtual std::vector<ObservedProcess> observe() = 0;

    // Called once after observe(): end processes, remove temporary files.
    virtual void finish() = 0;

protected:
    std::string recordingRefusal() const
    {
        return describe() + " cannot run a recording's start_from, exec or spawn; check a recording with "
                            "'vmalab-cli check-recording' or run it on the model";
    }
};

} // namespace vmalab::scenario
