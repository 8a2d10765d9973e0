#pragma once

#include "core/engine/world.h"

#include <string>
#include <vector>

namespace vmalab {

// The engine's own consistency checks, in the spirit of the kernel's validate_mm(): what must
// hold of every world an operation leaves behind, whatever the scenario did. Each violation is
// one line naming the process and the address ("proc 0: VMA 0x1000-0x3000 overlaps ...").
// Empty when the world is consistent. Costs time linear in VMAs, PTE runs and files; meant for
// tests and fuzzers, not for every step of a normal run.
std::vector<std::string> validateWorld(const World& world);

// The same checks for one address space (`proc` names it in the messages).
std::vector<std::string> validateMm(const World& world, const Mm& mm, std::size_t proc);

} // namespace vmalab
