#include "ui/inspector_widget.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"
#include "ui/flags_model.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"

#include <QCheckBox>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace vmalab::ui {

InspectorWidget::InspectorWidget(QWidget* parent)
    : QWidget(parent)
    , m_summary(new QLabel(this))
    , m_onlySet(new QCheckBox(tr("Only the bits that are set"), this))
    , m_table(new QTableView(this))
    , m_flags(new FlagsModel(this))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    layout->addWidget(m_summary);
    layout->addWidget(m_onlySet);
    m_table->setModel(m_flags);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 4);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setShowGrid(false);
    m_table->setWordWrap(true);
    connect(m_flags, &QAbstractItemModel::modelReset, m_table, &QTableView::resizeRowsToContents);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(FlagsModel::Meaning, QHeaderView::Stretch);
    // The profile note can be long ("sticky, no-merge, fork copy"): a fixed, wrapping column
    // leaves the meaning readable on a projector.
    m_table->horizontalHeader()->setSectionResizeMode(FlagsModel::ProfileRole, QHeaderView::Interactive);
    m_table->setColumnWidth(FlagsModel::ProfileRole, 110);
    layout->addWidget(m_table, 1);
    m_onlySet->setChecked(true);
    m_flags->setOnlySet(true);
    connect(m_onlySet, &QCheckBox::toggled, m_flags, &FlagsModel::setOnlySet);
    clear();
}

QStringList assumptionsFor(const std::vector<SnapshotAssumption>& assumptions, std::int64_t pid, const Vma& v)
{
    QStringList out;
    for (const SnapshotAssumption& a : assumptions) {
        if (a.pid != pid)
            continue;
        bool applies = a.ranges.empty();
        for (const auto& [s, e] : a.ranges)
            applies = applies || (s < v.vm_end && v.vm_start < e);
        if (applies)
            out << QString::fromStdString(a.text).toHtmlEscaped();
    }
    return out;
}

void InspectorWidget::clear()
{
    m_summary->setText(tr("<i>Select a VMA on the map or in the table.</i>"));
    m_flags->clear();
}

QString InspectorWidget::summaryText() const
{
    return m_summary->text();
}

void InspectorWidget::setVma(const World& world, int proc, VmaId id, const QString& processName,
    const std::vector<SnapshotAssumption>& assumptions)
{
    if (proc < 0 || proc >= static_cast<int>(world.procs.size())) {
        clear();
        return;
    }
    const Mm& mm = world.procs[static_cast<std::size_t>(proc)];
    const Vma* found = nullptr;
    for (const auto& e : mm.vmas)
        if (e.second.id == id)
            found = &e.second;
    if (!found) {
        clear();
        return;
    }
    const Vma& v = *found;
    const VmaKind kind = vmaKind(world, mm, v);
    const QColor c = vmaKindColor(kind);
    QString fileText = tr("none (anonymous)");
    if (const File* f = world.file(v.vm_file))
        fileText = QStringLiteral("%1%2 · %3 · %4 · inode %5")
                       .arg(QString::fromStdString(f->path).toHtmlEscaped(), f->deleted ? tr(" (deleted)") : QString(),
                           f->kind == File::Kind::Shmem ? tr("shmem") : tr("regular file"), formatBytes(f->size))
                       .arg(f->inode);
    const QString anon = v.anon_vma == noAnonVma ? tr("none (no page has faulted in yet)")
                                                 : tr("#%1 · chain of %2 %3")
                                                       .arg(v.anon_vma)
                                                       .arg(v.anonVmaChain)
                                                       .arg(v.anonVmaChain == 1 ? tr("entry") : tr("entries"));
    QString rows;
    auto row = [&rows](const QString& k, const QString& val) {
        rows +=
            QStringLiteral("<tr><td style='color:palette(placeholder-text);padding-right:10px'>%1</td><td>%2</td></tr>")
                .arg(k, val);
    };
    row(tr("process"), processName.toHtmlEscaped());
    row(tr("range"),
        QStringLiteral("<tt>%1 – %2</tt> (%3, %4 pages)")
            .arg(hexText(v.vm_start), hexText(v.vm_end), formatBytes(v.vm_end - v.vm_start))
            .arg(v.pages()));
    row(tr("perms"),
        QStringLiteral("<tt>%1</tt> · vm_flags <tt>%2</tt>")
            .arg(QString::fromStdString(mapsPerms(v.vm_flags)), hexText(v.vm_flags)));
    row(tr("vm_pgoff"), QStringLiteral("<tt>%1</tt>").arg(hexText(v.vm_pgoff)));
    row(tr("file"), fileText);
    row(tr("anon_vma"), anon);
    row(tr("uffd ctx"), v.uffd_ctx == noUffdCtx ? tr("none") : QStringLiteral("#%1").arg(v.uffd_ctx));
    row(tr("anon name"), v.anon_name.empty() ? tr("none") : QString::fromStdString(v.anon_name).toHtmlEscaped());
    const QStringList assumed = assumptionsFor(assumptions, mm.pid, v);
    if (!assumed.isEmpty())
        row(tr("assumed"),
            QStringLiteral("<span style='color:#b35900'>%1</span><ul style='margin:0'><li>%2</li></ul>")
                .arg(tr("procfs does not show this; vmalab assumed:"), assumed.join(QStringLiteral("</li><li>"))));
    m_summary->setText(
        QStringLiteral("<div style='font-size:large'><span style='background:%1;color:%2'>&nbsp;%3&nbsp;</span> "
                       "<b>VMA #%4</b> %5</div><table>%6</table>")
            .arg(c.name(), textOn(c).name(), QString::fromLatin1(vmaKindName(kind)))
            .arg(v.id)
            .arg(QString::fromStdString(vmaName(world, mm, v)).toHtmlEscaped(), rows));
    m_flags->setFlags(v.vm_flags, world.profile());
}

} // namespace vmalab::ui
