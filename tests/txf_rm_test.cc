// Unit tests of TxfRm (ktm/txf): every call's success path, misuse (bad,
// closed, dead and wrong-type handles, bad parameters, bad paths, access),
// the isolation rules and lock table of ktm-api.md §6.2, the limits, the
// history trace events, and durability across crashes (including log
// snapshots). The rules tested are those of docs/txf-txr.md.
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ktm/api.h"
#include "tests/rm_observer_log.h"
#include "tests/txf_txr_rig.h"

namespace ktmtest {
namespace {

using namespace ktm;        // NOLINT
using namespace ktm::txf;   // NOLINT

constexpr uint32_t kRW = GENERIC_READ | GENERIC_WRITE;

TxfTxrRigConfig TxfOnly() {
  TxfTxrRigConfig c;
  c.kv = false;
  c.txr = false;
  return c;
}

class TxfTest : public ::testing::Test {
 protected:
  explicit TxfTest(TxfTxrRigConfig config = TxfOnly()) : rig_(11, std::move(config)) {}

  TxfRm& fs() { return rig_.txf(); }

  HANDLE Open(const std::string& path, uint32_t access, uint32_t disposition, HANDLE tx = INVALID_HANDLE_VALUE) {
    HANDLE h = INVALID_HANDLE_VALUE;
    NTSTATUS s = fs().CreateFileTransacted(path, access, disposition, tx, &h);
    EXPECT_TRUE(NT_SUCCESS(s)) << path << ": " << StatusName(s);
    return h;
  }
  NTSTATUS TryOpen(const std::string& path, uint32_t access, uint32_t disposition, HANDLE tx = INVALID_HANDLE_VALUE) {
    HANDLE h = INVALID_HANDLE_VALUE;
    NTSTATUS s = fs().CreateFileTransacted(path, access, disposition, tx, &h);
    if (NT_SUCCESS(s)) {
      EXPECT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
    }
    return s;
  }
  std::string ReadAll(HANDLE h) {
    std::string data;
    NTSTATUS s = fs().ReadFile(h, 0, 1 << 20, &data);
    if (s == STATUS_END_OF_FILE) return "";
    EXPECT_EQ(s, STATUS_SUCCESS) << StatusName(s);
    return data;
  }
  // A committed file made by non-transacted calls.
  void MakeFile(const std::string& path, const std::string& contents) {
    HANDLE h = Open(path, GENERIC_WRITE, CREATE_ALWAYS);
    ASSERT_EQ(fs().WriteFile(h, 0, contents), STATUS_SUCCESS);
    ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  }
  std::string Committed(const std::string& path) { return fs().CommittedContents(path).value_or("<absent>"); }

  TxfTxrRig rig_;
};

// ---- success paths --------------------------------------------------------------

TEST_F(TxfTest, CreatedFileIsInvisibleOutsideUntilCommit) {
  HANDLE tx = rig_.Begin();
  HANDLE h = Open("\\a.txt", kRW, CREATE_NEW, tx);
  ASSERT_EQ(fs().WriteFile(h, 0, "hello"), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), "hello");
  FileAttributeData attrs;
  EXPECT_EQ(fs().GetFileAttributesTransacted("\\a.txt", INVALID_HANDLE_VALUE, &attrs), STATUS_OBJECT_NAME_NOT_FOUND);
  ASSERT_EQ(fs().GetFileAttributesTransacted("\\a.txt", tx, &attrs), STATUS_SUCCESS);
  EXPECT_EQ(attrs.attributes, FILE_ATTRIBUTE_NORMAL);
  EXPECT_EQ(attrs.size, 5u);
  EXPECT_EQ(Committed("\\a.txt"), "<absent>");
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\a.txt"), "hello");
  EXPECT_EQ(fs().committed(), (std::map<std::string, std::string>{{"\\a.txt", TxfRm::ContentDigest("hello")}}));
  ASSERT_EQ(fs().GetFileAttributesTransacted("\\a.txt", INVALID_HANDLE_VALUE, &attrs), STATUS_SUCCESS);
  EXPECT_EQ(attrs.size, 5u);
}

TEST_F(TxfTest, RollbackDiscardsEveryChange) {
  MakeFile("\\keep", "old");
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  HANDLE h = Open("\\keep", GENERIC_WRITE, TRUNCATE_EXISTING, tx);
  ASSERT_EQ(fs().WriteFile(h, 0, "new"), STATUS_SUCCESS);
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d\\sub", tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().CopyFileTransacted("\\keep", "\\d\\copy", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().RemoveDirectoryTransacted("\\d\\sub", tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Rollback(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\keep"), "old");
  EXPECT_EQ(Committed("\\d\\copy"), "<absent>");
  EXPECT_EQ(fs().committed_directories(), (std::set<std::string>{"\\", "\\d"}));
  // The rolled-back transaction's lock is gone: a non-transacted writer gets in.
  EXPECT_EQ(TryOpen("\\keep", GENERIC_WRITE, OPEN_EXISTING), STATUS_SUCCESS);
}

TEST_F(TxfTest, DispositionsFollowWin32) {
  EXPECT_EQ(TryOpen("\\f", GENERIC_READ, OPEN_EXISTING), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, TRUNCATE_EXISTING), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, OPEN_ALWAYS), STATUS_SUCCESS);  // created
  EXPECT_EQ(Committed("\\f"), "");
  MakeFile("\\f", "data");
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, CREATE_NEW), STATUS_OBJECT_NAME_COLLISION);
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, OPEN_ALWAYS), STATUS_OBJECT_NAME_EXISTS);
  EXPECT_EQ(Committed("\\f"), "data");
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, CREATE_ALWAYS), STATUS_OBJECT_NAME_EXISTS);
  EXPECT_EQ(Committed("\\f"), "");
  MakeFile("\\f", "data");
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, TRUNCATE_EXISTING), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\f"), "");
  EXPECT_EQ(TryOpen("\\g", GENERIC_WRITE, CREATE_ALWAYS), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\g"), "");
}

