#include "core/engine/uffd.h"

#include "core/engine/abi.h"
#include "core/engine/file_pages.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>
#include <vector>

namespace vmalab {

using namespace abi;

namespace {

constexpr const char* ioctlFn = "userfaultfd_ioctl";

std::string fdText(std::int64_t fd)
{
    return "fd " + std::to_string(fd);
}

// The context behind a descriptor of the calling process, or the errno the ioctl returns.
std::int64_t lookupCtx(OpContext& c, std::int64_t fd, UffdCtxId& id)
{
    if (fd >= 0 && fd <= INT_MAX) {
        if (auto it = c.mm.uffdFds.find(static_cast<int>(fd)); it != c.mm.uffdFds.end()) {
            id = it->second;
            return 0;
        }
        if (c.mm.fds.count(static_cast<int>(fd)))
            return refuseCall(c, "vfs_ioctl", -ENOTTY, fdText(fd) + " is a file without userfaultfd ioctls: -ENOTTY");
    }
    return refuseCall(c, "vfs_ioctl", -EBADF, fdText(fd) + " is not open: -EBADF");
}

// lookupCtx() and the initialisation test every ioctl but UFFDIO_API makes first; `ctx` gets
// a copy of the context.
std::int64_t runningCtx(OpContext& c, std::int64_t fd, UffdCtx& ctx)
{
    UffdCtxId id = noUffdCtx;
    if (const std::int64_t err = lookupCtx(c, fd, id))
        return err;
    ctx = *c.world.uffd(id);
    if (!ctx.initialized)
        return refuseCall(c, ioctlFn, -EINVAL, "UFFDIO_API has not been done on this userfaultfd yet: -EINVAL");
    return 0;
}

// validate_range(): why the kernel refuses [start, start + len), or "".
std::string badRange(const Mm& mm, Addr start, std::uint64_t len)
{
    if (start & (pageSize - 1))
        return "the start is not page aligned";
    if (len & (pageSize - 1))
        return "the length is not a multiple of the page size";
    if (len == 0)
        return "the length is 0";
    if (start < mmapMinAddr)
        return "the range starts below vm.mmap_min_addr";
    if (start >= mm.task_size || len > mm.task_size - start)
        return "the range reaches beyond the user address space";
    return {};
}

// validate_range() as the range ioctls call it, on the context owner's address space.
std::int64_t validateRange(OpContext& c, const Mm& owner, Addr start, std::uint64_t len)
{
    const std::string why = badRange(owner, start, len);
    return why.empty() ? 0 : refuseCall(c, "validate_range", -EINVAL, why + ": -EINVAL");
}

bool isShmem(const World& w, const Vma& v)
{
    const File* f = w.file(v.vm_file);
    return f && f->kind == File::Kind::Shmem;
}

// vma_can_userfault(): why `v` cannot take the uffd modes `modes`, or "".
std::string cannotUserfault(const World& w, const Vma& v, VmFlags modes, bool wpAsync)
{
    modes &= VM_UFFD_FLAGS;
    if (v.vm_flags & VM_DROPPABLE)
        return "a MAP_DROPPABLE mapping never takes userfaultfd";
    if ((modes & VM_UFFD_MINOR) && !isShmem(w, v))
        return "MINOR mode needs shmem (or hugetlb) memory";
    if (wpAsync && modes == VM_UFFD_WP)
        return {};
    if ((v.isAnonymous() && v.specialName.empty()) || isShmem(w, v))
        return {};
    return "only private anonymous, shmem and hugetlb memory can be registered (other files only for WP with "
           "UFFD_FEATURE_WP_ASYNC)";
}

VmFlags modeFlags(std::uint64_t mode)
{
    VmFlags f = 0;
    if (mode & UFFDIO_REGISTER_MODE_MISSING)
        f |= VM_UFFD_MISSING;
    if (mode & UFFDIO_REGISTER_MODE_WP)
        f |= VM_UFFD_WP;
    if (mode & UFFDIO_REGISTER_MODE_MINOR)
        f |= VM_UFFD_MINOR;
    return f;
}

// The VMAs that intersect [start, end), by start address (stable while only they change).
std::vector<Addr> vmasIn(const Mm& mm, Addr start, Addr end)
{
    std::vector<Addr> out;
    for (const Vma* v = mm.findVma(start); v && v->vm_start < end; v = mm.nextOf(*v))
        out.push_back(v->vm_start);
    return out;
}

// uffd_wp_range() over [start, end) of one VMA: change_protection() with MM_CP_UFFD_WP (set the
// bit on present and swap entries, a marker on none entries where markers are used) or
// MM_CP_UFFD_WP_RESOLVE (clear the bits, drop the markers). Guard markers are left alone.
void uffdWpRange(OpContext& c, const Vma& v, Addr start, Addr end, bool protect)
{
    if (protect && !v.isAnonymous())
        splitFilePmdsIn(c, start, end, "change_pmd_range()",
            "write-protecting a file PMD for userfaultfd splits it (pgtable_split_needed())");
    const bool markers = protect && uffdWpUseMarkers(c.world, v);
    std::vector<std::pair<std::pair<std::uint64_t, std::uint64_t>, Pte>> runs;
    c.mm.ptes.forEach(pageIndex(start), pageIndex(end),
                      [&](std::uint64_t s, std::uint64_t e, const Pte& p) { runs.push_back({ { s, e }, p }); });
    std::uint64_t changed = 0, placed = 0, dropped = 0;
    std::uint64_t cursor = pageIndex(start);
    auto fillNone = [&](std::uint64_t s, std::uint64_t e) {
        if (!markers || s >= e)
            return;
        setPtes(c.mm, s << pageShift, e << pageShift, Pte { PageState::Swap, Pte::Kind::Marker, true });
        placed += e - s;
    };
    for (const auto& [range, p] : runs) {
        const auto [s, e] = range;
        fillNone(cursor, s);
        cursor = e;
        if (p.state == PageState::Guard)
            continue;
        if (p.kind == Pte::Kind::Marker) {
            if (!protect) {
                clearPtes(c.mm, s << pageShift, e << pageShift);
                dropped += e - s;
            }
            continue;
        }
        if (p.uffdWp == protect)
            continue;
        Pte q = p;
        q.uffdWp = protect;
        c.mm.ptes.assign(s, e, q);
        changed += e - s;
    }
    fillNone(cursor, pageIndex(end));
    std::string what = protect ? "write-protects " : "unprotects ";
    what += describeRange(start, end) + " of " + describeVma(v) + ": " + std::to_string(changed) + " page(s) "
        + (protect ? "get" : "lose") + " the uffd-wp bit";
    if (placed)
        what += ", " + std::to_string(placed) + " none entr" + (placed == 1 ? "y gets" : "ies get") + " a uffd-wp marker";
    if (dropped)
        what += ", " + std::to_string(dropped) + " uffd-wp marker(s) become none";
    std::string rule;
    if (protect)
        rule = markers ? "none entries get markers: " + std::string(v.isAnonymous() ? "the context has UFFD_FEATURE_WP_UNPOPULATED"
                                                                                    : "file and shmem memory may be cached behind a none PTE")
                       : "an anonymous none PTE stays none without UFFD_FEATURE_WP_UNPOPULATED: a fault there is not a write-protect fault";
    auto& s = c.trace.step("uffd_wp_range", what, rule);
    s.pagesStart = start;
    s.pagesEnd = end;
}

// userfaultfd_clear_vma(): [start, end) of the VMA at vmaStart leaves its context; its uffd-wp
// bits and markers go first. Returns the start of the VMA now covering the range, or -errno.
std::int64_t clearVma(OpContext& c, Addr vmaStart, Addr start, Addr end)
{
    const Vma v = *c.mm.vmaAt(vmaStart);
    if (v.vm_flags & VM_UFFD_WP)
        uffdWpRange(c, v, start, end, false);
    const ModifyResult r = vmaModify(c, vmaStart, start, end, v.vm_flags & ~VM_UFFD_FLAGS, noUffdCtx, v.anon_name);
    if (r.err)
        return r.err;
    return static_cast<std::int64_t>(r.vmaStart);
}

UffdCtx& ctxRef(World& w, UffdCtxId id)
{
    return w.uffds.at(id);
}

} // namespace

const UffdCtx* vmaUffd(const World& world, const Vma& v)
{
    return v.uffd_ctx == noUffdCtx ? nullptr : world.uffd(v.uffd_ctx);
}

bool uffdHasFeature(const World& world, const Vma& v, std::uint64_t feature)
{
    const UffdCtx* ctx = vmaUffd(world, v);
    return ctx && (ctx->features & feature);
}

bool uffdWpUseMarkers(const World& world, const Vma& v)
{
    if (!(v.vm_flags & VM_UFFD_WP))
        return false;
    if (!v.isAnonymous())
        return true;
    return uffdHasFeature(world, v, UFFD_FEATURE_WP_UNPOPULATED);
}

bool uffdWithoutEventRemap(const World& world, const Vma& v)
{
    return v.uffd_ctx != noUffdCtx && !uffdHasFeature(world, v, UFFD_FEATURE_EVENT_REMAP);
}

std::int64_t doUserfaultfd(OpContext& c, std::int64_t flags)
{
    if (!c.profile().machine.userfaultfd)
        return refuseCall(c, "sys_userfaultfd", -ENOSYS, "the kernel is built without CONFIG_USERFAULTFD: -ENOSYS");
    if (flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY))
        return refuseCall(c, "new_userfaultfd", -EINVAL, "only O_CLOEXEC, O_NONBLOCK and UFFD_USER_MODE_ONLY are allowed: -EINVAL");
    UffdCtx ctx;
    ctx.id = c.world.nextUffdCtxId++;
    ctx.owner = static_cast<std::size_t>(&c.mm - c.world.procs.data());
    ctx.fdRefs = 1;
    c.world.uffds.emplace(ctx.id, ctx);
    const int fd = c.mm.lowestFreeFd(FIRST_USER_FD);
    c.mm.uffdFds[fd] = ctx.id;
    c.trace.step("new_userfaultfd", "creates userfaultfd context #" + std::to_string(ctx.id) + " for pid " + std::to_string(c.mm.pid)
                     + " as fd " + std::to_string(fd),
                 "the context belongs to this address space (ctx->mm) whoever uses the descriptor later; it is "
                 "unusable until UFFDIO_API");
    return fd;
}

