// The interactive and piped modes: reads command lines from stdin while
// keeping the session alive (pings) and printing watch events as they come.
// On a terminal, libedit gives line editing, a history file and completion
// of command names and znode paths. One thread; poll() over stdin and the
// session's socket.
#pragma once

#include "shell.h"

namespace aviary::cli {

// Runs until quit or end of input; returns the last command's status.
int RunInteractive(Shell& shell);

}  // namespace aviary::cli
