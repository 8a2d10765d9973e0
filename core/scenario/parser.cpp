#include "core/scenario/parser.h"

#include "core/assert.h"
#include "core/scenario/checker.h"
#include "core/scenario/lexer.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

namespace vmalab::scenario {

namespace {

using Kind = Token::Kind;

bool isKeyword(std::string_view s)
{
    const auto& k = scenarioKeywords();
    return std::find(k.begin(), k.end(), s) != k.end();
}

// Deeper expressions are refused, so that recursion here, in the checker, the printer and the
// interpreter stays far from the stack's end whatever a fuzzer or shrinker feeds in.
constexpr int maxNesting = 200;

std::string describe(const Token& t)
{
    switch (t.kind) {
    case Kind::Ident:
        return "'" + t.text + "'";
    case Kind::Number:
        return "a number";
    case Kind::String:
        return "a string";
    case Kind::Punct:
        return "'" + t.text + "'";
    case Kind::Newline:
        return "end of line";
    case Kind::Narration:
        return "a '///' comment";
    case Kind::Error:
        return t.text;
    case Kind::End:
        break;
    }
    return "end of file";
}

SourceLoc locOf(const Token& t)
{
    return SourceLoc { t.line, t.col };
}

// Binary operators by C precedence, loosest first; comparisons are handled by `expect`.
const std::vector<std::vector<std::string_view>>& binaryLevels()
{
    static const std::vector<std::vector<std::string_view>> levels = {
        { "|" },
        { "^" },
        { "&" },
        { "<<", ">>" },
        { "+", "-" },
        { "*", "/", "%" },
    };
    return levels;
}

class Parser
{
public:
    Parser(std::string_view text, const std::string& file)
        : m_text(text)
        , m_file(file)
        , m_tokens(lexScenario(text))
    {
    }

    Result<Scenario> run()
    {
        Scenario scenario;
        scenario.file = m_file;
        parseBlock(scenario.stmts, nullptr);
        std::size_t next = 0;
        mapNameLocs(scenario.stmts, next);
        Diagnostics checked = checkScenario(scenario, &m_nameLocs);
        m_diags.insert(m_diags.end(), checked.begin(), checked.end());
        if (m_diags.empty())
            return scenario;
        sortByPosition(m_diags);
        return m_diags;
    }

private:
    // The name locations were recorded as statements completed: an `in` after its body.
    void mapNameLocs(const std::vector<Stmt>& stmts, std::size_t& next)
    {
        for (const Stmt& s : stmts) {
            if (s.kind == Stmt::Kind::In)
                mapNameLocs(s.body, next);
            if (s.kind == Stmt::Kind::In || s.kind == Stmt::Kind::Profile || s.kind == Stmt::Kind::Require
                || s.kind == Stmt::Kind::StartFrom || s.kind == Stmt::Kind::RecordedEnd) {
                VMALAB_ASSERT(next < m_pendingNameLocs.size(), "a name location for every in/profile/require");
                m_nameLocs[&s] = m_pendingNameLocs[next++];
            }
        }
    }

    // Inside parentheses a line end (or narration) is white space.
    const Token& peek()
    {
        while (m_parenDepth > 0 && (m_tokens[m_pos].kind == Kind::Newline || m_tokens[m_pos].kind == Kind::Narration))
            ++m_pos;
        return m_tokens[m_pos];
    }

    const Token& raw(std::size_t ahead = 0) const { return m_tokens[std::min(m_pos + ahead, m_tokens.size() - 1)]; }

    const Token& advance()
    {
        const Token& t = peek();
        if (t.kind != Kind::End)
            ++m_pos;
        m_lastEnd = t.endOffset;
        if (t.isPunct("("))
            ++m_parenDepth;
        else if (t.isPunct(")") && m_parenDepth > 0)
            --m_parenDepth;
        return t;
    }

    // Records the statement's first problem; an Error token reports the lexer's message.
    void fail(const Token& at, const std::string& message)
    {
        if (m_failed)
            return;
        m_failed = true;
        m_diags.push_back(Diagnostic { m_file, at.line, at.col, at.kind == Kind::Error ? at.text : message });
    }

