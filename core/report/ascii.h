#pragma once

#include "core/observed.h"
#include "core/report/window.h"

#include <optional>
#include <string>

namespace vmalab::scenario {
struct RunOutcome;
} // namespace vmalab::scenario

namespace vmalab::report {

// Windows up to this many pages are drawn on one row; wider ones in rows of
// kAsciiRowPages pages, each prefixed by its address.
constexpr Addr kAsciiSingleRowMaxPages = 128;
constexpr Addr kAsciiRowPages = 64;

// The VMAs every process starts with and replay's runtime: the kernel's special names
// ([heap], [stack], [vdso], [vvar], [vvar_vclock], [vsyscall], [uprobes]) and files under
// /usr/ or /lib. They are left out of the fallback window.
bool isDefaultLayoutVma(const ObservedVma& vma);

struct AsciiWindow
{
    Window window;
    bool fromArena = false; // else: the span of the VMAs outside the default layout
};

// What `ascii` draws for `process`: the run's arena window, else the page-aligned span of
// the process's VMAs outside the default layout; nullopt when there is neither.
std::optional<AsciiWindow> asciiWindowFor(const scenario::RunOutcome& run, const ObservedProcess& process);

// The picture of `window` (docs/output-formats.md, "ascii"): a `# window` line, a ruler,
// rows of VMA letters each with a row of page states under it, and the legend.
std::string asciiPicture(const ObservedProcess& process, const AsciiWindow& window);

// The `ascii` block of one process: its picture, or a `# no window` line.
std::string asciiBlock(const scenario::RunOutcome& run, const ObservedProcess& process);

} // namespace vmalab::report
