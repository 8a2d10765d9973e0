// The calls recordings add to the language (docs/recording.md): observed page states and
// handles to the files a snapshot maps.

#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <cerrno>
#include <cstdlib>

namespace vmalab {

namespace {

constexpr int openMappedFirstFd = 1 << 20;

// Sets the observed state on [start, end) of one VMA, as the fault that produced it would
// have left the page tables.
void observeInVma(OpContext& c, Vma& v, Addr start, Addr end, ObservedPageState state)
{
    File* file = c.world.file(v.vm_file);
    Pte pte;
    switch (state) {
    case ObservedPageState::None:
        clearPtes(c.mm, start, end);
        return;
    case ObservedPageState::Anon:
    case ObservedPageState::Swap:
        // A private anonymous folio (or its swap entry) needs the VMA's anon_vma.
        if (!(v.vm_flags & VM_SHARED))
            anonVmaPrepare(c, v);
        pte.kind = Pte::Kind::Anon;
        pte.state = state == ObservedPageState::Anon ? PageState::Present : PageState::Swap;
        break;
    case ObservedPageState::File:
        if (file) {
            pte.kind = Pte::Kind::File;
            const PageOff first = v.pgoffAt(start);
            file->pageCache.assign(first, first + ((end - start) >> pageShift), true);
        } else {
            pte.kind = Pte::Kind::ZeroPage; // a read fault in a private anonymous VMA
        }
        break;
    case ObservedPageState::Guard:
        pte.kind = Pte::Kind::Marker;
        pte.state = PageState::Guard;
        break;
    }
    setPtes(c.mm, start, end, pte);
}

} // namespace

std::optional<ObservedPageState> parseObservedPageState(const std::string& text)
{
    if (text == "none")
        return ObservedPageState::None;
    if (text == "anon")
        return ObservedPageState::Anon;
    if (text == "file")
        return ObservedPageState::File;
    if (text == "swap")
        return ObservedPageState::Swap;
    if (text == "guard")
        return ObservedPageState::Guard;
    return std::nullopt;
}

std::int64_t doObservePages(OpContext& c, Addr addr, std::uint64_t len, ObservedPageState state)
{
    const Addr start = pageAlignDown(addr);
    const Addr end = pageAlignUp(addr + len);
    if (end <= start)
        return 0;
    // A page seen below a growsdown VMA means the stack grew there, as the fault would do it.
    if (state != ObservedPageState::None) {
        const Vma* below = c.mm.findVma(start);
        if (below && below->vm_start > start && (below->vm_flags & VM_GROWSDOWN))
            handleFault(c, start, false);
    }
    std::uint64_t pages = 0;
    for (Addr at = start; at < end;) {
        Vma* v = c.mm.findVma(at);
        if (!v || v->vm_start >= end)
            break;
        const Addr from = std::max(at, v->vm_start);
        const Addr to = std::min(end, v->vm_end);
        observeInVma(c, *v, from, to, state);
        pages += (to - from) >> pageShift;
        at = to;
    }
    static const char* const names[] = { "none", "anon", "file", "swap", "guard" };
    c.trace.step("observe",
        std::to_string(pages) + " page(s) of " + describeRange(start, end) + " seen as "
            + names[static_cast<int>(state)],
        "an observation from the recording, not a call: the pages are set as the faults between calls left them");
    return 0;
}

std::int64_t doOpenMapped(OpContext& c, const std::string& path, const std::string& dev, std::uint64_t inode,
    std::uint64_t size, std::int64_t oflags)
{
    char* rest = nullptr;
    const unsigned long major = std::strtoul(dev.c_str(), &rest, 16);
    if (!rest || *rest != ':')
        return refuseCall(c, "open_mapped", -EINVAL, "the device \"" + dev + "\" is not MAJOR:MINOR in hex: -EINVAL");
    const char* minorText = rest + 1;
    const unsigned long minor = std::strtoul(minorText, &rest, 16);
    if (rest == minorText || *rest != '\0')
        return refuseCall(c, "open_mapped", -EINVAL, "the device \"" + dev + "\" is not MAJOR:MINOR in hex: -EINVAL");
    const int access = static_cast<int>(oflags & 3);
    if (access == 3)
        return refuseCall(c, "open_mapped", -EINVAL, "the open flags have no valid access mode: -EINVAL");
    // The snapshot's file of that device and inode, preferring one of the same path.
    FileId foundId = noFile;
    bool samePath = false;
    for (const auto& [id, f] : c.world.files) {
        if (f.devMajor == major && f.devMinor == minor && f.inode == inode
            && (foundId == noFile || (!samePath && f.path == path))) {
            foundId = id;
            samePath = f.path == path;
        }
    }
    File* found = c.world.file(foundId);
    if (!found) {
        found = &c.world.newFile(major == 0 ? File::Kind::Shmem : File::Kind::Regular, path, size);
        found->devMajor = static_cast<unsigned>(major);
        found->devMinor = static_cast<unsigned>(minor);
        found->inode = inode;
    }
    found->size = size;
    // A recording names each file once, whichever process maps it later: the handle is open in
    // every process, numbered above any descriptor a program or scenario uses.
    int fd = openMappedFirstFd;
    for (bool taken = true; taken;) {
        taken = false;
        for (const Mm& m : c.world.procs)
            taken = taken || m.fds.count(fd) || m.uffdFds.count(fd);
        fd += taken;
    }
    const FileId id = found->id;
    for (Mm& m : c.world.procs) {
        m.fds[fd] = id;
        if (access == 2)
            m.fdAccess.erase(fd);
        else
            m.fdAccess[fd] = access;
    }
    c.trace.step("open_mapped",
        "fd " + std::to_string(fd) + " is " + path + " (" + dev + " inode " + std::to_string(inode) + ", "
            + std::to_string(size) + " bytes)",
        "the file the snapshot's mappings of that device and inode map, opened "
            + std::string(access == 0 ? "read-only"
                    : access == 1     ? "write-only"
                                      : "read-write"));
    return fd;
}

} // namespace vmalab
