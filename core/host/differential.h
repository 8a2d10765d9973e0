#pragma once

#include "core/profile.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vmalab::host {

// The random differential tester (docs/differential-testing.md): random operation
// sequences inside a 2 MiB window, run on the model and replayed on the kernel; a sequence
// whose outcomes differ is shrunk to a minimal scenario and written out.
struct FuzzOptions
{
    std::uint64_t firstSeed = 1;
    std::uint64_t count = 100;
    unsigned opsPerSequence = 12;
    std::string outDir = "fuzz-failures";
    // Shrinking costs hundreds of runs; past this many failures the rest are only written
    // out as generated.
    unsigned maxShrink = 3;
    Profile profile;
    // Also generate MADV_COLLAPSE (its own random stream: other operations stay as they were).
    bool collapse = true;
};

struct FuzzSummary
{
    std::uint64_t ran = 0;
    std::uint64_t clean = 0;
    std::uint64_t failed = 0;
    std::uint64_t skipped = 0;
    std::vector<std::string> failureFiles;
};

// The scenario text of sequence `seed` (deterministic).
std::string generateSequence(std::uint64_t seed, unsigned ops, bool collapse = true);

// Differences between model and kernel for one scenario text; empty when they agree.
// `signature` gets the kind of difference (for shrinking); a run-time error on one side
// only counts as a difference too.
std::vector<std::string> compareOnBoth(
    const std::string& text, const Profile& profile, std::string* signature, bool* skipped = nullptr);

// Removes statements one at a time while the same kind of difference remains.
std::string shrinkSequence(const std::string& text, const Profile& profile, const std::string& signature);

FuzzSummary runDifferential(const FuzzOptions& options, const std::function<void(const std::string&)>& log);

} // namespace vmalab::host