    bool expectPunct(std::string_view p, const std::string& context)
    {
        if (peek().isPunct(p)) {
            advance();
            return true;
        }
        fail(peek(), "expected '" + std::string(p) + "' " + context + ", found " + describe(peek()));
        return false;
    }

    void parseBlock(std::vector<Stmt>& out, const Token* openBrace)
    {
        std::string narration;
        while (true) {
            const Token& t = peek();
            if (t.kind == Kind::Newline || t.isPunct(";")) {
                advance();
            } else if (t.kind == Kind::Narration) {
                narration += (narration.empty() ? "" : "\n") + t.text;
                advance();
            } else if (t.kind == Kind::End || (openBrace && t.isPunct("}"))) {
                return;
            } else if (t.isPunct("}")) {
                m_diags.push_back(Diagnostic { m_file, t.line, t.col, "'}' without a matching 'in NAME {'" });
                advance();
            } else {
                parseOne(out, std::move(narration));
                narration.clear();
            }
        }
    }

    void parseOne(std::vector<Stmt>& out, std::string narration)
    {
        m_failed = false;
        const std::size_t pendingBefore = m_pendingNameLocs.size();
        const Token& first = peek();
        const bool assignHead = first.kind == Kind::Ident && !isKeyword(first.text) && raw(1).isPunct("=");
        std::optional<Stmt> stmt = parseStatement();
        if (stmt && !m_failed)
            checkTerminator();
        if (stmt && !m_failed) {
            stmt->narration = std::move(narration);
            out.push_back(std::move(*stmt));
            return;
        }
        m_pendingNameLocs.resize(pendingBefore);
        if (assignHead) {
            // Keep the name assigned so that later uses do not report it again.
            Stmt placeholder;
            placeholder.kind = Stmt::Kind::Assign;
            placeholder.loc = locOf(first);
            placeholder.name = first.text;
            out.push_back(std::move(placeholder));
        }
        recover();
    }

    void checkTerminator()
    {
        const Token& t = peek();
        // A `///` comment after a statement is narration for the next one.
        if (t.kind == Kind::Newline || t.kind == Kind::Narration || t.kind == Kind::End || t.isPunct(";")
            || t.isPunct("}"))
            return;
        if (t.isPunct("==") || t.isPunct("!="))
            return fail(t, "'" + t.text + "' compares only in 'expect' statements");
        fail(t, "expected end of statement, found " + describe(t));
    }

    // Skips the rest of a broken statement: to its line end outside parentheses and braces
    // (so a broken `in` header takes its block with it), or to a line that plainly starts a new
    // statement when a '(' was left open.
    void recover()
    {
        int parens = m_parenDepth;
        int braces = 0;
        m_parenDepth = 0;
        while (true) {
            const Token& t = raw();
            if (t.kind == Kind::End)
                return;
            const bool outside = parens <= 0 && braces == 0;
            if (outside && (t.kind == Kind::Newline || t.isPunct(";") || t.isPunct("}")))
                return;
            if (braces == 0 && t.kind == Kind::Newline && startsStatement(raw(1), raw(2)))
                return;
            if (t.isPunct("("))
                ++parens;
            else if (t.isPunct(")"))
                --parens;
            else if (t.isPunct("{"))
                ++braces;
            else if (t.isPunct("}"))
                --braces;
            ++m_pos;
        }
    }

    static bool startsStatement(const Token& t, const Token& next)
    {
        return (t.kind == Token::Kind::Ident && (isKeyword(t.text) || next.isPunct("="))) || t.isPunct("}");
    }

