#include "core/host/host_facts.h"
#include "core/host/sys_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <sys/resource.h>

namespace vmalab::host {
namespace {

TEST(ParseKernelConfig, ReadsSetAndUnsetOptions)
{
    const auto c = parseKernelConfig("#\n# Memory Management options\n#\nCONFIG_KSM=y\n"
                                     "# CONFIG_MEM_SOFT_DIRTY is not set\nCONFIG_LOG_BUF_SHIFT=17\n"
                                     "CONFIG_DEFAULT_HOSTNAME=\"(none)\"\nCONFIG_USERFAULTFD=m");
    EXPECT_EQ(c.at("CONFIG_KSM"), "y");
    EXPECT_EQ(c.at("CONFIG_MEM_SOFT_DIRTY"), "n");
    EXPECT_EQ(c.at("CONFIG_LOG_BUF_SHIFT"), "17");
    EXPECT_EQ(c.at("CONFIG_DEFAULT_HOSTNAME"), "\"(none)\"");
    EXPECT_EQ(c.at("CONFIG_USERFAULTFD"), "m");
    EXPECT_EQ(c.count("CONFIG_ANON_VMA_NAME"), 0u);
}

TEST(ParseThpEnabled, TakesTheBracketedChoice)
{
    EXPECT_EQ(parseThpEnabled("always [madvise] never"), MachineConfig::Thp::Madvise);
    EXPECT_EQ(parseThpEnabled("[always] madvise never"), MachineConfig::Thp::Always);
    EXPECT_EQ(parseThpEnabled("always madvise [never]"), MachineConfig::Thp::Never);
    EXPECT_EQ(parseThpEnabled("always madvise never"), std::nullopt);
    EXPECT_EQ(parseThpEnabled("[inherit] always"), std::nullopt);
}

TEST(SwapsListDevice, NeedsALineBelowTheHeader)
{
    const char* headerOnly = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";
    EXPECT_FALSE(swapsListDevice(headerOnly));
    EXPECT_FALSE(swapsListDevice(""));
    EXPECT_TRUE(swapsListDevice(std::string(headerOnly) + "/dev/vdb  partition\t1048572\t0\t-2\n"));
}

TEST(MeminfoKb, FindsExactField)
{
    const char* text = "MemTotal:       24563412 kB\nMemFree:         1234 kB\nSwapTotal:             0 kB\n";
    EXPECT_EQ(meminfoKb(text, "MemTotal"), 24563412u);
    EXPECT_EQ(meminfoKb(text, "SwapTotal"), 0u);
    EXPECT_EQ(meminfoKb(text, "Mem"), std::nullopt);
}

TEST(ReadMachineConfig, ReadsThisHost)
{
    std::vector<std::string> notes;
    const MachineConfig m = readMachineConfig(&notes);
    for (const auto& n : notes)
        std::printf("note: %s\n", n.c_str());
    EXPECT_EQ(m.kernelRelease, kernelRelease());
    EXPECT_GT(m.memTotalKb, 0u);
    struct rlimit rl;
    ASSERT_EQ(::getrlimit(RLIMIT_STACK, &rl), 0);
    if (rl.rlim_cur != RLIM_INFINITY) {
        EXPECT_EQ(m.stackRlimit, rl.rlim_cur);
    }
    int major = 0, minor = 0;
    ASSERT_EQ(std::sscanf(m.kernelRelease.c_str(), "%d.%d", &major, &minor), 2);
    // MADV_GUARD_INSTALL exists since 6.13.
    EXPECT_EQ(m.guardRegions, major > 6 || (major == 6 && minor >= 13));
    EXPECT_GT(m.maxMapCount, 0u);
}

} // namespace
} // namespace vmalab::host
