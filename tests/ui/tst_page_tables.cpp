// The page-tables pane and the fork links: the x86-64 walk, COW sharing after fork, the
// model under QAbstractItemModelTester, and what the map draws between parent and child.
#include "core/engine/page_table.h"
#include "core/vm_flags.h"
#include "ui/address_space_view.h"
#include "ui/page_table_view.h"
#include "ui/page_tables.h"

#include <QAbstractItemModelTester>
#include <QImage>
#include <QStandardItemModel>
#include <QTest>
#include <QTreeView>

#include "ui_test_util.h"

using namespace vmalab;
using namespace vmalab::ui;

namespace {

constexpr Addr P = pageSize;

// A parent with 8 anonymous pages at 0x7f0000000000 (6 written), forked: pages 0-3 COW-shared
// with the child, then the child wrote page 1 (its own copy) — as the engine models fork.
QString forkScenario()
{
    return QStringLiteral(
        "arena = mmap(NULL, 512 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)\n"
        "a = mmap(arena + 16 * page_size, 8 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | "
        "MAP_FIXED, -1, 0)\n"
        "expect touch(a, 4 * page_size, PROT_WRITE) == 0\n"
        "child = fork()\n"
        "in child {\n"
        "    expect touch(a + page_size, page_size, PROT_WRITE) == 0\n"
        "}\n");
}

const Vma* vmaWithPages(const Mm& mm, std::uint64_t pages, VmFlags needs)
{
    for (const auto& e : mm.vmas)
        if (e.second.pages() == pages && (e.second.vm_flags & needs) == needs)
            return &e.second;
    return nullptr;
}

std::vector<const PtNode*> leaves(const std::vector<PtNode>& nodes)
{
    std::vector<const PtNode*> out;
    for (const PtNode& n : nodes) {
        if (n.level == PtLevel::Pte)
            out.push_back(&n);
        const auto sub = leaves(n.children);
        out.insert(out.end(), sub.begin(), sub.end());
    }
    return out;
}

} // namespace

