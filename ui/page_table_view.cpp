#include "ui/page_table_view.h"

#include "ui/map_layout.h"

#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPixmap>
#include <QStandardItemModel>
#include <QTreeView>
#include <QVBoxLayout>

#include <functional>

namespace vmalab::ui {

namespace {

// A swatch painted like the map's page strip (guard: hazard stripes; uffd-wp: magenta band).
QPixmap swatch(PageKind kind, bool uffdWp, bool shared)
{
    QPixmap px(16, 12);
    px.fill(Qt::transparent);
    QPainter p(&px);
    const QRectF r(0, 0, 16, 12);
    if (kind == PageKind::Guard) {
        p.fillRect(r, QColor(0xf0, 0xe4, 0x42));
        p.fillRect(r, guardBrush());
    } else {
        p.fillRect(r, pageKindColor(kind));
    }
    if (uffdWp)
        p.fillRect(QRectF(0, 0, 16, 3), uffdWpColor());
    if (shared) {
        // A small chain link: the folio is mapped elsewhere too.
        p.setPen(QPen(QColor(0xe6, 0x9f, 0x00), 2));
        p.drawLine(QPointF(3, 10), QPointF(13, 10));
    }
    p.setPen(QColor(0x80, 0x80, 0x80));
    p.drawRect(r.adjusted(0, 0, -1, -1));
    return px;
}

QString entryLabel(const PtNode& n)
{
    const QString name = QString::fromLatin1(ptLevelName(n.level));
    if (n.first == n.last)
        return QStringLiteral("%1[%2]").arg(name).arg(n.first);
    return QStringLiteral("%1[%2–%3]").arg(name).arg(n.first).arg(n.last);
}

} // namespace

PageTableView::PageTableView(QWidget* parent)
    : QWidget(parent)
{
    auto* l = new QVBoxLayout(this);
    l->setContentsMargins(6, 6, 6, 6);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->addWidget(m_summary);
    m_model = new QStandardItemModel(this);
    m_tree = new QTreeView(this);
    m_tree->setModel(m_model);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tree->header()->setStretchLastSection(true);
    l->addWidget(m_tree, 1);
    connect(m_tree, &QTreeView::activated, this, [this](const QModelIndex& i) {
        const QModelIndex row = i.siblingAtColumn(i.column() == SharedWith ? SharedWith : Entry);
        const QVariant addr = row.data(AddrRole);
        if (addr.isValid())
            Q_EMIT addressActivated(row.data(ProcRole).toInt(), addr.toULongLong());
    });
    connect(m_tree, &QTreeView::clicked, m_tree, &QTreeView::activated);
    clear();
}

void PageTableView::clear()
{
    m_walk = {};
    m_model->clear();
    m_model->setHorizontalHeaderLabels({ tr("Entry"), tr("Content"), tr("Shared with"), tr("Covers") });
    m_summary->setText(tr("Select a VMA to see its page tables."));
}

void PageTableView::setRange(const World& world, int proc, Addr start, Addr end, const QStringList& processNames)
{
    m_walk = walkPageTables(world, proc, start, end);
    m_names = processNames;
    m_pids.clear();
    for (const Mm& mm : world.procs)
        m_pids.push_back(mm.pid);
    m_model->clear();
    m_model->setHorizontalHeaderLabels({ tr("Entry"), tr("Content"), tr("Shared with"), tr("Covers") });
    for (const PtNode& n : m_walk.roots)
        addNode(m_model->invisibleRootItem(), n);
    // Open every present upper-level entry down to the PTE tables; PTE runs stay listed.
    std::function<void(const QModelIndex&)> expand = [&](const QModelIndex& parent) {
        for (int r = 0; r < m_model->rowCount(parent); ++r) {
            const QModelIndex i = m_model->index(r, 0, parent);
            if (m_model->hasChildren(i)) {
                m_tree->expand(i);
                expand(i);
            }
        }
    };
    expand(QModelIndex());
    m_tree->resizeColumnToContents(Entry);
    m_tree->resizeColumnToContents(Content);
    m_tree->resizeColumnToContents(SharedWith);
    m_summary->setText(summaryText());
}

void PageTableView::addNode(QStandardItem* parent, const PtNode& n)
{
    const int proc = m_walk.proc;
    auto* entry = new QStandardItem(entryLabel(n));
    entry->setData(QVariant::fromValue<qulonglong>(n.start), AddrRole);
    entry->setData(proc, ProcRole);
    entry->setData(static_cast<int>(n.level), LevelRole);
    auto* covers = new QStandardItem(QStringLiteral("%1–%2").arg(hexText(n.start), hexText(n.end)));
    covers->setToolTip(formatBytes(n.end - n.start));
    QString content;
    auto* contentItem = new QStandardItem;
    if (n.level != PtLevel::Pte) {
        if (!n.present) {
            content = n.count() > 1 ? tr("none ×%1 (no table below)").arg(n.count()) : tr("none (no table below)");
            contentItem->setForeground(QColor(0x88, 0x88, 0x88));
        } else if (n.level == PtLevel::Pgd) {
            content = tr("→ P4D (folded into the PGD: 4-level paging)");
        } else if (n.level == PtLevel::P4d) {
            content = tr("→ PUD table");
        } else if (n.level == PtLevel::Pud) {
            content = tr("→ PMD table");
        } else if (n.huge) {
            content = tr("→ 2 MiB %1 page (huge PMD: no PTE table)").arg(QString::fromLatin1(pageKindName(n.kind)));
            contentItem->setData(static_cast<int>(n.kind), KindRole);
            contentItem->setIcon(QIcon(swatch(n.kind, n.pte.uffdWp, false)));
        } else {
            content = tr("→ PTE table (%1 entries listed as runs)").arg(n.children.size());
        }
    } else {
        content = QString::fromLatin1(pageKindName(n.kind));
        if (n.present && n.pte.uffdWp)
            content += tr(", uffd-wp");
        if (n.present && n.pte.cowShared)
            content += tr(", COW (write-protected)");
        if (n.count() > 1)
            content += tr("  ×%1").arg(n.count());
        contentItem->setData(static_cast<int>(n.kind), KindRole);
        contentItem->setIcon(QIcon(swatch(n.kind, n.present && n.pte.uffdWp, !n.shared.empty())));
        if (n.kind == PageKind::Guard) {
            QFont f = contentItem->font();
            f.setBold(true);
            contentItem->setFont(f);
        }
    }
    contentItem->setText(content);
    auto* shared = new QStandardItem;
    if (!n.shared.empty()) {
        QStringList who;
        for (const PtShare& s : n.shared) {
            const QString name = s.proc < m_names.size() ? m_names[s.proc] : QString::number(s.proc);
            const std::int64_t pid = s.proc < static_cast<int>(m_pids.size()) ? m_pids[static_cast<std::size_t>(s.proc)] : 0;
            who << tr("%1 (pid %2) at %3, VMA #%4").arg(name).arg(pid).arg(hexText(s.addr)).arg(s.vma);
        }
        shared->setText(who.join(QStringLiteral("; ")));
        shared->setData(QVariant::fromValue<qulonglong>(n.shared.front().addr), AddrRole);
        shared->setData(n.shared.front().proc, ProcRole);
        shared->setToolTip(tr("The same folio (found by the root anon_vma and the page's index): "
                              "fork left it shared copy-on-write; the first write gives the writer its own copy."));
    }
    QList<QStandardItem*> row { entry, contentItem, shared, covers };
    for (const PtNode& c : n.children)
        addNode(entry, c);
    parent->appendRow(row);
}

QString PageTableView::summaryText() const
{
    if (m_walk.proc < 0)
        return tr("Select a VMA to see its page tables.");
    const QString who =
        m_walk.proc < m_names.size() ? m_names[m_walk.proc] : QString::number(m_walk.proc);
    QString text = tr("<b>%1</b> [%2, %3): %4 PUD, %5 PMD and %6 PTE table(s)")
                       .arg(who.toHtmlEscaped(), hexText(m_walk.start), hexText(m_walk.end))
                       .arg(m_walk.pudTables)
                       .arg(m_walk.pmdTables)
                       .arg(m_walk.pteTables);
    QStringList parts;
    for (int k = 1; k < pageKindCount; ++k)
        if (m_walk.pages[k])
            parts << QStringLiteral("%1 %2").arg(m_walk.pages[k]).arg(QLatin1String(pageKindName(static_cast<PageKind>(k))));
    if (m_walk.uffdWpPages)
        parts << tr("%1 uffd-wp").arg(m_walk.uffdWpPages);
    text += QStringLiteral(" · ") + (parts.isEmpty() ? tr("no PTEs") : parts.join(QStringLiteral(", ")));
    if (m_walk.cowSharedPages) {
        QStringList with;
        for (int p : m_walk.sharedWithProcs)
            with << (p < m_names.size() ? m_names[p] : QString::number(p)).toHtmlEscaped();
        text += tr(" · <b>%1 page(s) COW-shared</b> with %2").arg(m_walk.cowSharedPages).arg(with.join(QStringLiteral(", ")));
    }
    if (m_walk.truncated)
        text += tr(" · (list truncated)");
    text += tr("<br><small>x86-64 4-level paging. Tables are allocated on the way down to an entry and freed "
               "by free_pgtables() once no VMA is left in their span, so a PMD or PUD table can stay with "
               "nothing mapped below it.</small>");
    return text;
}

} // namespace vmalab::ui
