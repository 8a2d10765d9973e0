#include "core/scenario/printer.h"

#include "core/assert.h"

#include <cinttypes>
#include <cstdio>

namespace vmalab::scenario {

namespace {

// Binding strength of a binary operator, C's order (tighter is higher).
int precedence(const std::string& op)
{
    if (op == "*" || op == "/" || op == "%")
        return 6;
    if (op == "+" || op == "-")
        return 5;
    if (op == "<<" || op == ">>")
        return 4;
    if (op == "&")
        return 3;
    if (op == "^")
        return 2;
    VMALAB_ASSERT(op == "|", "a binary operator of the language");
    return 1;
}

std::string number(std::int64_t v)
{
    char buf[32];
    if (v >= 0 && v < 4096)
        std::snprintf(buf, sizeof buf, "%" PRId64, v);
    else
        std::snprintf(buf, sizeof buf, "0x%" PRIx64, static_cast<std::uint64_t>(v));
    return buf;
}

std::string quote(const std::string& s)
{
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c == '\n' ? std::string("\\n") : std::string(1, c);
    }
    return out + "\"";
}

// `parentPrec` is the precedence of the operator this sits under; `rightOperand` makes equal
// precedence need parentheses too, since the operators associate to the left.
std::string expr(const Expr& e, int parentPrec, bool rightOperand)
{
    switch (e.kind) {
    case Expr::Kind::Number:
        return number(e.value);
    case Expr::Kind::String:
        return quote(e.text);
    case Expr::Kind::Name:
        return e.text;
    case Expr::Kind::Unary: {
        VMALAB_ASSERT(e.args.size() == 1, "a unary operator has one operand");
        const Expr& operand = *e.args[0];
        const bool wrap = operand.kind == Expr::Kind::Binary || operand.kind == Expr::Kind::Unary;
        const std::string inner = expr(operand, 7, false);
        return e.op + (wrap ? "(" + inner + ")" : inner);
    }
    case Expr::Kind::Binary: {
        VMALAB_ASSERT(e.args.size() == 2, "a binary operator has two operands");
        const int prec = precedence(e.op);
        const std::string text = expr(*e.args[0], prec, false) + " " + e.op + " " + expr(*e.args[1], prec, true);
        const bool wrap = prec < parentPrec || (rightOperand && prec == parentPrec);
        return wrap ? "(" + text + ")" : text;
    }
    case Expr::Kind::Call: {
        std::string out = e.text + "(";
        for (std::size_t i = 0; i < e.args.size(); ++i)
            out += (i ? ", " : "") + expr(*e.args[i], 0, false);
        return out + ")";
    }
    }
    return {};
}

void printStmts(const std::vector<Stmt>& stmts, const std::string& indent, std::string& out)
{
    for (const Stmt& s : stmts) {
        if (!s.narration.empty()) {
            std::size_t start = 0;
            while (true) {
                const std::size_t nl = s.narration.find('\n', start);
                const std::string line = s.narration.substr(start, nl == std::string::npos ? nl : nl - start);
                out += indent + (line.empty() ? "///" : "/// " + line) + "\n";
                if (nl == std::string::npos)
                    break;
                start = nl + 1;
            }
        }
        out += indent;
        switch (s.kind) {
        case Stmt::Kind::Assign:
            out += s.name + " = " + printExpr(*s.expr);
            break;
        case Stmt::Kind::Call:
            out += printExpr(*s.expr);
            break;
        case Stmt::Kind::Expect:
            out += "expect " + printExpr(*s.expr) + (s.expectEqual ? " == " : " != ") + printExpr(*s.rhs);
            break;
        case Stmt::Kind::In:
            out += "in " + s.name + " {\n";
            printStmts(s.body, indent + "    ", out);
            out += indent + "}";
            break;
        case Stmt::Kind::Profile:
            out += "profile " + quote(s.name);
            break;
        case Stmt::Kind::Require:
            out += "require " + quote(s.name);
            break;
        case Stmt::Kind::StartFrom:
            out += "start_from " + quote(s.name);
            break;
        case Stmt::Kind::RecordedEnd:
            out += "recorded_end " + quote(s.name);
            break;
        }
        if (s.recorded)
            out += " -> " + printExpr(*s.recorded);
        out += "\n";
    }
}

} // namespace

std::string printExpr(const Expr& e)
{
    return expr(e, 0, false);
}

std::string printScenario(const Scenario& scenario)
{
    std::string out;
    printStmts(scenario.stmts, "", out);
    return out;
}

} // namespace vmalab::scenario