class TestPageTables : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void indicesFollowX86_64()
    {
        const Addr a = 0x7f12'3456'7000;
        QCOMPARE(ptIndex(PtLevel::Pgd, a), static_cast<unsigned>((a >> 39) & 511));
        QCOMPARE(ptIndex(PtLevel::P4d, a), ptIndex(PtLevel::Pgd, a)); // folded
        QCOMPARE(ptIndex(PtLevel::Pud, a), static_cast<unsigned>((a >> 30) & 511));
        QCOMPARE(ptIndex(PtLevel::Pmd, a), static_cast<unsigned>((a >> 21) & 511));
        QCOMPARE(ptIndex(PtLevel::Pte, a), static_cast<unsigned>((a >> 12) & 511));
        QCOMPARE(ptIndex(PtLevel::Pgd, 0x7fff'ffff'f000), 255u);
        QCOMPARE(ptEntrySpan(PtLevel::Pmd), std::uint64_t { 2 } << 20);
        QCOMPARE(ptEntrySpan(PtLevel::Pud), std::uint64_t { 1 } << 30);
    }

    void walkShowsTablesAndRuns()
    {
        // Hand-made: one PTE table, pages 0-1 anon, 2 a guard marker, 3-4 none, 5 swap.
        World w;
        w.procs.resize(1);
        Mm& mm = w.procs[0];
        const Addr base = 0x7f00'0020'0000; // PMD aligned
        Vma v;
        v.id = 1;
        v.vm_start = base;
        v.vm_end = base + 8 * P;
        v.vm_flags = VM_READ | VM_WRITE;
        mm.insert(v);
        setPtes(mm, base, base + 2 * P, Pte {});
        Pte guard;
        guard.state = PageState::Guard;
        guard.kind = Pte::Kind::Marker;
        setPtes(mm, base + 2 * P, base + 3 * P, guard);
        Pte swap;
        swap.state = PageState::Swap;
        setPtes(mm, base + 5 * P, base + 6 * P, swap);

        const PageTableWalk walk = walkPageTables(w, 0, v.vm_start, v.vm_end);
        QCOMPARE(walk.pteTables, std::size_t { 1 });
        QCOMPARE(walk.pmdTables, std::size_t { 1 });
        QCOMPARE(walk.pudTables, std::size_t { 1 });
        QCOMPARE(walk.roots.size(), std::size_t { 1 });
        const PtNode& pgd = walk.roots[0];
        QVERIFY(pgd.present);
        QCOMPARE(pgd.first, ptIndex(PtLevel::Pgd, base));
        QCOMPARE(pgd.children.size(), std::size_t { 1 });
        QCOMPARE(pgd.children[0].level, PtLevel::P4d);
        const auto ptes = leaves(walk.roots);
        // anon ×2, guard, none ×2, swap, none ×2
        QCOMPARE(ptes.size(), std::size_t { 5 });
        QCOMPARE(ptes[0]->kind, PageKind::Anon);
        QCOMPARE(ptes[0]->count(), 2u);
        QCOMPARE(ptes[0]->first, 0u);
        QCOMPARE(ptes[1]->kind, PageKind::Guard);
        QCOMPARE(ptes[2]->kind, PageKind::None);
        QCOMPARE(ptes[2]->count(), 2u);
        QCOMPARE(ptes[3]->kind, PageKind::Swap);
        QCOMPARE(ptes[4]->end, base + 8 * P);
        QCOMPARE(walk.pages[static_cast<int>(PageKind::Anon)], std::uint64_t { 2 });
        QCOMPARE(walk.pages[static_cast<int>(PageKind::None)], std::uint64_t { 4 });
        QCOMPARE(walk.cowSharedPages, std::uint64_t { 0 });
    }

    void absentUpperEntriesCollapse()
    {
        // A 4 GiB range with one PTE table in its third GiB: PUD entries 0-1 collapse into one
        // absent run, entry 2 is present, entry 3 absent.
        World w;
        w.procs.resize(1);
        Mm& mm = w.procs[0];
        const Addr base = Addr { 0x7e00 } << 28; // 1 GiB aligned (and 512 GiB aligned below 0x7f..)
        setPtes(mm, base + (Addr { 2 } << 30) + 5 * P, base + (Addr { 2 } << 30) + 6 * P, Pte {});
        const PageTableWalk walk = walkPageTables(w, 0, base, base + (Addr { 4 } << 30));
        QCOMPARE(walk.pteTables, std::size_t { 1 });
        const std::vector<PtNode>& puds = walk.roots.at(0).children.at(0).children;
        QCOMPARE(puds.size(), std::size_t { 3 });
        QVERIFY(!puds[0].present);
        QCOMPARE(puds[0].count(), 2u);
        QVERIFY(puds[1].present);
        QVERIFY(!puds[2].present);
        // Inside the present PUD entry: 512 PMD entries, one present.
        const std::vector<PtNode>& pmds = puds[1].children;
        QCOMPARE(pmds.size(), std::size_t { 2 }); // the present one first, then 511 absent
        QVERIFY(pmds[0].present);
        QCOMPARE(pmds[1].count(), 511u);
    }

    void pmdTableOutlivesItsPteTablesAndHugeEntriesShow()
    {
        // A PMD table with no PTE table left below it (what free_pgtables() leaves while a VMA
        // still lies in its 1 GiB) is drawn present; a file THP mapped by one PMD is a huge
        // entry with no PTE table.
        World w;
        w.procs.resize(1);
        Mm& mm = w.procs[0];
        const Addr base = Addr { 0x7e00 } << 28;
        mm.pmdTables.assign(base >> 30, (base >> 30) + 1, true);
        mm.pudTables.assign(base >> 39, (base >> 39) + 1, true);
        Pte huge { PageState::Present, Pte::Kind::File, false };
        huge.pmdMapped = true;
        setPmdLeaf(mm, base + 4 * pmdSize, huge);
        const PageTableWalk walk = walkPageTables(w, 0, base, base + (Addr { 1 } << 30));
        QCOMPARE(walk.pteTables, std::size_t { 0 });
        QCOMPARE(walk.pmdTables, std::size_t { 1 });
        const std::vector<PtNode>& pmds = walk.roots.at(0).children.at(0).children.at(0).children;
        QCOMPARE(pmds.size(), std::size_t { 3 }); // 4 absent, the huge entry, 507 absent
        QVERIFY(!pmds[0].present);
        QCOMPARE(pmds[0].count(), 4u);
        QVERIFY(pmds[1].present && pmds[1].huge);
        QVERIFY(pmds[1].children.empty());
        QCOMPARE(pmds[1].kind, PageKind::File);
        QCOMPARE(walk.pages[static_cast<int>(PageKind::File)], std::uint64_t { 512 });
        QVERIFY(!pmds[2].present);
    }

    void forkSharingFoundThroughAnonVma()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s, QStringLiteral("maybe-guard-fixed"), forkScenario()));
        s.runToEnd();
        const World& w = s.world();
        QCOMPARE(w.procs.size(), std::size_t { 2 });
        const Vma* pv = vmaWithPages(w.procs[0], 8, VM_WRITE);
        QVERIFY(pv);
        // Parent: pages 0, 2, 3 still shared with the child; page 1 the child copied.
        const PageTableWalk walk = walkPageTables(w, 0, pv->vm_start, pv->vm_end);
        QCOMPARE(walk.cowSharedPages, std::uint64_t { 3 });
        QCOMPARE(walk.sharedWithProcs, std::vector<int> { 1 });
        const auto shares = sharedFolio(w, 0, pv->vm_start + 2 * P);
        QCOMPARE(shares.size(), std::size_t { 1 });
        QCOMPARE(shares[0].proc, 1);
        QCOMPARE(shares[0].addr, pv->vm_start + 2 * P); // the child keeps the layout
        QVERIFY(sharedFolio(w, 0, pv->vm_start + P).empty()); // copied on write
        QVERIFY(sharedFolio(w, 0, pv->vm_start + 5 * P).empty()); // never written
        // The links the map draws between the rows: [0, 1) and [2, 4).
        const std::vector<CowLink> links = cowLinks(w);
        QCOMPARE(links.size(), std::size_t { 2 });
        QCOMPARE(links[0].procA, 0);
        QCOMPARE(links[0].procB, 1);
        QCOMPARE(links[0].start, pv->vm_start);
        QCOMPARE(links[0].end, pv->vm_start + P);
        QCOMPARE(links[1].start, pv->vm_start + 2 * P);
        QCOMPARE(links[1].end, pv->vm_start + 4 * P);
        QCOMPARE(forkParentOf(w, 1), 0);
        QCOMPARE(forkParentOf(w, 0), -1);
        QCOMPARE(s.forkParents(), (std::vector<int> { -1, 0 }));
    }

    void viewModelAndActivation()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s, QStringLiteral("maybe-guard-fixed"), forkScenario()));
        s.runToEnd();
        const World& w = s.world();
        const Vma* pv = vmaWithPages(w.procs[0], 8, VM_WRITE);
        QVERIFY(pv);
        PageTableView view;
        QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        view.setRange(w, 0, pv->vm_start, pv->vm_end, s.processNames());
        QCOMPARE(view.model()->rowCount(), 1); // one PGD entry
        QVERIFY(view.summaryText().contains(QStringLiteral("COW-shared")));
        QVERIFY(view.summaryText().contains(QStringLiteral("child")));
        // Find the PTE row of page 2 and its "shared with" cell.
        QModelIndex found;
        std::function<void(const QModelIndex&)> scan = [&](const QModelIndex& parent) {
            for (int r = 0; r < view.model()->rowCount(parent); ++r) {
                const QModelIndex e = view.model()->index(r, PageTableView::Entry, parent);
                if (e.data(PageTableView::LevelRole).toInt() == static_cast<int>(PtLevel::Pte)
                    && e.data(PageTableView::AddrRole).toULongLong() == pv->vm_start + 2 * P)
                    found = e;
                scan(e);
            }
        };
        scan(QModelIndex());
        QVERIFY(found.isValid());
        const QModelIndex shared = found.siblingAtColumn(PageTableView::SharedWith);
        QVERIFY(shared.data().toString().contains(QStringLiteral("child")));
        QCOMPARE(shared.data(PageTableView::ProcRole).toInt(), 1);
        QVERIFY(found.siblingAtColumn(PageTableView::Content).data().toString().contains(QStringLiteral("COW")));
        int proc = -1;
        Addr addr = 0;
        connect(&view, &PageTableView::addressActivated, this, [&](int p, Addr a) {
            proc = p;
            addr = a;
        });
        Q_EMIT view.tree()->activated(shared);
        QCOMPARE(proc, 1);
        QCOMPARE(addr, pv->vm_start + 2 * P);
        view.clear();
        QCOMPARE(view.model()->rowCount(), 0);
    }

    void mapJoinsCowSharedPagesBetweenRows()
    {
        ScenarioSession s;
        QVERIFY(test::runReference(s, QStringLiteral("maybe-guard-fixed"), forkScenario()));
        s.runToEnd();
        const Vma* pv = vmaWithPages(s.world().procs[0], 8, VM_WRITE);
        QVERIFY(pv);
        AddressSpaceView map;
        map.resize(1200, 600);
        map.setForkParents(s.forkParents());
        map.setWorld(s.world(), s.processNames(), s.changes());
        map.fitRange(pv->vm_start, pv->vm_end);
        QImage img(map.size(), QImage::Format_ARGB32);
        map.render(&img);
        QCOMPARE(map.forkLinks().size(), std::size_t { 2 });
        QCOMPARE(map.lastPaintStats().forkLinks, 2);
        QCOMPARE(map.lastPaintStats().forkBadges, 1);
        // Before the fork there is nothing to join.
        s.jumpTo(2);
        map.setWorld(s.world(), s.processNames(), s.changes());
        map.render(&img);
        QCOMPARE(map.lastPaintStats().forkLinks, 0);
        QCOMPARE(map.lastPaintStats().forkBadges, 0);
    }
};

QTEST_MAIN(TestPageTables)
#include "tst_page_tables.moc"
