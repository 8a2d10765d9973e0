#pragma once

#include <cstdint>

// The uapi values the engine decides on (Linux 6.18, x86-64). The scenario language's
// name table (core/scenario/uapi.cpp) is checked against these in tests.
namespace vmalab::abi {

constexpr std::int64_t PROT_NONE = 0x0, PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4, PROT_SEM = 0x8;
constexpr std::int64_t PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;

constexpr std::int64_t MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_SHARED_VALIDATE = 0x03, MAP_DROPPABLE = 0x08;
constexpr std::int64_t MAP_TYPE = 0x0f, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20;
constexpr std::int64_t MAP_GROWSDOWN = 0x0100, MAP_DENYWRITE = 0x0800, MAP_EXECUTABLE = 0x1000;
constexpr std::int64_t MAP_LOCKED = 0x2000, MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000;
constexpr std::int64_t MAP_NONBLOCK = 0x10000, MAP_STACK = 0x20000, MAP_HUGETLB = 0x40000, MAP_SYNC = 0x80000;
constexpr std::int64_t MAP_FIXED_NOREPLACE = 0x100000, MAP_UNINITIALIZED = 0x4000000;
// Flags MAP_SHARED accepts silently; MAP_SHARED_VALIDATE refuses others (LEGACY_MAP_MASK).
constexpr std::int64_t LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
    | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK
    | MAP_STACK | MAP_HUGETLB;

constexpr std::int64_t MFD_CLOEXEC = 0x1, MFD_ALLOW_SEALING = 0x2, MFD_HUGETLB = 0x4, MFD_NOEXEC_SEAL = 0x8,
                       MFD_EXEC = 0x10;

// madvise() advice values (include/uapi/asm-generic/mman-common.h).
enum Advice : std::int64_t
{
    MADV_NORMAL = 0,
    MADV_RANDOM = 1,
    MADV_SEQUENTIAL = 2,
    MADV_WILLNEED = 3,
    MADV_DONTNEED = 4,
    MADV_FREE = 8,
    MADV_REMOVE = 9,
    MADV_DONTFORK = 10,
    MADV_DOFORK = 11,
    MADV_MERGEABLE = 12,
    MADV_UNMERGEABLE = 13,
    MADV_HUGEPAGE = 14,
    MADV_NOHUGEPAGE = 15,
    MADV_DONTDUMP = 16,
    MADV_DODUMP = 17,
    MADV_WIPEONFORK = 18,
    MADV_KEEPONFORK = 19,
    MADV_COLD = 20,
    MADV_PAGEOUT = 21,
    MADV_POPULATE_READ = 22,
    MADV_POPULATE_WRITE = 23,
    MADV_DONTNEED_LOCKED = 24,
    MADV_COLLAPSE = 25,
    MADV_HWPOISON = 100,
    MADV_SOFT_OFFLINE = 101,
    MADV_GUARD_INSTALL = 102,
    MADV_GUARD_REMOVE = 103,
};

constexpr std::int64_t MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2, MREMAP_DONTUNMAP = 4;
constexpr std::int64_t MLOCK_ONFAULT = 0x01;

constexpr int FIRST_USER_FD = 3;

// userfaultfd (include/uapi/linux/userfaultfd.h).
constexpr std::int64_t O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, UFFD_USER_MODE_ONLY = 1;
constexpr std::uint64_t UFFD_API = 0xaa;
constexpr std::uint64_t UFFD_FEATURE_PAGEFAULT_FLAG_WP = 1 << 0, UFFD_FEATURE_EVENT_FORK = 1 << 1,
                        UFFD_FEATURE_EVENT_REMAP = 1 << 2, UFFD_FEATURE_EVENT_REMOVE = 1 << 3,
                        UFFD_FEATURE_EVENT_UNMAP = 1 << 6, UFFD_FEATURE_SIGBUS = 1 << 7,
                        UFFD_FEATURE_MINOR_SHMEM = 1 << 10, UFFD_FEATURE_WP_UNPOPULATED = 1 << 13,
                        UFFD_FEATURE_WP_ASYNC = 1 << 15, UFFD_FEATURE_MOVE = 1 << 16;
// Every feature 6.18 offers on x86-64 (UFFD_API_FEATURES).
constexpr std::uint64_t UFFD_API_FEATURES = (1 << 17) - 1;
constexpr std::uint64_t UFFDIO_REGISTER_MODE_MISSING = 1 << 0, UFFDIO_REGISTER_MODE_WP = 1 << 1,
                        UFFDIO_REGISTER_MODE_MINOR = 1 << 2;
constexpr std::uint64_t mmapMinAddr = 0x10000; // vm.mmap_min_addr

} // namespace vmalab::abi
