#pragma once

#include "core/result.h"
#include "core/scenario/ast.h"
#include "core/scenario/outcome.h"

#include <cstdint>
#include <string>
#include <vector>

namespace vmalab::report {

// One way the model's end state differs from the kernel's for a process of a recording.
struct RecordingDifference
{
    std::string kind; // missing, extra, perms, flags, name, offset, pages
    std::string line; // e.g. "0x7f00-0x7f10: flags: model lacks ac, kernel lacks -"
};

struct RecordingProcessCheck
{
    std::string name; // scenario name: main, p4243
    std::int64_t pid = 0; // the pid in the recording
    bool inKernel = true; // recorded_end holds the process
    std::size_t kernelVmas = 0;
    std::size_t modelVmas = 0;
    std::size_t exact = 0; // kernel VMAs the model has with every compared field equal
    std::vector<RecordingDifference> differences; // grouped by kind, in the order above
};

// `check-recording`: the model's run of a recording against its recorded_end snapshot.
struct RecordingCheck
{
    int exitStatus = 0; // 0 all match, 1 differences or divergences, 2 errors
    Diagnostics errors;
    std::vector<RecordingProcessCheck> processes;
    std::vector<std::string> divergences; // FILE:LINE:COL: divergence: ...
    std::size_t notModelled = 0; // `// not modelled:` comment lines in the recording
};

// Compares each model process with the recorded_end process of the same pid (main: the start
// snapshot's first pid; pN: pid N): VMAs by range (perms, offset, dev/inode, name, VmFlags),
// and page states only in the ranges the recording's observe() statements named.
// `text` is the recording's source (for the `// not modelled:` count).
RecordingCheck checkRecording(
    const scenario::Scenario& recording, const std::string& text, const scenario::RunOutcome& model);

std::string formatRecordingCheck(const RecordingCheck& check);
std::string recordingCheckJson(const RecordingCheck& check);

} // namespace vmalab::report
