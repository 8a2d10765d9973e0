#pragma once

#include "core/types.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vmalab {

// Facts about a machine that change what the kernel does; read from the running
// system by core/host (host_facts.h), or these defaults (the reference host of
// docs/kernel-model.md) where nothing is read.
struct MachineConfig
{
    enum class Thp
    {
        Always,
        Madvise,
        Never,
    };

    std::string kernelRelease = "6.18.0";
    bool anonVmaName = false;  // CONFIG_ANON_VMA_NAME
    bool softDirty = false;    // CONFIG_MEM_SOFT_DIRTY
    bool userfaultfd = true;   // CONFIG_USERFAULTFD
    bool ptReclaim = true;     // CONFIG_PT_RECLAIM
    bool ksm = true;           // CONFIG_KSM
    bool guardRegions = true;  // MADV_GUARD_INSTALL exists (6.13+)
    Thp thp = Thp::Madvise;    // /sys/kernel/mm/transparent_hugepage/enabled
    bool thpUseZeroPage = true;
    bool shmemThpDeny = false;     // shmem_enabled "deny": no shmem THP, not even for MADV_COLLAPSE
    bool readOnlyThpForFs = false; // CONFIG_READ_ONLY_THP_FOR_FS: THPs in the page cache of regular files
    std::uint64_t readAheadKb = 8192;  // of the filesystem holding open_file files
    bool swap = false;                 // any swap space
    std::uint64_t maxMapCount = 65530; // vm.max_map_count
    std::uint64_t mmapMinAddr = 4096;  // vm.mmap_min_addr
    int overcommitMemory = 0;          // vm.overcommit_memory
    std::uint64_t memTotalKb = 24ull << 20;
    std::uint64_t swapTotalKb = 0;
    std::uint64_t stackRlimit = 8ull << 20;
    bool tmpIsTmpfs = false; // open_file files live on tmpfs (shmem) instead of a block filesystem
};

// Which VMA vma_needs_copy() asks about VM_COPY_ON_FORK-style flags (kernel-model.md §12.1).
enum class CopyOnForkCheck
{
    DstUffdSrcPfn, // v6.18: dst has VM_UFFD_WP, or src has VM_PFNMAP/VM_MIXEDMAP
    Src,           // the VM_MAYBE_GUARD series as posted: src & VM_COPY_ON_FORK
    Dst,           // the fix: dst & VM_COPY_ON_FORK
};

// The kernel behaviour switches that tell modelled kernels apart (kernel-model.md §17).
struct Behaviour
{
    bool hasMaybeGuard = true;                  // guard install sets VM_MAYBE_GUARD; it is sticky
    bool guardPreparesAnonVmaForFiles = false;  // v6.18: anon_vma_prepare() on every guarded VMA
    CopyOnForkCheck copyOnFork = CopyOnForkCheck::Dst;
};

struct Profile
{
    std::string name = "maybe-guard-fixed";
    std::string description;
    Behaviour behaviour;
    MachineConfig machine;

    // Flags that do not take part in the mergeability test (VM_SOFTDIRTY; with the
    // series also VM_MAYBE_GUARD).
    VmFlags mergeIgnoredFlags() const;
    // Flags a merge or split keeps from every VMA involved (none in v6.18).
    VmFlags stickyFlags() const;
};

// Names of the built-in behaviour profiles, in documentation order (host excluded).
std::vector<std::string> builtinProfileNames();

// A behaviour profile by name ("v6.18", "maybe-guard", "maybe-guard-fixed"), taking the
// given machine configuration. nullopt for an unknown name. "host" is resolved by
// core/host, which knows which behaviour the running kernel shows.
std::optional<Profile> builtinProfile(const std::string& name, const MachineConfig& machine = {});

} // namespace vmalab
