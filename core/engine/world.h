#pragma once

#include "core/engine/persistent_map.h"
#include "core/engine/run_map.h"
#include "core/observed.h"
#include "core/profile.h"
#include "core/types.h"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vmalab {

using VmaId = std::uint64_t;
using FileId = std::uint64_t;
using AnonVmaId = std::uint64_t;
using UffdCtxId = std::uint64_t;

constexpr FileId noFile = 0;
constexpr AnonVmaId noAnonVma = 0;
constexpr UffdCtxId noUffdCtx = 0;

// struct vm_area_struct, the fields that decide merges, splits and faults.
struct Vma
{
    VmaId id = 0; // stable identity: kept by the VMA that absorbs a merge, new for a split-off part
    Addr vm_start = 0;
    Addr vm_end = 0; // exclusive, as in the kernel
    PageOff vm_pgoff = 0; // in pages
    VmFlags vm_flags = 0;
    FileId vm_file = noFile;
    AnonVmaId anon_vma = noAnonVma; // set once a fault needs one (anon_vma_prepare())
    // Entries on the VMA's anon_vma_chain: 1 for its own anon_vma, more when it was
    // inherited through fork (what vma_had_uncowed_parents() asks).
    unsigned anonVmaChain = 0;
    UffdCtxId uffd_ctx = noUffdCtx;
    std::string anon_name;   // prctl(PR_SET_VMA_ANON_NAME), compared by content
    std::string specialName; // vm_ops->name() of special mappings: "[vdso]", "[vvar]"

    std::uint64_t pages() const { return (vm_end - vm_start) >> pageShift; }
    bool contains(Addr a) const { return vm_start <= a && a < vm_end; }
    PageOff pgoffAt(Addr a) const { return vm_pgoff + ((a - vm_start) >> pageShift); }
    bool isAnonymous() const { return vm_file == noFile; } // vma_is_anonymous()
    bool hadUncowedParents() const { return anon_vma != noAnonVma && anonVmaChain > 1; }
    bool operator==(const Vma&) const = default;
};

// A file that VMAs can map: shmem (memfd, shared anonymous) or a regular file.
struct File
{
    enum class Kind
    {
        Shmem,
        Regular,
    };
    FileId id = noFile;
    Kind kind = Kind::Shmem;
    std::string path;   // as maps prints it, without " (deleted)"
    bool deleted = false;
    std::uint64_t size = 0; // i_size in bytes
    unsigned devMajor = 0;
    unsigned devMinor = 1;
    std::uint64_t inode = 0;
    RunMap<bool> pageCache; // page-cache pages by file page index; for shmem the value says dirty (written)
    // By file page index: the order of the large folio holding the page (folios are naturally
    // aligned, so the order gives its range); absent for small folios. MADV_COLLAPSE makes them.
    RunMap<std::uint8_t> folioOrder;
    bool operator==(const File&) const = default;

    std::uint64_t sizePages() const { return (size + pageSize - 1) >> pageShift; }
};

// What a PTE holds, as far as the model needs it.
struct Pte
{
    enum class Kind : std::uint8_t
    {
        Anon,     // private anonymous page (or a COW copy of a file page)
        ZeroPage, // the shared zero page: present, not counted in Rss
        File,     // a page-cache page (regular file or shmem)
        Marker,   // no page: a guard or uffd-wp marker
    };
    PageState state = PageState::Present;
    Kind kind = Kind::Anon;
    bool uffdWp = false;
    // A present anonymous page fork left shared and write-protected (copy-on-write) in the
    // processes holding it; the next write fault gives the writer an exclusive page.
    bool cowShared = false;
    // A present anonymous page of a THP (collapsed or THP-faulted) never written: splitting the
    // THP maps it to the shared zero page instead of keeping it.
    bool zeroFilled = false;
    // A page-cache page mapped through a PMD (one THP for the aligned 2 MiB block): splitting
    // that PMD unmaps the whole block instead of leaving PTEs (file_pages.h).
    bool pmdMapped = false;
    bool operator==(const Pte&) const = default;
};

// A userfaultfd context (struct userfaultfd_ctx). It acts on the address space that created
// it, whichever process uses a descriptor of it.
struct UffdCtx
{
    UffdCtxId id = noUffdCtx;
    std::size_t owner = 0;      // scenario process index of ctx->mm
    bool initialized = false;   // UFFDIO_API done; every other ioctl needs it
    std::uint64_t features = 0; // the UFFD_FEATURE_* bits UFFDIO_API enabled
    unsigned fdRefs = 0;        // descriptors open on it in any process
    bool monitorHeld = false;   // made by fork with EVENT_FORK: the monitor holds it open
    bool operator==(const UffdCtx&) const = default;
};

