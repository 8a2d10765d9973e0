#include "ui/scenario_editor.h"

#include "ui/scenario_highlighter.h"

#include <QHelpEvent>
#include <QPaintEvent>
#include <QPainter>
#include <QScrollBar>
#include <QTextBlock>
#include <QToolTip>

namespace vmalab::ui {

namespace {

class LineNumberArea : public QWidget
{
public:
    explicit LineNumberArea(ScenarioEditor* editor)
        : QWidget(editor)
        , m_editor(editor)
    {
    }
    QSize sizeHint() const override { return { m_editor->lineNumberAreaWidth(), 0 }; }

protected:
    void paintEvent(QPaintEvent* event) override { m_editor->paintLineNumbers(event); }

private:
    ScenarioEditor* m_editor;
};

} // namespace

ScenarioEditor::ScenarioEditor(QWidget* parent)
    : QPlainTextEdit(parent)
    , m_lineNumbers(new LineNumberArea(this))
    , m_highlighter(new ScenarioHighlighter(document()))
{
    QFont mono(QStringLiteral("DejaVu Sans Mono"));
    mono.setStyleHint(QFont::Monospace);
    mono.setPointSizeF(font().pointSizeF());
    setFont(mono);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setTabStopDistance(QFontMetricsF(mono).horizontalAdvance(QLatin1Char(' ')) * 4);
    connect(
        this, &QPlainTextEdit::blockCountChanged, this, [this] { setViewportMargins(lineNumberAreaWidth(), 0, 0, 0); });
    connect(this, &QPlainTextEdit::updateRequest, this, &ScenarioEditor::updateLineNumberArea);
    setViewportMargins(lineNumberAreaWidth(), 0, 0, 0);
}

int ScenarioEditor::lineNumberAreaWidth() const
{
    int digits = 1;
    for (int max = std::max(1, blockCount()); max >= 10; max /= 10)
        ++digits;
    return 14 + fontMetrics().horizontalAdvance(QLatin1Char('9')) * std::max(3, digits);
}

void ScenarioEditor::updateLineNumberArea(const QRect& rect, int dy)
{
    if (dy)
        m_lineNumbers->scroll(0, dy);
    else
        m_lineNumbers->update(0, rect.y(), m_lineNumbers->width(), rect.height());
}

void ScenarioEditor::resizeEvent(QResizeEvent* event)
{
    QPlainTextEdit::resizeEvent(event);
    const QRect cr = contentsRect();
    m_lineNumbers->setGeometry(QRect(cr.left(), cr.top(), lineNumberAreaWidth(), cr.height()));
}

void ScenarioEditor::paintLineNumbers(QPaintEvent* event)
{
    QPainter p(m_lineNumbers);
    const QPalette pal = palette();
    p.fillRect(event->rect(), pal.color(QPalette::AlternateBase));
    QTextBlock block = firstVisibleBlock();
    int top = qRound(blockBoundingGeometry(block).translated(contentOffset()).top());
    const int w = m_lineNumbers->width();
    while (block.isValid() && top <= event->rect().bottom()) {
        const int h = qRound(blockBoundingRect(block).height());
        const int line = block.blockNumber() + 1;
        bool error = false;
        for (const Diagnostic& d : m_diagnostics)
            error = error || d.line == line;
        if (line == m_currentLine) {
            p.fillRect(0, top, w, h, QColor(0x00, 0x72, 0xb2));
            p.setPen(Qt::white);
        } else if (error) {
            p.fillRect(0, top, w, h, QColor(0xd5, 0x5e, 0x00));
            p.setPen(Qt::white);
        } else {
            p.setPen(pal.color(QPalette::PlaceholderText));
        }
        p.drawText(0, top, w - 6, h, Qt::AlignRight | Qt::AlignVCenter, QString::number(line));
        block = block.next();
        top += h;
    }
}

void ScenarioEditor::setDiagnostics(const Diagnostics& diagnostics)
{
    m_diagnostics = diagnostics;
    updateSelections();
    m_lineNumbers->update();
}

void ScenarioEditor::setCurrentLine(int line)
{
    if (line == m_currentLine)
        return;
    m_currentLine = line;
    updateSelections();
    m_lineNumbers->update();
    if (line > 0) {
        // Keep the marked line in view without moving the user's cursor.
        const QTextBlock b = document()->findBlockByNumber(line - 1);
        const QRectF r = blockBoundingGeometry(b).translated(contentOffset());
        if (r.top() < 0 || r.bottom() > viewport()->height())
            verticalScrollBar()->setValue(
                std::max(0, line - 1 - viewport()->height() / std::max(1, fontMetrics().height()) / 3));
    }
}

void ScenarioEditor::goToLine(int line, int col)
{
    const QTextBlock b = document()->findBlockByNumber(std::max(0, line - 1));
    QTextCursor c(b);
    c.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor, std::max(0, col - 1));
    setTextCursor(c);
    centerCursor();
    setFocus();
}

void ScenarioEditor::updateSelections()
{
    QList<QTextEdit::ExtraSelection> sels;
    if (m_currentLine > 0) {
        QTextEdit::ExtraSelection s;
        s.format.setBackground(QColor(0x00, 0x72, 0xb2, 45));
        s.format.setProperty(QTextFormat::FullWidthSelection, true);
        s.cursor = QTextCursor(document()->findBlockByNumber(m_currentLine - 1));
        sels << s;
    }
    for (const Diagnostic& d : m_diagnostics) {
        if (d.line <= 0)
            continue;
        const QTextBlock b = document()->findBlockByNumber(d.line - 1);
        if (!b.isValid())
            continue;
        QTextCursor c(b);
        const int col = std::clamp(d.col - 1, 0, std::max(0, static_cast<int>(b.length()) - 1));
        c.movePosition(QTextCursor::Right, QTextCursor::MoveAnchor, col);
        // Underline the word at the column, or the rest of the line when there is none.
        c.movePosition(QTextCursor::EndOfWord, QTextCursor::KeepAnchor);
        if (!c.hasSelection())
            c.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
        if (!c.hasSelection()) {
            c.movePosition(QTextCursor::StartOfBlock);
            c.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
        }
        QTextEdit::ExtraSelection s;
        s.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
        s.format.setUnderlineColor(QColor(0xd0, 0x10, 0x10));
        s.format.setToolTip(QString::fromStdString(d.message));
        s.cursor = c;
        sels << s;
    }
    setExtraSelections(sels);
}

bool ScenarioEditor::event(QEvent* event)
{
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const QPoint vp = viewport()->mapFromGlobal(help->globalPos());
        const int line = cursorForPosition(vp).blockNumber() + 1;
        QStringList messages;
        for (const Diagnostic& d : m_diagnostics)
            if (d.line == line)
                messages << QStringLiteral("%1:%2: %3").arg(d.line).arg(d.col).arg(QString::fromStdString(d.message));
        if (!messages.isEmpty() && vp.x() >= 0) {
            QToolTip::showText(help->globalPos(), messages.join(QLatin1Char('\n')), this);
            return true;
        }
        QToolTip::hideText();
        event->ignore();
        return true;
    }
    return QPlainTextEdit::event(event);
}

} // namespace vmalab::ui
