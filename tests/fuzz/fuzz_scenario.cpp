// libFuzzer target: the scenario parser and checker on arbitrary bytes. Whatever the input,
// parsing returns a Scenario or diagnostics with positions inside the text; a Scenario that
// parsed prints back (printScenario) to text that parses again to the same printout.
#include "core/scenario/checker.h"
#include "core/scenario/parser.h"
#include "core/scenario/printer.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void failed(const char* what, const std::string& detail)
{
    std::fprintf(stderr, "fuzz_scenario: %s\n%s\n", what, detail.c_str());
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace vmalab;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = scenario::parseScenario(text, "fuzz.vlab");
    if (!parsed) {
        int lines = 1;
        for (char ch : text)
            lines += ch == '\n';
        for (const Diagnostic& d : parsed.error()) {
            if (d.file != "fuzz.vlab" || d.line < 0 || d.line > lines + 1 || d.message.empty())
                failed("a diagnostic outside the text", d.format());
        }
        return 0;
    }
    if (const Diagnostics again = scenario::checkScenario(*parsed); !again.empty())
        failed("the checker rejects what parseScenario accepted", again.front().format());
    const std::string printed = scenario::printScenario(*parsed);
    auto reparsed = scenario::parseScenario(printed, "fuzz.vlab");
    if (!reparsed)
        failed("the printout does not parse", printed + "\n--\n" + reparsed.error().front().format());
    if (scenario::printScenario(*reparsed) != printed)
        failed("the printout does not print back the same", printed);
    return 0;
}
