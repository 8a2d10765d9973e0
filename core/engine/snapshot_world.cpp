#include "core/engine/snapshot_world.h"

#include "core/engine/page_table.h"
#include "core/snapshot/smaps_text.h"
#include "core/vm_flags.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace vmalab {

namespace {

using snapshot::NameKind;
using snapshot::SnapshotPageRun;
using snapshot::SnapshotProcess;
using snapshot::SnapshotVma;

// Collects assumptions, one entry per text and process with every range it applies to.
class Assumptions
{
public:
    Assumptions(std::vector<SnapshotAssumption>* out, std::int64_t pid)
        : m_out(out)
        , m_pid(pid)
    {
    }
    void add(const std::string& text, Addr start = 0, Addr end = 0)
    {
        if (!m_out)
            return;
        auto [it, fresh] = m_index.emplace(text, m_out->size());
        if (fresh)
            m_out->push_back({ text, m_pid, {} });
        if (end > start)
            (*m_out)[it->second].ranges.emplace_back(start, end);
    }

private:
    std::vector<SnapshotAssumption>* m_out;
    std::int64_t m_pid;
    std::map<std::string, std::size_t> m_index;
};

VmFlags flagsFromPerms(const std::string& perms)
{
    VmFlags f = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    if (perms.size() == 4) {
        if (perms[0] == 'r')
            f |= VM_READ;
        if (perms[1] == 'w')
            f |= VM_WRITE;
        if (perms[2] == 'x')
            f |= VM_EXEC;
        if (perms[3] == 's')
            f |= VM_SHARED | VM_MAYSHARE;
    }
    return f;
}

// Files are known by device and inode; shmem lives on device major 0 (tmpfs, the shm mount).
File::Kind fileKind(const ObservedVma& v, const std::string& path)
{
    if (v.devMajor == 0 || path.rfind("/memfd:", 0) == 0 || path.rfind("/SYSV", 0) == 0 || path == "/dev/zero")
        return File::Kind::Shmem;
    return File::Kind::Regular;
}

struct Builder
{
    World& world;
    Mm& mm;
    std::size_t procIndex;
    Assumptions& assume;
    std::map<std::tuple<unsigned, unsigned, std::uint64_t, std::string>, FileId>& files;
    UffdCtxId uffdCtx = noUffdCtx;

    FileId fileFor(const ObservedVma& v, const std::string& path, bool deleted)
    {
        const auto key = std::make_tuple(v.devMajor, v.devMinor, v.inode, path);
        auto it = files.find(key);
        const std::uint64_t endBytes = v.offset + (v.end - v.start);
        if (it != files.end()) {
            File* f = world.file(it->second);
            f->size = std::max(f->size, endBytes);
            return f->id;
        }
        File& f = world.newFile(fileKind(v, path), path, endBytes);
        f.deleted = deleted;
        f.devMajor = v.devMajor;
        f.devMinor = v.devMinor;
        f.inode = v.inode;
        world.nextInode = std::max(world.nextInode, v.inode + 1);
        files.emplace(key, f.id);
        return f.id;
    }

