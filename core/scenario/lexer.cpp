#include "core/scenario/lexer.h"

#include <cstdio>
#include <limits>

namespace vmalab::scenario {

namespace {

constexpr std::uint64_t maxU64 = std::numeric_limits<std::uint64_t>::max();

bool isIdentStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}
bool isIdentChar(char c)
{
    return isIdentStart(c) || isDigit(c);
}

int hexDigit(char c)
{
    if (isDigit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

class Lexer
{
public:
    explicit Lexer(std::string_view text)
        : m_text(text)
    {
    }

    std::vector<Token> run()
    {
        while (m_pos < m_text.size())
            next();
        Token end = make(Token::Kind::End, m_pos);
        m_tokens.push_back(end);
        return std::move(m_tokens);
    }

private:
    char at(std::size_t i) const { return i < m_text.size() ? m_text[i] : '\0'; }

    Token make(Token::Kind kind, std::size_t start) const
    {
        Token t;
        t.kind = kind;
        t.offset = start;
        t.endOffset = start;
        t.line = m_line;
        t.col = static_cast<int>(start - m_lineStart) + 1;
        return t;
    }

    void push(Token t, std::size_t end)
    {
        t.endOffset = end;
        m_tokens.push_back(std::move(t));
    }

    void error(std::size_t start, std::size_t end, std::string message)
    {
        Token t = make(Token::Kind::Error, start);
        t.text = std::move(message);
        push(std::move(t), end);
    }

    void newLine(std::size_t newlinePos)
    {
        ++m_line;
        m_lineStart = newlinePos + 1;
    }

    void next()
    {
        const char c = m_text[m_pos];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
            ++m_pos;
        } else if (c == '\n') {
            push(make(Token::Kind::Newline, m_pos), m_pos + 1);
            newLine(m_pos);
            ++m_pos;
        } else if (c == '/' && at(m_pos + 1) == '/') {
            lineComment();
        } else if (c == '/' && at(m_pos + 1) == '*') {
            blockComment();
        } else if (isDigit(c)) {
            number();
        } else if (isIdentStart(c)) {
            const std::size_t start = m_pos;
            while (isIdentChar(at(m_pos)))
                ++m_pos;
            Token t = make(Token::Kind::Ident, start);
            t.text = std::string(m_text.substr(start, m_pos - start));
            push(std::move(t), m_pos);
        } else if (c == '"') {
            string();
        } else {
            punct();
        }
    }

    // `///` (exactly three slashes) is narration; `////...` rulers are ordinary comments.
    void lineComment()
    {
        const std::size_t start = m_pos;
        std::size_t end = m_text.find('\n', m_pos);
        if (end == std::string_view::npos)
            end = m_text.size();
        m_pos = end;
        if (at(start + 2) != '/' || at(start + 3) == '/')
            return;
        std::string_view body = m_text.substr(start + 3, end - start - 3);
        if (!body.empty() && body.front() == ' ')
            body.remove_prefix(1);
        while (!body.empty() && (body.back() == '\r' || body.back() == ' ' || body.back() == '\t'))
            body.remove_suffix(1);
        Token t = make(Token::Kind::Narration, start);
        t.text = std::string(body);
        push(std::move(t), end);
    }

    // A block comment is white space; one spanning lines also ends the statement, as the
    // line break it contains would.
    void blockComment()
    {
        const std::size_t start = m_pos;
        const std::size_t close = m_text.find("*/", m_pos + 2);
        if (close == std::string_view::npos) {
            error(start, m_text.size(), "unterminated comment: '/*' has no matching '*/'");
            m_pos = m_text.size();
            return;
        }
        Token nl = make(Token::Kind::Newline, start);
        bool spansLines = false;
        for (std::size_t i = start; i < close; ++i) {
            if (m_text[i] == '\n') {
                spansLines = true;
                newLine(i);
            }
        }
        m_pos = close + 2;
        if (spansLines)
            push(std::move(nl), m_pos);
    }

    void number()
    {
        const std::size_t start = m_pos;
        std::uint64_t v = 0;
        bool overflow = false;
        if (m_text[m_pos] == '0' && (at(m_pos + 1) == 'x' || at(m_pos + 1) == 'X')) {
            m_pos += 2;
            if (hexDigit(at(m_pos)) < 0)
                return badNumber(start, "a hex literal needs digits after '0x'");
            for (int d; (d = hexDigit(at(m_pos))) >= 0; ++m_pos) {
                overflow = overflow || v > (maxU64 >> 4);
                v = (v << 4) | static_cast<std::uint64_t>(d);
            }
        } else {
            if (m_text[m_pos] == '0' && isDigit(at(m_pos + 1)))
                return badNumber(start, "octal literals are not supported: write decimal or 0x hex");
            for (; isDigit(at(m_pos)); ++m_pos) {
                const auto d = static_cast<std::uint64_t>(at(m_pos) - '0');
                overflow = overflow || v > (maxU64 - d) / 10;
                v = v * 10 + d;
            }
        }
        const char suffix = at(m_pos);
        const int shift = suffix == 'K' ? 10 : suffix == 'M' ? 20 : suffix == 'G' ? 30 : 0;
        if (shift != 0) {
            ++m_pos;
            overflow = overflow || v > (maxU64 >> shift);
            v <<= shift;
        }
        if (isIdentChar(at(m_pos))) {
            const std::size_t suffixStart = m_pos;
            while (isIdentChar(at(m_pos)))
                ++m_pos;
            const std::string s(m_text.substr(suffixStart, m_pos - suffixStart));
            return error(start, m_pos, "invalid suffix '" + s + "' on integer literal (K, M and G are allowed)");
        }
        if (overflow)
            return error(start, m_pos, "integer literal is too large (the largest is 2^64 - 1)");
        Token t = make(Token::Kind::Number, start);
        t.value = static_cast<std::int64_t>(v); // 2^63 and up: their two's complement, as C's casts do
        push(std::move(t), m_pos);
    }

    void badNumber(std::size_t start, const char* message)
    {
        while (isIdentChar(at(m_pos)))
            ++m_pos;
        error(start, m_pos, message);
    }

    void string()
    {
        const std::size_t start = m_pos;
        ++m_pos;
        std::string value;
        std::size_t badEscape = std::string_view::npos;
        while (true) {
            const char c = at(m_pos);
            if (m_pos >= m_text.size() || c == '\n')
                return error(start, m_pos, "unterminated string: missing closing '\"'");
            ++m_pos;
            if (c == '"')
                break;
            if (c != '\\') {
                value += c;
                continue;
            }
            const char e = at(m_pos);
            if (e == '"' || e == '\\' || e == 'n') {
                value += e == 'n' ? '\n' : e;
                ++m_pos;
            } else if (badEscape == std::string_view::npos) {
                badEscape = m_pos - 1;
            }
        }
        if (badEscape != std::string_view::npos) {
            Token t = make(Token::Kind::Error, badEscape);
            t.text = "unknown escape '\\" + std::string(1, at(badEscape + 1))
                + "' in string (only \\\", \\\\ and \\n are allowed)";
            return push(std::move(t), m_pos);
        }
        Token t = make(Token::Kind::String, start);
        t.text = std::move(value);
        push(std::move(t), m_pos);
    }

    void punct()
    {
        const std::size_t start = m_pos;
        const char c = m_text[m_pos];
        const char n = at(m_pos + 1);
        std::string text;
        if ((c == '=' && n == '=') || (c == '!' && n == '=') || (c == '<' && n == '<') || (c == '>' && n == '>')
            || (c == '-' && n == '>'))
            text = { c, n };
        else if (std::string_view("(){},;=+-*/%&|^~").find(c) != std::string_view::npos)
            text = { c };
        if (text.empty()) {
            char shown[32];
            const auto u = static_cast<unsigned char>(c);
            if (u >= 0x20 && u < 0x7f)
                std::snprintf(shown, sizeof shown, "'%c'", c);
            else
                std::snprintf(shown, sizeof shown, "byte 0x%02x", u);
            ++m_pos;
            return error(start, m_pos, std::string("unexpected character ") + shown);
        }
        m_pos += text.size();
        Token t = make(Token::Kind::Punct, start);
        t.text = std::move(text);
        push(std::move(t), m_pos);
    }

    std::string_view m_text;
    std::size_t m_pos = 0;
    int m_line = 1;
    std::size_t m_lineStart = 0;
    std::vector<Token> m_tokens;
};

} // namespace

std::vector<Token> lexScenario(std::string_view text)
{
    return Lexer(text).run();
}

} // namespace vmalab::scenario
