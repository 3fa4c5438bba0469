// Progress of a swarm on stderr: done/total, runs per second, ETA and the
// failures so far. On a terminal a bar redrawn in place at most 10 times a
// second; otherwise (CI logs, files) one line every 2 seconds. Wall-clock
// time is used here only: it never reaches a report file.
//
// Thread model: workers call Advance() concurrently; one thread (the one
// that waits for the workers) calls Run() until every run is done. A thread
// that does the runs itself (one job) calls DrawIfDue() after each and
// Finish() at the end instead.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

namespace cli {

class Progress {
 public:
  // quiet: print nothing at all. `unit` names what is counted ("runs",
  // "failure folders").
  Progress(uint64_t total, bool quiet, std::string unit = "runs");

  // One run finished (thread-safe).
  void Advance(bool failed);
  // Called by the waiting thread: draws until every run is done, then Finish().
  void Run();
  // Draws if a redraw period has passed since the last drawing.
  void DrawIfDue();
  // Every run is done: the closing drawing (FinalLine() then has the time).
  void Finish();
  // The closing line: "N runs in X s (R runs/s), F failures".
  std::string FinalLine() const;
  uint64_t failures() const { return failures_.load(); }

 private:
  void Draw(bool final);
  double ElapsedSeconds() const;
  std::chrono::milliseconds Period() const;

  const std::string unit_;
  const uint64_t total_;
  const bool quiet_;
  const bool terminal_;
  const std::chrono::steady_clock::time_point start_;
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> failures_{0};
  double finished_seconds_ = 0;  // set by Finish()
  double drawn_seconds_ = 0;    // when DrawIfDue() last drew
  std::mutex mutex_;
  std::condition_variable all_done_;
};

}  // namespace cli