std::int64_t doUffdioApi(OpContext& c, std::int64_t fd, std::uint64_t features)
{
    UffdCtxId id = noUffdCtx;
    if (const std::int64_t err = lookupCtx(c, fd, id))
        return err;
    UffdCtx& ctx = ctxRef(c.world, id);
    if (ctx.initialized)
        return refuseCall(c, "userfaultfd_api", -EINVAL, "UFFDIO_API was already done on this userfaultfd: -EINVAL");
    if (features & ~UFFD_API_FEATURES)
        return refuseCall(c, "userfaultfd_api", -EINVAL, "a requested feature is unknown to this kernel: -EINVAL");
    std::string rule = "the context now accepts the other ioctls; features are fixed from here on";
    if (features & UFFD_FEATURE_WP_ASYNC) {
        features |= UFFD_FEATURE_WP_UNPOPULATED;
        rule += "; WP_ASYNC brings WP_UNPOPULATED with it";
    }
    ctx.initialized = true;
    ctx.features = features;
    c.trace.step("userfaultfd_api", "enables features " + hexAddr(features) + " on context #" + std::to_string(id), rule);
    return 0;
}

std::int64_t doUffdioRegister(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len, std::uint64_t mode)
{
    UffdCtx ctx;
    if (const std::int64_t err = runningCtx(c, fd, ctx))
        return err;
    if (mode == 0 || (mode & ~(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR)))
        return refuseCall(c, "userfaultfd_register", -EINVAL, "the mode must be a non-empty set of MISSING, WP and MINOR: -EINVAL");
    const UffdCtxId id = ctx.id;
    OpContext oc { c.world, c.world.procs.at(ctx.owner), c.trace };
    if (const std::int64_t err = validateRange(c, oc.mm, start, len))
        return err;
    const Addr end = start + len;
    const VmFlags modes = modeFlags(mode);
    const bool wpAsync = ctx.features & UFFD_FEATURE_WP_ASYNC;
    c.trace.holding(Lock::MmapWrite);
    const std::vector<Addr> starts = vmasIn(oc.mm, start, end);
    if (starts.empty())
        return refuseCall(c, "userfaultfd_register", -EINVAL, "no VMA in the range: -EINVAL");
    for (Addr s : starts) {
        const Vma& v = *oc.mm.vmaAt(s);
        if (const std::string why = cannotUserfault(c.world, v, modes, wpAsync); !why.empty())
            return refuseCall(c, "vma_can_userfault", -EINVAL, describeVma(v) + ": " + why + ": -EINVAL");
        if (!(v.vm_flags & VM_MAYWRITE))
            return refuseCall(c, "userfaultfd_register", -EPERM, describeVma(v) + " is not VM_MAYWRITE (a read-only shared file): -EPERM");
        if (v.uffd_ctx != noUffdCtx && v.uffd_ctx != id)
            return refuseCall(c, "userfaultfd_register", -EBUSY,
                              describeVma(v) + " is registered with another userfaultfd (#" + std::to_string(v.uffd_ctx) + "): -EBUSY");
    }
    Addr cursor = start;
    for (;;) {
        const Vma* v = oc.mm.findVma(cursor);
        if (!v || v->vm_start >= end)
            break;
        if (v->uffd_ctx == id && (v->vm_flags & modes) == modes) {
            c.trace.step("userfaultfd_register_range", describeVma(*v) + " is left as it is",
                         "already registered with this context in (at least) these modes");
            cursor = v->vm_end;
            continue;
        }
        const Addr from = std::max(cursor, v->vm_start), to = std::min(end, v->vm_end);
        c.trace.step("userfaultfd_register_range", "registers " + describeRange(from, to) + " of " + describeVma(*v),
                     "the new modes replace any earlier ones: (vm_flags & ~__VM_UFFD_FLAGS) | modes");
        const ModifyResult r = vmaModify(oc, v->vm_start, from, to, (v->vm_flags & ~VM_UFFD_FLAGS) | modes, id, v->anon_name);
        if (r.err)
            return r.err;
        cursor = oc.mm.vmaAt(r.vmaStart)->vm_end;
    }
    return 0;
}

