#pragma once

#include "core/engine/trace.h"
#include "core/engine/world.h"

#include <optional>
#include <cstdint>
#include <string>

namespace vmalab {

// What an operation works on: the world, the address space it changes, the trace.
struct OpContext
{
    OpContext(World& w, Mm& m, Tracer& t)
        : world(w)
        , mm(m)
        , trace(t)
    {
    }
    World& world;
    Mm& mm;
    Tracer& trace;
    // Set when an access would wait for a userfaultfd monitor (no UFFD_FEATURE_SIGBUS): the
    // page it waits on. The call cannot complete in a scenario without a monitor.
    std::optional<Addr> userfaultWait;
    // Set when the call would not return at all (a livelock the kernel shows): why.
    std::optional<std::string> neverReturns;
    const Profile& profile() const { return world.profile(); }
};

// The range an operation proposes to create or to change, with the attributes it will
// have (the kernel's struct vma_merge_struct).
struct ProposedRange
{
    Addr start = 0;
    Addr end = 0;
    VmFlags flags = 0;
    FileId file = noFile;
    PageOff pgoff = 0;
    AnonVmaId anon_vma = noAnonVma;
    unsigned anonVmaChain = 0;
    UffdCtxId uffd_ctx = noUffdCtx;
    std::string anon_name;
    const Vma* middle = nullptr; // the VMA being modified; nullptr for a new range

    std::uint64_t pages() const { return (end - start) >> pageShift; }
};

// A refused call's last step says which check refused it; returns the -errno to return.
inline std::int64_t refuseCall(OpContext& c, const char* kernelFn, std::int64_t err, std::string why)
{
    c.trace.step(kernelFn, "refused", std::move(why));
    return err;
}

// "#3 [0x1000-0x3000 rw-p]" for traces.
std::string describeVma(const Vma& v);
std::string describeRange(Addr start, Addr end);
void appendRange(std::string& out, Addr start, Addr end);

// What describeVma() prints, kept as values so a deferred trace step can print it later.
struct VmaText
{
    VmaId id = 0;
    Addr start = 0;
    Addr end = 0;
    VmFlags flags = 0;
    static VmaText of(const Vma& v) { return { v.id, v.vm_start, v.vm_end, v.vm_flags }; }
    void append(std::string& out) const;
};

// Why a neighbour cannot take a range, as values (rendered only when a trace is read);
// ok() when it can.
struct MergeRefusal
{
    enum Code : std::uint8_t
    {
        None,
        Text,           // `text`, a literal
        FlagsDiffer,    // a: the differing flags
        AnonVmasDiffer, // a: the neighbour's anon_vma, b: the range's
        PgoffAfter,     // a: where prev ends, b: where the range starts (pgoff)
        PgoffBefore,    // a: where the range ends, b: where next starts (pgoff)
    };
    Code code = None;
    const char* text = nullptr;
    std::uint64_t a = 0;
    std::uint64_t b = 0;

    static MergeRefusal because(const char* t) { return { Text, t, 0, 0 }; }
    bool ok() const { return code == None; }
    void append(std::string& out) const;
    std::string str() const;
};
MergeRefusal mergeAfterRefusal(const Vma& prev, const ProposedRange& p, const Profile& profile);
MergeRefusal mergeBeforeRefusal(const Vma& next, const ProposedRange& p, const Profile& profile);

// Why `prev` cannot absorb the range from its right (can_vma_merge_after()), or "" if it can.
std::string refuseMergeAfter(const Vma& prev, const ProposedRange& p, const Profile& profile);
// Why `next` cannot absorb the range from its left (can_vma_merge_before()), or "" if it can.
std::string refuseMergeBefore(const Vma& next, const ProposedRange& p, const Profile& profile);
// are_anon_vmas_compatible(): at least one has none, or both share one.
bool anonVmasCompatible(const Vma& a, const Vma& b);

// vma_merge_new_range(): extend prev and/or next over a new range instead of creating a
// VMA. Returns the VMA that now covers the range, or nullptr (the caller creates one).
//   prev  new   next
//   AAAA  ****  BBBB   -> both: prev grows over the range and next; next is freed
Vma* mergeNewRange(OpContext& c, const ProposedRange& p, bool justExpand = false);

// split_vma() / __split_vma(): cut the VMA starting at vmaStart in two at `at`. With
// newBelow the new object is the lower part, else the upper part; the original keeps its
// identity. checkMapCount models split_vma()'s vm.max_map_count test. 0 or -ENOMEM.
int splitVma(OpContext& c, Addr vmaStart, Addr at, bool newBelow, bool checkMapCount);
// The same on the VMA at `cur`, which stays on the original VMA (the part that keeps its
// identity) afterwards.
int splitVma(OpContext& c, VmaCursor& cur, Addr at, bool newBelow, bool checkMapCount);

struct ModifyResult
{
    int err = 0;        // 0 or -errno
    Addr vmaStart = 0;  // start of the VMA that now covers the modified slice
    Addr vmaEnd = 0;    // and its end (saves the caller a lookup)
};

// vma_modify() via vma_merge_existing_range(): give [start, end) of the VMA at middleStart
// new flags, uffd context and anon name, merging with a neighbour where the result allows
// it and splitting otherwise.
ModifyResult vmaModify(OpContext& c, Addr middleStart, Addr start, Addr end, VmFlags newFlags, UffdCtxId uffdCtx,
                       const std::string& anonName);
// The same on the VMA at `cur` (mprotect passes the cursor it found the VMA with); the
// cursor is used up.
ModifyResult vmaModify(OpContext& c, VmaCursor& cur, Addr start, Addr end, VmFlags newFlags, UffdCtxId uffdCtx,
                       const std::string& anonName);

// anon_vma_prepare(): give the VMA an anon_vma, reusing a compatible neighbour's
// (find_mergeable_anon_vma()) or allocating one.
void anonVmaPrepare(OpContext& c, Vma& v);

} // namespace vmalab
