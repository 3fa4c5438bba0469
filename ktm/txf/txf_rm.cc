// TxfRm implementation: see txf_rm.h and docs/txf-txr.md. Each call checks,
// in the documented order, parameters, the transaction, the namespace and
// then the lock table, and only then changes anything: a failed call has no
// effect (except enlisting its transaction).
#include "ktm/txf/txf_rm.h"

#include <algorithm>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ktm/assert.h"
#include "ktm/storage/page_store.h"

namespace ktm::txf {
namespace {

constexpr uint64_t kRootId = 1;
constexpr uint64_t kHandleTag = uint64_t{0x46} << 48;  // 'F': never a kernel or TxR handle

bool ValidComponent(std::string_view c, bool wildcards) {
  if (c.empty() || c.size() > kComponentCharsMax || c == "." || c == "..") return false;
  for (char ch : c) {
    if (static_cast<unsigned char>(ch) < 0x20) return false;
    if (std::string_view("\\/:\"<>|").find(ch) != std::string_view::npos) return false;
    if (!wildcards && (ch == '*' || ch == '?')) return false;
  }
  return true;
}

bool ValidPath(const std::string& path) {
  if (path == "\\") return true;
  if (path.empty() || path.size() > kPathCharsMax || path[0] != '\\') return false;
  size_t start = 1;
  while (true) {
    size_t end = path.find('\\', start);
    std::string_view c(path.data() + start, (end == std::string::npos ? path.size() : end) - start);
    if (!ValidComponent(c, false)) return false;
    if (end == std::string::npos) return true;
    start = end + 1;
  }
}

std::string Parent(const std::string& path) {
  size_t pos = path.rfind('\\');
  return pos == 0 || pos == std::string::npos ? "\\" : path.substr(0, pos);
}

std::string Leaf(const std::string& path) { return path.substr(path.rfind('\\') + 1); }

// The prefix every path strictly beneath a directory starts with.
std::string BeneathPrefix(const std::string& directory) { return directory == "\\" ? "\\" : directory + "\\"; }

bool IsBeneath(const std::string& path, const std::string& directory) {
  std::string prefix = BeneathPrefix(directory);
  return path.size() > prefix.size() && StartsWithIgnoringCase(path, prefix);
}

// '*' matches any run of characters, '?' any one character; without case.
bool WildcardMatch(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || FoldCase(pattern[p]) == FoldCase(name[n]))) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string Resized(std::string contents, uint64_t size) {
  contents.resize(size, '\0');
  return contents;
}

// The store key of a path: names compare without case (ktm/case_fold.h).
std::string StoreKey(std::string_view path) {
  std::string key(path);
  for (char& c : key) c = FoldCase(c);
  return key;
}

}  // namespace

std::string TxfRm::ContentDigest(const std::string& contents) {
  uint64_t h = 14695981039346656037ull;
  for (char c : contents) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%d:%016x", contents.size(), h);
}

TxfRm::TxfRm(Kernel* kernel, sim::Host* host, sim::Disk* disk, HANDLE tm, TxfOptions options)
    : RmBase(kernel, host, disk, tm, options.rm, "txf"),
      options_(std::move(options)),
      next_handle_((host->incarnation() & 0xffff) << 30),
      boot_(host->incarnation() + 1),
      cache_(options_.cache_records_max) {
  KTM_ASSERT(options_.file_bytes_max <= options_.volume_bytes_max, "a file must fit the volume");
  Node root{.directory = true, .id = kRootId};
  committed_bytes_ = EntryBytes("\\", root);
  committed_["\\"] = std::move(root);
}

TxfRm::~TxfRm() = default;

// ---------------------------------------------------------------------------
// Encoding of change sets and of the committed namespace.

uint64_t TxfRm::EntryBytes(const std::string& path, const std::optional<Node>& node) {
  return 4 + path.size() + 1 + (node ? 1 + 8 + 4 + node->contents.size() : 0);
}

void TxfRm::PutEntry(Writer& w, const std::string& path, const std::optional<Node>& node) {
  w.Str(path);
  w.U8(node ? 1 : 0);
  if (!node) return;
  w.U8(node->directory ? 1 : 0);
  w.U64(node->id);
  w.Str(node->contents);
}

TxfRm::Change TxfRm::GetEntry(Reader& r) {
  Change change;
  change.first = r.Str();
  if (r.U8() == 0) return change;
  Node node;
  node.directory = r.U8() != 0;
  node.id = r.U64();
  node.contents = r.Str();
  change.second = std::move(node);
  return change;
}

TxfRm::ChangeList TxfRm::DecodeList(Reader& r) {
  ChangeList list;
  uint32_t n = r.U32();
  for (uint32_t i = 0; i < n && r.ok(); ++i) list.push_back(GetEntry(r));
  KTM_ASSERT(r.ok(), "txf: a change list does not decode");
  return list;
}

uint64_t TxfRm::StateBytesMax() const {
  // Entries, plus the count prefix of the committed list and of each transaction's list.
  return options_.volume_bytes_max + 4 + 4ull * options_.rm.transactions_max;
}

bool TxfRm::HasChanges(const Guid& uow) const {
  auto it = txs_.find(uow);
  return it != txs_.end() && !it->second.changes.empty();
}

void TxfRm::EncodeChanges(const Guid& uow, Writer& w) const {
  const TxChanges& tx = txs_.at(uow);
  w.U32(static_cast<uint32_t>(tx.changes.size()));
  for (const auto& [path, node] : tx.changes) PutEntry(w, path, node);
}

void TxfRm::ApplyChanges(Reader& r) { ApplyToCommitted(DecodeList(r)); }

