// The checkers' rules for issue 18's workload pieces (model/checkers.h):
// volatile registry keys (a kWrite with detail "volatile" is gone after a
// crash of its host) and file share modes (kOpen events of non-transacted
// writers against transactions' writes and reads). Each rule has a good
// history that passes and a planted mistake that is flagged: a volatile key
// surviving a crash, a read of one after the crash removed it, a
// non-transacted writer open granted while a transaction holds the file,
// and a transaction reaching a file a non-transacted writer holds open; and
// an RM that requested the outcome (kRequestOutcome) acting against the
// global decision is an agreement violation.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "model/checkers.h"
#include "model/history.h"

namespace model {
namespace {

constexpr int64_t kMs = 1000 * 1000;
const char* const kRm = "registry";
const char* const kKey = "HKLM\\Software\\ktmsim\\volatile\\k1\\v";
const char* const kFiles = "files";
const char* const kFile = "\\d\\k1";

// Events 1 ms apart, on host 1.
class Builder {
 public:
  size_t Add(EventKind kind, std::string tx, std::string rm = "", std::string key = "", std::string value = "",
             std::string detail = "") {
    HistoryEvent e;
    e.time_ns = (history_.events.size() + 1) * kMs;
    e.host = 1;
    e.kind = kind;
    e.tx = std::move(tx);
    e.rm = std::move(rm);
    e.key = std::move(key);
    e.value = std::move(value);
    e.detail = std::move(detail);
    history_.events.push_back(std::move(e));
    return history_.events.size() - 1;
  }
  // tx writes rm/key=value (detail: "volatile" or "") and commits there.
  void CommittedWrite(const std::string& tx, const std::string& rm, const std::string& key, const std::string& value,
                      const std::string& detail) {
    Add(EventKind::kBegin, tx);
    Add(EventKind::kEnlist, tx, rm);
    Add(EventKind::kWrite, tx, rm, key, value, detail);
    Add(EventKind::kCommitRequest, tx);
    Add(EventKind::kVote, tx, rm, "", "", "yes");
    Add(EventKind::kRmCommitted, tx, rm);
    Add(EventKind::kOutcome, tx, "", "", "", "committed");
  }
  void Crash() {
    Add(EventKind::kCrash, "");
    Add(EventKind::kRestart, "");
  }
  History Build() {
    history_.end_ns = (history_.events.size() + 1) * kMs;
    return history_;
  }

 private:
  History history_;
};

std::string Texts(const std::vector<Violation>& violations) {
  std::string text;
  for (const Violation& v : violations) text += "\n  " + v.ToText();
  return text;
}

const std::vector<std::string> kSafety = {"atomicity", "agreement", "validity", "durability", "isolation"};

// ---- volatile keys ---------------------------------------------------------

TEST(VolatileKeys, CommittedVolatileKeyGoneAfterCrashIsExpected) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "volatile");
  b.Crash();
  b.Add(EventKind::kFinalValue, "", kRm, kKey, "");
  const History h = b.Build();
  EXPECT_TRUE(CheckAll(h, kSafety, 0).empty()) << Texts(CheckAll(h, kSafety, 0));
  EXPECT_TRUE(ReferenceState(h).empty());
}

// The same history without the mark is a lost commit: the mark is what the
// rule reads.
TEST(VolatileKeys, StableKeyGoneAfterCrashIsADurabilityViolation) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "");
  b.Crash();
  b.Add(EventKind::kFinalValue, "", kRm, kKey, "");
  const std::vector<Violation> v = CheckAll(b.Build(), kSafety, 0);
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v.front().rule, "atomicity");
  bool durability = false;
  for (const Violation& one : v) durability |= one.rule == "durability";
  EXPECT_TRUE(durability) << Texts(v);
}

// Planted mistake: the RM kept a volatile key across the crash of its host.
TEST(VolatileKeys, VolatileKeySurvivingACrashIsFlagged) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "volatile");
  b.Crash();
  const size_t final_index = b.Add(EventKind::kFinalValue, "", kRm, kKey, "REG_SZ:t1.1");
  const std::vector<Violation> v = CheckAll(b.Build(), kSafety, 0);
  ASSERT_EQ(v.size(), 1u) << Texts(v);
  EXPECT_EQ(v[0].rule, "atomicity");
  EXPECT_EQ(v[0].tx, "t1");
  EXPECT_NE(v[0].message.find("volatile key"), std::string::npos) << v[0].message;
  EXPECT_NE(std::find(v[0].events.begin(), v[0].events.end(), final_index), v[0].events.end());
}

