// vmalab-cli's help, version, man page and bash completion all come from app/cli_help.cpp.
#include "app/cli_help.h"
#include "core/profile.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace vmalab::cli {
namespace {

std::string capture(const std::string& command, int* status = nullptr)
{
    std::string out;
    FILE* p = ::popen(command.c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    const int rc = ::pclose(p);
    if (status)
        *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

TEST(CliHelp, UsageListsEveryCommandAndOption)
{
    const std::string usage = usageText();
    for (const Command& c : cliProgram().commands) {
        EXPECT_NE(usage.find("\n  " + c.name), std::string::npos) << c.name;
        const std::string help = commandHelp(c);
        EXPECT_EQ(help.rfind("usage: vmalab-cli " + c.name, 0), 0u) << help;
        for (const Option& o : c.options) {
            EXPECT_NE(help.find("  " + o.name), std::string::npos) << c.name << " " << o.name;
            EXPECT_FALSE(o.help.empty()) << o.name;
        }
    }
    EXPECT_NE(usage.find("Limits:"), std::string::npos);
    EXPECT_NE(usage.find("Exit status:"), std::string::npos);
}

TEST(CliHelp, TheBinaryPrintsTheTable)
{
    int status = -1;
    EXPECT_EQ(capture(std::string(VMALAB_CLI) + " --help", &status), usageText());
    EXPECT_EQ(status, 0);
    for (const Command& c : cliProgram().commands) {
        EXPECT_EQ(capture(std::string(VMALAB_CLI) + " " + c.name + " --help", &status), commandHelp(c)) << c.name;
        EXPECT_EQ(status, 0);
    }
    EXPECT_EQ(capture(std::string(VMALAB_CLI) + " help replay"), commandHelp(*findCommand("replay")));
}

TEST(CliHelp, VersionNamesEveryProfile)
{
    const std::string v = capture(std::string(VMALAB_CLI) + " --version");
    EXPECT_EQ(v, versionText("vmalab-cli"));
    EXPECT_EQ(v.rfind("vmalab-cli 0.", 0), 0u) << v;
    EXPECT_NE(v.find("host"), std::string::npos);
    for (const std::string& p : builtinProfileNames())
        EXPECT_NE(v.find(p), std::string::npos) << p;
}

TEST(ManPage, HasTheSectionsAndEveryOption)
{
    const std::string man = capture(std::string(VMALAB_MANPAGE) + " cli");
    EXPECT_EQ(man, manPage(cliProgram()));
    EXPECT_NE(man.find(".TH VMALAB-CLI 1 "), std::string::npos) << man.substr(0, 200);
    for (const char* s : { ".SH NAME", ".SH SYNOPSIS", ".SH DESCRIPTION", ".SH COMMANDS", ".SH OPTIONS",
             ".SH EXIT STATUS", ".SH LIMITS", ".SH SEE ALSO" })
        EXPECT_NE(man.find(s), std::string::npos) << s;
    const auto escape = [](const std::string& text) {
        std::string escaped;
        for (char ch : text)
            escaped += ch == '-' ? std::string("\\-") : std::string(1, ch);
        return escaped;
    };
    for (const Command& c : cliProgram().commands) {
        EXPECT_NE(man.find(".SS \"" + escape(c.name)), std::string::npos) << c.name;
        for (const Option& o : c.options) {
            const std::string escaped = escape(o.name);
            EXPECT_NE(
                man.find(o.value.empty() ? ".B " + escaped + "\n" : ".BI \"" + escaped + " \""), std::string::npos)
                << o.name;
        }
    }
    // No line may start with a character roff would take for a request.
    std::size_t pos = 0;
    while ((pos = man.find('\n', pos)) != std::string::npos) {
        ++pos;
        if (pos < man.size()) {
            EXPECT_NE(man[pos], '\'') << man.substr(pos, 60);
        }
    }
}

TEST(ManPage, GuiPageComesFromQtHelp)
{
    const std::string help = testing::TempDir() + "vmalab.help";
    FILE* f = std::fopen(help.c_str(), "w");
    ASSERT_TRUE(f);
    std::fputs("Usage: vmalab [options] [FILE]\nStep through it.\n\nOptions:\n"
               "  -h, --help              Displays help on commandline options.\n"
               "  --profile <P>           Kernel profile: host, v6.18.\n"
               "  --screenshot <OUT.png>  Render the window to OUT.png and\n"
               "                          exit.\n\nArguments:\n  [FILE]                  Scenario to open.\n",
        f);
    std::fclose(f);
    const std::string man = capture(std::string(VMALAB_MANPAGE) + " gui " + help);
    EXPECT_NE(man.find(".TH VMALAB 1 "), std::string::npos);
    EXPECT_NE(
        man.find(".BI \"\\-\\-screenshot \" \"OUT.png\"\nRender the window to OUT.png and exit.\n"), std::string::npos)
        << man;
    EXPECT_NE(man.find(".B \\-h, \\-\\-help\n"), std::string::npos) << man;
    EXPECT_NE(man.find("Step through it."), std::string::npos);
    EXPECT_NE(man.find("[FILE]: Scenario to open."), std::string::npos);
}

TEST(Completion, FilledFromTheTable)
{
    const std::string bash =
        capture(std::string(VMALAB_MANPAGE) + " completion " VMALAB_SOURCE_DIR "/packaging/vmalab-cli.bash.in");
    EXPECT_EQ(bash.find('@'), std::string::npos) << "a placeholder is left";
    std::string commands;
    for (const Command& c : cliProgram().commands)
        commands += (commands.empty() ? "" : " ") + c.name;
    for (const char* c : { "run", "replay", "check", "fuzz", "probe", "profiles" })
        EXPECT_NE((" " + commands + " ").find(std::string(" ") + c + " "), std::string::npos) << c;
    EXPECT_NE(bash.find("local commands=\"" + commands + "\"\n"), std::string::npos) << bash;
    EXPECT_NE(bash.find("maps smaps pages stats ascii vars json"), std::string::npos);
    EXPECT_NE(bash.find("max-calls= max-processes= max-fault-pages= max-file-bytes="), std::string::npos);
    EXPECT_NE(bash.find("run) opts=\"--profile --machine --emit --trace --limit --help\""), std::string::npos);
    for (const std::string& p : builtinProfileNames())
        EXPECT_NE(bash.find(p), std::string::npos) << p;
    // bash itself accepts it.
    const std::string file = testing::TempDir() + "vmalab-cli.bash";
    FILE* f = std::fopen(file.c_str(), "w");
    ASSERT_TRUE(f);
    std::fputs(bash.c_str(), f);
    std::fclose(f);
    int status = -1;
    capture("bash -n " + file + " 2>&1", &status);
    EXPECT_EQ(status, 0);
}

} // namespace
} // namespace vmalab::cli
