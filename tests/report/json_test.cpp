#include "core/report/json_writer.h"
#include "core/report/run_json.h"

#include <gtest/gtest.h>

#include <cctype>

#include "report_fixtures.h"

namespace vmalab::report {
namespace {

// A strict recursive-descent JSON validator (RFC 8259 grammar; bytes >= 0x80 are taken as
// they come), so the tests need no JSON library either.
class JsonChecker
{
public:
    explicit JsonChecker(std::string_view text)
        : m_s(text)
    {
    }
    bool valid()
    {
        ws();
        if (!value())
            return false;
        ws();
        return m_i == m_s.size();
    }

private:
    bool value()
    {
        if (m_i >= m_s.size())
            return false;
        switch (m_s[m_i]) {
        case '{':
            return container('}', true);
        case '[':
            return container(']', false);
        case '"':
            return string();
        case 't':
            return literal("true");
        case 'f':
            return literal("false");
        case 'n':
            return literal("null");
        default:
            return number();
        }
    }
    bool container(char close, bool object)
    {
        ++m_i;
        ws();
        if (peek(close))
            return ++m_i, true;
        for (;;) {
            if (object) {
                if (!string())
                    return false;
                ws();
                if (!peek(':'))
                    return false;
                ++m_i;
                ws();
            }
            if (!value())
                return false;
            ws();
            if (peek(close))
                return ++m_i, true;
            if (!peek(','))
                return false;
            ++m_i;
            ws();
        }
    }
    bool string()
    {
        if (!peek('"'))
            return false;
        for (++m_i; m_i < m_s.size(); ++m_i) {
            const auto c = static_cast<unsigned char>(m_s[m_i]);
            if (c == '"')
                return ++m_i, true;
            if (c < 0x20)
                return false;
            if (c != '\\')
                continue;
            if (++m_i >= m_s.size())
                return false;
            const char e = m_s[m_i];
            if (e == 'u') {
                for (int k = 0; k < 4; ++k)
                    if (++m_i >= m_s.size() || !std::isxdigit(static_cast<unsigned char>(m_s[m_i])))
                        return false;
            } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                return false;
            }
        }
        return false;
    }
    bool number()
    {
        const std::size_t start = m_i;
        if (peek('-'))
            ++m_i;
        if (peek('0'))
            ++m_i;
        else if (!digits())
            return false;
        if (peek('.') && (++m_i, !digits()))
            return false;
        if ((peek('e') || peek('E')) && (++m_i, (peek('+') || peek('-')) ? ++m_i : 0, !digits()))
            return false;
        return m_i > start;
    }
    bool digits()
    {
        const std::size_t start = m_i;
        while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i])))
            ++m_i;
        return m_i > start;
    }
    bool literal(std::string_view word)
    {
        if (m_s.substr(m_i, word.size()) != word)
            return false;
        m_i += word.size();
        return true;
    }
    bool peek(char c) const { return m_i < m_s.size() && m_s[m_i] == c; }
    void ws()
    {
        while (m_i < m_s.size() && std::string_view(" \t\r\n").find(m_s[m_i]) != std::string_view::npos)
            ++m_i;
    }

    std::string_view m_s;
    std::size_t m_i = 0;
};

TEST(JsonChecker, RejectsBrokenDocuments)
{
    EXPECT_TRUE(JsonChecker(R"({"a": [1, -2.5e3, "x\n", true, null]})").valid());
    EXPECT_FALSE(JsonChecker(R"({"a": [1, 2,]})").valid());
    EXPECT_FALSE(JsonChecker("\"tab\there\"").valid());
    EXPECT_FALSE(JsonChecker(R"({"a" 1})").valid());
    EXPECT_FALSE(JsonChecker("01").valid());
}

