// Progress drawing (see progress.h). The waiting thread sleeps on a
// condition variable with a timeout equal to the redraw period, so the last
// run's completion ends Run() at once.
#include "cli/progress.h"

#include <utility>

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_format.h"

namespace cli {
namespace {

constexpr auto kTerminalPeriod = std::chrono::milliseconds(100);  // at most 10 redraws/s
constexpr auto kLogPeriod = std::chrono::seconds(2);
constexpr int kBarWidth = 30;

std::string Duration(double seconds) {
  if (seconds < 60) return absl::StrFormat("%.0fs", seconds);
  const int64_t whole = static_cast<int64_t>(seconds);
  if (whole < 3600) return absl::StrFormat("%dm%02ds", whole / 60, whole % 60);
  return absl::StrFormat("%dh%02dm", whole / 3600, whole / 60 % 60);
}

}  // namespace

Progress::Progress(uint64_t total, bool quiet, std::string unit)
    : unit_(std::move(unit)),
      total_(total),
      quiet_(quiet),
      terminal_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

void Progress::Advance(bool failed) {
  if (failed) failures_.fetch_add(1);
  if (done_.fetch_add(1) + 1 == total_) {
    std::lock_guard<std::mutex> lock(mutex_);
    all_done_.notify_all();
  }
}

double Progress::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::chrono::milliseconds Progress::Period() const {
  return terminal_ ? std::chrono::duration_cast<std::chrono::milliseconds>(kTerminalPeriod)
                   : std::chrono::duration_cast<std::chrono::milliseconds>(kLogPeriod);
}

void Progress::Run() {
  const auto period = Period();
  std::unique_lock<std::mutex> lock(mutex_);
  while (done_.load() < total_) {
    all_done_.wait_for(lock, period, [this] { return done_.load() >= total_; });
    if (done_.load() < total_) Draw(false);
  }
  lock.unlock();
  Finish();
}

void Progress::DrawIfDue() {
  if (quiet_ || done_.load() >= total_) return;
  const double now = ElapsedSeconds();
  if (now - drawn_seconds_ < std::chrono::duration<double>(Period()).count()) return;
  drawn_seconds_ = now;
  Draw(false);
}

void Progress::Finish() {
  finished_seconds_ = ElapsedSeconds();
  Draw(true);
}

void Progress::Draw(bool final) {
  if (quiet_ || (!terminal_ && final)) return;
  const uint64_t done = done_.load();
  const double elapsed = ElapsedSeconds();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const std::string eta =
      rate > 0 ? Duration(static_cast<double>(total_ - done) / rate) : std::string("?");
  if (!terminal_) {
    absl::FPrintF(stderr, "ktmsim: %d/%d %s, %.1f/s, ETA %s, %d failures\n", done, total_, unit_,
                  rate, eta, failures_.load());
    return;
  }
  const int filled =
      total_ == 0 ? kBarWidth : static_cast<int>(kBarWidth * static_cast<double>(done) / total_);
  absl::FPrintF(stderr, "\r[%s%s] %d/%d %s  %.1f/s  ETA %s  failures %d\033[K%s",
                std::string(filled, '#'), std::string(kBarWidth - filled, '.'), done, total_, unit_, rate,
                eta, failures_.load(), final ? "\n" : "");
}

std::string Progress::FinalLine() const {
  const double elapsed = finished_seconds_;
  const uint64_t done = done_.load();
  return absl::StrFormat("ktmsim: %d %s in %.1fs (%.1f/s), %d failures", done, unit_, elapsed,
                         elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0, failures_.load());
}

}  // namespace cli
