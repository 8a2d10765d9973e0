#include "core/host/probe.h"
#include "core/host/sys_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

namespace vmalab::host {
namespace {

TEST(Probe, NamesABuiltinBehaviour)
{
    std::vector<std::string> notes;
    const std::string name = probeBehaviourName(&notes);
    for (const auto& n : notes)
        std::printf("probe: %s\n", n.c_str());
    std::printf("this host behaves like %s\n", name.c_str());
    const auto names = builtinProfileNames();
    ASSERT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
    // The development host (kernel-model.md) carries the series and the fix.
    if (kernelRelease().rfind("6.18.44", 0) == 0) {
        EXPECT_EQ(name, "maybe-guard-fixed");
    }
}

TEST(Probe, HostProfileTakesMachineAndBehaviour)
{
    MachineConfig m;
    m.readAheadKb = 128;
    m.swap = true;
    const Profile p = hostProfile(m);
    EXPECT_EQ(p.name, "host");
    ASSERT_EQ(p.description.rfind("host: behaves like ", 0), 0u) << p.description;
    const std::string behaviour = p.description.substr(std::string("host: behaves like ").size());
    const auto builtin = builtinProfile(behaviour);
    ASSERT_TRUE(builtin) << behaviour;
    EXPECT_EQ(p.behaviour.hasMaybeGuard, builtin->behaviour.hasMaybeGuard);
    EXPECT_EQ(p.behaviour.guardPreparesAnonVmaForFiles, builtin->behaviour.guardPreparesAnonVmaForFiles);
    EXPECT_EQ(p.behaviour.copyOnFork, builtin->behaviour.copyOnFork);
    EXPECT_EQ(p.machine.readAheadKb, 128u);
    EXPECT_TRUE(p.machine.swap);
}

TEST(Probe, ReportEndsWithTheConclusion)
{
    const std::string report = probeReport();
    EXPECT_EQ(report.rfind("kernel " + kernelRelease() + "\n", 0), 0u) << report;
    EXPECT_NE(report.find("behaves like: " + probeBehaviourName() + "\n"), std::string::npos) << report;
}

} // namespace
} // namespace vmalab::host
