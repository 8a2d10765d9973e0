#include "core/snapshot/snapshot.h"

#include <algorithm>

namespace vmalab::snapshot {

bool SnapshotVma::operator==(const SnapshotVma& o) const
{
    const ObservedVma& a = vma;
    const ObservedVma& b = o.vma;
    return a.start == b.start && a.end == b.end && a.perms == b.perms && a.offset == b.offset
        && a.devMajor == b.devMajor && a.devMinor == b.devMinor && a.inode == b.inode && a.name == b.name
        && a.smapsKb == b.smapsKb && a.vmFlags == b.vmFlags && textFields == o.textFields;
}

ObservedProcess SnapshotProcess::observed() const
{
    ObservedProcess p;
    p.name = name;
    p.pid = pid;
    for (const SnapshotVma& v : vmas)
        p.vmas.push_back(v.vma);
    for (const SnapshotPageRun& r : pages)
        p.pages.push_back(r.run);
    return p;
}

PageCounts countPages(const std::vector<SnapshotPageRun>& runs, Addr start, Addr end)
{
    PageCounts c;
    auto it = std::lower_bound(
        runs.begin(), runs.end(), start, [](const SnapshotPageRun& r, Addr a) { return r.run.end <= a; });
    for (; it != runs.end() && it->run.start < end; ++it) {
        const std::uint64_t n = (std::min(end, it->run.end) - std::max(start, it->run.start)) >> pageShift;
        switch (it->run.state) {
        case PageState::None:
            c.none += n;
            break;
        case PageState::Present:
            c.present += n;
            break;
        case PageState::Swap:
            c.swap += n;
            break;
        case PageState::Guard:
            c.guard += n;
            break;
        }
    }
    return c;
}

} // namespace vmalab::snapshot