// Without a crash (or with the crash on another host) a volatile key keeps
// its committed value like any other.
TEST(VolatileKeys, VolatileKeyWithoutACrashOfItsHostIsDurable) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "volatile");
  const size_t crash = b.Add(EventKind::kCrash, "");
  b.Add(EventKind::kFinalValue, "", kRm, kKey, "");
  History h = b.Build();
  h.events[crash].host = 2;
  const std::vector<Violation> v = CheckAll(h, kSafety, 0);
  ASSERT_FALSE(v.empty());
  bool durability = false;
  for (const Violation& one : v) durability |= one.rule == "durability";
  EXPECT_TRUE(durability) << Texts(v);
}

// A write after the crash is the key's value again.
TEST(VolatileKeys, WriteAfterTheCrashIsExpectedAtTheEnd) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "volatile");
  b.Crash();
  b.CommittedWrite("t2", kRm, kKey, "REG_SZ:t2.1", "volatile");
  b.Add(EventKind::kFinalValue, "", kRm, kKey, "REG_SZ:t2.1");
  const History h = b.Build();
  EXPECT_TRUE(CheckAll(h, kSafety, 0).empty()) << Texts(CheckAll(h, kSafety, 0));
  EXPECT_EQ(ReferenceState(h).at({kRm, kKey}).tx, "t2");
}

// Planted mistake: a transaction read the volatile value after the crash.
TEST(VolatileKeys, ReadOfAVolatileKeyAfterItsCrashIsFlagged) {
  Builder b;
  b.CommittedWrite("t1", kRm, kKey, "REG_SZ:t1.1", "volatile");
  b.Crash();
  b.Add(EventKind::kBegin, "t2");
  b.Add(EventKind::kEnlist, "t2", kRm);
  b.Add(EventKind::kRead, "t2", kRm, kKey, "REG_SZ:t1.1");
  const std::vector<Violation> v = CheckIsolation(b.Build());
  ASSERT_EQ(v.size(), 1u) << Texts(v);
  EXPECT_EQ(v[0].tx, "t2");
  EXPECT_NE(v[0].message.find("crashed"), std::string::npos) << v[0].message;
}

// ---- share modes -----------------------------------------------------------

// t1 writes the file and stays open (not committed) from event 2 on.
void T1HoldsTheFile(Builder& b) {
  b.Add(EventKind::kBegin, "t1");
  b.Add(EventKind::kEnlist, "t1", kFiles);
  b.Add(EventKind::kWrite, "t1", kFiles, kFile, "4:aaaa");
}

TEST(ShareModes, RefusedOpensAreAccepted) {
  Builder b;
  T1HoldsTheFile(b);
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.1", "refused STATUS_SHARING_VIOLATION");
  b.Add(EventKind::kRmCommitted, "t1", kFiles);
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.2", "write");
  b.Add(EventKind::kOpen, "t2", kFiles, kFile, "", "refused STATUS_TRANSACTIONAL_CONFLICT");
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.2", "close");
  b.Add(EventKind::kBegin, "t3");
  b.Add(EventKind::kWrite, "t3", kFiles, kFile, "4:bbbb");
  EXPECT_TRUE(CheckIsolation(b.Build()).empty()) << Texts(CheckIsolation(b.Build()));
}

// Planted mistake: the non-transacted writer got the file t1 holds.
TEST(ShareModes, NonTransactedWriterGrantedWhileATransactionHoldsTheFileIsFlagged) {
  Builder b;
  T1HoldsTheFile(b);
  const size_t open = b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.1", "write");
  const std::vector<Violation> v = CheckIsolation(b.Build());
  ASSERT_EQ(v.size(), 1u) << Texts(v);
  EXPECT_EQ(v[0].rule, "isolation");
  EXPECT_NE(v[0].message.find("STATUS_SHARING_VIOLATION"), std::string::npos) << v[0].message;
  EXPECT_EQ(v[0].events, (std::vector<size_t>{2, open}));
}

