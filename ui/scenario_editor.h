#pragma once

#include "core/result.h"

#include <QPlainTextEdit>

namespace vmalab::ui {

class ScenarioHighlighter;

// The scenario text with line numbers, syntax colours, the parser's diagnostics underlined
// (wavy red, message in the tooltip and the margin) and the line of the current operation
// marked, as a debugger marks the current line.
class ScenarioEditor : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit ScenarioEditor(QWidget* parent = nullptr);

    void setDiagnostics(const Diagnostics& diagnostics);
    const Diagnostics& diagnostics() const { return m_diagnostics; }
    // 0 clears the marker.
    void setCurrentLine(int line);
    void goToLine(int line, int col = 1);
    ScenarioHighlighter* highlighter() const { return m_highlighter; }

    int lineNumberAreaWidth() const;
    void paintLineNumbers(QPaintEvent* event);

protected:
    void resizeEvent(QResizeEvent* event) override;
    bool event(QEvent* event) override;

private:
    void updateSelections();
    void updateLineNumberArea(const QRect& rect, int dy);

    QWidget* m_lineNumbers = nullptr;
    ScenarioHighlighter* m_highlighter = nullptr;
    Diagnostics m_diagnostics;
    int m_currentLine = 0;
};

} // namespace vmalab::ui
