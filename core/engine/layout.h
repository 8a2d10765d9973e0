#pragma once

#include "core/engine/world.h"

namespace vmalab {

// A new process with the default x86-64 layout of docs/model-layout.md: a small program,
// [heap], libc, [vvar], [vdso], the dynamic loader and [stack], as a process started
// without address-space randomisation looks.
Mm makeDefaultProcess(World& world, std::int64_t pid);

} // namespace vmalab
