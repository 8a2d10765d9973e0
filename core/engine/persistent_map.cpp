#include "core/engine/persistent_map.h"

#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 // Linux 5.14
#endif

namespace vmalab::detail {

void prefaultChunk(void* chunk, std::size_t bytes)
{
    // One call maps the chunk's pages: about a third cheaper per page than a fault each
    // (measured on Linux 6.18). A hint only: on failure pages fault in as they are used.
    madvise(chunk, bytes, MADV_POPULATE_WRITE);
}

} // namespace vmalab::detail