TEST_F(TxfTest, ReadWriteAndSetEndOfFile) {
  HANDLE h = Open("\\f", kRW, CREATE_NEW);
  ASSERT_EQ(fs().WriteFile(h, 2, "ab"), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), std::string("\0\0ab", 4));
  ASSERT_EQ(fs().WriteFile(h, 1, "XYZ"), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), std::string("\0XYZ", 4));
  std::string part;
  ASSERT_EQ(fs().ReadFile(h, 1, 2, &part), STATUS_SUCCESS);
  EXPECT_EQ(part, "XY");
  ASSERT_EQ(fs().ReadFile(h, 3, 100, &part), STATUS_SUCCESS);
  EXPECT_EQ(part, "Z");
  EXPECT_EQ(fs().ReadFile(h, 4, 1, &part), STATUS_END_OF_FILE);
  EXPECT_EQ(fs().ReadFile(h, 9, 1, &part), STATUS_END_OF_FILE);
  ASSERT_EQ(fs().ReadFile(h, 9, 0, &part), STATUS_SUCCESS);
  EXPECT_EQ(part, "");
  ASSERT_EQ(fs().WriteFile(h, 100, ""), STATUS_SUCCESS);  // a zero-byte write changes nothing
  EXPECT_EQ(ReadAll(h).size(), 4u);
  ASSERT_EQ(fs().SetEndOfFile(h, 2), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), std::string("\0X", 2));
  ASSERT_EQ(fs().SetEndOfFile(h, 3), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), std::string("\0X\0", 3));
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\f"), std::string("\0X\0", 3));
}

TEST_F(TxfTest, TransactedReaderKeepsItsSnapshotNonTransactedReaderMovesOn) {
  MakeFile("\\f", "v1");
  HANDLE reader_tx = rig_.Begin();
  HANDLE snapshot = Open("\\f", GENERIC_READ, OPEN_EXISTING, reader_tx);
  HANDLE live = Open("\\f", GENERIC_READ, OPEN_EXISTING);
  HANDLE writer_tx = rig_.Begin();
  HANDLE w = Open("\\f", GENERIC_WRITE, TRUNCATE_EXISTING, writer_tx);  // tx reader + tx writer: ok
  ASSERT_EQ(fs().WriteFile(w, 0, "v2"), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(snapshot), "v1");
  EXPECT_EQ(ReadAll(live), "v1");  // read committed: no dirty read
  ASSERT_EQ(fs().CloseFileHandle(w), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(writer_tx), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(snapshot), "v1");  // stable for the handle's lifetime
  EXPECT_EQ(ReadAll(live), "v2");
  // No repeatable read: a new open in the same transaction sees the new version.
  HANDLE again = Open("\\f", GENERIC_READ, OPEN_EXISTING, reader_tx);
  EXPECT_EQ(ReadAll(again), "v2");
}

TEST_F(TxfTest, OnceATransactionWritesAFileEveryLaterOpenSeesItsData) {
  MakeFile("\\f", "committed");
  HANDLE tx = rig_.Begin();
  HANDLE early = Open("\\f", GENERIC_READ, OPEN_EXISTING, tx);
  HANDLE w = Open("\\f", GENERIC_WRITE, TRUNCATE_EXISTING, tx);
  ASSERT_EQ(fs().WriteFile(w, 0, "dirty"), STATUS_SUCCESS);
  HANDLE late = Open("\\f", GENERIC_READ, OPEN_EXISTING, tx);
  EXPECT_EQ(ReadAll(late), "dirty");
  EXPECT_EQ(ReadAll(early), "committed");  // opened before the transaction wrote it
  std::string data;
  HANDLE other = Open("\\f", GENERIC_READ, OPEN_EXISTING, rig_.Begin());
  EXPECT_EQ(ReadAll(other), "committed");
}

