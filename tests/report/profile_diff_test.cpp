// diff-profiles: the same scenario under two profiles, compared after every operation.
#include "core/report/profile_diff.h"
#include "core/scenario/parser.h"

#include <gtest/gtest.h>

namespace vmalab::report {
namespace {

// kernel-model.md §17 P6: fork of a uffd-wp shmem VMA without EVENT_FORK.
constexpr const char* p6 = R"(arena_len = 512 * page_size
arena = mmap(NULL, arena_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
fd = memfd_create("p6", 0)
ftruncate(fd, 8 * page_size)
m = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0)
touch(m, 4 * page_size, PROT_WRITE)
u = userfaultfd(0)
uffdio_api(u, UFFD_FEATURE_SIGBUS)
uffdio_register(u, m, 8 * page_size, UFFDIO_REGISTER_MODE_WP)
child = fork()
in child { touch(m + 6 * page_size, page_size, PROT_WRITE) }
munmap(m, 8 * page_size)
)";

ProfileDiff diff(const char* a, const char* b)
{
    auto s = scenario::parseScenario(p6, "p6.vlab");
    EXPECT_TRUE(s);
    return diffProfiles(*s, *builtinProfile(a), *builtinProfile(b));
}

bool mentions(const ProfileDivergence& d, const std::string& text)
{
    for (const std::string& l : d.differences)
        if (l.find(text) != std::string::npos)
            return true;
    return false;
}

TEST(ProfileDiff, TheSeriesAsPostedCopiesAtForkAndTheDifferenceLastsInTheChild)
{
    const ProfileDiff d = diff("v6.18", "maybe-guard");
    EXPECT_EQ(d.ops, 11u);
    ASSERT_FALSE(d.divergences.empty());
    EXPECT_EQ(d.divergences.front().call, "fork()");
    EXPECT_EQ(d.divergences.front().op, 8u);
    EXPECT_TRUE(mentions(d.divergences.front(), "fork.ptes_copied: v6.18 0, maybe-guard 4"));
    EXPECT_TRUE(mentions(d.divergences.front(), "page state: v6.18 none, maybe-guard present"));
    // The parent's munmap does not touch the child's copies: the divergence is still there.
    EXPECT_FALSE(d.divergences.back().differences.empty());
}

TEST(ProfileDiff, TheFixAndV618AgreeOnThisScenario)
{
    const ProfileDiff d = diff("v6.18", "maybe-guard-fixed");
    EXPECT_EQ(d.ops, 11u);
    EXPECT_TRUE(d.divergences.empty());
    EXPECT_NE(formatProfileDiff(d).find("no difference after any operation"), std::string::npos);
}

} // namespace
} // namespace vmalab::report
