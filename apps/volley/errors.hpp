#pragma once
// The one mapping from what went wrong to `volley`'s exit status, shared by every command
// (the table is in docs/cli.md):
//   0  success
//   1  the run failed: a file could not be read or written (IoError), another volley error,
//      out of memory, or an unexpected exception
//   2  bad input: the command line (unknown option, bad value), the model or training file, a
//      quantity or a parameter (ConfigError, UnitError, ParameterError)
//   3  training stopped because the loss, a gradient or a parameter became NaN or Inf
// The message goes to stderr as "volley COMMAND: error: WHAT".
#include <functional>
#include <string>
#include <string_view>

namespace volley::cli {

inline constexpr int kSuccess = 0, kFailed = 1, kBadInput = 2, kDiverged = 3;

// Runs `body` (which returns the exit status of a normal end) and maps an exception to its
// exit status, printing the message.
int run_command(std::string_view command, const std::function<int()>& body);

// Writes a figure that is a by-product of a command (fi.svg, ipd.svg): when it cannot be drawn
// (gnuplot missing: IoError from report's plotting) the command's results still stand, so this
// prints a warning naming the figure instead of failing. Writing the file itself can still fail.
void write_optional_figure(std::string_view command, const std::string& path,
                           const std::function<std::string()>& draw);

}  // namespace volley::cli