// The compatibility table of ktm-api.md §6.2: row = handle already open,
// column = new open attempt.
TEST_F(TxfTest, LockTableOfSection62) {
  enum Kind { kTxReader, kTxWriter, kReader, kWriter };
  const char* names[] = {"tx reader", "tx writer", "non-tx reader", "non-tx writer"};
  const NTSTATUS ok = STATUS_SUCCESS, sv = STATUS_SHARING_VIOLATION, tc = STATUS_TRANSACTIONAL_CONFLICT;
  const NTSTATUS table[4][4] = {{ok, ok, ok, sv}, {ok, sv, ok, sv}, {ok, ok, ok, ok}, {tc, tc, ok, ok}};
  MakeFile("\\t", "base");
  for (int held = 0; held < 4; ++held) {
    for (int attempt = 0; attempt < 4; ++attempt) {
      HANDLE holder_tx = rig_.Begin(), attempt_tx = rig_.Begin();
      auto access = [](int kind) { return kind == kTxWriter || kind == kWriter ? kRW : GENERIC_READ; };
      auto tx_of = [&](int kind, HANDLE tx) {
        return kind == kTxReader || kind == kTxWriter ? tx : INVALID_HANDLE_VALUE;
      };
      HANDLE h = Open("\\t", access(held), OPEN_EXISTING, tx_of(held, holder_tx));
      EXPECT_EQ(TryOpen("\\t", access(attempt), OPEN_EXISTING, tx_of(attempt, attempt_tx)), table[held][attempt])
          << names[held] << " open, " << names[attempt] << " attempted";
      ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
      ASSERT_EQ(rig_.Rollback(holder_tx), STATUS_SUCCESS);
      ASSERT_EQ(rig_.Rollback(attempt_tx), STATUS_SUCCESS);
    }
  }
  // The transaction's lock outlives its writer handle.
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(TryOpen("\\t", GENERIC_WRITE, OPEN_EXISTING, tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\t", GENERIC_WRITE, OPEN_EXISTING), STATUS_SHARING_VIOLATION);
  EXPECT_EQ(TryOpen("\\t", GENERIC_WRITE, OPEN_EXISTING, rig_.Begin()), STATUS_SHARING_VIOLATION);
  EXPECT_EQ(fs().DeleteFileTransacted("\\t", INVALID_HANDLE_VALUE), STATUS_SHARING_VIOLATION);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);  // read-only vote: no changes
  EXPECT_EQ(TryOpen("\\t", GENERIC_WRITE, OPEN_EXISTING), STATUS_SUCCESS);
}

TEST_F(TxfTest, CreatedNameIsReservedAndInvisible) {
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(TryOpen("\\new", GENERIC_WRITE, CREATE_NEW, tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\dir", tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\new", GENERIC_READ, OPEN_EXISTING), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(TryOpen("\\new", GENERIC_WRITE, CREATE_NEW), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(TryOpen("\\new", GENERIC_WRITE, OPEN_ALWAYS, rig_.Begin()), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\new", INVALID_HANDLE_VALUE), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(fs().CopyFileTransacted("\\missing", "\\new", 0, INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(TryOpen("\\dir\\x", GENERIC_WRITE, CREATE_NEW), STATUS_OBJECT_PATH_NOT_FOUND);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\new", GENERIC_READ, OPEN_EXISTING), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\dir\\x", GENERIC_WRITE, CREATE_NEW), STATUS_SUCCESS);
}

TEST_F(TxfTest, DeletedFileStaysVisibleToOthersUntilCommit) {
  MakeFile("\\f", "x");
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SUCCESS);
  FileAttributeData attrs;
  EXPECT_EQ(fs().GetFileAttributesTransacted("\\f", tx, &attrs), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(fs().GetFileAttributesTransacted("\\f", INVALID_HANDLE_VALUE, &attrs), STATUS_SUCCESS);
  HANDLE other = rig_.Begin();
  HANDLE r = Open("\\f", GENERIC_READ, OPEN_EXISTING, other);
  EXPECT_EQ(ReadAll(r), "x");
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", other), STATUS_SHARING_VIOLATION);
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", INVALID_HANDLE_VALUE), STATUS_SHARING_VIOLATION);
  // Re-creating the name inside the deleting transaction is allowed.
  ASSERT_EQ(TryOpen("\\f", GENERIC_WRITE, CREATE_NEW, tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\f"), "<absent>");
  EXPECT_EQ(ReadAll(r), "x");  // the other transaction's snapshot
}

TEST_F(TxfTest, DeleteIsRefusedWhileHandlesNeedTheName) {
  MakeFile("\\f", "x");
  HANDLE live = Open("\\f", GENERIC_READ, OPEN_EXISTING);
  HANDLE tx = rig_.Begin();
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SHARING_VIOLATION);       // no FILE_SHARE_DELETE
  EXPECT_EQ(fs().MoveFileTransacted("\\f", "\\g", 0, tx), STATUS_SHARING_VIOLATION);
  ASSERT_EQ(fs().CloseFileHandle(live), STATUS_SUCCESS);
  HANDLE own = Open("\\f", GENERIC_READ, OPEN_EXISTING, tx);
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SHARING_VIOLATION);  // its own handle
  ASSERT_EQ(fs().CloseFileHandle(own), STATUS_SUCCESS);
  HANDLE writer = Open("\\f", GENERIC_WRITE, OPEN_EXISTING);
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_TRANSACTIONAL_CONFLICT);  // non-tx writer
  ASSERT_EQ(fs().CloseFileHandle(writer), STATUS_SUCCESS);
  HANDLE snapshot = Open("\\f", GENERIC_READ, OPEN_EXISTING, rig_.Begin());
  EXPECT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SUCCESS);  // another tx's snapshot does not block
  EXPECT_EQ(ReadAll(snapshot), "x");
}

TEST_F(TxfTest, DirectoriesWithAnotherTransactionsChangesBeneathArePinned) {
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d\\e", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(TryOpen("\\d\\e\\f", GENERIC_WRITE, CREATE_NEW, tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\d\\e", INVALID_HANDLE_VALUE), STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY);
  EXPECT_EQ(fs().MoveFileTransacted("\\d", "\\x", 0, INVALID_HANDLE_VALUE), STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY);
  HANDLE other = rig_.Begin();
  EXPECT_EQ(fs().MoveFileTransacted("\\d\\e", "\\y", 0, other), STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY);
  // The transaction itself may rename the tree it changes.
  ASSERT_EQ(fs().MoveFileTransacted("\\d", "\\x", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\x\\e\\f"), "");
  EXPECT_EQ(fs().committed_directories(), (std::set<std::string>{"\\", "\\x", "\\x\\e"}));
}

TEST_F(TxfTest, NamespaceChangesUnderAnotherTransactionsDirectoryConflict) {
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(fs().RemoveDirectoryTransacted("\\d", tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\d\\f", GENERIC_WRITE, CREATE_NEW), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\d\\g", rig_.Begin()), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SHARING_VIOLATION);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().committed_directories(), (std::set<std::string>{"\\"}));
}

TEST_F(TxfTest, HandlesDieWhenTheTransactionEnds) {
  MakeFile("\\f", "x");
  for (bool commit : {true, false}) {
    HANDLE tx = rig_.Begin();
    HANDLE h = Open("\\f", kRW, OPEN_EXISTING, tx);
    FindData d;
    HANDLE find = INVALID_HANDLE_VALUE;
    ASSERT_EQ(fs().FindFirstFileTransacted("\\*", tx, &d, &find), STATUS_SUCCESS);
    ASSERT_EQ(commit ? rig_.Commit(tx) : rig_.Rollback(tx), STATUS_SUCCESS);
    std::string data;
    EXPECT_EQ(fs().ReadFile(h, 0, 1, &data), STATUS_HANDLE_NO_LONGER_VALID);
    EXPECT_EQ(fs().WriteFile(h, 0, "y"), STATUS_HANDLE_NO_LONGER_VALID);
    EXPECT_EQ(fs().SetEndOfFile(h, 0), STATUS_HANDLE_NO_LONGER_VALID);
    EXPECT_EQ(fs().FindNextFile(find, &d), STATUS_HANDLE_NO_LONGER_VALID);
    EXPECT_EQ(fs().CreateDirectoryTransacted("\\z", tx), STATUS_TRANSACTION_NOT_ACTIVE);
    EXPECT_EQ(TryOpen("\\f", GENERIC_READ, OPEN_EXISTING, tx), STATUS_TRANSACTION_NOT_ACTIVE);
    // A dead handle no longer blocks anybody, and still closes.
    EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, OPEN_EXISTING), STATUS_SUCCESS);
    EXPECT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
    EXPECT_EQ(fs().FindClose(find), STATUS_SUCCESS);
    EXPECT_EQ(fs().CloseFileHandle(h), STATUS_INVALID_HANDLE);
  }
  EXPECT_EQ(fs().open_handles(), 0u);
}

