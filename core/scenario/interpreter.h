#pragma once

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

// Runs a scenario against a backend, as the contract's run semantics say: the scenario is
// checked (checkScenario; problems give exit 2 and nothing runs), then each `require` is asked
// of the backend (a missing one gives exit 77 and nothing runs), then start(), the statements
// in order, observe() and finish().
RunOutcome runScenario(const Scenario& scenario, Backend& backend, StepListener* listener = nullptr);

// The string of the scenario's `profile` statement, if it has one.
std::optional<std::string> scenarioProfile(const Scenario& scenario);

// The features of its `require` statements, in order.
std::vector<std::string> scenarioRequires(const Scenario& scenario);

// "0x..." in lowercase; a negative value as its 64-bit two's complement.
std::string formatHex(std::int64_t value);

// The contract's line for a failed expect:
// `[NAME: ]FILE:LINE: expect failed: LHS == RHS (0xVALUE vs 0xVALUE)`, NAME when not main.
std::string formatExpectFailure(const ExpectRecord& record, const std::string& file);

} // namespace vmalab::scenario
