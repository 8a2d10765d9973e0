// libFuzzer target: /proc/PID/smaps and status text (core/snapshot/smaps_text.h). Any input
// either parses into VMAs in address order or gives diagnostics with a line number.
#include "core/snapshot/smaps_text.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto vmas = vmalab::snapshot::parseSmapsText(text, "fuzz");
    if (vmas) {
        vmalab::Addr last = 0;
        for (const vmalab::snapshot::SnapshotVma& v : *vmas) {
            if (v.vma.start < last || v.vma.end <= v.vma.start)
                std::abort(); // the parser promised sorted, non-empty ranges
            last = v.vma.end;
            (void)vmalab::snapshot::classifyName(v.vma.name);
        }
    } else if (vmas.error().empty() || vmas.error().front().line < 1) {
        std::abort(); // every failure names its line
    }
    (void)vmalab::snapshot::parseStatusText(text, "fuzz");
    return 0;
}
