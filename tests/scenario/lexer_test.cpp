#include "core/scenario/lexer.h"

#include <gtest/gtest.h>

namespace vmalab::scenario {
namespace {

using Kind = Token::Kind;

std::vector<Token> lexNoEnd(std::string_view text)
{
    std::vector<Token> t = lexScenario(text);
    EXPECT_EQ(t.back().kind, Kind::End);
    t.pop_back();
    return t;
}

struct NumberCase
{
    const char* text;
    std::int64_t value;
};

const NumberCase kNumbers[] = {
    { "0", 0 },
    { "4096", 4096 },
    { "0x1000", 4096 },
    { "0XfF", 255 },
    { "1K", 1024 },
    { "2M", 2 << 20 },
    { "1G", 1 << 30 },
    { "0x10K", 16 * 1024 },
    { "9223372036854775807", INT64_MAX },
    { "0xffffffffffffffff", -1 }, // 2^64 - 1: its two's complement
    { "9223372036854775808", INT64_MIN }, // so that -9223372036854775808 can be written
    { "16777215G", std::int64_t { 16777215 } << 30 },
};

class LexNumber : public ::testing::TestWithParam<NumberCase>
{
};

TEST_P(LexNumber, Value)
{
    const auto t = lexNoEnd(GetParam().text);
    ASSERT_EQ(t.size(), 1u) << GetParam().text;
    ASSERT_EQ(t[0].kind, Kind::Number) << t[0].text;
    EXPECT_EQ(t[0].value, GetParam().value);
}

INSTANTIATE_TEST_SUITE_P(Literals, LexNumber, ::testing::ValuesIn(kNumbers));

struct ErrorCase
{
    const char* text;
    int col;
    const char* message;
};

const ErrorCase kErrors[] = {
    { "x 18446744073709551616", 3, "integer literal is too large (the largest is 2^64 - 1)" },
    { "0x10000000000000000", 1, "integer literal is too large (the largest is 2^64 - 1)" },
    { "17179869184G", 1, "integer literal is too large (the largest is 2^64 - 1)" },
    { "4k", 1, "invalid suffix 'k' on integer literal (K, M and G are allowed)" },
    { "12abc", 1, "invalid suffix 'abc' on integer literal (K, M and G are allowed)" },
    { "0x", 1, "a hex literal needs digits after '0x'" },
    { "010", 1, "octal literals are not supported: write decimal or 0x hex" },
    { "a \"abc", 3, "unterminated string: missing closing '\"'" },
    { "\"a\\tb\"", 3, "unknown escape '\\t' in string (only \\\", \\\\ and \\n are allowed)" },
    { "a @ b", 3, "unexpected character '@'" },
    { "a < b", 3, "unexpected character '<'" },
    { "/* open", 1, "unterminated comment: '/*' has no matching '*/'" },
};

class LexError : public ::testing::TestWithParam<ErrorCase>
{
};

TEST_P(LexError, ReportsAtColumn)
{
    const auto tokens = lexNoEnd(GetParam().text);
    const Token* error = nullptr;
    for (const Token& t : tokens) {
        if (t.kind == Kind::Error && !error)
            error = &t;
    }
    ASSERT_NE(error, nullptr) << GetParam().text;
    EXPECT_EQ(error->line, 1);
    EXPECT_EQ(error->col, GetParam().col);
    EXPECT_EQ(error->text, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(Problems, LexError, ::testing::ValuesIn(kErrors));

TEST(Lexer, StringEscapes)
{
    const auto t = lexNoEnd(R"("a\"b\\c\nd")");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].kind, Kind::String);
    EXPECT_EQ(t[0].text, "a\"b\\c\nd");
}

TEST(Lexer, Punctuation)
{
    const auto t = lexNoEnd("== != << >> = ( ) { } , ; + - * / % & | ^ ~");
    const char* expected[] = { "==", "!=", "<<", ">>", "=", "(", ")", "{", "}", ",", ";", "+", "-", "*", "/", "%", "&",
        "|", "^", "~" };
    ASSERT_EQ(t.size(), std::size(expected));
    for (std::size_t i = 0; i < t.size(); ++i) {
        EXPECT_EQ(t[i].kind, Kind::Punct);
        EXPECT_EQ(t[i].text, expected[i]);
    }
}

TEST(Lexer, LinesAndColumns)
{
    const auto t = lexNoEnd("a = 1\n\tb=0x2 // c\n");
    ASSERT_EQ(t.size(), 8u);
    EXPECT_EQ(t[0].text, "a");
    EXPECT_EQ(t[3].kind, Kind::Newline);
    EXPECT_EQ(t[4].text, "b");
    EXPECT_EQ(t[4].line, 2);
    EXPECT_EQ(t[4].col, 2); // a tab is one column
    EXPECT_EQ(t[6].value, 2);
    EXPECT_EQ(t[6].col, 4);
    EXPECT_EQ(t[7].kind, Kind::Newline);
    EXPECT_EQ(t[7].line, 2);
}

TEST(Lexer, NarrationOnlyForThreeSlashes)
{
    const auto t = lexNoEnd("/// Guard regions  \n// plain\n//// ruler\n///\n///x");
    std::vector<std::string> narration;
    for (const Token& tok : t) {
        if (tok.kind == Kind::Narration)
            narration.push_back(tok.text);
    }
    EXPECT_EQ(narration, (std::vector<std::string> { "Guard regions", "", "x" }));
}

TEST(Lexer, MultiLineBlockCommentEndsTheLine)
{
    const auto t = lexNoEnd("a /* x\n y */ b /* same line */ c");
    ASSERT_EQ(t.size(), 4u);
    EXPECT_EQ(t[1].kind, Kind::Newline);
    EXPECT_EQ(t[2].text, "b");
    EXPECT_EQ(t[2].line, 2);
    EXPECT_EQ(t[2].col, 7);
    EXPECT_EQ(t[3].text, "c");
}

} // namespace
} // namespace vmalab::scenario
