#include "core/snapshot/snapshot_summary.h"

#include <algorithm>
#include <string_view>

namespace vmalab::snapshot {

namespace {

bool startsWith(std::string_view s, std::string_view prefix)
{
    return s.substr(0, prefix.size()) == prefix;
}

void add(KindTotals& t, const ObservedVma& v, std::uint64_t guardPages)
{
    t.vmas += 1;
    t.sizeBytes += v.end - v.start;
    t.rssBytes += v.kb("Rss") * 1024;
    t.swapBytes += v.kb("Swap") * 1024;
    t.guardPages += guardPages;
}

} // namespace

const char* regionKindName(RegionKind k)
{
    switch (k) {
    case RegionKind::Anonymous: return "anonymous";
    case RegionKind::Heap: return "heap";
    case RegionKind::Stack: return "stack";
    case RegionKind::File: return "file";
    case RegionKind::Shmem: return "shmem";
    case RegionKind::Special: return "special";
    }
    return "?";
}

RegionKind regionKindOf(const ObservedVma& v)
{
    const std::string_view name = v.name;
    if (name == "[heap]")
        return RegionKind::Heap;
    if (startsWith(name, "[stack"))
        return RegionKind::Stack;
    // Shared anonymous memory shows as "/dev/zero (deleted)"; memfds, SysV segments and
    // /dev/shm files are shmem too, whatever their perms.
    if (startsWith(name, "[anon_shmem:") || startsWith(name, "/memfd:") || startsWith(name, "/dev/zero")
        || startsWith(name, "/SYSV") || startsWith(name, "/dev/shm/"))
        return RegionKind::Shmem;
    if (name.empty() || startsWith(name, "[anon:"))
        return v.inode != 0 ? RegionKind::Shmem : RegionKind::Anonymous;
    if (name.front() == '[')
        return RegionKind::Special;
    return RegionKind::File;
}

ProcessSummary summarizeProcess(const SnapshotProcess& p, std::size_t top)
{
    ProcessSummary s;
    s.pid = p.pid;
    s.comm = p.name;
    Stretch current;
    std::vector<Stretch> stretches;
    auto closeStretch = [&] {
        if (current.vmas >= 2)
            stretches.push_back(current);
    };
    for (const SnapshotVma& sv : p.vmas) {
        const ObservedVma& v = sv.vma;
        const std::uint64_t guard = countPages(p.pages, v.start, v.end).guard;
        add(s.kinds[static_cast<std::size_t>(regionKindOf(v))], v, guard);
        add(s.total, v, guard);
        if (current.vmas && current.end == v.start) {
            current.end = v.end;
            ++current.vmas;
        } else {
            closeStretch();
            current = Stretch { v.start, v.end, 1, {} };
        }
        if (current.firstName.empty())
            current.firstName = v.name;
    }
    closeStretch();

    std::vector<ObservedVma> all;
    all.reserve(p.vmas.size());
    for (const SnapshotVma& sv : p.vmas)
        all.push_back(sv.vma);
    const std::size_t nLargest = std::min(top, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(nLargest), all.end(),
        [](const ObservedVma& a, const ObservedVma& b) {
            return a.end - a.start != b.end - b.start ? a.end - a.start > b.end - b.start : a.start < b.start;
        });
    all.resize(nLargest);
    s.largest = std::move(all);

    const std::size_t nFragmented = std::min(top, stretches.size());
    std::partial_sort(stretches.begin(), stretches.begin() + static_cast<std::ptrdiff_t>(nFragmented), stretches.end(),
        [](const Stretch& a, const Stretch& b) {
            if (a.vmas != b.vmas)
                return a.vmas > b.vmas;
            return a.end - a.start != b.end - b.start ? a.end - a.start > b.end - b.start : a.start < b.start;
        });
    stretches.resize(nFragmented);
    s.mostFragmented = std::move(stretches);
    return s;
}

} // namespace vmalab::snapshot
