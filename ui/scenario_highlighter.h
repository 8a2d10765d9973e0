#pragma once

#include <QString>
#include <QSyntaxHighlighter>
#include <QTextCharFormat>

#include <vector>

class QTextDocument;

namespace vmalab::ui {

// What a piece of scenario text is, for colouring.
enum class TokenClass
{
    Keyword, // expect, in, profile, require
    Call, // a name from the call table followed by '('
    Constant, // uapi names, page_size, NULL
    Number,
    String,
    Comment,
    Narration, // `///` comments: the lesson's text
};

struct HighlightToken
{
    int start = 0;
    int length = 0;
    TokenClass cls = TokenClass::Comment;
    bool operator==(const HighlightToken&) const = default;
};

// Splits one line into tokens. `inBlockComment` carries a `/* ... */` across lines: in, whether
// the line starts inside one; out, whether it ends inside one. Plain names, operators and
// spaces get no token.
std::vector<HighlightToken> classifyLine(const QString& line, bool* inBlockComment);

class ScenarioHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit ScenarioHighlighter(QTextDocument* parent = nullptr);
    // Dark backgrounds need lighter colours.
    void setDark(bool dark);

protected:
    void highlightBlock(const QString& text) override;

private:
    QTextCharFormat m_formats[7];
};

} // namespace vmalab::ui