TEST_F(TxfTest, LiveHandleReportsFileDeletedOnceADeleteCommits) {
  MakeFile("\\f", "x");
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\f", GENERIC_WRITE, OPEN_EXISTING), STATUS_SHARING_VIOLATION);
  HANDLE live = Open("\\f", GENERIC_READ, OPEN_EXISTING);  // still visible outside
  std::string data;
  ASSERT_EQ(fs().ReadFile(live, 0, 1, &data), STATUS_SUCCESS);
  EXPECT_EQ(data, "x");
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().ReadFile(live, 0, 1, &data), STATUS_FILE_DELETED);
  MakeFile("\\f", "new file, same name");
  EXPECT_EQ(fs().ReadFile(live, 0, 1, &data), STATUS_FILE_DELETED);  // identity, not name
}

TEST_F(TxfTest, MoveRenamesFilesAndDirectoryTrees) {
  MakeFile("\\a", "A");
  MakeFile("\\b", "B");
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  MakeFile("\\d\\in", "I");
  HANDLE tx = rig_.Begin();
  EXPECT_EQ(fs().MoveFileTransacted("\\a", "\\b", 0, tx), STATUS_OBJECT_NAME_COLLISION);
  ASSERT_EQ(fs().MoveFileTransacted("\\a", "\\b", MOVEFILE_REPLACE_EXISTING, tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().MoveFileTransacted("\\d", "\\b", MOVEFILE_REPLACE_EXISTING, tx), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().MoveFileTransacted("\\d", "\\d\\sub", 0, tx), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().MoveFileTransacted("\\d", "\\nope\\d", 0, tx), STATUS_OBJECT_PATH_NOT_FOUND);
  EXPECT_EQ(fs().MoveFileTransacted("\\gone", "\\x", 0, tx), STATUS_OBJECT_NAME_NOT_FOUND);
  ASSERT_EQ(fs().MoveFileTransacted("\\d", "\\e", 0, tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\a"), "A");  // outsiders see the old names until commit
  EXPECT_EQ(TryOpen("\\e\\in", GENERIC_READ, OPEN_EXISTING), STATUS_OBJECT_PATH_NOT_FOUND);
  HANDLE h = Open("\\e\\in", GENERIC_READ, OPEN_EXISTING, tx);
  EXPECT_EQ(ReadAll(h), "I");
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().committed(), (std::map<std::string, std::string>{{"\\b", TxfRm::ContentDigest("A")},
                                                                  {"\\e\\in", TxfRm::ContentDigest("I")}}));
  EXPECT_EQ(fs().committed_directories(), (std::set<std::string>{"\\", "\\e"}));
  EXPECT_EQ(fs().MoveFileTransacted("\\", "\\r", 0, INVALID_HANDLE_VALUE), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().MoveFileTransacted("\\b", "\\", 0, INVALID_HANDLE_VALUE), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().MoveFileTransacted("\\b", "\\b", 0, INVALID_HANDLE_VALUE), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().MoveFileTransacted("\\b", "\\c", 0x8, INVALID_HANDLE_VALUE), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(fs().MoveFileTransacted("\\b", "\\c", 0, INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\c"), "A");
}

TEST_F(TxfTest, CopyDuplicatesContents) {
  MakeFile("\\a", "A");
  MakeFile("\\b", "B");
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  HANDLE tx = rig_.Begin();
  EXPECT_EQ(fs().CopyFileTransacted("\\a", "\\b", COPY_FILE_FAIL_IF_EXISTS, tx), STATUS_OBJECT_NAME_COLLISION);
  ASSERT_EQ(fs().CopyFileTransacted("\\a", "\\b", 0, tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().CopyFileTransacted("\\a", "\\d\\a", 0, tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().CopyFileTransacted("\\d", "\\x", 0, tx), STATUS_FILE_IS_A_DIRECTORY);
  EXPECT_EQ(fs().CopyFileTransacted("\\a", "\\d", 0, tx), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().CopyFileTransacted("\\a", "\\a", 0, tx), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CopyFileTransacted("\\a", "\\x", 2, tx), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CopyFileTransacted("\\zz", "\\x", 0, tx), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(fs().CopyFileTransacted("\\a", "\\b", 0, INVALID_HANDLE_VALUE), STATUS_SHARING_VIOLATION);
  EXPECT_EQ(Committed("\\b"), "B");
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\b"), "A");
  EXPECT_EQ(Committed("\\d\\a"), "A");
}

TEST_F(TxfTest, DirectoryCallsAndTheirErrors) {
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\", INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_COLLISION);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\", INVALID_HANDLE_VALUE), STATUS_ACCESS_DENIED);
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_COLLISION);
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\x\\y", INVALID_HANDLE_VALUE), STATUS_OBJECT_PATH_NOT_FOUND);
  MakeFile("\\d\\f", "x");
  EXPECT_EQ(fs().CreateDirectoryTransacted("\\d\\f\\g", INVALID_HANDLE_VALUE), STATUS_OBJECT_PATH_NOT_FOUND);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_DIRECTORY_NOT_EMPTY);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\d\\f", INVALID_HANDLE_VALUE), STATUS_NOT_A_DIRECTORY);
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\nope", INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_NOT_FOUND);
  EXPECT_EQ(fs().DeleteFileTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_FILE_IS_A_DIRECTORY);
  EXPECT_EQ(TryOpen("\\d", GENERIC_READ, OPEN_EXISTING), STATUS_FILE_IS_A_DIRECTORY);
  EXPECT_EQ(TryOpen("\\", GENERIC_READ, OPEN_EXISTING), STATUS_FILE_IS_A_DIRECTORY);
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(fs().DeleteFileTransacted("\\d\\f", tx), STATUS_SUCCESS);
  ASSERT_EQ(fs().RemoveDirectoryTransacted("\\d", tx), STATUS_SUCCESS);  // empty in its own view
  EXPECT_EQ(fs().RemoveDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_DIRECTORY_NOT_EMPTY);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(fs().committed_directories(), (std::set<std::string>{"\\"}));
  EXPECT_TRUE(fs().committed().empty());
}

TEST_F(TxfTest, FindEnumeratesTheCallersViewInNameOrder) {
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  MakeFile("\\d\\b.txt", "bb");
  MakeFile("\\d\\a.log", "a");
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\d\\c", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  MakeFile("\\d\\c\\deep.txt", "d");
  HANDLE tx = rig_.Begin();
  ASSERT_EQ(TryOpen("\\d\\z.txt", GENERIC_WRITE, CREATE_NEW, tx), STATUS_SUCCESS);
  auto list = [&](const std::string& pattern, HANDLE t) {
    std::vector<FindData> out;
    FindData d;
    HANDLE find = INVALID_HANDLE_VALUE;
    NTSTATUS s = fs().FindFirstFileTransacted(pattern, t, &d, &find);
    if (s != STATUS_SUCCESS) return std::make_pair(s, out);
    out.push_back(d);
    while ((s = fs().FindNextFile(find, &d)) == STATUS_SUCCESS) out.push_back(d);
    EXPECT_EQ(s, STATUS_NO_MORE_FILES);
    EXPECT_EQ(fs().FindNextFile(find, &d), STATUS_NO_MORE_FILES);
    EXPECT_EQ(fs().FindClose(find), STATUS_SUCCESS);
    return std::make_pair(STATUS_SUCCESS, out);
  };
  auto [s1, all] = list("\\d\\*", INVALID_HANDLE_VALUE);
  ASSERT_EQ(s1, STATUS_SUCCESS);
  EXPECT_EQ(all, (std::vector<FindData>{{"a.log", FILE_ATTRIBUTE_NORMAL, 1},
                                        {"b.txt", FILE_ATTRIBUTE_NORMAL, 2},
                                        {"c", FILE_ATTRIBUTE_DIRECTORY, 0}}));
  auto [s2, txt] = list("\\d\\*.txt", tx);
  ASSERT_EQ(s2, STATUS_SUCCESS);
  ASSERT_EQ(txt.size(), 2u);
  EXPECT_EQ(txt[0].name, "b.txt");
  EXPECT_EQ(txt[1].name, "z.txt");  // its own pending create
  MakeFile("\\d\\b2.txt", "outside");  // outside changes show up inside at once
  auto [s3, q] = list("\\d\\b?.txt", tx);
  ASSERT_EQ(s3, STATUS_SUCCESS);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].name, "b2.txt");
  EXPECT_EQ(list("\\d\\*.none", tx).first, STATUS_NO_SUCH_FILE);
  EXPECT_EQ(list("\\nope\\*", tx).first, STATUS_OBJECT_PATH_NOT_FOUND);
  EXPECT_EQ(list("\\d\\b.txt\\*", tx).first, STATUS_OBJECT_PATH_NOT_FOUND);
  EXPECT_EQ(list("\\", tx).first, STATUS_OBJECT_NAME_INVALID);
  EXPECT_EQ(list("d\\*", tx).first, STATUS_OBJECT_NAME_INVALID);
  auto [s4, root] = list("\\*", INVALID_HANDLE_VALUE);
  ASSERT_EQ(s4, STATUS_SUCCESS);
  EXPECT_EQ(root, (std::vector<FindData>{{"d", FILE_ATTRIBUTE_DIRECTORY, 0}}));
}

// ---- misuse -----------------------------------------------------------------------

TEST_F(TxfTest, BadHandlesWrongTypesAndClosedHandles) {
  MakeFile("\\f", "x");
  HANDLE file = Open("\\f", GENERIC_READ, OPEN_EXISTING);
  FindData d;
  HANDLE find = INVALID_HANDLE_VALUE;
  ASSERT_EQ(fs().FindFirstFileTransacted("\\*", INVALID_HANDLE_VALUE, &d, &find), STATUS_SUCCESS);
  std::string data;
  for (HANDLE bad : {HANDLE{0}, HANDLE{4}, HANDLE{0x12345678}, rig_.tm()}) {
    EXPECT_EQ(fs().ReadFile(bad, 0, 1, &data), STATUS_INVALID_HANDLE);
    EXPECT_EQ(fs().WriteFile(bad, 0, "x"), STATUS_INVALID_HANDLE);
    EXPECT_EQ(fs().SetEndOfFile(bad, 0), STATUS_INVALID_HANDLE);
    EXPECT_EQ(fs().CloseFileHandle(bad), STATUS_INVALID_HANDLE);
    EXPECT_EQ(fs().FindNextFile(bad, &d), STATUS_INVALID_HANDLE);
    EXPECT_EQ(fs().FindClose(bad), STATUS_INVALID_HANDLE);
  }
  EXPECT_EQ(fs().ReadFile(find, 0, 1, &data), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(fs().WriteFile(find, 0, "x"), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(fs().CloseFileHandle(find), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(fs().FindNextFile(file, &d), STATUS_OBJECT_TYPE_MISMATCH);
  EXPECT_EQ(fs().FindClose(file), STATUS_OBJECT_TYPE_MISMATCH);
  // A file handle is not a transaction, and a transaction is not a file.
  HANDLE h = INVALID_HANDLE_VALUE;
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_READ, OPEN_EXISTING, file, &h), STATUS_INVALID_HANDLE);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_READ, OPEN_EXISTING, rig_.tm(), &h), STATUS_OBJECT_TYPE_MISMATCH);
  HANDLE tx = rig_.Begin();
  EXPECT_EQ(fs().ReadFile(tx, 0, 1, &data), STATUS_INVALID_HANDLE);
  ASSERT_EQ(fs().CloseFileHandle(file), STATUS_SUCCESS);
  ASSERT_EQ(fs().FindClose(find), STATUS_SUCCESS);
  EXPECT_EQ(fs().ReadFile(file, 0, 1, &data), STATUS_INVALID_HANDLE);
  EXPECT_EQ(fs().FindNextFile(find, &d), STATUS_INVALID_HANDLE);
  EXPECT_EQ(fs().FindClose(find), STATUS_INVALID_HANDLE);
}

TEST_F(TxfTest, BadParametersPathsAndAccess) {
  HANDLE h = INVALID_HANDLE_VALUE;
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_READ, OPEN_EXISTING, INVALID_HANDLE_VALUE, nullptr),
            STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", 0, OPEN_EXISTING, INVALID_HANDLE_VALUE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", 0x1, OPEN_EXISTING, INVALID_HANDLE_VALUE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_WRITE, 0, INVALID_HANDLE_VALUE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_WRITE, 6, INVALID_HANDLE_VALUE, &h), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().CreateFileTransacted("\\f", GENERIC_READ, CREATE_NEW, INVALID_HANDLE_VALUE, &h),
            STATUS_INVALID_PARAMETER);
  std::string long_name(256, 'n');
  std::string long_path = "\\" + std::string(100, 'a') + "\\" + std::string(100, 'b') + "\\" + std::string(60, 'c');
  for (const std::string& bad : {std::string(""), std::string("f"), std::string("\\f\\"), std::string("\\\\f"),
                                 std::string("\\a\\.\\b"), std::string("\\.."), std::string("\\a*"),
                                 std::string("\\a?b"), std::string("\\a:b"), std::string("\\a|b"),
                                 std::string("\\a/b"), std::string("\\a\tb"), "\\" + long_name, long_path}) {
    EXPECT_EQ(fs().CreateFileTransacted(bad, GENERIC_WRITE, CREATE_ALWAYS, INVALID_HANDLE_VALUE, &h),
              STATUS_OBJECT_NAME_INVALID) << bad;
    EXPECT_EQ(fs().DeleteFileTransacted(bad, INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_INVALID) << bad;
    EXPECT_EQ(fs().CreateDirectoryTransacted(bad, INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_INVALID) << bad;
    EXPECT_EQ(fs().MoveFileTransacted(bad, "\\ok", 0, INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_INVALID) << bad;
    EXPECT_EQ(fs().CopyFileTransacted("\\ok", bad, 0, INVALID_HANDLE_VALUE), STATUS_OBJECT_NAME_INVALID) << bad;
  }
  EXPECT_EQ(fs().CreateFileTransacted("\\" + std::string(255, 'n'), GENERIC_WRITE, CREATE_NEW, INVALID_HANDLE_VALUE,
                                      &h),
            STATUS_SUCCESS);
  FileAttributeData attrs;
  EXPECT_EQ(fs().GetFileAttributesTransacted("\\f", INVALID_HANDLE_VALUE, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().GetFileAttributesTransacted("\\x\\y", INVALID_HANDLE_VALUE, &attrs), STATUS_OBJECT_PATH_NOT_FOUND);
  FindData d;
  HANDLE find;
  EXPECT_EQ(fs().FindFirstFileTransacted("\\*", INVALID_HANDLE_VALUE, nullptr, &find), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().FindFirstFileTransacted("\\*", INVALID_HANDLE_VALUE, &d, nullptr), STATUS_INVALID_PARAMETER);
  // Access rights of the handle.
  HANDLE reader = Open("\\f", GENERIC_WRITE, CREATE_NEW);
  ASSERT_EQ(fs().CloseFileHandle(reader), STATUS_SUCCESS);
  reader = Open("\\f", GENERIC_READ, OPEN_EXISTING);
  HANDLE writer = Open("\\f", GENERIC_WRITE, OPEN_EXISTING);
  std::string data;
  EXPECT_EQ(fs().WriteFile(reader, 0, "x"), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().SetEndOfFile(reader, 1), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().ReadFile(writer, 0, 1, &data), STATUS_ACCESS_DENIED);
  EXPECT_EQ(fs().ReadFile(reader, 0, 1, nullptr), STATUS_INVALID_PARAMETER);
  EXPECT_EQ(fs().FindNextFile(HANDLE{0}, nullptr), STATUS_INVALID_HANDLE);
}

TEST_F(TxfTest, LimitsAreEnforced) {
  HANDLE h = Open("\\f", kRW, CREATE_NEW);
  EXPECT_EQ(fs().WriteFile(h, 4095, "ab"), STATUS_DISK_FULL);  // file_bytes_max = 4096
  EXPECT_EQ(fs().WriteFile(h, UINT64_MAX - 1, "ab"), STATUS_DISK_FULL);
  EXPECT_EQ(fs().SetEndOfFile(h, 4097), STATUS_DISK_FULL);
  ASSERT_EQ(fs().WriteFile(h, 4095, "a"), STATUS_SUCCESS);
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  // volume_bytes_max = 32 KiB: committed data plus every pending change.
  std::string block(4000, 'x');
  int made = 0;
  NTSTATUS s = STATUS_SUCCESS;
  while (made < 20) {
    HANDLE f = Open("\\v" + std::to_string(made), GENERIC_WRITE, CREATE_NEW);
    s = fs().WriteFile(f, 0, block);
    ASSERT_EQ(fs().CloseFileHandle(f), STATUS_SUCCESS);
    if (s != STATUS_SUCCESS) break;
    ++made;
  }
  EXPECT_EQ(s, STATUS_DISK_FULL);
  EXPECT_EQ(made, 7);  // 4 KiB + 7 * 4000 bytes (+ paths and headers) fit, an eighth does not
  HANDLE tx = rig_.Begin();
  EXPECT_EQ(fs().CopyFileTransacted("\\f", "\\copy", 0, tx), STATUS_DISK_FULL);
  ASSERT_EQ(fs().DeleteFileTransacted("\\v0", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  EXPECT_EQ(fs().CopyFileTransacted("\\f", "\\copy", 0, tx), STATUS_SUCCESS);  // room again
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  // handles_max.
  TxfTxrRigConfig small = TxfOnly();
  small.txf_options.handles_max = 3;
  TxfTxrRig rig2(12, small);
  HANDLE hs[3];
  for (HANDLE& x : hs) {
    ASSERT_TRUE(
        NT_SUCCESS(rig2.txf().CreateFileTransacted("\\f", GENERIC_WRITE, OPEN_ALWAYS, INVALID_HANDLE_VALUE, &x)));
  }
  HANDLE extra;
  FindData d;
  EXPECT_EQ(rig2.txf().CreateFileTransacted("\\f", GENERIC_READ, OPEN_EXISTING, INVALID_HANDLE_VALUE, &extra),
            STATUS_INSUFFICIENT_RESOURCES);
  EXPECT_EQ(rig2.txf().FindFirstFileTransacted("\\*", INVALID_HANDLE_VALUE, &d, &extra), STATUS_INSUFFICIENT_RESOURCES);
  ASSERT_EQ(rig2.txf().CloseFileHandle(hs[0]), STATUS_SUCCESS);
  EXPECT_EQ(rig2.txf().FindFirstFileTransacted("\\*", INVALID_HANDLE_VALUE, &d, &extra), STATUS_SUCCESS);
}

// ---- history events ------------------------------------------------------------------

TEST_F(TxfTest, HistoryReportsGoThroughTheTypedObserver) {
  MakeFile("\\f", "old");
  ObserverLog log;
  rig_.set_observer(&log);
  std::vector<std::string> snapshot_reads;
  rig_.world().trace().set_observer([&](const sim::TraceEvent& e) {
    EXPECT_NE(e.kind.rfind("kv.", 0), 0u) << e.kind;  // no history kind of another RM's name
    if (e.kind == "txf.snapshot_read") snapshot_reads.push_back("key=" + e.Field("key") + " value=" + e.Field("value"));
  });
  HANDLE tx = rig_.Begin();
  HANDLE early = Open("\\f", GENERIC_READ, OPEN_EXISTING, tx);
  HANDLE h = Open("\\f", kRW, TRUNCATE_EXISTING, tx);
  ASSERT_EQ(fs().WriteFile(h, 0, "new"), STATUS_SUCCESS);
  EXPECT_EQ(ReadAll(h), "new");
  EXPECT_EQ(ReadAll(early), "old");
  ASSERT_EQ(fs().DeleteFileTransacted("\\gone", tx), STATUS_OBJECT_NAME_NOT_FOUND);
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  ASSERT_EQ(fs().CloseFileHandle(early), STATUS_SUCCESS);
  ASSERT_EQ(fs().DeleteFileTransacted("\\f", tx), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  rig_.world().trace().set_observer(nullptr);
  const std::string d0 = TxfRm::ContentDigest(""), d1 = TxfRm::ContentDigest("new"),
                    dold = TxfRm::ContentDigest("old");
  rig_.set_observer(nullptr);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "enlist rm=txf",
                             "write rm=txf key=\\f value=" + d0,
                             "write rm=txf key=\\f value=" + d1,
                             "read rm=txf key=\\f value=" + d1,
                             "write rm=txf key=\\f",
                             "notify rm=txf n=SINGLE_PHASE_COMMIT",
                             "vote rm=txf vote=spc",
                             "committed rm=txf",
                         }));
  EXPECT_EQ(snapshot_reads, (std::vector<std::string>{"key=\\f value=" + dold}));
}

// ---- durability ------------------------------------------------------------------------

TEST(TxfDurability, CommittedStateSurvivesACrashAndNothingElseDoes) {
  TxfTxrRig rig(21, TxfOnly());
  HANDLE tx = rig.Begin();
  HANDLE h = INVALID_HANDLE_VALUE;
  ASSERT_EQ(rig.txf().CreateFileTransacted("\\kept", GENERIC_WRITE, CREATE_NEW, tx, &h), STATUS_SUCCESS);
  ASSERT_EQ(rig.txf().WriteFile(h, 0, "committed"), STATUS_SUCCESS);
  ASSERT_EQ(rig.Commit(tx), STATUS_SUCCESS);
  ASSERT_EQ(rig.txf().CreateDirectoryTransacted("\\nontx", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  HANDLE rolled = rig.Begin();
  ASSERT_EQ(rig.txf().CreateDirectoryTransacted("\\rolled", rolled), STATUS_SUCCESS);
  ASSERT_EQ(rig.Rollback(rolled), STATUS_SUCCESS);
  HANDLE active = rig.Begin();
  ASSERT_EQ(rig.txf().CreateFileTransacted("\\active", GENERIC_WRITE, CREATE_NEW, active, &h), STATUS_SUCCESS);
  rig.Settle();
  auto files = rig.txf().committed();
  auto dirs = rig.txf().committed_directories();
  rig.CrashAndRecover(5);
  ASSERT_TRUE(rig.ready());
  EXPECT_EQ(rig.txf().committed(), files);
  EXPECT_EQ(rig.txf().committed_directories(), dirs);
  EXPECT_EQ(rig.txf().CommittedContents("\\kept"), "committed");
  EXPECT_EQ(rig.txf().CommittedContents("\\active"), std::nullopt);
  EXPECT_EQ(dirs, (std::set<std::string>{"\\", "\\nontx"}));
  EXPECT_EQ(rig.txf().in_doubt(), 0u);
  // The name the crashed transaction reserved is free again.
  ASSERT_EQ(rig.txf().CreateFileTransacted("\\active", GENERIC_WRITE, CREATE_NEW, INVALID_HANDLE_VALUE, &h),
            STATUS_SUCCESS);
}

TEST(TxfDurability, SnapshotsAdvanceTheLogBaseAndRecoverTheSameState) {
  TxfTxrRigConfig config = TxfOnly();
  config.disk_sectors = 512;  // 256 KiB log: a snapshot every 64 KiB
  TxfTxrRig rig(22, config);
  int snapshots = 0;
  rig.world().trace().set_observer([&](const sim::TraceEvent& e) { snapshots += e.kind == "txf.snapshot"; });
  std::string block(1500, 'b');
  for (int i = 0; i < 120; ++i) {
    HANDLE tx = rig.Begin();
    HANDLE h = INVALID_HANDLE_VALUE;
    ASSERT_TRUE(NT_SUCCESS(
        rig.txf().CreateFileTransacted("\\f" + std::to_string(i % 7), GENERIC_WRITE, CREATE_ALWAYS, tx, &h)));
    ASSERT_EQ(rig.txf().WriteFile(h, 0, block + std::to_string(i)), STATUS_SUCCESS);
    ASSERT_EQ(rig.Commit(tx), STATUS_SUCCESS);
  }
  rig.world().trace().set_observer(nullptr);
  EXPECT_GE(snapshots, 2);
  auto files = rig.txf().committed();
  rig.CrashAndRecover(9);
  ASSERT_TRUE(rig.ready());
  EXPECT_EQ(rig.txf().committed(), files);
  EXPECT_EQ(rig.txf().CommittedContents("\\f0"), block + "119");
}

// ---- Windows' naming and sharing rules (issue 18) ----------------------------------

// NTFS names compare without case and keep the spelling they were created
// with ("Naming Files, Paths, and Namespaces": "NTFS ... is case-preserving
// and case-insensitive by default"); a name a transaction reserved is
// reserved in every spelling.
TEST_F(TxfTest, NamesAreCaseInsensitiveAndCasePreserving) {
  ASSERT_EQ(fs().CreateDirectoryTransacted("\\Dir", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  MakeFile("\\dir\\File.TXT", "x");
  EXPECT_EQ(Committed("\\Dir\\File.TXT"), "x");
  EXPECT_EQ(fs().committed().count("\\Dir\\File.TXT"), 1u);
  EXPECT_EQ(TryOpen("\\DIR\\file.txt", GENERIC_WRITE, CREATE_NEW), STATUS_OBJECT_NAME_COLLISION);
  HANDLE h = Open("\\dIr\\fILE.txt", GENERIC_READ | GENERIC_WRITE, OPEN_EXISTING);
  ASSERT_EQ(fs().WriteFile(h, 1, "y"), STATUS_SUCCESS);
  ASSERT_EQ(fs().CloseFileHandle(h), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\Dir\\File.TXT"), "xy");
  FindData found;
  HANDLE find = INVALID_HANDLE_VALUE;
  ASSERT_EQ(fs().FindFirstFileTransacted("\\DIR\\file*", INVALID_HANDLE_VALUE, &found, &find), STATUS_SUCCESS);
  EXPECT_EQ(found.name, "File.TXT");
  ASSERT_EQ(fs().FindClose(find), STATUS_SUCCESS);
  HANDLE t1 = rig_.Begin(), t2 = rig_.Begin();
  HANDLE created = Open("\\Dir\\New", GENERIC_WRITE, CREATE_NEW, t1);
  EXPECT_EQ(TryOpen("\\dir\\NEW", GENERIC_WRITE, CREATE_NEW, t2), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(TryOpen("\\dir\\new", GENERIC_WRITE, OPEN_ALWAYS, t1), STATUS_OBJECT_NAME_EXISTS);
  ASSERT_EQ(fs().CloseFileHandle(created), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(t1), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\Dir\\New"), "");
  EXPECT_EQ(fs().committed().count("\\Dir\\New"), 1u);
  ASSERT_EQ(fs().DeleteFileTransacted("\\DIR\\FILE.TXT", INVALID_HANDLE_VALUE), STATUS_SUCCESS);
  EXPECT_EQ(Committed("\\Dir\\File.TXT"), "<absent>");
  EXPECT_EQ(fs().MoveFileTransacted("\\Dir\\New", "\\dir\\new", 0, INVALID_HANDLE_VALUE), STATUS_INVALID_PARAMETER);
  ASSERT_EQ(rig_.Rollback(t2), STATUS_SUCCESS);
}

// CreateFileTransacted / SetFileAttributesTransacted, "Transacted
// Operations": "if a transacted thread opens the file first, any subsequent
// threads that try modifying the file before the transaction is committed
// receive a sharing violation. If a non-transacted thread modifies the file
// before the transacted thread does, and the file is still open when the
// transaction attempts to open it, the transaction receives the error
// ERROR_TRANSACTIONAL_CONFLICT."
TEST_F(TxfTest, ShareModesInBothConflictDirections) {
  MakeFile("\\a", "1");
  MakeFile("\\b", "2");
  // A transaction modifies \a first: other writers get a sharing violation.
  HANDLE tx = rig_.Begin();
  HANDLE writer = Open("\\a", GENERIC_WRITE, OPEN_EXISTING, tx);
  ASSERT_EQ(fs().WriteFile(writer, 0, "t"), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\a", GENERIC_WRITE, OPEN_EXISTING), STATUS_SHARING_VIOLATION);
  EXPECT_EQ(TryOpen("\\A", GENERIC_WRITE, OPEN_EXISTING, rig_.Begin()), STATUS_SHARING_VIOLATION);
  // A non-transacted writer has \b open first: the transaction conflicts.
  HANDLE plain = Open("\\b", GENERIC_WRITE, OPEN_EXISTING);
  ASSERT_EQ(fs().WriteFile(plain, 0, "p"), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\b", GENERIC_READ, OPEN_EXISTING, tx), STATUS_TRANSACTIONAL_CONFLICT);
  EXPECT_EQ(TryOpen("\\B", GENERIC_WRITE, OPEN_EXISTING, tx), STATUS_TRANSACTIONAL_CONFLICT);
  ASSERT_EQ(fs().CloseFileHandle(plain), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\b", GENERIC_WRITE, OPEN_EXISTING, tx), STATUS_SUCCESS);  // closed: no conflict
  ASSERT_EQ(fs().CloseFileHandle(writer), STATUS_SUCCESS);
  ASSERT_EQ(rig_.Commit(tx), STATUS_SUCCESS);
  EXPECT_EQ(TryOpen("\\a", GENERIC_WRITE, OPEN_EXISTING), STATUS_SUCCESS);  // the lock ended with it
  EXPECT_EQ(Committed("\\a"), "t");
}

}  // namespace
}  // namespace ktmtest
