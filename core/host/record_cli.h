#pragma once

// `vmalab-cli record`: argument handling and the summary it prints, kept beside the
// recorder so that cli_main.cpp only dispatches to it.
namespace vmalab::host {

// argv[0] is "vmalab-cli", argv[1] "record". Returns the exit status.
int recordCommandLine(int argc, char** argv, const char* help);

} // namespace vmalab::host
