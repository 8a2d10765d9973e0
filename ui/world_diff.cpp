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
        std::vector<std::uint64_t> keys;
        auto collect = [&](std::uint64_t s, std::uint64_t e, const Pte&) {
            keys.push_back(s);
            keys.push_back(e);
        };
        ma.ptes.forEachAll(collect);
        mb.ptes.forEachAll(collect);
        std::sort(keys.begin(), keys.end());
        keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
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

} // namespace vmalab::ui