TEST(JsonQuote, EscapesControlCharactersAndPassesNonAscii)
{
    EXPECT_EQ(jsonQuote("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(jsonQuote("\n\t\r\b\f"), R"("\n\t\r\b\f")");
    EXPECT_EQ(jsonQuote(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
    EXPECT_EQ(jsonQuote(std::string("\0", 1)), R"("\u0000")");
    EXPECT_EQ(jsonQuote("caf\xc3\xa9 \xff"), "\"caf\xc3\xa9 \xff\"");
}

TEST(JsonWriter, PrettyAndCompactContainers)
{
    JsonWriter json;
    json.beginObject();
    json.key("a");
    json.value(std::int64_t { -1 });
    json.key("list");
    json.beginArray(true);
    json.value("x");
    json.beginObject();
    json.key("n");
    json.null();
    json.endObject();
    json.endArray();
    json.key("empty");
    json.beginArray();
    json.endArray();
    json.key("big");
    json.value(std::uint64_t { 18446744073709551615ull });
    json.endObject();
    EXPECT_TRUE(json.complete());
    EXPECT_EQ(json.text(),
        "{\n"
        "  \"a\": -1,\n"
        "  \"list\": [\"x\", {\"n\": null}],\n"
        "  \"empty\": [],\n"
        "  \"big\": 18446744073709551615\n"
        "}\n");
    EXPECT_TRUE(JsonChecker(json.text()).valid());
}

scenario::RunOutcome sampleRun()
{
    scenario::RunOutcome run;
    run.ran = true;
    run.exitStatus = 1;
    run.notes = { "profile \"v6.18\" ignored" };
    run.errors = { Diagnostic { "a.vlab", 3, 5, "weird \"name\"\n" } };
    ObservedProcess p = testing::makeProcess("main", { testing::makeVma(0x10000, 0x12000, "rw-p", "[anon:\x01x]") });
    p.pid = 100;
    p.stats = { { "vmas", 1 } };
    run.processes = { p };
    run.vars = { testing::makeVar("err", -22), testing::makeVar("fd", 3, scenario::VarKind::Handle) };
    run.expects = { testing::makeExpect(7, false) };
    return run;
}

TEST(RunJson, IsValidAndCarriesEveryPart)
{
    const std::string text = runJson(sampleRun(), true);
    EXPECT_TRUE(JsonChecker(text).valid()) << text;
    EXPECT_EQ(text,
        "{\n"
        "  \"format\": \"vmalab-run\",\n"
        "  \"version\": 1,\n"
        "  \"side\": \"model\",\n"
        "  \"exitStatus\": 1,\n"
        "  \"ran\": true,\n"
        "  \"skipReason\": null,\n"
        "  \"errors\": [\n"
        "    \"a.vlab:3:5: error: weird \\\"name\\\"\\n\"\n"
        "  ],\n"
        "  \"notes\": [\n"
        "    \"profile \\\"v6.18\\\" ignored\"\n"
        "  ],\n"
        "  \"processes\": [\n"
        "    {\n"
        "      \"name\": \"main\",\n"
        "      \"pid\": 100,\n"
        "      \"vmas\": [\n"
        "        {\n"
        "          \"start\": \"0x10000\",\n"
        "          \"end\": \"0x12000\",\n"
        "          \"perms\": \"rw-p\",\n"
        "          \"offset\": \"0x0\",\n"
        "          \"dev\": \"00:00\",\n"
        "          \"inode\": 0,\n"
        "          \"name\": \"[anon:\\u0001x]\",\n"
        "          \"smaps\": {\"Size\": 8, \"Rss\": 0, \"Anonymous\": 0, \"Locked\": 0},\n"
        "          \"vmFlags\": [\"rd\", \"wr\", \"mr\", \"mw\", \"me\", \"ac\"]\n"
        "        }\n"
        "      ],\n"
        "      \"pages\": [\n"
        "        {\"start\": \"0x10000\", \"end\": \"0x12000\", \"state\": \"none\", \"uffdWp\": false, "
        "\"exclusive\": false, \"file\": false}\n"
        "      ],\n"
        "      \"stats\": {\"vmas\": 1}\n"
        "    }\n"
        "  ],\n"
        "  \"vars\": [\n"
        "    {\"name\": \"err\", \"value\": \"0xffffffffffffffea\", \"int\": -22, \"kind\": \"plain\"},\n"
        "    {\"name\": \"fd\", \"value\": \"0x3\", \"int\": 3, \"kind\": \"handle\"}\n"
        "  ],\n"
        "  \"expects\": [\n"
        "    {\"process\": \"main\", \"line\": 7, \"col\": 1, \"lhs\": \"touch(p, page_size, PROT_READ)\", "
        "\"op\": \"==\", \"rhs\": \"0\", \"lhsValue\": \"0xb\", \"rhsValue\": \"0x0\", \"passed\": false}\n"
        "  ]\n"
        "}\n");
}

TEST(RunJson, SkippedReplayRun)
{
    scenario::RunOutcome run;
    run.exitStatus = 77;
    run.skipReason = "userfaultfd is not permitted";
    const std::string text = runJson(run, false);
    EXPECT_TRUE(JsonChecker(text).valid()) << text;
    EXPECT_NE(text.find("\"side\": \"kernel\""), std::string::npos);
    EXPECT_NE(text.find("\"skipReason\": \"userfaultfd is not permitted\""), std::string::npos);
    EXPECT_NE(text.find("\"processes\": []"), std::string::npos);
}

} // namespace
} // namespace vmalab::report
