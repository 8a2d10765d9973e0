#include "ui/world_diff.h"

#include "core/vm_flags.h"
#include "ui/map_layout.h"

#include <algorithm>
#include <map>
#include <utility>

namespace vmalab::ui {

namespace {

QString pageText(const Pte* pte)
{
    QString t = QString::fromLatin1(pageKindName(pageKind(pte)));
    if (pte && pte->uffdWp)
        t += QStringLiteral("+uffd-wp");
    if (pte && pte->cowShared)
        t += QStringLiteral("+cow");
    return t;
}

bool samePage(const Pte* a, const Pte* b)
{
    if (pageKind(a) != pageKind(b))
        return false;
    const bool wpA = a && a->uffdWp, wpB = b && b->uffdWp;
    const bool cowA = a && a->cowShared, cowB = b && b->cowShared;
    return wpA == wpB && cowA == cowB;
}

QString flagList(VmFlags flags)
{
    QStringList names;
    for (unsigned bitNo = 0; bitNo < 64; ++bitNo)
        if (flags & bit(bitNo)) {
            const char* n = vmFlagName(bitNo);
            names << (n && *n ? QString::fromLatin1(n) : QStringLiteral("bit%1").arg(bitNo));
        }
    return names.join(QLatin1Char('|'));
}

// Every page index where a run of PTEs starts or ends in either address space, sorted: between
// two neighbours both sides are uniform, so comparing one page per interval is enough.
std::vector<std::uint64_t> runBoundaries(const Mm& ma, const Mm& mb)
{
    std::vector<std::uint64_t> keys;
    auto collect = [&](std::uint64_t s, std::uint64_t e, const Pte&) {
        keys.push_back(s);
        keys.push_back(e);
    };
    ma.ptes.forEachAll(collect);
    mb.ptes.forEachAll(collect);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

} // namespace

const char* differenceKindName(WorldDifference::Kind kind)
{
    switch (kind) {
    case WorldDifference::Kind::VmaOnlyInA:
    case WorldDifference::Kind::VmaOnlyInB:
        return "layout";
    case WorldDifference::Kind::VmaFlags:
        return "flags";
    case WorldDifference::Kind::VmaAnonVma:
        return "anon_vma";
    case WorldDifference::Kind::Pages:
        return "pages";
    case WorldDifference::Kind::Stat:
        return "counters";
    }
    return "";
}

MmCounters mmCounters(const Mm& mm)
{
    MmCounters c;
    c.vmas = mm.mapCount();
    mm.pteTables.forEachAll([&](std::uint64_t s, std::uint64_t e, const bool& v) { c.pteTables += v ? e - s : 0; });
    mm.ptes.forEachAll([&](std::uint64_t s, std::uint64_t e, const Pte& pte) {
        if (pte.state == PageState::Present && pte.kind != Pte::Kind::ZeroPage && pte.kind != Pte::Kind::Marker)
            c.rssPages += e - s;
        if (pte.state == PageState::Guard)
            c.guardPages += e - s;
    });
    c.forkVmasPtCopied = mm.forkVmasPtCopied;
    c.forkPtesCopied = mm.forkPtesCopied;
    return c;
}

std::vector<WorldDifference> compareWorlds(
    const World& a, const World& b, const QStringList& names, const QString& labelA, const QString& labelB)
{
    using Kind = WorldDifference::Kind;
    std::vector<WorldDifference> out;
    if (a.procs.size() != b.procs.size())
        out.push_back({ Kind::Stat, -1, 0, 0,
            QStringLiteral("processes: %1 %2, %3 %4").arg(a.procs.size()).arg(labelA).arg(b.procs.size()).arg(labelB) });
    const std::size_t n = std::min(a.procs.size(), b.procs.size());
    for (std::size_t p = 0; p < n; ++p) {
        const Mm& ma = a.procs[p];
        const Mm& mb = b.procs[p];
        const int proc = static_cast<int>(p);
        const QString who = proc < names.size() ? names[proc] : QStringLiteral("process %1").arg(proc);

        // VMAs by range: a range on one side only is a merge or split the other did not do.
        std::map<std::pair<Addr, Addr>, const Vma*> ra, rb;
        for (const auto& e : ma.vmas)
            ra[{ e.second.vm_start, e.second.vm_end }] = &e.second;
        for (const auto& e : mb.vmas)
            rb[{ e.second.vm_start, e.second.vm_end }] = &e.second;
        for (const auto& [range, va] : ra) {
            const auto it = rb.find(range);
            if (it == rb.end()) {
                out.push_back({ Kind::VmaOnlyInA, proc, range.first, range.second,
                    QStringLiteral("%1: VMA [%2, %3) %4 only under %5")
                        .arg(who, hexText(range.first), hexText(range.second),
                            QString::fromStdString(mapsPerms(va->vm_flags)), labelA) });
                continue;
            }
            const Vma* vb = it->second;
            if (va->vm_flags != vb->vm_flags) {
                const VmFlags onlyA = va->vm_flags & ~vb->vm_flags;
                const VmFlags onlyB = vb->vm_flags & ~va->vm_flags;
                QStringList parts;
                if (onlyA)
                    parts << QStringLiteral("%1 only under %2").arg(flagList(onlyA), labelA);
                if (onlyB)
                    parts << QStringLiteral("%1 only under %2").arg(flagList(onlyB), labelB);
                out.push_back({ Kind::VmaFlags, proc, range.first, range.second,
                    QStringLiteral("%1: VMA [%2, %3) flags: %4")
                        .arg(who, hexText(range.first), hexText(range.second), parts.join(QStringLiteral("; "))) });
            }
            if ((va->anon_vma != noAnonVma) != (vb->anon_vma != noAnonVma))
                out.push_back({ Kind::VmaAnonVma, proc, range.first, range.second,
                    QStringLiteral("%1: VMA [%2, %3) has an anon_vma only under %4")
                        .arg(who, hexText(range.first), hexText(range.second),
                            va->anon_vma != noAnonVma ? labelA : labelB) });
        }
        for (const auto& [range, vb] : rb)
            if (!ra.count(range))
                out.push_back({ Kind::VmaOnlyInB, proc, range.first, range.second,
                    QStringLiteral("%1: VMA [%2, %3) %4 only under %5")
                        .arg(who, hexText(range.first), hexText(range.second),
                            QString::fromStdString(mapsPerms(vb->vm_flags)), labelB) });

        // Pages: walk the union of both run boundaries and join neighbouring differences.
        const std::vector<std::uint64_t> keys = runBoundaries(ma, mb);
        WorldDifference run;
        bool open = false;
        QString runText;
        auto flush = [&] {
            if (!open)
                return;
            run.text = QStringLiteral("%1: %2 page(s) at [%3, %4): %5")
                           .arg(who)
                           .arg((run.end - run.start) >> pageShift)
                           .arg(hexText(run.start), hexText(run.end), runText);
            out.push_back(run);
            open = false;
        };
        for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
            const Pte* pa = ma.ptes.find(keys[i]);
            const Pte* pb = mb.ptes.find(keys[i]);
            const Addr s = keys[i] << pageShift, e = keys[i + 1] << pageShift;
            if (samePage(pa, pb))
                continue;
            const QString t = QStringLiteral("%1 under %2, %3 under %4").arg(pageText(pa), labelA, pageText(pb), labelB);
            if (open && run.end == s && runText == t) {
                run.end = e;
                continue;
            }
            flush();
            run = { Kind::Pages, proc, s, e, {} };
            runText = t;
            open = true;
        }
        flush();

        const MmCounters ca = mmCounters(ma), cb = mmCounters(mb);
        auto stat = [&](const char* what, std::uint64_t x, std::uint64_t y) {
            if (x != y)
                out.push_back({ Kind::Stat, proc, 0, 0,
                    QStringLiteral("%1: %2: %3 under %4, %5 under %6")
                        .arg(who, QLatin1String(what))
                        .arg(x)
                        .arg(labelA)
                        .arg(y)
                        .arg(labelB) });
        };
        stat("VMAs", ca.vmas, cb.vmas);
        stat("PTE tables", ca.pteTables, cb.pteTables);
        stat("Rss pages", ca.rssPages, cb.rssPages);
        stat("guard pages", ca.guardPages, cb.guardPages);
        stat("VMAs whose page tables fork copied", ca.forkVmasPtCopied, cb.forkVmasPtCopied);
        stat("PTEs copied at fork", ca.forkPtesCopied, cb.forkPtesCopied);
    }
    return out;
}

std::vector<StepChange> diffSteps(const World& before, const World& after)
{
    using Kind = StepChange::Kind;
    std::vector<StepChange> out;
    for (std::size_t p = 0; p < after.procs.size(); ++p) {
        const Mm& mb = after.procs[p];
        const int proc = static_cast<int>(p);
        if (p >= before.procs.size()) {
            for (const auto& e : mb.vmas)
                out.push_back({ Kind::Appeared, proc, e.second.id, 0, 0, e.second.vm_start, e.second.vm_end });
            continue;
        }
        const Mm& ma = before.procs[p];
        std::map<VmaId, const Vma*> old;
        for (const auto& e : ma.vmas)
            old[e.second.id] = &e.second;
        std::vector<StepChange> vmaChanges;
        for (const auto& e : mb.vmas) {
            const Vma& v = e.second;
            const auto it = old.find(v.id);
            if (it == old.end()) {
                vmaChanges.push_back({ Kind::Appeared, proc, v.id, 0, 0, v.vm_start, v.vm_end });
                continue;
            }
            const Vma& o = *it->second;
            old.erase(it);
            if (&o == &v)
                continue;
            if (o.vm_start != v.vm_start || o.vm_end != v.vm_end)
                vmaChanges.push_back({ Kind::Moved, proc, v.id, o.vm_start, o.vm_end, v.vm_start, v.vm_end });
            else if (o.vm_flags != v.vm_flags || o.anon_vma != v.anon_vma)
                vmaChanges.push_back({ Kind::Flags, proc, v.id, o.vm_start, o.vm_end, v.vm_start, v.vm_end });
        }
        for (const auto& [id, o] : old)
            vmaChanges.push_back({ Kind::Disappeared, proc, id, o->vm_start, o->vm_end, 0, 0 });
        std::sort(vmaChanges.begin(), vmaChanges.end(), [](const StepChange& x, const StepChange& y) {
            return std::max(x.start, x.oldStart) < std::max(y.start, y.oldStart);
        });
        out.insert(out.end(), vmaChanges.begin(), vmaChanges.end());

        // Pages: the union of both run boundaries, neighbouring changed runs joined.
        const std::vector<std::uint64_t> keys = runBoundaries(ma, mb);
        for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
            if (samePage(ma.ptes.find(keys[i]), mb.ptes.find(keys[i])))
                continue;
            const Addr s = keys[i] << pageShift, e = keys[i + 1] << pageShift;
            if (!out.empty() && out.back().kind == Kind::Pages && out.back().proc == proc && out.back().end == s)
                out.back().end = e;
            else
                out.push_back({ Kind::Pages, proc, 0, 0, 0, s, e });
        }
    }
    // A process gone (none of the engine's steps do this yet): all its VMAs disappeared.
    for (std::size_t p = after.procs.size(); p < before.procs.size(); ++p)
        for (const auto& e : before.procs[p].vmas)
            out.push_back({ Kind::Disappeared, static_cast<int>(p), e.second.id, e.second.vm_start, e.second.vm_end, 0, 0 });
    return out;
}

} // namespace vmalab::ui
