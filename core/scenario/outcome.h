#pragma once

#include "core/observed.h"
#include "core/result.h"
#include "core/scenario/ast.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vmalab::scenario {

enum class VarKind
{
    Plain,
    Handle, // value of memfd_create, open_file, userfaultfd: compared only when an error
    Pid,    // value of fork(): compared only when an error
};

struct VarRecord
{
    std::string name;
    std::int64_t value = 0;
    VarKind kind = VarKind::Plain;
};

struct ExpectRecord
{
    SourceLoc loc;
    std::string process;
    std::string lhsText;
    std::string rhsText;
    std::int64_t lhs = 0;
    std::int64_t rhs = 0;
    bool equal = true; // the operator: == or !=
    bool passed = false;
};

// Everything one run (model or replay) produced; `check` compares two of these.
struct RunOutcome
{
    int exitStatus = 0; // 0, 1 (failed expect), 2 (malformed / run-time error), 77 (skipped)
    std::string skipReason;
    Diagnostics errors;                 // run-time errors (at most one: the run stops)
    std::vector<std::string> notes;     // printed to stderr
    std::vector<VarRecord> vars;        // in order of first assignment; last value wins
    std::vector<ExpectRecord> expects;  // in execution order
    std::vector<ObservedProcess> processes; // creation order
    // Recordings: calls whose result differs from the recorded one ("model returned X, the
    // kernel returned Y"); each is also in `notes` as FILE:LINE:COL: divergence: ...
    Diagnostics divergences;
    bool ran = false; // false when skipped or malformed before running
};

} // namespace vmalab::scenario
