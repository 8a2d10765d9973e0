#pragma once

// The one description of vmalab-cli's command line: `--help`, `COMMAND --help`, the man pages
// (vmalab-manpage) and the bash completion's word lists are all printed from this table, so
// they cannot drift apart. A new subcommand or option is added here and nowhere else.

#include <string>
#include <vector>

namespace vmalab::cli {

struct Option
{
    std::string name; // "--profile"
    std::string value; // "P", or "" for a flag
    std::string help; // one sentence or more; wrapped when printed
};

struct Command
{
    std::string name; // "run"
    std::string operands; // "FILE", "" for none
    std::string summary; // one line, for the command list
    std::string details; // paragraphs separated by "\n\n"; may be ""
    std::vector<Option> options;
};

struct Program
{
    std::string name; // "vmalab-cli"
    std::string summary; // for NAME in the man page
    std::string description; // paragraphs
    std::vector<Command> commands;
    std::vector<Option> globalOptions; // accepted before or after the command
    std::vector<std::pair<std::string, std::string>> sections; // extra man page sections: title, text
};

const Program& cliProgram();
const Command* findCommand(const std::string& name);

// `vmalab-cli --help`: synopsis, commands with their options, the global options and sections.
std::string usageText();
// `vmalab-cli COMMAND --help`.
std::string commandHelp(const Command& command);
// `--version` of both programs: "PROGRAM VERSION" and the kernel profiles built in.
std::string versionText(const std::string& program);

// The --emit kinds, in output order.
const std::vector<std::string>& emitKinds();

// A man page (roff, man(7) macros) for the program.
std::string manPage(const Program& program, const std::string& section = "1");

} // namespace vmalab::cli