std::int64_t doUffdioUnregister(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len)
{
    UffdCtx ctx;
    if (const std::int64_t err = runningCtx(c, fd, ctx))
        return err;
    OpContext oc { c.world, c.world.procs.at(ctx.owner), c.trace };
    if (const std::int64_t err = validateRange(c, oc.mm, start, len))
        return err;
    const Addr end = start + len;
    const bool wpAsync = ctx.features & UFFD_FEATURE_WP_ASYNC;
    c.trace.holding(Lock::MmapWrite);
    const std::vector<Addr> starts = vmasIn(oc.mm, start, end);
    if (starts.empty())
        return refuseCall(c, "userfaultfd_unregister", -EINVAL, "no VMA in the range: -EINVAL");
    for (Addr s : starts) {
        const Vma& v = *oc.mm.vmaAt(s);
        if (v.uffd_ctx != noUffdCtx && v.uffd_ctx != ctx.id)
            return refuseCall(c, "userfaultfd_unregister", -EINVAL,
                              describeVma(v) + " is registered with another userfaultfd: -EINVAL");
        if (const std::string why = cannotUserfault(c.world, v, v.vm_flags, wpAsync); !why.empty())
            return refuseCall(c, "vma_can_userfault", -EINVAL, describeVma(v) + ": " + why + ": -EINVAL");
    }
    Addr cursor = start;
    for (;;) {
        const Vma* v = oc.mm.findVma(cursor);
        if (!v || v->vm_start >= end)
            break;
        if (v->uffd_ctx == noUffdCtx) {
            cursor = v->vm_end;
            continue;
        }
        const Addr from = std::max(cursor, v->vm_start), to = std::min(end, v->vm_end);
        c.trace.step("userfaultfd_clear_vma", "unregisters " + describeRange(from, to) + " of " + describeVma(*v),
                     "the range leaves the context and loses um/uw/ui; it may merge with its neighbours again");
        const std::int64_t now = clearVma(oc, v->vm_start, from, to);
        if (now < 0)
            return now;
        cursor = oc.mm.vmaAt(static_cast<Addr>(now))->vm_end;
    }
    return 0;
}

