#pragma once

#include "core/profile.h"

#include <string>
#include <vector>

// Which built-in behaviour profile the running kernel shows (kernel-model.md §17), found by
// running two small experiments on it. Nothing is cached: each call probes again.
//
// (a) P1: an anonymous mapping gets MADV_GUARD_INSTALL on one page. If smaps shows `gu` on
//     its VMA, the VM_MAYBE_GUARD series is present; otherwise the kernel is plain v6.18.
// (b) P6: a 4-page memfd mapped MAP_SHARED read-write, every page written, registered with a
//     userfaultfd (features 0) in write-protect mode, one page write-protected, then fork().
//     The child's VMA loses `uw` (no UFFD_FEATURE_EVENT_FORK) and has no anon_vma, so the
//     child's pagemap shows whether vma_needs_copy() looked at the source VMA (pages copied:
//     present → "maybe-guard") or the destination (nothing copied: none →
//     "maybe-guard-fixed").
namespace vmalab::host {

// The profile named "host": the machine configuration given and the behaviour of the
// built-in profile the probe found; description "host: behaves like NAME".
Profile hostProfile(const MachineConfig& machine, std::vector<std::string>* notes = nullptr);

// Just the name of the built-in profile the kernel behaves like.
std::string probeBehaviourName(std::vector<std::string>* notes = nullptr);

// Every finding of the probe, one a line, for `vmalab-cli probe`.
std::string probeReport();

} // namespace vmalab::host
