#pragma once

#include "core/result.h"
#include "core/scenario/ast.h"
#include "core/scenario/backend.h"
#include "core/scenario/outcome.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmalab::scenario {

// Watches a run, e.g. to print narration and steps. Every hook is optional.
class StepListener
{
public:
    virtual ~StepListener() = default;
    // Before each Assign, Call, Expect and In statement runs (profile/require do not run);
    // `proc` is the process it runs in (for In: the process it is written in).
    virtual void beforeStatement(const Stmt&, ProcIndex) { }
    // After each call returned, fork() included; `stmt` is the statement the call is part of.
    virtual void afterCall(const Stmt&, const std::string& call, std::int64_t value)
    {
        (void)call;
        (void)value;
    }
};

// Bounds on what one run may cost, so a hostile or mistaken scenario is refused or stopped
// with a FILE:LINE:COL error instead of running for hours or exhausting memory (on the model,
// and on the real kernel in replay). docs/limits.md lists them; names as in parseLimits().
struct RunLimits
{
    // Calls a scenario may make. The language has no loops, so this is counted before running.
    std::uint64_t maxCalls = 100000;
    // Processes, main included: each fork() line adds one.
    std::uint64_t maxProcesses = 256;
    // Pages all calls that fault or populate (touch, MAP_POPULATE/MAP_LOCKED, mlock, mlock2,
    // MADV_POPULATE_*, MADV_WILLNEED, a growing mremap) may cover together, counted from their
    // length arguments before each call runs (2^22 pages: 16 GiB).
    std::uint64_t maxFaultPages = std::uint64_t { 1 } << 22;
    // Size of a scenario file a loader reads (checked by the loaders, before parsing).
    std::uint64_t maxFileBytes = std::uint64_t { 4 } << 20;
};

// The limits' names, in RunLimits order: max-calls, max-processes, max-fault-pages, max-file-bytes.
const std::vector<std::string>& limitNames();

// Applies a comma-separated list of NAME=VALUE (VALUE a number, with optional K/M/G suffix,
// binary) to `limits`; an error names the bad item.
Result<RunLimits> parseLimits(const std::string& spec, RunLimits limits = {});

// The defaults, overridden by the environment variable VMALAB_LIMITS (parseLimits syntax) where
// it is set and valid; what runScenario() uses when given no limits.
RunLimits defaultRunLimits();

// Runs a scenario against a backend, as the contract's run semantics say: the scenario is
// checked (checkScenario; problems give exit 2 and nothing runs), then each `require` is asked
// of the backend (a missing one gives exit 77 and nothing runs), then start(), the statements
// in order, observe() and finish(). A scenario over `limits` is refused before anything runs,
// or stopped at the call that would pass one (exit 2 either way).
RunOutcome runScenario(const Scenario& scenario, Backend& backend, StepListener* listener = nullptr);
RunOutcome runScenario(const Scenario& scenario, Backend& backend, StepListener* listener, const RunLimits& limits);

// The string of the scenario's `profile` statement, if it has one.
std::optional<std::string> scenarioProfile(const Scenario& scenario);

// The features of its `require` statements, in order.
std::vector<std::string> scenarioRequires(const Scenario& scenario);

// "0x..." in lowercase; a negative value as its 64-bit two's complement.
std::string formatHex(std::int64_t value);

// A call's result for messages: -ENAME for an error, decimal when small, else hex.
std::string formatResult(std::int64_t value);
// `FILE:LINE:COL: divergence: MESSAGE` (a recorded result the model did not reproduce).
std::string formatDivergence(const Diagnostic& divergence);

// The contract's line for a failed expect:
// `[NAME: ]FILE:LINE: expect failed: LHS == RHS (0xVALUE vs 0xVALUE)`, NAME when not main.
std::string formatExpectFailure(const ExpectRecord& record, const std::string& file);

} // namespace vmalab::scenario