// Planted mistake: t2 opened (and wrote, then read) the file a
// non-transacted writer holds open.
TEST(ShareModes, TransactionReachingAFileANonTransactedWriterHoldsIsFlagged) {
  Builder b;
  const size_t open = b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.1", "write");
  b.Add(EventKind::kBegin, "t2");
  const size_t write = b.Add(EventKind::kWrite, "t2", kFiles, kFile, "4:cccc");
  const size_t read = b.Add(EventKind::kRead, "t2", kFiles, kFile, "4:cccc");
  const std::vector<Violation> v = CheckIsolation(b.Build());
  ASSERT_EQ(v.size(), 2u) << Texts(v);
  EXPECT_EQ(v[0].tx, "t2");
  EXPECT_NE(v[0].message.find("STATUS_TRANSACTIONAL_CONFLICT"), std::string::npos) << v[0].message;
  EXPECT_EQ(v[0].events, (std::vector<size_t>{open, write}));
  EXPECT_EQ(v[1].events, (std::vector<size_t>{open, read}));
}

// Planted mistake: two transactions wrote one file at once.
TEST(ShareModes, SecondTransactionWriterWhileAnotherHoldsTheFileIsFlagged) {
  Builder b;
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.1", "refused STATUS_OBJECT_NAME_NOT_FOUND");
  T1HoldsTheFile(b);
  b.Add(EventKind::kBegin, "t2");
  b.Add(EventKind::kWrite, "t2", kFiles, kFile, "4:dddd");
  const std::vector<Violation> v = CheckIsolation(b.Build());
  ASSERT_EQ(v.size(), 1u) << Texts(v);
  EXPECT_EQ(v[0].tx, "t2");
}

// A crash drops handles and locks; a close, an end or a read-only vote too.
TEST(ShareModes, HoldsEndAtCloseCrashAndTransactionEnd) {
  Builder b;
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.1", "write");
  b.Crash();
  T1HoldsTheFile(b);  // after the crash: fine
  b.Crash();
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.2", "write");  // t1's lock went with the crash
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.2", "close");
  b.Add(EventKind::kBegin, "t3");
  b.Add(EventKind::kWrite, "t3", kFiles, kFile, "4:eeee");
  b.Add(EventKind::kRmAborted, "t3", kFiles);
  b.Add(EventKind::kOpen, "", kFiles, kFile, "t9.3", "write");
  const History h = b.Build();
  EXPECT_TRUE(CheckIsolation(h).empty()) << Texts(CheckIsolation(h));
}

// ---- request outcome -------------------------------------------------------

// Planted mistake: an RM asked for the outcome and then rolled back what the
// other RM committed and the client was told committed.
TEST(RequestOutcome, WrongOutcomeAfterARequestIsFlagged) {
  Builder b;
  b.Add(EventKind::kBegin, "t1");
  b.Add(EventKind::kEnlist, "t1", "rmA");
  b.Add(EventKind::kEnlist, "t1", "rmB");
  b.Add(EventKind::kWrite, "t1", "rmA", "k1", "t1.1");
  b.Add(EventKind::kWrite, "t1", "rmB", "k1", "t1.2");
  b.Add(EventKind::kCommitRequest, "t1");
  b.Add(EventKind::kVote, "t1", "rmA", "", "", "yes");
  b.Add(EventKind::kVote, "t1", "rmB", "", "", "yes");
  b.Add(EventKind::kRequestOutcome, "t1", "rmB");
  b.Add(EventKind::kRmCommitted, "t1", "rmA");
  b.Add(EventKind::kOutcome, "t1", "", "", "", "committed");
  const size_t wrong = b.Add(EventKind::kRmAborted, "t1", "rmB");
  const History h = b.Build();
  const std::vector<Violation> v = CheckAgreement(h);
  ASSERT_FALSE(v.empty());
  EXPECT_EQ(v[0].tx, "t1");
  EXPECT_NE(std::find(v[0].events.begin(), v[0].events.end(), wrong), v[0].events.end()) << Texts(v);
  EXPECT_STREQ(EventKindName(EventKind::kRequestOutcome), "RequestOutcome");
}

}  // namespace
}  // namespace model
