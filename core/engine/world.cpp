#include "core/engine/world.h"

#include "core/assert.h"

#include <utility>

namespace vmalab {

VmaCursor Mm::findVmaCursor(Addr addr) const
{
    VmaCursor c = vmas.floor(addr);
    if (!c)
        return vmas.first(); // no VMA starts at or below addr
    if (vmas.value(c).vm_end > addr || vmas.next(c))
        return c;
    return {};
}

const Vma* Mm::findVma(Addr addr) const
{
    const VmaCursor c = findVmaCursor(addr);
    return c ? &vmas.value(c) : nullptr;
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
    const VmaCursor c = vmas.floor(v.vm_start);
    VMALAB_ASSERT(c && vmas.key(c) == v.vm_start, "prevOf() of a VMA not in the index");
    return vmas.peekPrev(c);
}

const Vma* Mm::nextOf(const Vma& v) const
{
    const VmaCursor c = vmas.floor(v.vm_start);
    VMALAB_ASSERT(c && vmas.key(c) == v.vm_start, "nextOf() of a VMA not in the index");
    return vmas.peekNext(c);
}

const Vma* Mm::lastBefore(Addr addr) const
{
    const VmaCursor c = addr == 0 ? VmaCursor {} : vmas.floor(addr - 1);
    return c ? &vmas.value(c) : nullptr;
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
