#include "core/engine/layout.h"

#include "core/vm_flags.h"

namespace vmalab {

namespace {

constexpr VmFlags mayAll = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
constexpr VmFlags ro = VM_READ | mayAll;
constexpr VmFlags rx = VM_READ | VM_EXEC | mayAll;
constexpr VmFlags rwPrivate = VM_READ | VM_WRITE | mayAll | VM_ACCOUNT;

struct Segment
{
    Addr start;
    Addr end;
    VmFlags flags;
    std::uint64_t offset;
};

void mapFile(World& w, Mm& mm, const char* path, std::uint64_t size, std::initializer_list<Segment> segments)
{
    File& f = w.newFile(File::Kind::Regular, path, size);
    for (const Segment& s : segments) {
        Vma v;
        v.id = w.newVmaId();
        v.vm_start = s.start;
        v.vm_end = s.end;
        v.vm_flags = s.flags;
        v.vm_file = f.id;
        v.vm_pgoff = s.offset >> pageShift;
        mm.insert(v);
    }
}

void mapAnon(World& w, Mm& mm, Addr start, Addr end, VmFlags flags, const char* specialName = "")
{
    Vma v;
    v.id = w.newVmaId();
    v.vm_start = start;
    v.vm_end = end;
    v.vm_flags = flags;
    v.vm_pgoff = start >> pageShift;
    v.specialName = specialName;
    mm.insert(v);
}

} // namespace

Mm makeDefaultProcess(World& w, std::int64_t pid)
{
    Mm mm;
    mm.pid = pid;
    // TASK_SIZE minus a 128 MiB gap for the stack (mmap_base() with an 8 MiB RLIMIT_STACK).
    mm.mmap_base = 0x7ffff7fff000;
    mapFile(w, mm, "/usr/bin/vmalab-scenario", 0x4000,
            { { 0x555555554000, 0x555555555000, ro, 0 },
              { 0x555555555000, 0x555555556000, rx, 0x1000 },
              { 0x555555556000, 0x555555557000, ro, 0x2000 },
              { 0x555555557000, 0x555555558000, rwPrivate, 0x3000 } });
    mm.start_brk = 0x555555559000;
    mm.brk = 0x55555557a000;
    mapAnon(w, mm, mm.start_brk, mm.brk, rwPrivate);
    mapFile(w, mm, "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x1d5000,
            { { 0x7ffff7d84000, 0x7ffff7daa000, ro, 0 },
              { 0x7ffff7daa000, 0x7ffff7f00000, rx, 0x26000 },
              { 0x7ffff7f00000, 0x7ffff7f53000, ro, 0x17c000 },
              { 0x7ffff7f53000, 0x7ffff7f57000, ro | VM_ACCOUNT, 0x1cf000 },
              { 0x7ffff7f57000, 0x7ffff7f59000, rwPrivate, 0x1d3000 } });
    mapAnon(w, mm, 0x7ffff7f59000, 0x7ffff7f66000, rwPrivate);
    const VmFlags vvar = VM_READ | VM_MAYREAD | VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_DONTDUMP;
    mapAnon(w, mm, 0x7ffff7fc1000, 0x7ffff7fc5000, vvar, "[vvar]");
    mapAnon(w, mm, 0x7ffff7fc5000, 0x7ffff7fc7000, vvar, "[vvar_vclock]");
    mapAnon(w, mm, 0x7ffff7fc7000, 0x7ffff7fc9000, rx | VM_DONTEXPAND, "[vdso]");
    mapFile(w, mm, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 0x36000,
            { { 0x7ffff7fc9000, 0x7ffff7fca000, ro, 0 },
              { 0x7ffff7fca000, 0x7ffff7ff0000, rx, 0x1000 },
              { 0x7ffff7ff0000, 0x7ffff7ffa000, ro, 0x27000 },
              { 0x7ffff7ffb000, 0x7ffff7ffd000, ro | VM_ACCOUNT, 0x31000 },
              { 0x7ffff7ffd000, 0x7ffff7fff000, rwPrivate, 0x33000 } });
    mm.start_stack = 0x7fffffffe3a0;
    mapAnon(w, mm, 0x7ffffffde000, 0x7ffffffff000, rwPrivate | VM_GROWSDOWN);
    return mm;
}

} // namespace vmalab
