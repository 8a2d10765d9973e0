// libFuzzer target: snapshot files (core/snapshot/snapshot_format.h). Any input is refused
// with a diagnostic or read; what is read writes back and reads again to the same processes.
#include "core/snapshot/snapshot_format.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto timeline = vmalab::snapshot::parseSnapshots(bytes, "fuzz");
    if (!timeline)
        return 0;
    auto again = vmalab::snapshot::parseSnapshots(vmalab::snapshot::writeSnapshots(*timeline), "fuzz");
    if (!again || again->size() != timeline->size())
        std::abort();
    for (std::size_t i = 0; i < timeline->size(); ++i)
        if (!((*again)[i].processes == (*timeline)[i].processes))
            std::abort();
    return 0;
}
