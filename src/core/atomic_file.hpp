#pragma once
// The one way volley writes a whole file (summaries, checkpoints, spike files, figures, reports):
// into a temporary file beside the destination, flushed to disk, then renamed over it. A reader
// sees the old file or the new one, never a half-written one; a failed write (disk full, an
// unwritable or missing directory) throws IoError naming the destination and leaves an existing
// file as it was. Internal to volley (not installed): the core does no I/O of its own beyond it.
#include <functional>
#include <string>
#include <string_view>

namespace volley::detail {

// Replaces (or creates) `path` with `content`. Throws IoError "cannot write 'PATH': REASON".
void write_file_atomically(const std::string& path, std::string_view content);

// For writers that need a file name of their own (HDF5, libsndfile): calls `write(tmp)` with a
// fresh temporary path beside `path`, then flushes that file and renames it over `path`. If
// `write` throws, the temporary file is removed and the exception passes through unchanged.
void replace_file_atomically(const std::string& path,
                             const std::function<void(const std::string& tmp)>& write);

// Appends `content` to `path` (created if missing) and flushes it to disk: for logs that grow a
// record at a time (metrics.jsonl). Throws IoError naming the file.
void append_to_file(const std::string& path, std::string_view content);

}  // namespace volley::detail