std::int64_t doUffdioWriteprotect(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len, bool protect)
{
    UffdCtx ctx;
    if (const std::int64_t err = runningCtx(c, fd, ctx))
        return err;
    OpContext oc { c.world, c.world.procs.at(ctx.owner), c.trace };
    if (const std::int64_t err = validateRange(c, oc.mm, start, len))
        return err;
    const Addr end = start + len;
    c.trace.holding(Lock::MmapRead);
    std::int64_t err = -ENOENT;
    for (Addr s : vmasIn(oc.mm, start, end)) {
        const Vma v = *oc.mm.vmaAt(s);
        if (!(v.vm_flags & VM_UFFD_WP)) {
            c.trace.step("mwriteprotect_range", "stops at " + describeVma(v), "the VMA is not registered for WP: -ENOENT");
            return -ENOENT;
        }
        uffdWpRange(oc, v, std::max(start, v.vm_start), std::min(end, v.vm_end), protect);
        err = 0;
    }
    if (err)
        c.trace.step("mwriteprotect_range", "refused", "no VMA in the range: -ENOENT");
    return err;
}

void closeUffdFd(OpContext& c, UffdCtxId id)
{
    UffdCtx& ctx = ctxRef(c.world, id);
    VMALAB_ASSERT(ctx.fdRefs > 0, "a descriptor of the context was open");
    if (--ctx.fdRefs > 0 || ctx.monitorHeld) {
        c.trace.step("userfaultfd_release", "context #" + std::to_string(id) + " stays",
                     "another descriptor (in this or another process) still refers to it");
        return;
    }
    const std::size_t owner = ctx.owner;
    c.world.uffds.erase(id);
    OpContext oc { c.world, c.world.procs.at(owner), c.trace };
    c.trace.holding(Lock::MmapWrite);
    c.trace.step("userfaultfd_release_all", "releases context #" + std::to_string(id),
                 "the last descriptor is closed: every VMA registered with it is unregistered");
    Addr cursor = 0;
    for (;;) {
        const Vma* v = oc.mm.findVma(cursor);
        if (!v)
            break;
        if (v->uffd_ctx != id) {
            cursor = v->vm_end;
            continue;
        }
        const std::int64_t now = clearVma(oc, v->vm_start, v->vm_start, v->vm_end);
        VMALAB_ASSERT(now >= 0, "clearing a whole VMA needs no split");
        cursor = oc.mm.vmaAt(static_cast<Addr>(now))->vm_end;
    }
}

