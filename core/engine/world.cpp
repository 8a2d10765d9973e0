#include "core/engine/world.h"

#include "core/assert.h"

#include <utility>

namespace vmalab {

const Vma* Mm::findVma(Addr addr) const
{
    auto it = vmas.upper_bound(addr);
    if (it != vmas.begin()) {
        auto prev = std::prev(it);
        if (prev->second.vm_end > addr)
            return &prev->second;
    }
    return it == vmas.end() ? nullptr : &it->second;
}

Vma* Mm::findVma(Addr addr)
{
    // Through at(), so that a VMA shared with an earlier world is copied before it changes.
    const Vma* v = static_cast<const Mm*>(this)->findVma(addr);
    return v ? &vmas.at(v->vm_start) : nullptr;
}

const Vma* Mm::vmaAt(Addr addr) const
{
    const Vma* v = findVma(addr);
    return v && v->vm_start <= addr ? v : nullptr;
}

const Vma* Mm::prevOf(const Vma& v) const
{
    auto it = vmas.find(v.vm_start);
    VMALAB_ASSERT(it != vmas.end(), "prevOf() of a VMA not in the index");
    return it == vmas.begin() ? nullptr : &std::prev(it)->second;
}

const Vma* Mm::nextOf(const Vma& v) const
{
    auto it = vmas.find(v.vm_start);
    VMALAB_ASSERT(it != vmas.end(), "nextOf() of a VMA not in the index");
    ++it;
    return it == vmas.end() ? nullptr : &it->second;
}

const Vma* Mm::lastBefore(Addr addr) const
{
    auto it = vmas.lower_bound(addr);
    return it == vmas.begin() ? nullptr : &std::prev(it)->second;
}

bool Mm::anyVmaIn(Addr start, Addr end) const
{
    const Vma* v = findVma(start);
    return v && v->vm_start < end;
}

Vma& Mm::insert(const Vma& v)
{
    VMALAB_ASSERT(v.vm_start < v.vm_end, "empty VMA");
    return vmas.emplaceNew(v.vm_start, v); // asserts that no VMA starts there yet
}

void Mm::erase(Addr vmStart)
{
    VMALAB_ASSERT(vmas.erase(vmStart) == 1, "erasing a VMA that is not in the index");
}

Vma& Mm::rekey(Addr oldStart)
{
    const Addr newStart = std::as_const(vmas).at(oldStart).vm_start;
    return vmas.rekey(oldStart, newStart);
}

File& World::newFile(File::Kind kind, const std::string& path, std::uint64_t size)
{
    File f;
    f.id = nextFileId++;
    f.kind = kind;
    f.path = path;
    f.size = size;
    f.inode = nextInode++;
    if (kind == File::Kind::Regular) {
        f.devMajor = 254; // a block device, as on the reference host
        f.devMinor = 0;
    }
    files.emplace(f.id, f);
    return files.at(f.id);
}

const File* World::file(FileId id) const
{
    auto it = files.find(id);
    return it == files.end() ? nullptr : &it->second;
}

File* World::file(FileId id)
{
    return files.count(id) ? &files.at(id) : nullptr;
}

} // namespace vmalab
