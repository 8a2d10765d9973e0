#include "ui/scenario_highlighter.h"

#include "core/scenario/calls.h"
#include "core/scenario/parser.h"
#include "core/scenario/uapi.h"

#include <QTextDocument>

namespace vmalab::ui {

namespace {

bool isNameStart(QChar c)
{
    return c.isLetter() || c == QLatin1Char('_');
}
bool isNameChar(QChar c)
{
    return c.isLetterOrNumber() || c == QLatin1Char('_');
}

bool isKeyword(const QString& word)
{
    for (std::string_view k : scenario::scenarioKeywords())
        if (word == QLatin1String(k.data(), static_cast<qsizetype>(k.size())))
            return true;
    return false;
}

bool isConstant(const QString& word)
{
    return scenario::uapiConstant(word.toStdString()).has_value();
}

bool isCall(const QString& word)
{
    return scenario::findCall(word.toStdString()) != nullptr || word == QLatin1String("fork");
}

} // namespace

std::vector<HighlightToken> classifyLine(const QString& line, bool* inBlockComment)
{
    std::vector<HighlightToken> out;
    const int n = static_cast<int>(line.size());
    int i = 0;
    if (inBlockComment && *inBlockComment) {
        const int close = static_cast<int>(line.indexOf(QLatin1String("*/")));
        const int end = close < 0 ? n : close + 2;
        out.push_back({ 0, end, TokenClass::Comment });
        if (close < 0)
            return out;
        *inBlockComment = false;
        i = end;
    }
    while (i < n) {
        const QChar c = line[i];
        if (c == QLatin1Char('/') && i + 1 < n && line[i + 1] == QLatin1Char('/')) {
            const bool narration = i + 2 < n && line[i + 2] == QLatin1Char('/');
            out.push_back({ i, n - i, narration ? TokenClass::Narration : TokenClass::Comment });
            return out;
        }
        if (c == QLatin1Char('/') && i + 1 < n && line[i + 1] == QLatin1Char('*')) {
            const int close = static_cast<int>(line.indexOf(QLatin1String("*/"), i + 2));
            const int end = close < 0 ? n : close + 2;
            out.push_back({ i, end - i, TokenClass::Comment });
            if (close < 0 && inBlockComment)
                *inBlockComment = true;
            i = end;
            continue;
        }
        if (c == QLatin1Char('"')) {
            int j = i + 1;
            while (j < n && line[j] != QLatin1Char('"'))
                j += line[j] == QLatin1Char('\\') ? 2 : 1;
            j = std::min(j + 1, n);
            out.push_back({ i, j - i, TokenClass::String });
            i = j;
            continue;
        }
        if (c.isDigit()) {
            int j = i + 1;
            while (j < n && (line[j].isLetterOrNumber() || line[j] == QLatin1Char('_')))
                ++j;
            out.push_back({ i, j - i, TokenClass::Number });
            i = j;
            continue;
        }
        if (isNameStart(c)) {
            int j = i + 1;
            while (j < n && isNameChar(line[j]))
                ++j;
            const QString word = line.mid(i, j - i);
            int k = j;
            while (k < n && line[k].isSpace())
                ++k;
            const bool calledHere = k < n && line[k] == QLatin1Char('(');
            if (isKeyword(word))
                out.push_back({ i, j - i, TokenClass::Keyword });
            else if (calledHere && isCall(word))
                out.push_back({ i, j - i, TokenClass::Call });
            else if (isConstant(word))
                out.push_back({ i, j - i, TokenClass::Constant });
            i = j;
            continue;
        }
        ++i;
    }
    return out;
}

ScenarioHighlighter::ScenarioHighlighter(QTextDocument* parent)
    : QSyntaxHighlighter(parent)
{
    setDark(false);
}

void ScenarioHighlighter::setDark(bool dark)
{
    // Okabe–Ito hues, darkened for a light page or lightened for a dark one.
    auto fmt = [](QColor c, bool bold, bool italic) {
        QTextCharFormat f;
        f.setForeground(c);
        if (bold)
            f.setFontWeight(QFont::Bold);
        f.setFontItalic(italic);
        return f;
    };
    m_formats[static_cast<int>(TokenClass::Keyword)] =
        fmt(dark ? QColor(0xf0, 0xa0, 0xd0) : QColor(0x8b, 0x1a, 0x6b), true, false);
    m_formats[static_cast<int>(TokenClass::Call)] =
        fmt(dark ? QColor(0x7c, 0xc4, 0xf0) : QColor(0x00, 0x55, 0x99), true, false);
    m_formats[static_cast<int>(TokenClass::Constant)] =
        fmt(dark ? QColor(0x4c, 0xd0, 0xa8) : QColor(0x00, 0x6e, 0x50), false, false);
    m_formats[static_cast<int>(TokenClass::Number)] =
        fmt(dark ? QColor(0xf0, 0xc0, 0x60) : QColor(0xa0, 0x50, 0x00), false, false);
    m_formats[static_cast<int>(TokenClass::String)] =
        fmt(dark ? QColor(0xe8, 0x90, 0x60) : QColor(0xa0, 0x30, 0x00), false, false);
    m_formats[static_cast<int>(TokenClass::Comment)] =
        fmt(dark ? QColor(0x90, 0x90, 0x90) : QColor(0x70, 0x70, 0x70), false, true);
    QTextCharFormat narration = fmt(dark ? QColor(0xd8, 0xd8, 0xa0) : QColor(0x35, 0x35, 0x35), false, false);
    narration.setBackground(dark ? QColor(0x3a, 0x38, 0x20) : QColor(0xff, 0xf6, 0xd5));
    m_formats[static_cast<int>(TokenClass::Narration)] = narration;
    rehighlight();
}

void ScenarioHighlighter::highlightBlock(const QString& text)
{
    bool inComment = previousBlockState() == 1;
    for (const HighlightToken& t : classifyLine(text, &inComment))
        setFormat(t.start, t.length, m_formats[static_cast<int>(t.cls)]);
    setCurrentBlockState(inComment ? 1 : 0);
}

} // namespace vmalab::ui