    void vma(const SnapshotVma& s);
    void pages(const Vma& v, const std::vector<SnapshotPageRun>& runs, const ObservedVma& o);
};

void Builder::vma(const SnapshotVma& s)
{
    const ObservedVma& o = s.vma;
    Vma v;
    v.id = world.newVmaId();
    v.vm_start = o.start;
    v.vm_end = o.end;
    std::vector<std::string> unknown;
    v.vm_flags = o.vmFlags.empty() ? flagsFromPerms(o.perms) : vmFlagsFromMnemonics(o.vmFlags, &unknown);
    if (o.vmFlags.empty())
        assume.add("no VmFlags line: flags taken from the permissions, with every VM_MAY* bit", o.start, o.end);
    for (const std::string& m : unknown)
        assume.add("VmFlags mnemonic \"" + m + "\" is unknown to this vmalab and left out", o.start, o.end);
    const snapshot::VmaName name = snapshot::classifyName(o.name);
    switch (name.kind) {
    case NameKind::File:
    case NameKind::DeletedFile:
        v.vm_file = fileFor(o, name.text, name.kind == NameKind::DeletedFile);
        v.vm_pgoff = o.offset >> pageShift;
        assume.add("file size unknown: taken as the end of the furthest mapping of the file", o.start, o.end);
        break;
    case NameKind::AnonShmemNamed:
        v.vm_file = fileFor(o, "/dev/zero", true);
        v.vm_pgoff = o.offset >> pageShift;
        v.anon_name = name.text;
        break;
    case NameKind::AnonNamed:
        v.anon_name = name.text;
        break;
    case NameKind::Heap:
        if (!mm.start_brk)
            mm.start_brk = o.start;
        mm.brk = o.end;
        assume.add("brk is the end of [heap] (the program break may lie inside its last page)", o.start, o.end);
        break;
    case NameKind::Stack:
        mm.start_stack = o.end - 8;
        assume.add("start_stack is taken as 8 bytes below the end of [stack]", o.start, o.end);
        break;
    case NameKind::Special:
        v.specialName = name.text;
        break;
    case NameKind::None:
        break;
    }
    if (v.vm_file == noFile) {
        // maps prints offset 0 for anonymous memory; vm_pgoff is where it was first mapped.
        v.vm_pgoff = v.vm_start >> pageShift;
        assume.add("anonymous vm_pgoff = vm_start >> 12 (true unless mremap() moved the VMA)", o.start, o.end);
    }
    if (v.vm_flags & VM_UFFD_FLAGS) {
        if (uffdCtx == noUffdCtx) {
            UffdCtx ctx;
            ctx.id = world.nextUffdCtxId++;
            ctx.owner = procIndex;
            ctx.initialized = true;
            ctx.monitorHeld = true;
            world.uffds.emplace(ctx.id, ctx);
            uffdCtx = ctx.id;
        }
        v.uffd_ctx = uffdCtx;
        assume.add("every userfaultfd-registered VMA belongs to one context, held open by a monitor outside the "
                   "snapshot, with no features known",
            o.start, o.end);
    }
    const bool anonPages = o.kb("Anonymous") > 0 || o.kb("Swap") > 0;
    if (anonPages && (v.vm_file == noFile || !(v.vm_flags & VM_SHARED))) {
        v.anon_vma = world.newAnonVma();
        v.anonVmaChain = 1;
        assume.add(
            "each VMA with anonymous pages has an anon_vma of its own, not inherited through fork", o.start, o.end);
    }
    Vma& inserted = mm.insert(v);
    (void)inserted;
}

// Page states from the runs of one VMA.
void Builder::pages(const Vma& v, const std::vector<SnapshotPageRun>& runs, const ObservedVma& o)
{
    auto it = std::lower_bound(
        runs.begin(), runs.end(), v.vm_start, [](const SnapshotPageRun& r, Addr a) { return r.run.end <= a; });
    for (; it != runs.end() && it->run.start < v.vm_end; ++it) {
        const Addr s = std::max(v.vm_start, it->run.start), e = std::min(v.vm_end, it->run.end);
        const PageRun& r = it->run;
        Pte pte;
        pte.state = r.state;
        pte.uffdWp = r.uffdWp;
        switch (r.state) {
        case PageState::None:
            continue;
        case PageState::Guard:
            pte.kind = Pte::Kind::Marker;
            break;
        case PageState::Swap:
            // pagemap shows a uffd-wp marker as a swap entry with the wp bit.
            if (r.uffdWp && !world.profile().machine.swap) {
                pte.kind = Pte::Kind::Marker;
                assume.add("swap entries with the uffd-wp bit on a machine without swap are uffd-wp markers", s, e);
            }
            break;
        case PageState::Present:
            if (it->kpageflags & (std::uint64_t { 1 } << snapshot::kKpfZeroPage))
                pte.kind = Pte::Kind::ZeroPage;
            else if (r.file && v.vm_file != noFile)
                pte.kind = Pte::Kind::File;
            else
                pte.kind = Pte::Kind::Anon;
            if (pte.kind == Pte::Kind::Anon && !r.exclusive) {
                assume.add("anonymous pages shared with processes outside the snapshot (fork, KSM) are taken as this "
                           "process's own",
                    s, e);
            }
            if (pte.kind == Pte::Kind::File) {
                File* f = world.file(v.vm_file);
                f->pageCache.assign(v.pgoffAt(s), v.pgoffAt(e), true);
            }
            break;
        }
        setPtes(mm, s, e, pte);
    }
    (void)o;
}

// Address ranges whose PTEs differ between two address spaces.
std::vector<std::pair<Addr, Addr>> changedPages(const Mm& a, const Mm& b)
{
    struct Run
    {
        std::uint64_t s, e;
        Pte p;
    };
    auto runs = [](const Mm& mm) {
        std::vector<Run> out;
        mm.ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& p) { out.push_back({ s, e, p }); });
        return out;
    };
    const std::vector<Run> ra = runs(a), rb = runs(b);
    std::vector<std::uint64_t> cuts;
    for (const Run& r : ra)
        cuts.insert(cuts.end(), { r.s, r.e });
    for (const Run& r : rb)
        cuts.insert(cuts.end(), { r.s, r.e });
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    auto at = [](const std::vector<Run>& rs, std::uint64_t i) -> const Pte* {
        auto it = std::upper_bound(rs.begin(), rs.end(), i, [](std::uint64_t v, const Run& r) { return v < r.e; });
        return it != rs.end() && it->s <= i ? &it->p : nullptr;
    };
    std::vector<std::pair<Addr, Addr>> out;
    for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
        const Pte* x = at(ra, cuts[k]);
        const Pte* y = at(rb, cuts[k]);
        if ((x == nullptr) == (y == nullptr) && (!x || *x == *y))
            continue;
        const Addr s = cuts[k] << pageShift, e = cuts[k + 1] << pageShift;
        if (!out.empty() && out.back().second == s)
            out.back().second = e;
        else
            out.emplace_back(s, e);
    }
    return out;
}

} // namespace

