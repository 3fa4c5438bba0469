// ObserverLog: a ktm::RmObserver for tests that keeps every report as one
// line ("write rm=txr key=HKCU\K\v value=REG_SZ:s1", "vote rm=txf vote=spc"),
// so a test states the exact history an RM reports.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "ktm/rm_observer.h"
#include "ktm/types.h"

namespace ktmtest {

class ObserverLog : public ktm::RmObserver {
 public:
  void OnEnlist(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&) override { Add("enlist", rm); }
  void OnRead(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&, std::string_view key, std::string_view value) override {
    Add("read", rm, " key=" + std::string(key) + Value(value));
  }
  void OnWrite(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&, std::string_view key,
               std::string_view value) override {
    Add("write", rm, " key=" + std::string(key) + Value(value));
  }
  void OnNotify(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&, uint32_t n) override {
    Add("notify", rm, std::string(" n=") + ktm::NotificationName(n));
  }
  void OnVote(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&, ktm::RmVote vote, std::string_view why) override {
    Add("vote", rm, " vote=" + std::string(ktm::RmVoteName(vote)) + (why.empty() ? "" : " why=" + std::string(why)));
  }
  void OnCommitted(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&) override { Add("committed", rm); }
  void OnAborted(uint32_t, const ktm::ObservedRm& rm, const ktm::Guid&, std::string_view why) override {
    Add("aborted", rm, why.empty() ? "" : " why=" + std::string(why));
  }
  void OnBranch(uint32_t, const ktm::Guid&, const ktm::Guid&) override { Add("branch", ""); }

  const std::vector<std::string>& lines() const { return lines_; }
  void clear() { lines_.clear(); }
  // Called after each line is added (e.g. to stop a run at a report).
  std::function<void(const std::string&)> on_line;

 private:
  static std::string Value(std::string_view value) { return value.empty() ? "" : " value=" + std::string(value); }
  void Add(const char* what, std::string_view rm, const std::string& rest = "") {
    lines_.push_back(std::string(what) + " rm=" + std::string(rm) + rest);
    if (on_line) on_line(lines_.back());
  }
  std::vector<std::string> lines_;
};

}  // namespace ktmtest