void TxfRm::ApplyToCommitted(const ChangeList& changes) {
  for (const auto& [path, node] : changes) {
    KTM_ASSERT(path != "\\" || (node && node->directory), "txf: the root directory cannot change");
    if (paged()) {
      // The change is the path's whole new state: it needs nothing from the
      // store. Dirty (pinned) until the store holds it.
      if (path == "\\") continue;  // the root always exists and is no store record
      const std::string key = StoreKey(path);
      MarkCommittedDirty(key);
      cache_.MarkDirty(key);
      committed_.erase(path);  // a re-created name takes its new spelling
      if (node) committed_[path] = *node;
      continue;
    }
    MarkCommittedDirty(StoreKey(path));
    if (auto it = committed_.find(path); it != committed_.end()) {
      committed_bytes_ -= EntryBytes(path, it->second);
      committed_.erase(it);
    }
    if (!node) continue;
    committed_bytes_ += EntryBytes(path, node);
    committed_[path] = *node;
    next_id_ = std::max(next_id_, node->id + 1);
  }
}

void TxfRm::RestorePrepared(const Guid& uow, Reader& r) {
  Stage(uow, DecodeList(r));
}

void TxfRm::EndTransaction(const Guid& uow) {
  if (auto it = txs_.find(uow); it != txs_.end()) {
    for (const auto& [path, node] : it->second.changes) pending_bytes_ -= EntryBytes(path, node);
    txs_.erase(it);
  }
  for (auto it = locks_.begin(); it != locks_.end();) {
    it = it->second == uow ? locks_.erase(it) : std::next(it);
  }
}

std::optional<std::string> TxfRm::CommittedRecord(const std::string& key) const {
  KTM_ASSERT(cache_.Dirty(key), name() + ": a flush asks for " + key + ", not dirty in the cache");
  auto it = committed_.find(key);
  if (it == committed_.end()) return std::nullopt;
  Writer w;
  PutEntry(w, it->first, it->second);
  return std::string(w.data().begin(), w.data().end());
}

TxfRm::Change TxfRm::DecodeRecord(const std::string& key, const std::string& record) {
  Reader r(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
  Change change = GetEntry(r);
  KTM_ASSERT(r.done() && change.second.has_value() && StoreKey(change.first) == key,
             "txf: a store record does not decode to its key");
  return change;
}

// Start's stream of the store (before the RM log's replay): the records
// stream through the cache, which keeps the last cache_records_max of them.
void TxfRm::LoadCommittedRecord(const std::string& key, const std::string& record) {
  Change change = DecodeRecord(key, record);
  committed_.erase(change.first);
  committed_[change.first] = std::move(*change.second);
  KeepClean(key, false);
  EvictClean();
}

void TxfRm::EncodeCommitted(Writer& w) const {
  w.U32(static_cast<uint32_t>(committed_.size()));
  for (const auto& [path, node] : committed_) PutEntry(w, path, node);
}

void TxfRm::DecodeCommitted(Reader& r) {
  committed_.clear();
  committed_bytes_ = 0;
  ApplyToCommitted(DecodeList(r));
  KTM_ASSERT(committed_.count("\\") == 1, "txf: a snapshot without the root directory");
}

// ---------------------------------------------------------------------------
// Views, locks and handles.

const TxfRm::Node* TxfRm::Lookup(const Actor& a, const std::string& path) const {
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      if (auto c = tx->second.changes.find(path); c != tx->second.changes.end()) {
        return c->second ? &*c->second : nullptr;
      }
    }
  }
  auto it = committed_.find(path);
  return it == committed_.end() ? nullptr : &it->second;
}

std::string TxfRm::Spelled(const Actor& a, const std::string& path) const {
  if (path == "\\") return path;
  std::string out;
  for (size_t start = 1; start <= path.size();) {
    size_t end = std::min(path.find('\\', start), path.size());
    std::string prefix = absl::StrCat(out, "\\", path.substr(start, end - start));
    const std::string* spelling = nullptr;
    if (a.transacted) {
      if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
        if (auto c = tx->second.changes.find(prefix); c != tx->second.changes.end() && c->second) {
          spelling = &c->first;
        }
      }
    }
    if (spelling == nullptr && Lookup(a, prefix) != nullptr) spelling = &committed_.find(prefix)->first;
    out = spelling ? *spelling : prefix;
    start = end + 1;
  }
  return out;
}

bool TxfRm::LockedByOther(const Actor& a, const std::string& path) const {
  auto it = locks_.find(path);
  return it != locks_.end() && (!a.transacted || it->second != a.uow);
}

bool TxfRm::PinnedByOther(const Actor& a, const std::string& directory) const {
  std::string prefix = BeneathPrefix(directory);
  for (auto it = locks_.lower_bound(prefix); it != locks_.end() && StartsWithIgnoringCase(it->first, prefix); ++it) {
    if (!EqualsIgnoringCase(it->first, directory) && (!a.transacted || it->second != a.uow)) return true;
  }
  return false;
}

std::vector<std::pair<std::string, TxfRm::Node>> TxfRm::Subtree(const Actor& a, const std::string& directory) const {
  std::string prefix = BeneathPrefix(directory);
  std::set<std::string, Names> paths;
  for (auto it = committed_.lower_bound(prefix); it != committed_.end() && StartsWithIgnoringCase(it->first, prefix);
       ++it) {
    if (!EqualsIgnoringCase(it->first, directory)) paths.insert(it->first);
  }
  if (a.transacted) {
    if (auto tx = txs_.find(a.uow); tx != txs_.end()) {
      for (const auto& [path, node] : tx->second.changes) {
        if (IsBeneath(path, directory)) paths.insert(path);
      }
    }
  }
  std::vector<std::pair<std::string, Node>> out;
  for (const auto& path : paths) {
    if (const Node* node = Lookup(a, path)) out.emplace_back(path, *node);
  }
  return out;
}

// A handle takes part in sharing checks while its transaction lives (the
// handles of an ended transaction only wait to be closed).
bool TxfRm::Counts(const OpenHandle& open) const {
  if (open.find || !open.actor.transacted) return !open.find;
  RmTxPhase phase = PhaseOf(open.actor.uow);
  return phase != RmTxPhase::kNone && phase != RmTxPhase::kDone;
}