VmFlags vmFlagsFromMnemonics(const std::vector<std::string>& mnemonics, std::vector<std::string>* unknown)
{
    VmFlags f = 0;
    for (const std::string& m : mnemonics) {
        bool known = false;
        for (unsigned b = 0; b < 64 && !known; ++b) {
            if (m == vmFlagMnemonic(b)) {
                f |= bit(b);
                known = true;
            }
        }
        if (!known && unknown)
            unknown->push_back(m);
    }
    return f;
}

Result<World> worldFromSnapshot(
    const snapshot::Snapshot& snap, const Profile& profile, std::vector<SnapshotAssumption>* assumptions)
{
    if (snap.processes.empty())
        return Diagnostic { "", 0, 0, "the snapshot holds no process" };
    World world;
    world.setProfile(profile);
    std::map<std::tuple<unsigned, unsigned, std::uint64_t, std::string>, FileId> files;
    for (const SnapshotProcess& p : snap.processes) {
        Assumptions assume(assumptions, p.pid);
        world.procs.emplace_back();
        Mm& mm = world.procs.back();
        mm.pid = p.pid;
        // A known start_brk with no [heap] is a process that never grew its break (as at an
        // exec stop): brk == start_brk.
        mm.start_brk = p.start_brk;
        mm.brk = p.start_brk;
        world.nextPid = std::max(world.nextPid, p.pid + 1);
        Builder b { world, mm, world.procs.size() - 1, assume, files };
        Addr highestBelowStack = 0;
        const SnapshotVma* stack = nullptr;
        for (const SnapshotVma& s : p.vmas) {
            if (s.vma.end > mm.task_size) {
                assume.add("mappings above TASK_SIZE ([vsyscall]) are left out of the model", s.vma.start, s.vma.end);
                continue;
            }
            if (snapshot::classifyName(s.vma.name).kind == NameKind::Stack)
                stack = &s;
            b.vma(s);
        }
        for (const SnapshotVma& s : p.vmas)
            if (stack && s.vma.end <= stack->vma.start)
                highestBelowStack = std::max(highestBelowStack, s.vma.end);
        mm.mmap_base = highestBelowStack ? highestBelowStack : mm.task_size - (Addr { 128 } << 20);
        assume.add("mmap_base (where top-down allocation starts) is the end of the highest mapping below [stack]");
        for (const SnapshotPageRun& r : p.pages)
            if (!mm.vmaAt(r.run.start) && r.run.state != PageState::None && r.run.end <= mm.task_size)
                return Diagnostic { "", 0, 0,
                    "process " + std::to_string(p.pid) + ": a " + pageStateName(r.run.state)
                        + " page run starts outside every VMA" };
        for (const auto& entry : mm.vmas) {
            const Vma& v = entry.second;
            auto it = std::find_if(
                p.vmas.begin(), p.vmas.end(), [&](const SnapshotVma& s) { return s.vma.start == v.vm_start; });
            b.pages(v, p.pages, it->vma);
        }
        assume.add("PTE tables exist exactly where pages or markers are (the kernel may keep empty ones)");
    }
    return world;
}

