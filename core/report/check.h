#pragma once

#include "core/observed.h"
#include "core/report/window.h"

#include <optional>
#include <string>
#include <vector>

namespace vmalab::scenario {
struct RunOutcome;
} // namespace vmalab::scenario

namespace vmalab::report {

// One difference `check` found. Its line reads
//   WHERE: FIELD: FIRST_LABEL FIRST, SECOND_LABEL SECOND[ (DETAIL)]
// e.g. `main +0x10000: vma perms: model rw-p, kernel r--p` (docs/output-formats.md).
struct Difference
{
    std::string process; // "" for variables
    std::optional<Addr> offset; // from each side's arena, for VMA and page differences
    std::string field; // "vma perms", "page state", "var", "expect", ... (greppable)
    std::string first; // the value on the first (model) side
    std::string second; // the value on the second (kernel) side
    std::string line; // the whole printed line
};

// How the two sides are named in lines and notes, and the scenario file for messages.
struct CheckOptions
{
    std::string file;
    std::string firstLabel = "model";
    std::string secondLabel = "kernel";
};

struct CheckResult
{
    int exitStatus = 0; // 0 equal; 1 differences or a failed expect; 2 error or no window; 77 skipped
    std::vector<Difference> differences;
    // Everything else `check` prints to stderr, in order: each side's notes, run-time
    // errors and failed expects (prefixed by the side's label), `skipped: REASON`, and
    // check's own messages. The CLI prints these and nothing else from the two outcomes.
    std::vector<std::string> notes;

    std::vector<std::string> lines() const;
};

// The contract's `check` (scenario-language.md, "The window and check"): `first` is the
// model run, `second` the kernel run.
CheckResult compareRuns(
    const scenario::RunOutcome& first, const scenario::RunOutcome& second, const CheckOptions& options = {});

// The building blocks, for the differential tester: each compares what lies in the given
// windows, addresses rebased on each window's start.
std::vector<Difference> processDifferences(const ObservedProcess& first, const Window& firstWindow,
    const ObservedProcess& second, const Window& secondWindow, const CheckOptions& options = {});
std::vector<Difference> varDifferences(const scenario::RunOutcome& first, const Window& firstWindow,
    const scenario::RunOutcome& second, const Window& secondWindow, const CheckOptions& options = {});
std::vector<Difference> expectDifferences(
    const scenario::RunOutcome& first, const scenario::RunOutcome& second, const CheckOptions& options = {});
// All three, processes matched by name in creation order (extra processes on either side
// are reported as `process` differences).
std::vector<Difference> windowDifferences(const scenario::RunOutcome& first, const Window& firstWindow,
    const scenario::RunOutcome& second, const Window& secondWindow, const CheckOptions& options = {});

// A stable summary of what kind of difference this is, for a shrinker: the sorted,
// distinct field names joined by ';', e.g. "page state;vma flags". "" when there is none.
std::string differenceSignature(const std::vector<Difference>& differences);

// The name `check` compares: a regular file's base name, every other name as it is.
// Regular files are names starting with '/' other than /memfd:, /dev/zero and /SYSV.
std::string comparableName(const std::string& name);

} // namespace vmalab::report
