#pragma once

#include "core/engine/vma_merge.h"

namespace vmalab {

enum class FaultResult
{
    Ok,
    Segv,
    Bus,
    Userfault, // waits for a userfaultfd monitor (OpContext::userfaultWait says where)
};

// handle_mm_fault() for one page, from a user access (touch) or from get_user_pages()
// (population). Stack growth below a VM_GROWSDOWN VMA included.
FaultResult handleFault(OpContext& c, Addr addr, bool write);

// touch(addr, len, access): every page of [addr rounded down, addr + len rounded up) in
// order. 0, or SIGSEGV / SIGBUS for the first page that faults fatally.
std::int64_t doTouch(OpContext& c, Addr addr, std::uint64_t len, std::int64_t access);

// populate_vma_page_range() over [start, end) of one VMA: faults the pages in as
// get_user_pages() does (as writes for private writable VMAs). 0, or -EFAULT at the first
// page that cannot be faulted (a guard marker, beyond EOF); pages before it stay populated.
int populateVmaRange(OpContext& c, Addr start, Addr end);

// __mm_populate(): every VMA in [start, end). ignoreErrors as mmap(MAP_POPULATE) does.
int mmPopulate(OpContext& c, Addr start, Addr end, bool ignoreErrors);

} // namespace vmalab
