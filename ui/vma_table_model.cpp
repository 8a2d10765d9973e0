#include "ui/vma_table_model.h"

#include "core/engine/observe.h"
#include "core/vm_flags.h"
#include "ui/map_layout.h"
#include "ui/map_palette.h"
#include "ui/scenario_session.h"

#include <QBrush>
#include <QFont>

namespace vmalab::ui {

VmaTableModel::VmaTableModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void VmaTableModel::setWorld(const World& world, const QStringList& processNames, const PositionChanges* changes)
{
    beginResetModel();
    m_rows.clear();
    m_processNames = processNames;
    for (std::size_t p = 0; p < world.procs.size(); ++p) {
        const Mm& mm = world.procs[p];
        for (const auto& e : mm.vmas) {
            const Vma& v = e.second;
            Row r;
            r.proc = static_cast<int>(p);
            r.vma = v;
            r.name = QString::fromStdString(vmaName(world, mm, v));
            QStringList mn;
            for (const std::string& m : vmFlagMnemonics(v.vm_flags))
                mn << QString::fromStdString(m);
            r.flags = mn.join(QLatin1Char(' '));
            if (changes)
                r.change = changes->created.count(v.id) ? 1 : changes->changed.count(v.id) ? 2 : 0;
            m_rows.push_back(std::move(r));
        }
    }
    endResetModel();
}

int VmaTableModel::rowOf(int proc, VmaId id) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].proc == proc && m_rows[i].vma.id == id)
            return static_cast<int>(i);
    return -1;
}

int VmaTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int VmaTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant VmaTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    const Vma& v = r.vma;
    if (role == VmaIdRole)
        return QVariant::fromValue<qulonglong>(v.id);
    if (role == ProcessRole)
        return r.proc;
    if (role == Qt::DisplayRole || role == SortRole) {
        const bool sort = role == SortRole;
        switch (index.column()) {
        case Process:
            return r.proc < m_processNames.size() ? m_processNames[r.proc] : QString::number(r.proc);
        case Start:
            return sort ? QVariant::fromValue<qulonglong>(v.vm_start) : QVariant(hexText(v.vm_start));
        case End:
            return sort ? QVariant::fromValue<qulonglong>(v.vm_end) : QVariant(hexText(v.vm_end));
        case Size:
            return sort ? QVariant::fromValue<qulonglong>(v.vm_end - v.vm_start)
                        : QVariant(formatBytes(v.vm_end - v.vm_start));
        case Perms:
            return QString::fromStdString(mapsPerms(v.vm_flags));
        case Pgoff:
            return sort ? QVariant::fromValue<qulonglong>(v.vm_pgoff) : QVariant(hexText(v.vm_pgoff));
        case Flags:
            return r.flags;
        case Name:
            return r.name;
        case AnonVma:
            if (sort)
                return QVariant::fromValue<qulonglong>(v.anon_vma);
            return v.anon_vma == noAnonVma ? QStringLiteral("—") : QStringLiteral("#%1").arg(v.anon_vma);
        case Id:
            return QVariant::fromValue<qulonglong>(v.id);
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        const int c = index.column();
        if (c == Start || c == End || c == Size || c == Pgoff || c == Id || c == AnonVma)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == Qt::FontRole && (index.column() == Start || index.column() == End || index.column() == Pgoff)) {
        QFont f(QStringLiteral("DejaVu Sans Mono"));
        f.setStyleHint(QFont::Monospace);
        return f;
    }
    if (role == Qt::BackgroundRole && r.change != 0) {
        QColor c = r.change == 1 ? createdColor() : changedColor();
        c.setAlpha(60);
        return QBrush(c);
    }
    if (role == Qt::ToolTipRole && r.change != 0)
        return r.change == 1 ? tr("created by the current step") : tr("changed by the current step");
    return {};
}

QVariant VmaTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Process:
        return tr("Process");
    case Start:
        return tr("vm_start");
    case End:
        return tr("vm_end");
    case Size:
        return tr("Size");
    case Perms:
        return tr("Perms");
    case Pgoff:
        return tr("vm_pgoff");
    case Flags:
        return tr("VmFlags");
    case Name:
        return tr("Name");
    case AnonVma:
        return tr("anon_vma");
    case Id:
        return tr("id");
    default:
        return {};
    }
}

} // namespace vmalab::ui
