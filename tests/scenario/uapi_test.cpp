#include "core/scenario/uapi.h"

#include <gtest/gtest.h>

#include <set>

namespace vmalab::scenario {
namespace {

struct ConstantCase
{
    const char* name;
    std::int64_t value;
};

// Values of Linux 6.18 on x86-64; several are newer than the build host's headers.
const ConstantCase kConstants[] = {
    { "page_size", 4096 },
    { "NULL", 0 },
    { "PROT_NONE", 0 },
    { "PROT_READ", 1 },
    { "PROT_WRITE", 2 },
    { "PROT_EXEC", 4 },
    { "PROT_SEM", 8 },
    { "PROT_GROWSDOWN", 0x01000000 },
    { "PROT_GROWSUP", 0x02000000 },
    { "MAP_SHARED", 1 },
    { "MAP_PRIVATE", 2 },
    { "MAP_SHARED_VALIDATE", 3 },
    { "MAP_DROPPABLE", 8 },
    { "MAP_TYPE", 0x0f },
    { "MAP_FIXED", 0x10 },
    { "MAP_ANONYMOUS", 0x20 },
    { "MAP_ANON", 0x20 },
    { "MAP_GROWSDOWN", 0x100 },
    { "MAP_DENYWRITE", 0x800 },
    { "MAP_EXECUTABLE", 0x1000 },
    { "MAP_LOCKED", 0x2000 },
    { "MAP_NORESERVE", 0x4000 },
    { "MAP_POPULATE", 0x8000 },
    { "MAP_NONBLOCK", 0x10000 },
    { "MAP_STACK", 0x20000 },
    { "MAP_HUGETLB", 0x40000 },
    { "MAP_SYNC", 0x80000 },
    { "MAP_FIXED_NOREPLACE", 0x100000 },
    { "MAP_UNINITIALIZED", 0x4000000 },
    { "MADV_DONTNEED", 4 },
    { "MADV_FREE", 8 },
    { "MADV_WIPEONFORK", 18 },
    { "MADV_COLD", 20 },
    { "MADV_PAGEOUT", 21 },
    { "MADV_POPULATE_READ", 22 },
    { "MADV_POPULATE_WRITE", 23 },
    { "MADV_DONTNEED_LOCKED", 24 },
    { "MADV_COLLAPSE", 25 },
    { "MADV_HWPOISON", 100 },
    { "MADV_SOFT_OFFLINE", 101 },
    { "MADV_GUARD_INSTALL", 102 },
    { "MADV_GUARD_REMOVE", 103 },
    { "MREMAP_MAYMOVE", 1 },
    { "MREMAP_FIXED", 2 },
    { "MREMAP_DONTUNMAP", 4 },
    { "MLOCK_ONFAULT", 1 },
    { "MCL_CURRENT", 1 },
    { "MCL_FUTURE", 2 },
    { "MCL_ONFAULT", 4 },
    { "MFD_CLOEXEC", 1 },
    { "MFD_ALLOW_SEALING", 2 },
    { "MFD_HUGETLB", 4 },
    { "MFD_NOEXEC_SEAL", 8 },
    { "MFD_EXEC", 0x10 },
    { "UFFD_API", 0xaa },
    { "UFFD_USER_MODE_ONLY", 1 },
    { "UFFD_FEATURE_EVENT_FORK", 2 },
    { "UFFD_FEATURE_SIGBUS", 0x80 },
    { "UFFD_FEATURE_WP_UNPOPULATED", 8192 },
    { "UFFD_FEATURE_POISON", 1 << 14 },
    { "UFFD_FEATURE_WP_ASYNC", 1 << 15 },
    { "UFFD_FEATURE_MOVE", 1 << 16 },
    { "UFFDIO_REGISTER_MODE_MISSING", 1 },
    { "UFFDIO_REGISTER_MODE_WP", 2 },
    { "UFFDIO_REGISTER_MODE_MINOR", 4 },
    { "O_CLOEXEC", 0x80000 },
    { "O_NONBLOCK", 0x800 },
    { "PR_SET_VMA", 0x53564d41 },
    { "PR_SET_VMA_ANON_NAME", 0 },
    { "EPERM", 1 },
    { "ENOENT", 2 },
    { "EBADF", 9 },
    { "EAGAIN", 11 },
    { "ENOMEM", 12 },
    { "EACCES", 13 },
    { "EFAULT", 14 },
    { "EBUSY", 16 },
    { "EEXIST", 17 },
    { "EINVAL", 22 },
    { "ERANGE", 34 },
    { "ENOSYS", 38 },
    { "EOVERFLOW", 75 },
    { "EOPNOTSUPP", 95 },
    { "ENOTSUP", 95 },
    { "SIGBUS", 7 },
    { "SIGSEGV", 11 },
};

class UapiConstant : public ::testing::TestWithParam<ConstantCase>
{
};

TEST_P(UapiConstant, HasLinuxValue)
{
    const auto value = uapiConstant(GetParam().name);
    ASSERT_TRUE(value.has_value()) << GetParam().name;
    EXPECT_EQ(*value, GetParam().value) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Linux618, UapiConstant, ::testing::ValuesIn(kConstants),
    [](const auto& caseInfo) { return std::string(caseInfo.param.name); });

TEST(Uapi, UnknownNamesHaveNoValue)
{
    EXPECT_FALSE(uapiConstant("MADV_FOO").has_value());
    EXPECT_FALSE(uapiConstant("prot_read").has_value());
    EXPECT_FALSE(uapiConstant("").has_value());
}

TEST(Uapi, TableNamesAreUnique)
{
    std::set<std::string_view> seen;
    for (const auto& [name, value] : uapiTable())
        EXPECT_TRUE(seen.insert(name).second) << name;
    EXPECT_GT(seen.size(), 150u);
}

TEST(Uapi, ErrnoNamePrefersCanonicalSpelling)
{
    EXPECT_EQ(errnoName(-22), "-EINVAL");
    EXPECT_EQ(errnoName(-11), "-EAGAIN");
    EXPECT_EQ(errnoName(-95), "-EOPNOTSUPP");
    EXPECT_EQ(errnoName(-35), "-EDEADLK");
    EXPECT_EQ(errnoName(-12), "-ENOMEM");
}

TEST(Uapi, ErrnoNameFallsBackToTheNumber)
{
    EXPECT_EQ(errnoName(0), "0");
    EXPECT_EQ(errnoName(22), "22");
    EXPECT_EQ(errnoName(-4000), "-4000");
    EXPECT_EQ(errnoName(-100000), "-100000");
}

} // namespace
} // namespace vmalab::scenario
