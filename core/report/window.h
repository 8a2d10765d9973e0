#pragma once

#include "core/result.h"
#include "core/types.h"

#include <cstdint>
#include <optional>
#include <string>

namespace vmalab::scenario {
struct RunOutcome;
struct VarRecord;
} // namespace vmalab::scenario

namespace vmalab::report {

// The range a `check` scenario reserves with the reserved variables `arena` and
// `arena_len` (scenario-language.md, "The window and check"). Both sides of a
// comparison have one; addresses are compared as offsets from `start`.
struct Window
{
    Addr start = 0;
    Addr len = 0;

    Addr end() const { return start + len; }
    bool contains(Addr a) const { return a >= start && a - start < len; }
};

// The last value of variable `name`, or nullptr when the run never assigned it.
const scenario::VarRecord* findVar(const scenario::RunOutcome& run, const std::string& name);

// The window of a run from its `arena`/`arena_len` variables. Fails (message without a
// file name) when either is missing, when `arena` holds an error (the reservation
// failed) or when `arena_len` is not positive.
Result<Window> findWindow(const scenario::RunOutcome& run);

// True for the values a raw syscall returns on failure: -4095 ... -1.
constexpr bool isErrorValue(std::int64_t v)
{
    return v >= -4095 && v <= -1;
}

} // namespace vmalab::report