Mm adoptSnapshotProcess(World& into, const World& from, std::size_t index, std::size_t procIndex)
{
    const Mm& src = from.procs.at(index);
    Mm mm = src;
    std::map<FileId, FileId> fileIds;
    std::map<AnonVmaId, AnonVmaId> anonIds;
    std::map<UffdCtxId, UffdCtxId> uffdIds;
    auto fileFor = [&](FileId old) {
        if (old == noFile)
            return noFile;
        if (auto it = fileIds.find(old); it != fileIds.end())
            return it->second;
        const File& f = *from.file(old);
        FileId id = noFile;
        for (const auto& [existing, g] : into.files)
            if (g.devMajor == f.devMajor && g.devMinor == f.devMinor && g.inode == f.inode && g.path == f.path)
                id = existing;
        if (id == noFile) {
            File& made = into.newFile(f.kind, f.path, f.size);
            const FileId madeId = made.id;
            made = f;
            made.id = madeId;
            id = madeId;
        }
        fileIds[old] = id;
        return id;
    };
    mm.vmas.clear();
    for (const auto& [start, v] : src.vmas) {
        Vma copy = v;
        copy.id = into.newVmaId();
        copy.vm_file = fileFor(v.vm_file);
        if (v.anon_vma != noAnonVma) {
            auto [it, fresh] = anonIds.emplace(v.anon_vma, noAnonVma);
            if (fresh)
                it->second = into.newAnonVma();
            copy.anon_vma = it->second;
        }
        if (v.uffd_ctx != noUffdCtx) {
            auto [it, fresh] = uffdIds.emplace(v.uffd_ctx, noUffdCtx);
            if (fresh) {
                UffdCtx ctx = *from.uffd(v.uffd_ctx);
                ctx.id = into.nextUffdCtxId++;
                ctx.owner = procIndex;
                into.uffds.emplace(ctx.id, ctx);
                it->second = ctx.id;
            }
            copy.uffd_ctx = it->second;
        }
        mm.insert(copy);
    }
    return mm;
}

std::vector<const SnapshotAssumption*> assumptionsUsed(
    const std::vector<SnapshotAssumption>& assumptions, const World& before, const World& after)
{
    // Ranges, per pid, of VMAs that are not in the other world exactly as they were.
    std::map<std::int64_t, std::vector<std::pair<Addr, Addr>>> changed;
    for (std::size_t i = 0; i < before.procs.size(); ++i) {
        const Mm& a = before.procs[i];
        const Mm* b = i < after.procs.size() ? &after.procs[i] : nullptr;
        for (const auto& e : a.vmas) {
            auto other = b ? b->vmas.find(e.first) : a.vmas.end();
            if (!b || other == b->vmas.end() || !(other->second == e.second))
                changed[a.pid].emplace_back(e.second.vm_start, e.second.vm_end);
        }
        if (b)
            for (const auto& e : b->vmas) {
                auto other = a.vmas.find(e.first);
                if (other == a.vmas.end() || !(other->second == e.second))
                    changed[a.pid].emplace_back(e.second.vm_start, e.second.vm_end);
            }
        if (b && !(a.ptes == b->ptes))
            for (auto r : changedPages(a, *b))
                changed[a.pid].push_back(r);
    }
    std::vector<const SnapshotAssumption*> out;
    for (const SnapshotAssumption& s : assumptions) {
        auto it = changed.find(s.pid);
        if (it == changed.end())
            continue;
        bool used = s.ranges.empty();
        for (auto [cs, ce] : it->second)
            for (auto [as, ae] : s.ranges)
                used = used || (as < ce && cs < ae);
        if (used)
            out.push_back(&s);
    }
    return out;
}

} // namespace vmalab
