// vmalab-manpage: writes the man pages at build time.
//   vmalab-manpage cli                 vmalab-cli(1), from the table in app/cli_help.cpp
//   vmalab-manpage gui HELP_FILE       vmalab(1), from the output of `vmalab --help` (the GUI's
//                                      own QCommandLineParser, so it too has a single source)
//   vmalab-manpage completion TEMPLATE the bash completion: TEMPLATE (packaging/vmalab-cli.bash.in)
//                                      with the words from the same table filled in
#include "app/cli_help.h"
#include "core/profile.h"
#include "core/scenario/interpreter.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace vmalab::cli;

// Reads QCommandLineParser's help: a "Usage:" line, the description, "Options:" with entries
// "  -h, --help       text" (continuation lines indented further), "Arguments:" likewise.
Program guiProgram(const std::string& help)
{
    Program p;
    p.name = "vmalab";
    p.summary = "step through a Linux process's address space, one kernel decision at a time";
    std::istringstream in(help);
    std::string line;
    std::string section;
    std::vector<Option>* list = nullptr;
    std::vector<Option> arguments;
    while (std::getline(in, line)) {
        if (line.rfind("Usage:", 0) == 0)
            continue;
        if (line == "Options:" || line == "Arguments:") {
            section = line;
            list = line == "Options:" ? &p.globalOptions : &arguments;
            continue;
        }
        if (!list) {
            if (!line.empty())
                p.description += (p.description.empty() ? "" : " ") + line;
            continue;
        }
        const std::size_t text = line.find_first_not_of(' ');
        if (text == std::string::npos)
            continue;
        const std::size_t gap = line.find("  ", text);
        if (text <= 2 && gap != std::string::npos) {
            Option o;
            std::string label = line.substr(text, gap - text);
            o.help = line.substr(line.find_first_not_of(' ', gap));
            const std::size_t lt = label.find(" <");
            if (lt != std::string::npos) {
                o.value = label.substr(lt + 2, label.size() - lt - 3);
                label = label.substr(0, lt);
            }
            o.name = label;
            list->push_back(o);
        } else if (!list->empty()) {
            list->back().help += " " + line.substr(text);
        }
    }
    p.description += "\n\nWithout FILE, vmalab opens its first lesson, or offers back the unsaved edits of a "
                     "session that ended without saving them (every edit is autosaved as it is typed).";
    for (const Option& a : arguments)
        p.description += "\n\n" + a.name + ": " + a.help;
    std::string profiles = "host";
    for (const std::string& n : vmalab::builtinProfileNames())
        profiles += ", " + n;
    p.sections = {
        { "KERNEL PROFILES", "Built in: " + profiles + "." },
        { "FILES",
            "/usr/share/vmalab/lessons and /usr/share/vmalab/scenarios: lessons and example scenarios. "
            "Unsaved edits are kept under the XDG data directory ($XDG_DATA_HOME/vmalab/vmalab, by default "
            "~/.local/share/vmalab/vmalab)." },
        { "ENVIRONMENT", "VMALAB_LIMITS: run limits, as in vmalab-cli(1)." },
        { "SEE ALSO", "vmalab-cli(1)" },
    };
    return p;
}

int usage()
{
    std::fprintf(stderr, "usage: vmalab-manpage cli | gui HELP_FILE | completion TEMPLATE\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
        return usage();
    const std::string what = argv[1];
    if (what == "cli") {
        std::fputs(manPage(cliProgram()).c_str(), stdout);
        return 0;
    }
    if (what == "gui" && argc == 3) {
        std::ifstream f(argv[2]);
        if (!f) {
            std::fprintf(stderr, "vmalab-manpage: cannot read %s\n", argv[2]);
            return 1;
        }
        std::stringstream text;
        text << f.rdbuf();
        std::fputs(manPage(guiProgram(text.str())).c_str(), stdout);
        return 0;
    }
    if (what == "completion" && argc == 3) {
        std::ifstream f(argv[2]);
        if (!f) {
            std::fprintf(stderr, "vmalab-manpage: cannot read %s\n", argv[2]);
            return 1;
        }
        std::stringstream text;
        text << f.rdbuf();
        std::string commands, cases, profiles = "host", emit, limits;
        for (const Command& c : cliProgram().commands) {
            commands += (commands.empty() ? "" : " ") + c.name;
            std::string options;
            for (const Option& o : c.options)
                options += o.name + " ";
            cases += "        " + c.name + ") opts=\"" + options + "--help\" ;;\n";
        }
        for (const std::string& n : vmalab::builtinProfileNames())
            profiles += " " + n;
        for (const std::string& k : emitKinds())
            emit += (emit.empty() ? "" : " ") + k;
        for (const std::string& l : vmalab::scenario::limitNames())
            limits += (limits.empty() ? "" : " ") + l + "=";
        std::string out = text.str();
        for (const auto& [key, value] :
            std::vector<std::pair<std::string, std::string>> { { "@COMMANDS@", commands }, { "@OPTION_CASES@", cases },
                { "@PROFILES@", profiles }, { "@EMIT_KINDS@", emit }, { "@LIMITS@", limits } }) {
            for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + value.size()))
                out.replace(at, key.size(), value);
        }
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    return usage();
}