bool TxfRm::NonTransactedWriterOn(const std::string& path, uint64_t id) const {
  for (const auto& [h, open] : handles_) {
    if (Counts(open) && !open.actor.transacted && (open.access & GENERIC_WRITE) && EqualsIgnoringCase(open.path, path) && open.id == id) {
      return true;
    }
  }
  return false;
}

bool TxfRm::TransactedHandleOn(const std::string& path, uint64_t id) const {
  for (const auto& [h, open] : handles_) {
    if (Counts(open) && open.actor.transacted && EqualsIgnoringCase(open.path, path) && open.id == id) return true;
  }
  return false;
}

// Handles that keep a file from being deleted or renamed by a: every handle
// except another transaction's snapshot reader (files are opened without
// FILE_SHARE_DELETE; a snapshot does not need the name any more).
bool TxfRm::BlockingHandleOn(const Actor& a, const std::string& path, uint64_t id) const {
  for (const auto& [h, open] : handles_) {
    if (!Counts(open) || !EqualsIgnoringCase(open.path, path) || open.id != id) continue;
    bool other_snapshot = a.transacted && open.actor.transacted && open.actor.uow != a.uow &&
                          open.view == View::kSnapshot;
    if (!other_snapshot) return true;
  }
  return false;
}

void TxfRm::Lock(const Actor& a, const std::string& path) {
  if (!a.transacted) return;
  auto [it, inserted] = locks_.emplace(path, a.uow);
  KTM_ASSERT(it->second == a.uow, absl::StrCat("txf: lock of ", path, " taken over from another transaction"));
}

