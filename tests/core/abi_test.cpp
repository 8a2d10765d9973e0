// The engine decides on the uapi values of core/engine/abi.h; scenarios spell them through
// the language's name table. Both must agree, name by name.
#include "core/engine/abi.h"
#include "core/scenario/uapi.h"

#include <gtest/gtest.h>

namespace vmalab::test {
namespace {

TEST(Abi, EngineValuesMatchTheLanguageTable)
{
    using namespace abi;
    const std::pair<const char*, std::int64_t> values[] = {
        { "PROT_NONE", PROT_NONE }, { "PROT_READ", PROT_READ }, { "PROT_WRITE", PROT_WRITE }, { "PROT_EXEC", PROT_EXEC },
        { "PROT_SEM", PROT_SEM }, { "PROT_GROWSDOWN", PROT_GROWSDOWN }, { "PROT_GROWSUP", PROT_GROWSUP },
        { "MAP_SHARED", MAP_SHARED }, { "MAP_PRIVATE", MAP_PRIVATE }, { "MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE },
        { "MAP_DROPPABLE", MAP_DROPPABLE }, { "MAP_TYPE", MAP_TYPE }, { "MAP_FIXED", MAP_FIXED },
        { "MAP_ANONYMOUS", MAP_ANONYMOUS }, { "MAP_GROWSDOWN", MAP_GROWSDOWN }, { "MAP_DENYWRITE", MAP_DENYWRITE },
        { "MAP_EXECUTABLE", MAP_EXECUTABLE }, { "MAP_LOCKED", MAP_LOCKED }, { "MAP_NORESERVE", MAP_NORESERVE },
        { "MAP_POPULATE", MAP_POPULATE }, { "MAP_NONBLOCK", MAP_NONBLOCK }, { "MAP_STACK", MAP_STACK },
        { "MAP_HUGETLB", MAP_HUGETLB }, { "MAP_SYNC", MAP_SYNC }, { "MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE },
        { "MAP_UNINITIALIZED", MAP_UNINITIALIZED }, { "MFD_CLOEXEC", MFD_CLOEXEC },
        { "MFD_ALLOW_SEALING", MFD_ALLOW_SEALING }, { "MFD_HUGETLB", MFD_HUGETLB },
        { "MFD_NOEXEC_SEAL", MFD_NOEXEC_SEAL }, { "MFD_EXEC", MFD_EXEC },
        { "MADV_NORMAL", MADV_NORMAL }, { "MADV_RANDOM", MADV_RANDOM }, { "MADV_SEQUENTIAL", MADV_SEQUENTIAL },
        { "MADV_WILLNEED", MADV_WILLNEED }, { "MADV_DONTNEED", MADV_DONTNEED }, { "MADV_FREE", MADV_FREE },
        { "MADV_REMOVE", MADV_REMOVE }, { "MADV_DONTFORK", MADV_DONTFORK }, { "MADV_DOFORK", MADV_DOFORK },
        { "MADV_MERGEABLE", MADV_MERGEABLE }, { "MADV_UNMERGEABLE", MADV_UNMERGEABLE },
        { "MADV_HUGEPAGE", MADV_HUGEPAGE }, { "MADV_NOHUGEPAGE", MADV_NOHUGEPAGE },
        { "MADV_DONTDUMP", MADV_DONTDUMP }, { "MADV_DODUMP", MADV_DODUMP }, { "MADV_WIPEONFORK", MADV_WIPEONFORK },
        { "MADV_KEEPONFORK", MADV_KEEPONFORK }, { "MADV_COLD", MADV_COLD }, { "MADV_PAGEOUT", MADV_PAGEOUT },
        { "MADV_POPULATE_READ", MADV_POPULATE_READ }, { "MADV_POPULATE_WRITE", MADV_POPULATE_WRITE },
        { "MADV_DONTNEED_LOCKED", MADV_DONTNEED_LOCKED }, { "MADV_COLLAPSE", MADV_COLLAPSE },
        { "MADV_HWPOISON", MADV_HWPOISON }, { "MADV_SOFT_OFFLINE", MADV_SOFT_OFFLINE },
        { "MADV_GUARD_INSTALL", MADV_GUARD_INSTALL }, { "MADV_GUARD_REMOVE", MADV_GUARD_REMOVE },
        { "MREMAP_MAYMOVE", MREMAP_MAYMOVE }, { "MREMAP_FIXED", MREMAP_FIXED },
        { "MREMAP_DONTUNMAP", MREMAP_DONTUNMAP }, { "MLOCK_ONFAULT", MLOCK_ONFAULT },
        { "UFFD_USER_MODE_ONLY", UFFD_USER_MODE_ONLY }, { "UFFD_API", std::int64_t(UFFD_API) },
        { "UFFD_FEATURE_PAGEFAULT_FLAG_WP", std::int64_t(UFFD_FEATURE_PAGEFAULT_FLAG_WP) },
        { "UFFD_FEATURE_EVENT_FORK", std::int64_t(UFFD_FEATURE_EVENT_FORK) },
        { "UFFD_FEATURE_EVENT_REMAP", std::int64_t(UFFD_FEATURE_EVENT_REMAP) },
        { "UFFD_FEATURE_EVENT_REMOVE", std::int64_t(UFFD_FEATURE_EVENT_REMOVE) },
        { "UFFD_FEATURE_EVENT_UNMAP", std::int64_t(UFFD_FEATURE_EVENT_UNMAP) },
        { "UFFD_FEATURE_SIGBUS", std::int64_t(UFFD_FEATURE_SIGBUS) },
        { "UFFD_FEATURE_MINOR_SHMEM", std::int64_t(UFFD_FEATURE_MINOR_SHMEM) },
        { "UFFD_FEATURE_WP_UNPOPULATED", std::int64_t(UFFD_FEATURE_WP_UNPOPULATED) },
        { "UFFD_FEATURE_WP_ASYNC", std::int64_t(UFFD_FEATURE_WP_ASYNC) },
        { "UFFD_FEATURE_MOVE", std::int64_t(UFFD_FEATURE_MOVE) },
        { "UFFDIO_REGISTER_MODE_MISSING", std::int64_t(UFFDIO_REGISTER_MODE_MISSING) },
        { "UFFDIO_REGISTER_MODE_WP", std::int64_t(UFFDIO_REGISTER_MODE_WP) },
        { "UFFDIO_REGISTER_MODE_MINOR", std::int64_t(UFFDIO_REGISTER_MODE_MINOR) },
    };
    for (const auto& [name, value] : values) {
        const auto fromTable = scenario::uapiConstant(name);
        ASSERT_TRUE(fromTable.has_value()) << name;
        EXPECT_EQ(*fromTable, value) << name;
    }
}

} // namespace
} // namespace vmalab::test
