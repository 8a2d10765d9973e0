#pragma once

#include "core/engine/abi.h"
#include "core/engine/fault.h"
#include "core/engine/ops.h"
#include "core/engine/page_table.h"
#include "core/vm_flags.h"

#include <string>
#include <vector>

namespace vmalab::test {

// A model address space with helpers that speak in page numbers inside a window, and a
// picture of the window in the style of the kernel's VMA tests: one column per page, one
// letter per VMA in address order, a space for a hole.
class EngineFixture
{
public:
    static constexpr Addr window = 0x10000000;
    static constexpr std::int64_t rw = abi::PROT_READ | abi::PROT_WRITE;
    static constexpr std::int64_t anonFixed = abi::MAP_PRIVATE | abi::MAP_ANONYMOUS | abi::MAP_FIXED;

    explicit EngineFixture(Profile profile = *builtinProfile("maybe-guard-fixed"))
    {
        world.setProfile(std::move(profile));
        Mm mm;
        mm.pid = 1;
        mm.mmap_base = 0x7ffff7fff000;
        world.procs.push_back(mm);
    }

    static Addr at(std::uint64_t page) { return window + page * pageSize; }
    Mm& mm() { return world.procs[0]; }

    template <typename F>
    std::int64_t op(F&& f)
    {
        last = OpTrace {};
        Tracer t(last);
        OpContext c { world, mm(), t };
        return f(c);
    }

    std::int64_t mmap(std::uint64_t page, std::uint64_t pages, std::int64_t prot = rw, std::int64_t flags = anonFixed,
                      std::int64_t fd = -1, std::uint64_t offPages = 0)
    {
        return op([&](OpContext& c) { return doMmap(c, at(page), pages * pageSize, prot, flags, fd, offPages * pageSize); });
    }
    std::int64_t mmapAnywhere(std::uint64_t len, std::int64_t prot = rw)
    {
        return op([&](OpContext& c) { return doMmap(c, 0, len, prot, abi::MAP_PRIVATE | abi::MAP_ANONYMOUS, -1, 0); });
    }
    std::int64_t munmap(std::uint64_t page, std::uint64_t pages)
    {
        return op([&](OpContext& c) { return doMunmap(c, at(page), pages * pageSize); });
    }
    std::int64_t mprotect(std::uint64_t page, std::uint64_t pages, std::int64_t prot)
    {
        return op([&](OpContext& c) { return doMprotect(c, at(page), pages * pageSize, prot); });
    }
    std::int64_t touch(std::uint64_t page, std::uint64_t pages, bool write)
    {
        return op([&](OpContext& c) { return doTouch(c, at(page), pages * pageSize, write ? abi::PROT_WRITE : abi::PROT_READ); });
    }
    std::int64_t memfd(std::uint64_t sizePages)
    {
        const std::int64_t fd = op([&](OpContext& c) { return doMemfdCreate(c, "m", 0); });
        op([&](OpContext& c) { return doFtruncate(c, fd, static_cast<std::int64_t>(sizePages * pageSize)); });
        return fd;
    }
    std::int64_t regularFile(std::uint64_t sizePages)
    {
        return op([&](OpContext& c) { return doOpenFile(c, "f", static_cast<std::int64_t>(sizePages * pageSize)); });
    }

    // "AAB  C": VMAs of the first `pages` pages of the window.
    std::string picture(std::uint64_t pages)
    {
        std::string out(pages, ' ');
        char letter = 'A';
        for (const auto& [start, v] : mm().vmas) {
            if (v.vm_end <= window || v.vm_start >= at(pages))
                continue;
            for (Addr a = std::max(v.vm_start, window); a < std::min(v.vm_end, at(pages)); a += pageSize)
                out[(a - window) / pageSize] = letter;
            ++letter;
        }
        return out;
    }

    // ".P.G": page states of the first `pages` pages (. none, P present, Z zero page, G guard).
    std::string pagePicture(std::uint64_t pages)
    {
        std::string out(pages, '.');
        for (std::uint64_t i = 0; i < pages; ++i) {
            const Pte* p = ptAt(mm(), at(i));
            if (!p)
                continue;
            out[i] = p->state == PageState::Guard ? 'G'
                : p->kind == Pte::Kind::ZeroPage  ? 'Z'
                : p->kind == Pte::Kind::File      ? 'F'
                                                  : 'P';
        }
        return out;
    }

    const Vma& vmaAtPage(std::uint64_t page) { return *mm().vmaAt(at(page)); }

    World world;
    OpTrace last;
};

} // namespace vmalab::test
