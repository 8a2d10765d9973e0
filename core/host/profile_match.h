#pragma once

#include <string>
#include <vector>

namespace vmalab::host {

// One probe scenario run on the kernel and on the model under one profile.
struct ProfileMatch
{
    std::string probe;   // the probe's name ("P6 fork of a uffd-wp memfd VMA")
    std::string profile; // a built-in profile name
    bool matches = false;
    std::vector<std::string> differences; // `check` lines where it does not match
};

// Runs the probe scenarios for the profile rows of kernel-model.md §17 that this kernel can
// run (P1, P3, P4, P6, P7) on the kernel (replay) and on the model under every built-in
// profile, on this machine's configuration. A probe the kernel cannot run (a missing
// feature) is left out.
std::vector<ProfileMatch> matchProfiles(std::vector<std::string>* notes);

// The report `vmalab-cli probe` prints after the direct probes: a table of probes by profiles
// and the profiles that match the kernel on every probe.
std::string profileMatchReport();

} // namespace vmalab::host
