#include "core/engine/abi.h"
#include "core/engine/file_pages.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/engine/uffd.h"

#include <cerrno>
#include <vector>

namespace vmalab {

using namespace abi;

namespace {

std::int64_t installFd(OpContext& c, FileId id)
{
    const int fd = c.mm.lowestFreeFd(FIRST_USER_FD);
    c.mm.fds[fd] = id;
    return fd;
}

// truncate_pagecache(): pages wholly beyond the new size leave the page cache and every
// mapping, private COW copies included (unmap_mapping_range() with even_cows).
void truncatePages(OpContext& c, File& f, std::uint64_t newSize)
{
    const PageOff firstGone = (newSize + pageSize - 1) >> pageShift;
    splitFoliosForHole(c, f.id, firstGone, ~std::uint64_t { 0 }); // a large folio cut by the new end
    f.pageCache.erase(firstGone, ~std::uint64_t { 0 });
    std::uint64_t zapped = 0;
    for (Mm& mm : c.world.procs) {
        std::vector<std::pair<Addr, Addr>> ranges;
        for (const auto& vmaEntry : mm.vmas) {
            const Vma& v = vmaEntry.second; // clang-14 lambdas cannot capture bindings
            if (v.vm_file != f.id || v.vm_pgoff + v.pages() <= firstGone)
                continue;
            const Addr from = v.vm_pgoff >= firstGone ? v.vm_start : v.vm_start + ((firstGone - v.vm_pgoff) << pageShift);
            ranges.emplace_back(from, v.vm_end);
        }
        for (auto [from, to] : ranges) {
            // Guard markers survive truncation; pages and their COW copies do not.
            std::vector<std::pair<std::uint64_t, std::uint64_t>> present;
            mm.ptes.forEach(pageIndex(from), pageIndex(to), [&](std::uint64_t s, std::uint64_t e, const Pte& p) {
                if (p.state == PageState::Present)
                    present.emplace_back(s, e);
            });
            for (auto [s, e] : present) {
                mm.ptes.erase(s, e);
                zapped += e - s;
            }
        }
    }
    c.trace.step("truncate_pagecache", "drops file pages from " + hexAddr(firstGone) + " on and unmaps " + std::to_string(zapped) + " PTE(s)",
                 "shrinking a file removes the pages beyond its end from the page cache and from every mapping, private copies included");
}

} // namespace

std::int64_t doMemfdCreate(OpContext& c, const std::string& name, std::int64_t flags)
{
    if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC)) {
        c.trace.step("memfd_create", "refused", "unknown flags: -EINVAL");
        return -EINVAL;
    }
    if ((flags & MFD_NOEXEC_SEAL) && (flags & MFD_EXEC)) {
        c.trace.step("memfd_create", "refused", "MFD_EXEC and MFD_NOEXEC_SEAL together: -EINVAL");
        return -EINVAL;
    }
    if (name.size() > 249) {
        c.trace.step("memfd_create", "refused", "the name is longer than 249 bytes: -EINVAL");
        return -EINVAL;
    }
    if (flags & MFD_HUGETLB) {
        c.trace.step("memfd_create", "refused", "hugetlb memfds are not modelled");
        return -EINVAL;
    }
    File& f = c.world.newFile(File::Kind::Shmem, "/memfd:" + name, 0);
    f.deleted = true;
    const std::int64_t fd = installFd(c, f.id);
    c.trace.step("memfd_create", "creates an empty unlinked shmem file " + f.path + " as fd " + std::to_string(fd));
    return fd;
}

std::int64_t doOpenFile(OpContext& c, const std::string& name, std::int64_t len)
{
    if (name.empty() || name.find('/') != std::string::npos) {
        c.trace.step("open_file", "refused", "the name must be a plain file name: -ENOENT");
        return -ENOENT;
    }
    if (len < 0) {
        c.trace.step("open_file", "refused", "a negative length: -EINVAL");
        return -EINVAL;
    }
    File& f = c.world.newFile(File::Kind::Regular, "/tmp/vmalab/" + name, static_cast<std::uint64_t>(len));
    const std::int64_t fd = installFd(c, f.id);
    c.trace.step("open_file", "creates the sparse regular file " + f.path + " of " + std::to_string(len) + " bytes as fd " + std::to_string(fd));
    return fd;
}

std::int64_t doFtruncate(OpContext& c, std::int64_t fd, std::int64_t len)
{
    if (fd >= 0 && fd <= 0x7fffffff && c.mm.uffdFds.count(static_cast<int>(fd)))
        return refuseCall(c, "do_ftruncate", -EINVAL, "fd " + std::to_string(fd) + " is a userfaultfd, not a regular file: -EINVAL");
    auto it = c.mm.fds.find(static_cast<int>(fd));
    if (fd < 0 || fd > 0x7fffffff || it == c.mm.fds.end()) {
        c.trace.step("do_sys_ftruncate", "refused", "fd " + std::to_string(fd) + " is not open: -EBADF");
        return -EBADF;
    }
    if (len < 0) {
        c.trace.step("do_sys_ftruncate", "refused", "a negative length: -EINVAL");
        return -EINVAL;
    }
    File& f = *c.world.file(it->second);
    const std::uint64_t newSize = static_cast<std::uint64_t>(len);
    if (newSize < f.size)
        truncatePages(c, f, newSize);
    f.size = newSize;
    c.trace.step("do_sys_ftruncate", "sets the size of " + f.path + " to " + std::to_string(newSize) + " bytes");
    return 0;
}

std::int64_t doClose(OpContext& c, std::int64_t fd)
{
    if (fd >= 0 && fd <= 0x7fffffff) {
        if (auto u = c.mm.uffdFds.find(static_cast<int>(fd)); u != c.mm.uffdFds.end()) {
            const UffdCtxId ctx = u->second;
            c.mm.uffdFds.erase(u);
            c.trace.step("close_fd", "closes fd " + std::to_string(fd) + " (userfaultfd context #" + std::to_string(ctx) + ")");
            closeUffdFd(c, ctx);
            return 0;
        }
    }
    auto it = c.mm.fds.find(static_cast<int>(fd));
    if (fd < 0 || fd > 0x7fffffff || it == c.mm.fds.end()) {
        c.trace.step("close_fd", "refused", "fd " + std::to_string(fd) + " is not open: -EBADF");
        return -EBADF;
    }
    c.mm.fds.erase(it);
    c.trace.step("close_fd", "closes fd " + std::to_string(fd), "mappings keep their own reference to the file");
    return 0;
}

} // namespace vmalab