NTSTATUS TxfRm::NewHandle(OpenHandle handle, HANDLE* out) {
  HANDLE h = kHandleTag | (next_handle_++ << 2);
  if (!handle.find) AddHandlePath(handle.path);
  handles_.emplace(h, std::move(handle));
  *out = h;
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::BeginCall(HANDLE transaction, Actor* actor) {
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  *actor = Actor{};
  if (transaction == INVALID_HANDLE_VALUE) return STATUS_SUCCESS;
  actor->transacted = true;
  return Enlist(transaction, &actor->uow);
}

NTSTATUS TxfRm::ResolveHandle(HANDLE handle, bool find, OpenHandle** out) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return STATUS_INVALID_HANDLE;
  if (it->second.find != find) return STATUS_OBJECT_TYPE_MISMATCH;
  if (it->second.actor.transacted) {
    RmTxPhase phase = PhaseOf(it->second.actor.uow);
    if (phase == RmTxPhase::kNone || phase == RmTxPhase::kDone) return STATUS_HANDLE_NO_LONGER_VALID;
    if (phase != RmTxPhase::kActive) return STATUS_TRANSACTION_NOT_ACTIVE;
  }
  *out = &it->second;
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// The checks calls share (docs/txf-txr.md gives their order).

NTSTATUS TxfRm::CheckParent(const Actor& a, const std::string& path) const {
  const Node* parent = Lookup(a, Parent(path));
  return parent != nullptr && parent->directory ? STATUS_SUCCESS : STATUS_OBJECT_PATH_NOT_FOUND;
}

// Creating a name absent from a's view: it may be reserved by another
// transaction's create, and the parent may be another transaction's change.
NTSTATUS TxfRm::CheckCreate(const Actor& a, const std::string& path) const {
  if (LockedByOther(a, path) || LockedByOther(a, Parent(path))) return STATUS_TRANSACTIONAL_CONFLICT;
  return STATUS_SUCCESS;
}

// Opening an existing file for writing (the §6.2 table).
NTSTATUS TxfRm::CheckWriterOpen(const Actor& a, const std::string& path, const Node& node) const {
  if (a.transacted) {
    if (NonTransactedWriterOn(path, node.id)) return STATUS_TRANSACTIONAL_CONFLICT;
    if (LockedByOther(a, path)) return STATUS_SHARING_VIOLATION;
    return STATUS_SUCCESS;
  }
  if (LockedByOther(a, path) || TransactedHandleOn(path, node.id)) return STATUS_SHARING_VIOLATION;
  return STATUS_SUCCESS;
}

// Deleting (or renaming away) an entry present in a's view.
NTSTATUS TxfRm::CheckRemove(const Actor& a, const std::string& path, const Node& node) const {
  if (!node.directory) {
    if (a.transacted && NonTransactedWriterOn(path, node.id)) return STATUS_TRANSACTIONAL_CONFLICT;
    if (LockedByOther(a, path)) return STATUS_SHARING_VIOLATION;
    if (BlockingHandleOn(a, path, node.id)) return STATUS_SHARING_VIOLATION;
  } else {
    if (LockedByOther(a, path)) return STATUS_SHARING_VIOLATION;
    if (PinnedByOther(a, path)) return STATUS_CANT_BREAK_TRANSACTIONAL_DEPENDENCY;
    for (const auto& [entry, child] : Subtree(a, path)) {
      if (!child.directory && BlockingHandleOn(a, entry, child.id)) return STATUS_SHARING_VIOLATION;
    }
  }
  if (LockedByOther(a, Parent(path))) return STATUS_TRANSACTIONAL_CONFLICT;
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::CheckBudget(const Actor& a, const ChangeList& changes) const {
  // A transaction's change replaces its earlier change of the path (a
  // removal stays as a tombstone); a non-transacted one replaces the
  // committed entry (a removal frees it).
  int64_t delta = 0;
  auto tx = a.transacted ? txs_.find(a.uow) : txs_.end();
  for (const auto& [path, node] : changes) {
    if (a.transacted) {
      delta += static_cast<int64_t>(EntryBytes(path, node));
      if (tx == txs_.end()) continue;
      if (auto c = tx->second.changes.find(path); c != tx->second.changes.end()) {
        delta -= static_cast<int64_t>(EntryBytes(path, c->second));
      }
      continue;
    }
    if (node) delta += static_cast<int64_t>(EntryBytes(path, node));
    if (auto it = committed_.find(path); it != committed_.end()) {
      delta -= static_cast<int64_t>(EntryBytes(path, it->second));
    }
  }
  // Paged: the committed bytes are not known without reading every page;
  // the bound applies to the open transactions' changes (a page that would
  // overflow refuses the flush).
  if (paged() && !a.transacted) delta = 0;
  int64_t total = static_cast<int64_t>((paged() ? 0 : committed_bytes_) + pending_bytes_) + delta;
  const uint64_t limit = paged() ? PagedCapacityBytes() : options_.volume_bytes_max;
  return total <= static_cast<int64_t>(limit) ? STATUS_SUCCESS : STATUS_DISK_FULL;
}

void TxfRm::Stage(const Guid& uow, const ChangeList& changes) {
  TxChanges& tx = txs_[uow];
  for (const auto& [path, node] : changes) {
    if (auto c = tx.changes.find(path); c != tx.changes.end()) {
      pending_bytes_ -= EntryBytes(c->first, c->second);
      tx.changes.erase(c);  // a re-created name takes its new spelling
    }
    tx.changes[path] = node;
    pending_bytes_ += EntryBytes(path, node);
    Lock(Actor{.transacted = true, .uow = uow}, path);
  }
}

NTSTATUS TxfRm::Perform(const Actor& a, const ChangeList& changes, const char* what) {
  if (NTSTATUS s = CheckBudget(a, changes); s != STATUS_SUCCESS) return s;
  if (a.transacted) {
    Stage(a.uow, changes);
    return STATUS_SUCCESS;
  }
  Writer w;
  w.U32(static_cast<uint32_t>(changes.size()));
  for (const auto& [path, node] : changes) PutEntry(w, path, node);
  NTSTATUS s = LogNonTransacted(w.data(), [this, &changes] { ApplyToCommitted(changes); });
  if (s == STATUS_SUCCESS) TraceRm("nontx", {{"op", what}, {"path", changes.front().first}});
  return s;
}

void TxfRm::TraceWrite(const Actor& a, const std::string& path, const std::optional<Node>& node) {
  if (!a.transacted) return;
  ReportWrite(a.uow, path, node ? ContentDigest(node->contents) : "");
}

void TxfRm::TraceRead(const Actor& a, const std::string& path, const std::string& contents) {
  if (!a.transacted) return;
  ReportRead(a.uow, path, ContentDigest(contents));
}

// ---------------------------------------------------------------------------
// Handle-based calls.

NTSTATUS TxfRm::CreateFileTransacted(const std::string& typed_path, uint32_t desired_access,
                                     uint32_t creation_disposition, HANDLE transaction, HANDLE* file) {
  if (file == nullptr || desired_access == 0 || (desired_access & ~(GENERIC_READ | GENERIC_WRITE)) != 0 ||
      creation_disposition < CREATE_NEW || creation_disposition > TRUNCATE_EXISTING ||
      (creation_disposition != OPEN_EXISTING && (desired_access & GENERIC_WRITE) == 0)) {
    return STATUS_INVALID_PARAMETER;
  }
  if (!ValidPath(typed_path)) return STATUS_OBJECT_NAME_INVALID;
  if (handles_.size() >= options_.handles_max) return STATUS_INSUFFICIENT_RESOURCES;
  if (NTSTATUS s = EnsureResident({typed_path}); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string path = Spelled(a, typed_path);
  if (NTSTATUS s = CheckParent(a, path); s != STATUS_SUCCESS) return s;
  const Node* node = Lookup(a, path);
  if (node != nullptr && node->directory) return STATUS_FILE_IS_A_DIRECTORY;
  bool writer = (desired_access & GENERIC_WRITE) != 0;
  NTSTATUS result = STATUS_SUCCESS;
  std::optional<Node> changed;
  if (node == nullptr) {
    if (creation_disposition == OPEN_EXISTING || creation_disposition == TRUNCATE_EXISTING) {
      return STATUS_OBJECT_NAME_NOT_FOUND;
    }
    if (NTSTATUS s = CheckCreate(a, path); s != STATUS_SUCCESS) return s;
    changed = Node{.directory = false, .id = NewId()};
  } else {
    if (creation_disposition == CREATE_NEW) return STATUS_OBJECT_NAME_COLLISION;
    if (writer) {
      if (NTSTATUS s = CheckWriterOpen(a, path, *node); s != STATUS_SUCCESS) return s;
    } else if (a.transacted && NonTransactedWriterOn(path, node->id)) {
      return STATUS_TRANSACTIONAL_CONFLICT;
    }
    if (creation_disposition == CREATE_ALWAYS || creation_disposition == TRUNCATE_EXISTING) {
      changed = Node{.directory = false, .id = node->id};
    }
    if (creation_disposition == CREATE_ALWAYS || creation_disposition == OPEN_ALWAYS) {
      result = STATUS_OBJECT_NAME_EXISTS;
    }
  }
  if (changed) {
    if (NTSTATUS s = Perform(a, {{path, changed}}, "create"); s != STATUS_SUCCESS) return s;
    TraceWrite(a, path, changed);
  }
  if (writer) Lock(a, path);
  const Node* opened = Lookup(a, path);
  KTM_ASSERT(opened != nullptr && !opened->directory, "txf: an opened file is missing from the opener's view");
  OpenHandle handle{.actor = a, .path = path, .id = opened->id, .access = desired_access};
  if (a.transacted) {
    auto lock = locks_.find(path);
    bool own = lock != locks_.end() && lock->second == a.uow;
    handle.view = own ? View::kTransacted : View::kSnapshot;
    if (!own) handle.snapshot = opened->contents;
  }
  (void)NewHandle(std::move(handle), file);
  return result;
}

NTSTATUS TxfRm::ReadFile(HANDLE file, uint64_t offset, uint32_t length, std::string* data) {
  OpenHandle* h = nullptr;
  if (NTSTATUS s = ResolveHandle(file, false, &h); s != STATUS_SUCCESS) return s;
  if (data == nullptr) return STATUS_INVALID_PARAMETER;
  if ((h->access & GENERIC_READ) == 0) return STATUS_ACCESS_DENIED;
  const std::string* contents = &h->snapshot;
  if (h->view != View::kSnapshot) {
    const Node* node = Lookup(h->actor, h->path);
    if (h->view == View::kLive && (node == nullptr || node->id != h->id)) return STATUS_FILE_DELETED;
    KTM_ASSERT(node != nullptr && node->id == h->id, "txf: a transaction's own file vanished under its handle");
    contents = &node->contents;
  }
  if (length > 0 && offset >= contents->size()) return STATUS_END_OF_FILE;
  *data = length == 0 ? std::string() : contents->substr(offset, length);
  if (h->actor.transacted) {
    auto tx = txs_.find(h->actor.uow);
    bool own_changes = tx != txs_.end() && tx->second.changes.count(h->path) > 0;
    if (h->view == View::kSnapshot && own_changes) {
      // The snapshot predates the transaction's own changes: not a read the
      // history's read-your-own-writes rule applies to.
      TraceTx("txf.snapshot_read", h->actor.uow, {{"key", h->path}, {"value", ContentDigest(*contents)}});
    } else {
      TraceRead(h->actor, h->path, *contents);
    }
  }
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::ModifyContents(HANDLE file, uint64_t offset, const std::string& data, bool set_size, uint64_t size) {
  OpenHandle* h = nullptr;
  if (NTSTATUS s = ResolveHandle(file, false, &h); s != STATUS_SUCCESS) return s;
  if ((h->access & GENERIC_WRITE) == 0) return STATUS_ACCESS_DENIED;
  KTM_ASSERT(h->view != View::kSnapshot, "txf: a writer handle with a snapshot view");
  // A writer's file cannot vanish: deleting or renaming it (or a directory
  // above it) is refused while the handle is open, and a transaction's own
  // file is locked by it.
  const Node* node = Lookup(h->actor, h->path);
  KTM_ASSERT(node != nullptr && node->id == h->id,
             absl::StrCat("txf: the file of a writer handle vanished: ", h->path));
  if (!set_size && data.empty()) return STATUS_SUCCESS;  // a zero-byte write changes nothing
  if (!set_size && offset > options_.file_bytes_max) return STATUS_DISK_FULL;  // (keeps offset + size from wrapping)
  uint64_t end = set_size ? size : offset + data.size();
  if (end > options_.file_bytes_max) return STATUS_DISK_FULL;
  Node changed = *node;
  if (set_size) {
    changed.contents = Resized(std::move(changed.contents), size);
  } else {
    if (changed.contents.size() < end) changed.contents = Resized(std::move(changed.contents), end);
    changed.contents.replace(offset, data.size(), data);
  }
  Actor a = h->actor;
  std::string path = h->path;
  if (NTSTATUS s = Perform(a, {{path, changed}}, set_size ? "set_end_of_file" : "write"); s != STATUS_SUCCESS) {
    return s;
  }
  TraceWrite(a, path, changed);
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::WriteFile(HANDLE file, uint64_t offset, const std::string& data) {
  return ModifyContents(file, offset, data, false, 0);
}

NTSTATUS TxfRm::SetEndOfFile(HANDLE file, uint64_t size) { return ModifyContents(file, 0, "", true, size); }

NTSTATUS TxfRm::CloseFileHandle(HANDLE file) {
  auto it = handles_.find(file);
  if (it == handles_.end()) return STATUS_INVALID_HANDLE;
  if (it->second.find) return STATUS_OBJECT_TYPE_MISMATCH;
  DropHandlePath(it->second.path);
  handles_.erase(it);
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// Name-based calls.

NTSTATUS TxfRm::DeleteFileTransacted(const std::string& typed_path, HANDLE transaction) {
  if (!ValidPath(typed_path)) return STATUS_OBJECT_NAME_INVALID;
  if (NTSTATUS s = EnsureResident({typed_path}); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string path = Spelled(a, typed_path);
  if (NTSTATUS s = CheckParent(a, path); s != STATUS_SUCCESS) return s;
  const Node* node = Lookup(a, path);
  if (node == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (node->directory) return STATUS_FILE_IS_A_DIRECTORY;
  if (NTSTATUS s = CheckRemove(a, path, *node); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = Perform(a, {{path, std::nullopt}}, "delete"); s != STATUS_SUCCESS) return s;
  TraceWrite(a, path, std::nullopt);
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::CreateDirectoryTransacted(const std::string& typed_path, HANDLE transaction) {
  if (!ValidPath(typed_path)) return STATUS_OBJECT_NAME_INVALID;
  if (NTSTATUS s = EnsureResident({typed_path}); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string path = Spelled(a, typed_path);
  if (NTSTATUS s = CheckParent(a, path); s != STATUS_SUCCESS) return s;
  if (Lookup(a, path) != nullptr) return STATUS_OBJECT_NAME_COLLISION;
  if (NTSTATUS s = CheckCreate(a, path); s != STATUS_SUCCESS) return s;
  return Perform(a, {{path, Node{.directory = true, .id = NewId()}}}, "create_directory");
}

NTSTATUS TxfRm::RemoveDirectoryTransacted(const std::string& typed_path, HANDLE transaction) {
  if (!ValidPath(typed_path)) return STATUS_OBJECT_NAME_INVALID;
  if (NTSTATUS s = EnsureResident({typed_path}); s != STATUS_SUCCESS) return s;
  if (typed_path != "\\") {  // (the root is refused below; its subtree is the whole volume)
    if (NTSTATUS s = EnsureSubtree(typed_path); s != STATUS_SUCCESS) return s;
  }
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string path = Spelled(a, typed_path);
  if (NTSTATUS s = CheckParent(a, path); s != STATUS_SUCCESS) return s;
  const Node* node = Lookup(a, path);
  if (node == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (!node->directory) return STATUS_NOT_A_DIRECTORY;
  if (path == "\\") return STATUS_ACCESS_DENIED;
  if (!Subtree(a, path).empty()) return STATUS_DIRECTORY_NOT_EMPTY;
  if (NTSTATUS s = CheckRemove(a, path, *node); s != STATUS_SUCCESS) return s;
  return Perform(a, {{path, std::nullopt}}, "remove_directory");
}

NTSTATUS TxfRm::MoveFileTransacted(const std::string& typed_existing, const std::string& typed_new_name,
                                   uint32_t flags, HANDLE transaction) {
  if ((flags & ~MOVEFILE_REPLACE_EXISTING) != 0) return STATUS_INVALID_PARAMETER;
  if (!ValidPath(typed_existing) || !ValidPath(typed_new_name)) return STATUS_OBJECT_NAME_INVALID;
  // A rename that only changes case is refused too (docs/ktm-decisions.md).
  if (EqualsIgnoringCase(typed_existing, typed_new_name) || IsBeneath(typed_new_name, typed_existing)) {
    return STATUS_INVALID_PARAMETER;
  }
  if (typed_existing == "\\" || typed_new_name == "\\") return STATUS_ACCESS_DENIED;
  if (NTSTATUS s = EnsureResident({typed_existing, typed_new_name}); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = EnsureSubtree(typed_existing); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string existing = Spelled(a, typed_existing);
  const std::string new_name = Spelled(a, typed_new_name);
  if (NTSTATUS s = CheckParent(a, existing); s != STATUS_SUCCESS) return s;
  const Node* source = Lookup(a, existing);
  if (source == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (NTSTATUS s = CheckParent(a, new_name); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = CheckRemove(a, existing, *source); s != STATUS_SUCCESS) return s;
  if (const Node* target = Lookup(a, new_name)) {
    if ((flags & MOVEFILE_REPLACE_EXISTING) == 0) return STATUS_OBJECT_NAME_COLLISION;
    if (target->directory || source->directory) return STATUS_ACCESS_DENIED;
    if (NTSTATUS s = CheckRemove(a, new_name, *target); s != STATUS_SUCCESS) return s;
  } else if (NTSTATUS s = CheckCreate(a, new_name); s != STATUS_SUCCESS) {
    return s;
  }
  std::vector<std::pair<std::string, Node>> moved = {{existing, *source}};
  for (auto& entry : Subtree(a, existing)) moved.push_back(std::move(entry));
  ChangeList changes;
  for (const auto& [path, node] : moved) changes.emplace_back(path, std::nullopt);
  for (const auto& [path, node] : moved) changes.emplace_back(new_name + path.substr(existing.size()), node);
  if (NTSTATUS s = Perform(a, changes, "move"); s != STATUS_SUCCESS) return s;
  for (const auto& [path, node] : moved) {
    if (node.directory) continue;
    TraceWrite(a, path, std::nullopt);
    TraceWrite(a, new_name + path.substr(existing.size()), node);
  }
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::CopyFileTransacted(const std::string& typed_existing, const std::string& typed_new_name,
                                   uint32_t flags, HANDLE transaction) {
  if ((flags & ~COPY_FILE_FAIL_IF_EXISTS) != 0) return STATUS_INVALID_PARAMETER;
  if (!ValidPath(typed_existing) || !ValidPath(typed_new_name)) return STATUS_OBJECT_NAME_INVALID;
  if (EqualsIgnoringCase(typed_existing, typed_new_name)) return STATUS_INVALID_PARAMETER;
  if (NTSTATUS s = EnsureResident({typed_existing, typed_new_name}); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string existing = Spelled(a, typed_existing);
  const std::string new_name = Spelled(a, typed_new_name);
  if (NTSTATUS s = CheckParent(a, existing); s != STATUS_SUCCESS) return s;
  const Node* source = Lookup(a, existing);
  if (source == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  if (source->directory) return STATUS_FILE_IS_A_DIRECTORY;
  if (a.transacted && NonTransactedWriterOn(existing, source->id)) return STATUS_TRANSACTIONAL_CONFLICT;
  if (NTSTATUS s = CheckParent(a, new_name); s != STATUS_SUCCESS) return s;
  Node copy{.directory = false, .contents = source->contents};
  if (const Node* target = Lookup(a, new_name)) {
    if (target->directory) return STATUS_ACCESS_DENIED;
    if ((flags & COPY_FILE_FAIL_IF_EXISTS) != 0) return STATUS_OBJECT_NAME_COLLISION;
    if (NTSTATUS s = CheckWriterOpen(a, new_name, *target); s != STATUS_SUCCESS) return s;
    copy.id = target->id;
  } else {
    if (NTSTATUS s = CheckCreate(a, new_name); s != STATUS_SUCCESS) return s;
    copy.id = NewId();
  }
  TraceRead(a, existing, source->contents);
  if (NTSTATUS s = Perform(a, {{new_name, copy}}, "copy"); s != STATUS_SUCCESS) return s;
  TraceWrite(a, new_name, copy);
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::GetFileAttributesTransacted(const std::string& typed_path, HANDLE transaction, FileAttributeData* data) {
  if (data == nullptr) return STATUS_INVALID_PARAMETER;
  if (!ValidPath(typed_path)) return STATUS_OBJECT_NAME_INVALID;
  if (NTSTATUS s = EnsureResident({typed_path}); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  const std::string path = Spelled(a, typed_path);
  if (NTSTATUS s = CheckParent(a, path); s != STATUS_SUCCESS) return s;
  const Node* node = Lookup(a, path);
  if (node == nullptr) return STATUS_OBJECT_NAME_NOT_FOUND;
  data->attributes = node->directory ? FILE_ATTRIBUTE_DIRECTORY : FILE_ATTRIBUTE_NORMAL;
  data->size = node->contents.size();
  if (!node->directory) TraceRead(a, path, node->contents);
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::FindFirstFileTransacted(const std::string& pattern, HANDLE transaction, FindData* data,
                                        HANDLE* find) {
  if (data == nullptr || find == nullptr) return STATUS_INVALID_PARAMETER;
  size_t slash = pattern.rfind('\\');
  if (slash == std::string::npos || pattern.size() > kPathCharsMax) return STATUS_OBJECT_NAME_INVALID;
  std::string directory = slash == 0 ? "\\" : pattern.substr(0, slash);
  std::string name = pattern.substr(slash + 1);
  if (!ValidPath(directory) || !ValidComponent(name, true)) return STATUS_OBJECT_NAME_INVALID;
  if (handles_.size() >= options_.handles_max) return STATUS_INSUFFICIENT_RESOURCES;
  if (NTSTATUS s = EnsureResident({directory}); s != STATUS_SUCCESS) return s;
  if (NTSTATUS s = EnsureSubtree(directory); s != STATUS_SUCCESS) return s;
  Actor a;
  if (NTSTATUS s = BeginCall(transaction, &a); s != STATUS_SUCCESS) return s;
  directory = Spelled(a, directory);
  const Node* dir = Lookup(a, directory);
  if (dir == nullptr || !dir->directory) return STATUS_OBJECT_PATH_NOT_FOUND;
  OpenHandle handle{.find = true, .actor = a, .path = directory, .id = dir->id};
  for (const auto& [path, node] : Subtree(a, directory)) {
    std::string leaf = Leaf(path);
    if (!EqualsIgnoringCase(Parent(path), directory) || !WildcardMatch(name, leaf)) continue;
    handle.entries.push_back(FindData{.name = leaf,
                                      .attributes = node.directory ? FILE_ATTRIBUTE_DIRECTORY : FILE_ATTRIBUTE_NORMAL,
                                      .size = node.contents.size()});
  }
  if (handle.entries.empty()) return STATUS_NO_SUCH_FILE;
  std::sort(handle.entries.begin(), handle.entries.end(),
            [](const FindData& x, const FindData& y) { return Names()(x.name, y.name); });
  *data = handle.entries.front();
  handle.next = 1;
  return NewHandle(std::move(handle), find);
}

NTSTATUS TxfRm::FindNextFile(HANDLE find, FindData* data) {
  OpenHandle* h = nullptr;
  if (NTSTATUS s = ResolveHandle(find, true, &h); s != STATUS_SUCCESS) return s;
  if (data == nullptr) return STATUS_INVALID_PARAMETER;
  if (h->next >= h->entries.size()) return STATUS_NO_MORE_FILES;
  *data = h->entries[h->next++];
  return STATUS_SUCCESS;
}

NTSTATUS TxfRm::FindClose(HANDLE find) {
  auto it = handles_.find(find);
  if (it == handles_.end()) return STATUS_INVALID_HANDLE;
  if (!it->second.find) return STATUS_OBJECT_TYPE_MISMATCH;
  handles_.erase(it);
  return STATUS_SUCCESS;
}

// ---------------------------------------------------------------------------
// Committed state.

std::map<std::string, TxfRm::Node, TxfRm::Names> TxfRm::AllCommitted() const {
  if (!paged()) return committed_;
  std::map<std::string, Node, Names> all;
  if (store() != nullptr && store()->open()) {
    absl::StatusOr<std::map<std::string, std::string>> stored = store()->InspectRecords();
    KTM_ASSERT(stored.ok(), name() + ": inspecting the store: " + stored.status().ToString());
    for (const auto& [key, record] : *stored) {
      Change change = DecodeRecord(key, record);
      all[change.first] = std::move(*change.second);
    }
  }
  cache_.ForEachWithPrefix("", [&](const std::string& key) {
    all.erase(key);
    if (auto it = committed_.find(key); it != committed_.end()) all[it->first] = it->second;
  });
  all["\\"] = committed_.at("\\");
  return all;
}

std::map<std::string, std::string> TxfRm::committed() const {
  std::map<std::string, std::string> out;
  for (const auto& [path, node] : AllCommitted()) {
    if (!node.directory) out[path] = ContentDigest(node.contents);
  }
  return out;
}

std::set<std::string> TxfRm::committed_directories() const {
  std::set<std::string> out;
  for (const auto& [path, node] : AllCommitted()) {
    if (node.directory) out.insert(path);
  }
  return out;
}

std::optional<std::string> TxfRm::CommittedContents(const std::string& path) const {
  if (paged() && !cache_.Has(StoreKey(path))) {
    std::map<std::string, Node, Names> all = AllCommitted();
    auto it = all.find(path);
    if (it == all.end() || it->second.directory) return std::nullopt;
    return it->second.contents;
  }
  auto it = committed_.find(path);
  if (it == committed_.end() || it->second.directory) return std::nullopt;
  return it->second.contents;
}

// ---------------------------------------------------------------------------
// Paged storage: the cache of paths (docs/rm-storage.md "Memory bounded by
// the pool (TxF)").

TxfRm::MemoryStats TxfRm::memory() const {
  const storage::RecordCache::Stats& c = cache_.stats();
  return MemoryStats{.resident_records = c.resident,
                     .resident_records_peak = c.resident_peak,
                     .dirty_records = c.dirty,
                     .held_records = c.held,
                     .fetches = c.reads,
                     .subtree_scans = subtree_scans_};
}

// Calls fn for every component prefix of a path's store key but the root:
// "\a\b" -> "\a", "\a\b".
template <typename Fn>
void ForEachPrefixKey(const std::string& key, Fn fn) {
  if (key.size() <= 1) return;
  for (size_t end = key.find('\\', 1);; end = key.find('\\', end + 1)) {
    fn(key.substr(0, end));
    if (end == std::string::npos) return;
  }
}

bool TxfRm::Resident(const std::string& path) const {
  if (!paged()) return true;
  bool resident = true;
  ForEachPrefixKey(StoreKey(path), [&](const std::string& key) { resident = resident && cache_.Has(key); });
  return resident;
}

void TxfRm::TouchPath(const std::string& path) {
  ForEachPrefixKey(StoreKey(path), [&](const std::string& key) { cache_.Touch(key); });
}

NTSTATUS TxfRm::EnsureResident(std::initializer_list<std::string> paths) {
  if (!paged()) return STATUS_SUCCESS;
  if (!online()) return STATUS_RM_NOT_ACTIVE;
  bool resident = true;
  for (const std::string& path : paths) {
    if (Resident(path)) continue;
    resident = false;
    Fetch(path, [](NTSTATUS) {});
  }
  if (!resident) return STATUS_PENDING;
  for (const std::string& path : paths) TouchPath(path);
  return STATUS_SUCCESS;
}

void TxfRm::Fetch(const std::string& path, std::function<void(NTSTATUS)> done) {
  if (!paged()) return done(STATUS_SUCCESS);
  if (!online() || store() == nullptr) return done(STATUS_RM_NOT_ACTIVE);
  TouchPath(path);  // what is resident stays while the rest is read in
  std::vector<std::string> missing;
  ForEachPrefixKey(StoreKey(path), [&](const std::string& key) {
    if (!cache_.Has(key)) missing.push_back(key);
  });
  std::function<void(NTSTATUS)> one = storage::RecordCache::Join(missing.size(), std::move(done));
  for (const std::string& key : missing) FetchPath(key, one);
}

void TxfRm::FetchPath(const std::string& key, std::function<void(NTSTATUS)> done) {
  cache_.Fetch(
      store(), key, alive_,
      [this, key](std::optional<std::string> record) {
        if (record) {
          Change change = DecodeRecord(key, *record);
          committed_[change.first] = std::move(*change.second);
        }
        KeepClean(key, false);
        EvictClean();
      },
      std::move(done));
}

void TxfRm::KeepClean(const std::string& key, bool cold) {
  cache_.MarkClean(key, cold);
  if (!subtree_.empty() && IsBeneath(key, subtree_)) cache_.Hold(key);
}

// Paths locked by an open transaction (its commit and its handles need
// them) and paths with an open file handle stay.
void TxfRm::EvictClean() {
  cache_.Evict([this](const std::string& key) { return locks_.count(key) > 0 || handle_paths_.count(key) > 0; },
               [this](const std::string& key) { committed_.erase(key); });
}

void TxfRm::CommittedRecordsStored(std::span<const storage::Change> records) {
  for (const storage::Change& change : records) {
    if (cache_.Dirty(change.key) && !IsCommittedDirty(change.key)) KeepClean(change.key, true);
  }
  EvictClean();
}

void TxfRm::AddHandlePath(const std::string& path) {
  if (paged()) ++handle_paths_[StoreKey(path)];
}

void TxfRm::DropHandlePath(const std::string& path) {
  if (!paged()) return;
  auto it = handle_paths_.find(StoreKey(path));
  KTM_ASSERT(it != handle_paths_.end() && it->second > 0, name() + ": a handle closed on a path with none open");
  if (--it->second == 0) handle_paths_.erase(it);
}

bool TxfRm::SubtreeResident(const std::string& directory) const {
  return !paged() || (subtree_ready_ && subtree_ == StoreKey(directory));
}

NTSTATUS TxfRm::EnsureSubtree(const std::string& path) {
  if (!paged()) return STATUS_SUCCESS;
  auto it = committed_.find(path);
  if (it == committed_.end() || !it->second.directory || SubtreeResident(path)) return STATUS_SUCCESS;
  FetchSubtree(path, [](NTSTATUS) {});
  return STATUS_PENDING;
}

void TxfRm::ReleaseSubtree() {
  if (subtree_.empty()) return;
  std::vector<std::string> held;
  cache_.ForEachWithPrefix(BeneathPrefix(subtree_), [&](const std::string& key) { held.push_back(key); });
  for (const std::string& key : held) cache_.Release(key);
  subtree_.clear();
  subtree_ready_ = false;
  ++subtree_generation_;
}

// One scan of the store, merged with the commits made meanwhile: ScanAll is
// one store operation (no flush changes a page during it), so a path
// resident when the scan delivers it is as new as the store's or newer
// (dirty), and one not resident is what the store holds; a commit after
// that makes it dirty. Everything beneath the directory stays held.
void TxfRm::FetchSubtree(const std::string& directory, std::function<void(NTSTATUS)> done) {
  if (!paged()) return done(STATUS_SUCCESS);
  if (!online() || store() == nullptr) return done(STATUS_RM_NOT_ACTIVE);
  const std::string key = StoreKey(directory);
  if (subtree_ == key) {
    if (subtree_ready_) return done(STATUS_SUCCESS);
    subtree_waiters_.push_back(std::move(done));  // its scan is on its way
    return;
  }
  // The subtree held before is released; its waiters (if its scan is still
  // running) are answered now and find it missing when they call again.
  std::vector<std::function<void(NTSTATUS)>> released = std::move(subtree_waiters_);
  ReleaseSubtree();
  subtree_ = key;
  subtree_waiters_ = {std::move(done)};
  ++subtree_scans_;
  std::vector<std::string> resident;
  cache_.ForEachWithPrefix(BeneathPrefix(key), [&](const std::string& k) { resident.push_back(k); });
  for (const std::string& k : resident) cache_.Hold(k);
  const uint64_t generation = subtree_generation_;
  std::weak_ptr<bool> alive = alive_;
  store()->ScanAll(
      [this, alive, generation](const std::string& k, const std::string& record) {
        if (alive.expired() || generation != subtree_generation_ || !IsBeneath(k, subtree_)) return;
        if (!cache_.Has(k)) {
          Change change = DecodeRecord(k, record);
          committed_[change.first] = std::move(*change.second);
          cache_.MarkClean(k, false);
        }
        cache_.Hold(k);
      },
      [this, alive, generation](absl::Status status) {
        if (alive.expired()) return;
        SubtreeScanDone(generation, storage::StoreStatus(status));
      });
  EvictClean();
  for (auto& waiter : released) waiter(STATUS_SUCCESS);
}

void TxfRm::SubtreeScanDone(uint64_t generation, NTSTATUS status) {
  if (generation != subtree_generation_) return;  // released meanwhile
  if (status == STATUS_SUCCESS) {
    subtree_ready_ = true;
  } else {
    ReleaseSubtree();
  }
  std::vector<std::function<void(NTSTATUS)>> waiters = std::move(subtree_waiters_);
  subtree_waiters_.clear();
  for (auto& waiter : waiters) waiter(status);
}

}  // namespace ktm::txf
