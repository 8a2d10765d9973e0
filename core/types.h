#pragma once

#include <cstdint>

namespace vmalab {

using Addr = std::uint64_t;
using VmFlags = std::uint64_t;
using PageOff = std::uint64_t;

constexpr Addr pageShift = 12;
constexpr Addr pageSize = Addr { 1 } << pageShift;
constexpr Addr pmdSize = Addr { 1 } << 21; // what one PTE table covers

constexpr Addr pageAlignDown(Addr a) { return a & ~(pageSize - 1); }
// Wraps to 0 near the top of the address space, as the kernel's PAGE_ALIGN() does.
constexpr Addr pageAlignUp(Addr a) { return (a + pageSize - 1) & ~(pageSize - 1); }
constexpr bool pageAligned(Addr a) { return (a & (pageSize - 1)) == 0; }

} // namespace vmalab
