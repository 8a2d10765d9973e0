#include "core/scenario/uapi.h"

#include <unordered_map>

namespace vmalab::scenario {

namespace {

using Table = std::vector<std::pair<std::string_view, std::int64_t>>;

// Values written from the uapi headers of Linux 6.18 as x86-64 sees them (asm-generic mman
// headers plus arch/x86's MAP_32BIT/MAP_ABOVE4G). Aliases come after the name they alias so
// that errnoName() and the GUI pick the canonical spelling.
Table buildTable()
{
    Table t = {
        { "page_size", 4096 },
        { "NULL", 0 },

        // mman-common.h, x86 mman.h
        { "PROT_NONE", 0x0 },
        { "PROT_READ", 0x1 },
        { "PROT_WRITE", 0x2 },
        { "PROT_EXEC", 0x4 },
        { "PROT_SEM", 0x8 },
        { "PROT_GROWSDOWN", 0x01000000 },
        { "PROT_GROWSUP", 0x02000000 },

        // linux/mman.h (map types), mman-common.h, asm-generic/mman.h, x86 mman.h
        { "MAP_FILE", 0x0 },
        { "MAP_SHARED", 0x01 },
        { "MAP_PRIVATE", 0x02 },
        { "MAP_SHARED_VALIDATE", 0x03 },
        { "MAP_DROPPABLE", 0x08 },
        { "MAP_TYPE", 0x0f },
        { "MAP_FIXED", 0x10 },
        { "MAP_ANONYMOUS", 0x20 },
        { "MAP_ANON", 0x20 },
        { "MAP_32BIT", 0x40 },
        { "MAP_ABOVE4G", 0x80 },
        { "MAP_GROWSDOWN", 0x0100 },
        { "MAP_DENYWRITE", 0x0800 },
        { "MAP_EXECUTABLE", 0x1000 },
        { "MAP_LOCKED", 0x2000 },
        { "MAP_NORESERVE", 0x4000 },
        { "MAP_POPULATE", 0x008000 },
        { "MAP_NONBLOCK", 0x010000 },
        { "MAP_STACK", 0x020000 },
        { "MAP_HUGETLB", 0x040000 },
        { "MAP_SYNC", 0x080000 },
        { "MAP_FIXED_NOREPLACE", 0x100000 },
        { "MAP_UNINITIALIZED", 0x4000000 },
        { "MAP_HUGE_SHIFT", 26 },
        { "MAP_HUGE_MASK", 0x3f },
        { "MAP_HUGE_2MB", std::int64_t { 21 } << 26 },
        { "MAP_HUGE_1GB", std::int64_t { 30 } << 26 },

        // mman-common.h
        { "MADV_NORMAL", 0 },
        { "MADV_RANDOM", 1 },
        { "MADV_SEQUENTIAL", 2 },
        { "MADV_WILLNEED", 3 },
        { "MADV_DONTNEED", 4 },
        { "MADV_FREE", 8 },
        { "MADV_REMOVE", 9 },
        { "MADV_DONTFORK", 10 },
        { "MADV_DOFORK", 11 },
        { "MADV_MERGEABLE", 12 },
        { "MADV_UNMERGEABLE", 13 },
        { "MADV_HUGEPAGE", 14 },
        { "MADV_NOHUGEPAGE", 15 },
        { "MADV_DONTDUMP", 16 },
        { "MADV_DODUMP", 17 },
        { "MADV_WIPEONFORK", 18 },
        { "MADV_KEEPONFORK", 19 },
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

        { "MLOCK_ONFAULT", 0x01 },
        { "MCL_CURRENT", 1 },
        { "MCL_FUTURE", 2 },
        { "MCL_ONFAULT", 4 },

        { "MS_ASYNC", 1 },
        { "MS_INVALIDATE", 2 },
        { "MS_SYNC", 4 },

        // linux/memfd.h
        { "MFD_CLOEXEC", 0x0001 },
        { "MFD_ALLOW_SEALING", 0x0002 },
        { "MFD_HUGETLB", 0x0004 },
        { "MFD_NOEXEC_SEAL", 0x0008 },
        { "MFD_EXEC", 0x0010 },

        // linux/userfaultfd.h
        { "UFFD_API", 0xaa },
        { "UFFD_USER_MODE_ONLY", 1 },
        { "UFFD_FEATURE_PAGEFAULT_FLAG_WP", 1 << 0 },
        { "UFFD_FEATURE_EVENT_FORK", 1 << 1 },
        { "UFFD_FEATURE_EVENT_REMAP", 1 << 2 },
        { "UFFD_FEATURE_EVENT_REMOVE", 1 << 3 },
        { "UFFD_FEATURE_MISSING_HUGETLBFS", 1 << 4 },
        { "UFFD_FEATURE_MISSING_SHMEM", 1 << 5 },
        { "UFFD_FEATURE_EVENT_UNMAP", 1 << 6 },
        { "UFFD_FEATURE_SIGBUS", 1 << 7 },
        { "UFFD_FEATURE_THREAD_ID", 1 << 8 },
        { "UFFD_FEATURE_MINOR_HUGETLBFS", 1 << 9 },
        { "UFFD_FEATURE_MINOR_SHMEM", 1 << 10 },
        { "UFFD_FEATURE_EXACT_ADDRESS", 1 << 11 },
        { "UFFD_FEATURE_WP_HUGETLBFS_SHMEM", 1 << 12 },
        { "UFFD_FEATURE_WP_UNPOPULATED", 1 << 13 },
        { "UFFD_FEATURE_POISON", 1 << 14 },
        { "UFFD_FEATURE_WP_ASYNC", 1 << 15 },
        { "UFFD_FEATURE_MOVE", 1 << 16 },
        { "UFFDIO_REGISTER_MODE_MISSING", 1 << 0 },
        { "UFFDIO_REGISTER_MODE_WP", 1 << 1 },
        { "UFFDIO_REGISTER_MODE_MINOR", 1 << 2 },
        { "UFFDIO_WRITEPROTECT_MODE_WP", 1 << 0 },
        { "UFFDIO_WRITEPROTECT_MODE_DONTWAKE", 1 << 1 },

        // asm-generic/fcntl.h (octal there)
        { "O_RDONLY", 0 },
        { "O_WRONLY", 1 },
        { "O_RDWR", 2 },
        { "O_NONBLOCK", 04000 },
        { "O_CLOEXEC", 02000000 },

        // linux/prctl.h
        { "PR_SET_VMA", 0x53564d41 },
        { "PR_SET_VMA_ANON_NAME", 0 },

        // asm-generic/errno-base.h
        { "EPERM", 1 },
        { "ENOENT", 2 },
        { "ESRCH", 3 },
        { "EINTR", 4 },
        { "EIO", 5 },
        { "ENXIO", 6 },
        { "E2BIG", 7 },
        { "ENOEXEC", 8 },
        { "EBADF", 9 },
        { "ECHILD", 10 },
        { "EAGAIN", 11 },
        { "EWOULDBLOCK", 11 },
        { "ENOMEM", 12 },
        { "EACCES", 13 },
        { "EFAULT", 14 },
        { "ENOTBLK", 15 },
        { "EBUSY", 16 },
        { "EEXIST", 17 },
        { "EXDEV", 18 },
        { "ENODEV", 19 },
        { "ENOTDIR", 20 },
        { "EISDIR", 21 },
        { "EINVAL", 22 },
        { "ENFILE", 23 },
        { "EMFILE", 24 },
        { "ENOTTY", 25 },
        { "ETXTBSY", 26 },
        { "EFBIG", 27 },
        { "ENOSPC", 28 },
        { "ESPIPE", 29 },
        { "EROFS", 30 },
        { "EMLINK", 31 },
        { "EPIPE", 32 },
        { "EDOM", 33 },
        { "ERANGE", 34 },
        // asm-generic/errno.h: the ones mm syscalls and replay can plausibly return
        { "EDEADLK", 35 },
        { "EDEADLOCK", 35 },
        { "ENAMETOOLONG", 36 },
        { "ENOLCK", 37 },
        { "ENOSYS", 38 },
        { "ENOTEMPTY", 39 },
        { "ELOOP", 40 },
        { "ENOMSG", 42 },
        { "EIDRM", 43 },
        { "ENODATA", 61 },
        { "ETIME", 62 },
        { "EPROTO", 71 },
        { "EBADMSG", 74 },
        { "EOVERFLOW", 75 },
        { "EBADFD", 77 },
        { "EILSEQ", 84 },
        { "ENOTSOCK", 88 },
        { "EOPNOTSUPP", 95 },
        { "ENOTSUP", 95 }, // glibc's alias; the kernel's uapi has only EOPNOTSUPP
        { "ETIMEDOUT", 110 },
        { "ESTALE", 116 },
        { "EDQUOT", 122 },
        { "ECANCELED", 125 },
        { "EOWNERDEAD", 130 },
        { "ENOTRECOVERABLE", 131 },
        { "EHWPOISON", 133 },

        // x86 signal numbers (what touch() returns for a fatal fault)
        { "SIGHUP", 1 },
        { "SIGINT", 2 },
        { "SIGQUIT", 3 },
        { "SIGILL", 4 },
        { "SIGTRAP", 5 },
        { "SIGABRT", 6 },
        { "SIGBUS", 7 },
        { "SIGFPE", 8 },
        { "SIGKILL", 9 },
        { "SIGUSR1", 10 },
        { "SIGSEGV", 11 },
        { "SIGUSR2", 12 },
        { "SIGPIPE", 13 },
        { "SIGALRM", 14 },
        { "SIGTERM", 15 },
        { "SIGCHLD", 17 },
    };
    return t;
}

using Index = std::unordered_map<std::string_view, std::int64_t>;

const Index& nameIndex()
{
    static const Index index = [] {
        Index i;
        for (const auto& [name, value] : uapiTable())
            i.emplace(name, value);
        return i;
    }();
    return index;
}

// Only the errno names start with 'E' in the table.
bool isErrnoName(std::string_view name)
{
    return !name.empty() && name[0] == 'E';
}

} // namespace

const std::vector<std::pair<std::string_view, std::int64_t>>& uapiTable()
{
    static const Table table = buildTable();
    return table;
}

std::optional<std::int64_t> uapiConstant(std::string_view name)
{
    const Index& index = nameIndex();
    const auto it = index.find(name);
    if (it == index.end())
        return std::nullopt;
    return it->second;
}

std::string errnoName(std::int64_t negErrno)
{
    if (negErrno < 0 && negErrno >= -4095) {
        // The first name with the value wins, so aliases never show.
        for (const auto& [name, value] : uapiTable()) {
            if (value == -negErrno && isErrnoName(name))
                return "-" + std::string(name);
        }
    }
    return std::to_string(negErrno);
}

} // namespace vmalab::scenario
