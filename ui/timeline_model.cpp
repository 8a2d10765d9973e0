#include "ui/timeline_model.h"

#include "core/engine/history.h"
#include "core/scenario/uapi.h"

#include <QBrush>
#include <QFont>

namespace vmalab::ui {

TimelineModel::TimelineModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

QString callResultText(const std::string& call, std::int64_t ret)
{
    if (ret < 0 && ret > -4096)
        return QString::fromStdString(scenario::errnoName(ret));
    // touch() returns a signal number; everything else a value best read in hex when large.
    if (call.rfind("touch", 0) == 0)
        return ret == 0 ? QStringLiteral("0")
            : ret == 11 ? QStringLiteral("SIGSEGV")
            : ret == 7  ? QStringLiteral("SIGBUS")
                        : QString::number(ret);
    if (ret > 0xffff)
        return QStringLiteral("0x") + QString::number(static_cast<qulonglong>(ret), 16);
    return QString::number(ret);
}

void TimelineModel::setHistory(const History* history, const QStringList& processNames)
{
    beginResetModel();
    m_rows.clear();
    m_rows.push_back({ QString(), tr("(start: the process as exec() left it)"), QString(), 0, false });
    if (history) {
        for (const OpTrace& t : history->traces()) {
            Row r;
            r.process = t.process < processNames.size() ? processNames[t.process] : QString::number(t.process);
            r.call = QString::fromStdString(t.call);
            r.result = callResultText(t.call, t.ret);
            r.line = t.line;
            r.failed = t.ret < 0 || (t.call.startsWith("touch") && t.ret != 0);
            m_rows.push_back(std::move(r));
        }
    }
    m_current = std::min(m_current, static_cast<int>(m_rows.size()) - 2);
    endResetModel();
}

void TimelineModel::setCurrent(int op)
{
    const int old = m_current;
    m_current = op;
    if (old != op && !m_rows.empty()) {
        for (int r : { rowOfOp(old), rowOfOp(op) })
            if (r >= 0 && r < rowCount())
                Q_EMIT dataChanged(index(r, 0), index(r, ColumnCount - 1));
    }
}

int TimelineModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int TimelineModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant TimelineModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount)
        return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Index:
            return index.row();
        case Process:
            return r.process;
        case Call:
            return r.call;
        case Result:
            return r.result;
        case Line:
            return r.line > 0 ? QVariant(r.line) : QVariant();
        default:
            return {};
        }
    }
    if (role == Qt::FontRole) {
        QFont f;
        if (index.column() == Call || index.column() == Result) {
            f.setFamily(QStringLiteral("DejaVu Sans Mono"));
            f.setStyleHint(QFont::Monospace);
        }
        f.setBold(opOfRow(index.row()) == m_current);
        return f;
    }
    if (role == Qt::BackgroundRole && opOfRow(index.row()) == m_current)
        return QBrush(QColor(0x00, 0x72, 0xb2, 50));
    if (role == Qt::ForegroundRole && index.column() == Result && r.failed)
        return QBrush(QColor(0xb0, 0x40, 0x00));
    return {};
}

QVariant TimelineModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char* names[] = { "#", "Process", "Call", "Returns", "Line" };
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

} // namespace vmalab::ui