    std::optional<Stmt> parseStatement()
    {
        const Token& t = peek();
        Stmt stmt;
        stmt.loc = locOf(t);
        if (t.kind == Kind::Ident && t.text == "expect")
            return parseExpect(stmt);
        if (t.kind == Kind::Ident && t.text == "in")
            return parseIn(stmt);
        if (t.kind == Kind::Ident
            && (t.text == "profile" || t.text == "require" || t.text == "start_from" || t.text == "recorded_end"))
            return parseDirective(stmt);
        if (t.kind == Kind::Ident && raw(1).isPunct("=")) {
            stmt.kind = Stmt::Kind::Assign;
            stmt.name = advance().text;
            advance();
            stmt.expr = parseExpr();
            if (!stmt.expr || !parseRecorded(stmt))
                return std::nullopt;
            return stmt;
        }
        if (t.kind == Kind::Error) {
            fail(t, t.text);
            return std::nullopt;
        }
        const Token& start = t;
        stmt.kind = Stmt::Kind::Call;
        stmt.expr = parseExpr();
        if (!stmt.expr)
            return std::nullopt;
        if (stmt.expr->kind != Expr::Kind::Call) {
            fail(start, "expected a statement (a call, 'NAME = ...', 'expect', 'in', 'profile' or 'require')");
            return std::nullopt;
        }
        stmt.loc = stmt.expr->loc;
        if (!parseRecorded(stmt))
            return std::nullopt;
        return stmt;
    }

    // `-> EXPR` after a call: the result the kernel gave it (recordings).
    bool parseRecorded(Stmt& stmt)
    {
        const Token& arrow = peek();
        if (!arrow.isPunct("->"))
            return true;
        if (stmt.expr->kind != Expr::Kind::Call) {
            fail(arrow, "'->' gives the result a call returned; it must follow a call");
            return false;
        }
        advance();
        stmt.recorded = parseExpr();
        return stmt.recorded != nullptr;
    }

    std::optional<Stmt> parseExpect(Stmt& stmt)
    {
        stmt.kind = Stmt::Kind::Expect;
        advance();
        const std::size_t lhsStart = peek().offset;
        stmt.expr = parseExpr();
        if (!stmt.expr)
            return std::nullopt;
        stmt.lhsText = sourceText(lhsStart, m_lastEnd);
        const Token& cmp = peek();
        if (!cmp.isPunct("==") && !cmp.isPunct("!=")) {
            fail(cmp, "expected '==' or '!=' in 'expect', found " + describe(cmp));
            return std::nullopt;
        }
        stmt.expectEqual = cmp.text == "==";
        advance();
        const std::size_t rhsStart = peek().offset;
        stmt.rhs = parseExpr();
        if (!stmt.rhs)
            return std::nullopt;
        stmt.rhsText = sourceText(rhsStart, m_lastEnd);
        if (peek().isPunct("==") || peek().isPunct("!=")) {
            fail(peek(), "'expect' compares once; write a second 'expect' for another comparison");
            return std::nullopt;
        }
        return std::move(stmt);
    }

    std::optional<Stmt> parseIn(Stmt& stmt)
    {
        stmt.kind = Stmt::Kind::In;
        advance();
        const Token& name = peek();
        if (name.kind != Kind::Ident || isKeyword(name.text)) {
            fail(name, "expected a process name after 'in', found " + describe(name));
            return std::nullopt;
        }
        stmt.name = advance().text;
        const SourceLoc nameLoc = locOf(name);
        while (peek().kind == Kind::Newline)
            advance(); // allows the '{' on its own line
        const Token& open = peek();
        if (!expectPunct("{", "after 'in " + stmt.name + "'"))
            return std::nullopt;
        parseBlock(stmt.body, &open);
        m_failed = false; // the body reported its own problems
        if (!peek().isPunct("}")) {
            fail(open, "'{' of 'in " + stmt.name + "' is never closed");
            return std::nullopt;
        }
        advance();
        m_pendingNameLocs.emplace_back(nameLoc);
        return std::move(stmt);
    }

    std::optional<Stmt> parseDirective(Stmt& stmt)
    {
        const std::string keyword = advance().text;
        stmt.kind = keyword == "profile" ? Stmt::Kind::Profile
            : keyword == "require"       ? Stmt::Kind::Require
            : keyword == "start_from"    ? Stmt::Kind::StartFrom
                                         : Stmt::Kind::RecordedEnd;
        const Token& value = peek();
        if (value.kind != Kind::String) {
            fail(value, "expected a string after '" + keyword + "', found " + describe(value));
            return std::nullopt;
        }
        stmt.name = advance().text;
        m_pendingNameLocs.emplace_back(locOf(value));
        return std::move(stmt);
    }

    std::string sourceText(std::size_t start, std::size_t end) const
    {
        if (end <= start)
            return {};
        std::string_view s = m_text.substr(start, end - start);
        while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
            s.remove_prefix(1);
        while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
            s.remove_suffix(1);
        return std::string(s);
    }

