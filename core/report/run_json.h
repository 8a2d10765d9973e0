#pragma once

#include <string>

namespace vmalab::scenario {
struct RunOutcome;
} // namespace vmalab::scenario

namespace vmalab::report {

// The whole outcome of a run as one JSON document (schema in docs/output-formats.md,
// "json"): processes with every VMA field, page runs and stats, variables, expects,
// exit status, errors and notes. Addresses and values are hex strings, since JSON
// readers often hold numbers as doubles.
std::string runJson(const scenario::RunOutcome& run, bool modelRun);

} // namespace vmalab::report