// A position in an Mm's VMA index that mprotect, vma_modify, splits and merges pass along
// instead of looking the VMA and its neighbours up again (PersistentMap::Cursor).
using VmaCursor = PersistentMap<Addr, Vma>::Cursor;

// One address space (struct mm_struct) with its page tables and open files.
struct Mm
{
    std::int64_t pid = 0;
    PersistentMap<Addr, Vma> vmas; // by vm_start: the ordered VMA index (the kernel's maple tree)
    RunMap<Pte> ptes;          // by page index (address >> 12)
    RunMap<bool> pteTables;    // by PMD index (address >> 21): which PTE tables exist
    RunMap<bool> pmdTables;    // by PUD index (address >> 30): which PMD tables exist
    RunMap<bool> pudTables;    // by PGD index (address >> 39): which PUD tables exist (P4D folded)
    std::map<int, FileId> fds; // open file descriptors of files
    std::map<int, UffdCtxId> uffdFds; // open userfaultfd descriptors (numbered with fds)
    std::map<int, int> fdAccess; // O_ACCMODE of fds opened O_RDONLY/O_WRONLY (open_mapped); absent: O_RDWR
    Addr mmap_base = 0;
    Addr task_size = 0x7ffffffff000;
    Addr start_brk = 0;
    Addr brk = 0;
    Addr start_stack = 0;
    std::uint64_t forkVmasPtCopied = 0; // stats for a fork child
    std::uint64_t forkPtesCopied = 0;

    std::size_t mapCount() const { return vmas.size(); }
    // get_unused_fd_flags(): the lowest number at or above `first` free in both tables.
    int lowestFreeFd(int first) const
    {
        int fd = first;
        while (fds.count(fd) || uffdFds.count(fd))
            ++fd;
        return fd;
    }
    // find_vma(): the first VMA that ends above addr, or nullptr.
    const Vma* findVma(Addr addr) const;
    Vma* findVma(Addr addr);
    // find_vma() as a cursor (invalid when no VMA ends above addr).
    VmaCursor findVmaCursor(Addr addr) const;
    // The VMA containing addr, or nullptr (vma_lookup()).
    const Vma* vmaAt(Addr addr) const;
    const Vma* prevOf(const Vma& v) const; // the VMA before v (adjacent or not), or nullptr
    const Vma* nextOf(const Vma& v) const;
    const Vma* lastBefore(Addr addr) const; // the last VMA with vm_start < addr
    bool anyVmaIn(Addr start, Addr end) const; // find_vma_intersection()
    Vma& insert(const Vma& v);
    void erase(Addr vmStart);
    // Moves a VMA's start (the index is keyed by vm_start).
    Vma& rekey(Addr oldStart);
};

// Every process, file and counter at one instant. A value: copying a World copies it all.
struct World
{
    std::vector<Mm> procs; // scenario process index -> address space
    PersistentMap<FileId, File> files;
    // anon_vma_fork(): a child's anon_vma -> the parent's. Pages shared copy-on-write are
    // known by their root anon_vma and page index, as the kernel's rmap finds them.
    PersistentMap<AnonVmaId, AnonVmaId> anonVmaParent;
    PersistentMap<UffdCtxId, UffdCtx> uffds; // live userfaultfd contexts
    VmaId nextVmaId = 1;
    FileId nextFileId = 1;
    AnonVmaId nextAnonVmaId = 1;
    UffdCtxId nextUffdCtxId = 1;
    std::uint64_t nextInode = 1024;
    std::int64_t nextPid = 1000;

    // The kernel modelled; fixed for a run, so every snapshot shares one copy.
    const Profile& profile() const { return *m_profile; }
    void setProfile(Profile p) { m_profile = std::make_shared<const Profile>(std::move(p)); }
    // For tests that tune the machine: copies the profile first.
    Profile& tuneProfile()
    {
        auto copy = std::make_shared<Profile>(*m_profile);
        Profile& ref = *copy;
        m_profile = std::move(copy);
        return ref;
    }

    VmaId newVmaId() { return nextVmaId++; }
    AnonVmaId newAnonVma() { return nextAnonVmaId++; }
    AnonVmaId anonVmaRoot(AnonVmaId id) const
    {
        for (auto it = anonVmaParent.find(id); it != anonVmaParent.end(); it = anonVmaParent.find(id))
            id = it->second;
        return id;
    }
    File& newFile(File::Kind kind, const std::string& path, std::uint64_t size);
    const UffdCtx* uffd(UffdCtxId id) const
    {
        auto it = uffds.find(id);
        return it == uffds.end() ? nullptr : &it->second;
    }
    const File* file(FileId id) const;
    File* file(FileId id);

private:
    std::shared_ptr<const Profile> m_profile = std::make_shared<const Profile>();
};

} // namespace vmalab
