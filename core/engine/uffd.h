#pragma once

#include "core/engine/vma_merge.h"

#include <cstdint>
#include <map>

namespace vmalab {

// userfaultfd (fs/userfaultfd.c, mm/userfaultfd.c; kernel-model.md §13). A descriptor is looked
// up in the calling process's table, but every ioctl acts on the address space that created
// the context (ctx->mm), even when a fork child calls it.

std::int64_t doUserfaultfd(OpContext& c, std::int64_t flags);
std::int64_t doUffdioApi(OpContext& c, std::int64_t fd, std::uint64_t features);
std::int64_t doUffdioRegister(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len, std::uint64_t mode);
std::int64_t doUffdioUnregister(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len);
std::int64_t doUffdioWriteprotect(OpContext& c, std::int64_t fd, Addr start, std::uint64_t len, bool protect);

// close() of a userfaultfd descriptor of the calling process: the last reference to the
// context unregisters every VMA it holds (userfaultfd_release_all()).
void closeUffdFd(OpContext& c, UffdCtxId ctx);

// The context a VMA is registered with, or nullptr.
const UffdCtx* vmaUffd(const World& world, const Vma& v);
bool uffdHasFeature(const World& world, const Vma& v, std::uint64_t feature);
// userfaultfd_wp_use_markers(): whether write-protecting a none PTE leaves a uffd-wp marker.
bool uffdWpUseMarkers(const World& world, const Vma& v);

// dup_userfaultfd() for one VMA fork copies: without UFFD_FEATURE_EVENT_FORK the child's copy
// loses its context and uffd flags; with it, the child's copy moves to a new context of the
// child (one per parent context and fork, kept in `forked`).
void dupUserfaultfd(World& world, std::size_t childIndex, Vma& dst, std::map<UffdCtxId, UffdCtxId>& forked,
                    Tracer& trace);

// mremap without UFFD_FEATURE_EVENT_REMAP (vma_has_uffd_without_event_remap()).
bool uffdWithoutEventRemap(const World& world, const Vma& v);

} // namespace vmalab