void dupUserfaultfd(World& world, std::size_t childIndex, Vma& dst, std::map<UffdCtxId, UffdCtxId>& forked, Tracer& trace)
{
    const UffdCtx* parentCtx = vmaUffd(world, dst);
    if (!parentCtx)
        return;
    if (!(parentCtx->features & UFFD_FEATURE_EVENT_FORK)) {
        dst.uffd_ctx = noUffdCtx;
        dst.vm_flags &= ~VM_UFFD_FLAGS;
        trace.step("dup_userfaultfd", "#" + std::to_string(dst.id) + " leaves userfaultfd context #" + std::to_string(parentCtx->id)
                       + " and loses um/uw/ui",
                   "the context lacks UFFD_FEATURE_EVENT_FORK: the child is not tracked (userfaultfd_reset_ctx())");
        return;
    }
    auto [it, fresh] = forked.emplace(parentCtx->id, noUffdCtx);
    if (fresh) {
        UffdCtx ctx = *parentCtx;
        ctx.id = world.nextUffdCtxId++;
        ctx.owner = childIndex;
        ctx.fdRefs = 0;
        ctx.monitorHeld = true;
        world.uffds.emplace(ctx.id, ctx);
        it->second = ctx.id;
    }
    trace.step("dup_userfaultfd", "#" + std::to_string(dst.id) + " moves to the child's new context #" + std::to_string(it->second),
               "UFFD_FEATURE_EVENT_FORK: the monitor receives the child's context in a UFFD_EVENT_FORK message, and fork "
               "waits until it is read");
    dst.uffd_ctx = it->second;
}

} // namespace vmalab
