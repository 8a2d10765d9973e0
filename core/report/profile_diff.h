#pragma once

#include "core/profile.h"
#include "core/scenario/ast.h"

#include <string>
#include <vector>

namespace vmalab::report {

// One operation after which two profiles' address spaces differ in a new way.
struct ProfileDivergence
{
    std::size_t op = 0;   // 0-based operation index
    std::string process;  // who made the call
    std::string call;     // as the trace prints it
    int line = 0;         // where it is written
    std::vector<std::string> differences; // `check`-style lines, first profile's value first
};

struct ProfileDiff
{
    std::string first;  // profile names
    std::string second;
    std::size_t ops = 0; // operations both runs made
    std::vector<ProfileDivergence> divergences;
    std::vector<std::string> notes; // run-time errors, one run stopping early
};

// Runs the scenario on the model under both profiles, with history, and compares the two
// address spaces after every operation (VMAs, flags, pages, smaps fields, stats, return
// values). An operation is reported when the set of differences changes after it, so a
// divergence shows where it starts and where it ends.
ProfileDiff diffProfiles(const scenario::Scenario& scenario, const Profile& first, const Profile& second);

std::string formatProfileDiff(const ProfileDiff& diff);

} // namespace vmalab::report