    ExprPtr parseExpr()
    {
        return nested([this] { return parseBinary(0); });
    }

    template <typename F> ExprPtr nested(F parse)
    {
        if (m_nesting >= maxNesting) {
            fail(peek(), "expression nested too deeply (more than " + std::to_string(maxNesting) + " levels)");
            return nullptr;
        }
        ++m_nesting;
        ExprPtr e = parse();
        --m_nesting;
        return e;
    }

    ExprPtr parseBinary(std::size_t level)
    {
        const auto& levels = binaryLevels();
        if (level == levels.size())
            return parseUnary();
        ExprPtr left = parseBinary(level + 1);
        while (left) {
            const Token& op = peek();
            const auto& ops = levels[level];
            if (op.kind != Kind::Punct || std::find(ops.begin(), ops.end(), op.text) == ops.end())
                break;
            advance();
            ExprPtr right = parseBinary(level + 1);
            if (!right)
                return nullptr;
            auto e = std::make_shared<Expr>();
            e->kind = Expr::Kind::Binary;
            e->loc = locOf(op);
            e->op = op.text;
            e->args = { std::move(left), std::move(right) };
            left = std::move(e);
        }
        return left;
    }

    ExprPtr parseUnary()
    {
        const Token& t = peek();
        if (t.isPunct("-") || t.isPunct("~") || t.isPunct("+")) {
            advance();
            ExprPtr operand = nested([this] { return parseUnary(); });
            if (!operand)
                return nullptr;
            auto e = std::make_shared<Expr>();
            e->kind = Expr::Kind::Unary;
            e->loc = locOf(t);
            e->op = t.text;
            e->args = { std::move(operand) };
            return e;
        }
        return parsePrimary();
    }

    ExprPtr parsePrimary()
    {
        const Token& t = peek();
        auto e = std::make_shared<Expr>();
        e->loc = locOf(t);
        if (t.kind == Kind::Number) {
            e->kind = Expr::Kind::Number;
            e->value = advance().value;
            return e;
        }
        if (t.kind == Kind::String) {
            e->kind = Expr::Kind::String;
            e->text = advance().text;
            return e;
        }
        if (t.kind == Kind::Ident && !isKeyword(t.text)) {
            e->text = advance().text;
            if (!peek().isPunct("(")) {
                e->kind = Expr::Kind::Name;
                return e;
            }
            e->kind = Expr::Kind::Call;
            return parseArgs(e) ? e : nullptr;
        }
        if (t.isPunct("(")) {
            advance();
            ExprPtr inner = parseExpr();
            if (!inner || !expectPunct(")", "to close '('"))
                return nullptr;
            return inner;
        }
        fail(t, "expected an expression, found " + describe(t));
        return nullptr;
    }

    bool parseArgs(const std::shared_ptr<Expr>& call)
    {
        advance(); // '('
        if (peek().isPunct(")")) {
            advance();
            return true;
        }
        while (true) {
            ExprPtr arg = parseExpr();
            if (!arg)
                return false;
            call->args.push_back(std::move(arg));
            const Token& t = peek();
            if (t.isPunct(")")) {
                advance();
                return true;
            }
            if (!t.isPunct(",")) {
                fail(t, "expected ',' or ')' in the arguments of '" + call->text + "', found " + describe(t));
                return false;
            }
            advance();
        }
    }

    std::string_view m_text;
    std::string m_file;
    std::vector<Token> m_tokens;
    std::size_t m_pos = 0;
    std::size_t m_lastEnd = 0;
    int m_parenDepth = 0;
    int m_nesting = 0;
    bool m_failed = false;
    Diagnostics m_diags;
    std::vector<SourceLoc> m_pendingNameLocs;
    NameLocs m_nameLocs;
};

} // namespace

const std::vector<std::string_view>& scenarioKeywords()
{
    static const std::vector<std::string_view> keywords = { "expect", "in", "profile", "require", "start_from",
        "recorded_end" };
    return keywords;
}

Result<Scenario> parseScenario(std::string_view text, const std::string& file)
{
    return Parser(text, file).run();
}

} // namespace vmalab::scenario
