#pragma once

#include "core/engine/trace.h"

#include <QAbstractTableModel>

namespace vmalab::ui {

// The micro-steps of one operation (OpTrace): kernel function, what, because, lock and
// the VMAs each step created, changed and removed. The current step is shown in bold.
class TraceModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Index,
        Function,
        What,
        Rule,
        Lock,
        Vmas, // "new #25 · changed #24 · removed #3": the identities the step touched
        ColumnCount
    };

    explicit TraceModel(QObject* parent = nullptr);

    // current: the step shown, or -1 when the whole operation is shown.
    void setTrace(const OpTrace& trace, int current);
    void clear();
    const OpTrace& trace() const { return m_trace; }
    int current() const { return m_current; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    OpTrace m_trace;
    int m_current = -1;
};

// "#3 #4" for a list of VMA identities.
QString idList(const std::vector<VmaId>& ids);
// The Vmas column's text for a step.
QString stepVmas(const TraceStep& step);
// The operation as a Markdown table, for notes and slides (File > Export trace).
QString traceMarkdown(const OpTrace& trace, const QString& processName);

} // namespace vmalab::ui
