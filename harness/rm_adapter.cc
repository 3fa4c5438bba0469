// RmAdapter implementations: see rm_adapter.h.
#include "harness/rm_adapter.h"

#include "harness/rm_kinds.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ktm/assert.h"
#include "ktm/kv/kv_rm.h"
#include "ktm/txf/txf_rm.h"
#include "ktm/txr/txr_rm.h"

namespace harness {
namespace {

bool IsAbsent(ktm::NTSTATUS s) {
  return s == ktm::STATUS_OBJECT_NAME_NOT_FOUND || s == ktm::STATUS_OBJECT_PATH_NOT_FOUND;
}

// The calls KvRm, TxfRm and TxrRm share by name.
template <typename Rm>
class AdapterOf : public RmAdapter {
 public:
  explicit AdapterOf(std::unique_ptr<Rm> rm) : rm_(std::move(rm)) {}
  // Once the RM is online, Provision() sets up what an application would
  // install before its first transaction (best effort: a failure leaves it
  // to the transactions, which create what they miss themselves).
  void Start(std::function<void(ktm::NTSTATUS)> done) override {
    rm_->Start([this, done = std::move(done)](ktm::NTSTATUS s) {
      if (s == ktm::STATUS_SUCCESS) Provision();
      done(s);
    });
  }
  bool online() const override { return rm_->online(); }
  bool recovery_done() const override { return rm_->recovery_done(); }
  size_t in_doubt() const override { return rm_->in_doubt(); }
  bool ReplayedCommit(const std::string& uow_short) const override { return rm_->ReplayedCommit(uow_short); }
  ktm::NTSTATUS Disconnect(ktm::HANDLE transaction) override { return rm_->Disconnect(transaction); }
  std::map<std::string, std::string> committed() const override { return rm_->committed(); }

 protected:
  Rm& rm() { return *rm_; }
  const Rm& rm_const() const { return *rm_; }
  virtual void Provision() {}

 private:
  std::unique_ptr<Rm> rm_;
};

class KvAdapter : public AdapterOf<ktm::kv::KvRm> {
 public:
  using AdapterOf::AdapterOf;
  std::string HistoryKey(const std::string& key) const override { return key; }
  bool Resident(const std::string& key, bool read) const override { return !read || rm_const().Resident(key); }
  void Prefetch(const std::string& key, std::function<void()> ready) override {
    rm().Fetch(key, [ready = std::move(ready)](ktm::NTSTATUS) { ready(); });
  }
  ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) override {
    return rm().Write(transaction, key, value);
  }
  ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value, bool* traced) override {
    *traced = true;  // KvRm traces every read, "" for an absent key
    return rm().Read(transaction, key, value);
  }
};

// TxF: workload key k -> file "\d\k".
class TxfAdapter : public AdapterOf<ktm::txf::TxfRm> {
 public:
  static constexpr const char* kDirectory = "\\d";
  static constexpr uint32_t kReadBytes = 4096;

  TxfAdapter(std::unique_ptr<ktm::txf::TxfRm> rm, sim::Host* host) : AdapterOf(std::move(rm)), host_(host) {}
  ~TxfAdapter() override { *alive_ = false; }
  std::string HistoryKey(const std::string& key) const override { return absl::StrCat(kDirectory, "\\", key); }
  bool SupportsDelete() const override { return true; }
  bool SupportsMove() const override { return true; }
  // Paged: the file and the directory above it (a move's source is not
  // asked for: a move of one not in memory gets STATUS_PENDING).
  bool Resident(const std::string& key, bool /*read*/) const override { return rm_const().Resident(HistoryKey(key)); }
  void Prefetch(const std::string& key, std::function<void()> ready) override {
    rm().Fetch(HistoryKey(key), [ready = std::move(ready)](ktm::NTSTATUS) { ready(); });
  }
  // Paged: what Provision creates is read in first (at once otherwise).
  void Start(std::function<void(ktm::NTSTATUS)> done) override {
    rm().Start([this, done = std::move(done)](ktm::NTSTATUS s) {
      if (s != ktm::STATUS_SUCCESS) return done(s);
      rm().Fetch(kDirectory, [this, done](ktm::NTSTATUS) {
        Provision();
        done(ktm::STATUS_SUCCESS);
      });
    });
  }

 protected:
  // The application's directory exists before its transactions run
  // (non-transacted; STATUS_OBJECT_NAME_COLLISION when it already does).
  // Without it, concurrent first transactions all try to create "\d" and
  // all but one conflict.
  void Provision() override { (void)rm().CreateDirectoryTransacted(kDirectory, ktm::INVALID_HANDLE_VALUE); }

 public:

  ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) override {
    const std::string path = HistoryKey(key);
    ktm::HANDLE file = ktm::INVALID_HANDLE_VALUE;
    ktm::NTSTATUS s =
        rm().CreateFileTransacted(path, ktm::txf::GENERIC_WRITE, ktm::txf::CREATE_ALWAYS, transaction, &file);
    if (s == ktm::STATUS_OBJECT_PATH_NOT_FOUND) {
      // The transaction does not see "\d" (nobody committed it yet): create it as part of the transaction.
      s = rm().CreateDirectoryTransacted(kDirectory, transaction);
      if (s != ktm::STATUS_SUCCESS) return s;
      s = rm().CreateFileTransacted(path, ktm::txf::GENERIC_WRITE, ktm::txf::CREATE_ALWAYS, transaction, &file);
    }
    // STATUS_PENDING (paged: a path not in memory whose read failed) is no handle.
    if (!ktm::NT_SUCCESS(s) || s == ktm::STATUS_PENDING) return s;
    s = rm().WriteFile(file, 0, value);
    Close(file);
    return s;
  }

  ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value, bool* traced) override {
    *traced = true;
    value->clear();
    ktm::HANDLE file = ktm::INVALID_HANDLE_VALUE;
    ktm::NTSTATUS s =
        rm().CreateFileTransacted(HistoryKey(key), ktm::txf::GENERIC_READ, ktm::txf::OPEN_EXISTING, transaction, &file);
    if (IsAbsent(s)) {
      *traced = false;
      return ktm::STATUS_SUCCESS;
    }
    if (!ktm::NT_SUCCESS(s) || s == ktm::STATUS_PENDING) return s;
    s = rm().ReadFile(file, 0, kReadBytes, value);
    // An empty file: a zero-byte read still reads (and traces) the contents.
    if (s == ktm::STATUS_END_OF_FILE) s = rm().ReadFile(file, 0, 0, value);
    Close(file);
    return s;
  }

  ktm::NTSTATUS Delete(ktm::HANDLE transaction, const std::string& key) override {
    ktm::NTSTATUS s = rm().DeleteFileTransacted(HistoryKey(key), transaction);
    return IsAbsent(s) ? ktm::STATUS_SUCCESS : s;
  }

  ktm::NTSTATUS MoveThenWrite(ktm::HANDLE transaction, const std::string& from_key, const std::string& key,
                              const std::string& value) override {
    ktm::NTSTATUS s = rm().MoveFileTransacted(HistoryKey(from_key), HistoryKey(key),
                                              ktm::txf::MOVEFILE_REPLACE_EXISTING, transaction);
    if (s != ktm::STATUS_SUCCESS && !IsAbsent(s)) return s;
    return Write(transaction, key, value);
  }

  ktm::NTSTATUS HoldWriterOpen(const std::string& key, sim::TimeNs hold_ns, std::function<void()> closed) override {
    ktm::HANDLE file = ktm::INVALID_HANDLE_VALUE;
    const ktm::NTSTATUS s = rm().CreateFileTransacted(HistoryKey(key), ktm::txf::GENERIC_WRITE,
                                                      ktm::txf::OPEN_EXISTING, ktm::INVALID_HANDLE_VALUE, &file);
    if (s != ktm::STATUS_SUCCESS) return s;
    // Timers die with the host (sim/host.h); alive_ covers the adapter
    // going away without a crash (the end of the run).
    host_->After(hold_ns, [this, alive = alive_, file, closed = std::move(closed)] {
      if (!*alive) return;
      Close(file);
      closed();
    });
    return s;
  }

 private:
  void Close(ktm::HANDLE file) {
    const ktm::NTSTATUS s = rm().CloseFileHandle(file);
    KTM_ASSERT(s == ktm::STATUS_SUCCESS, "txf adapter: closing its own file handle: " + ktm::StatusName(s));
  }

  sim::Host* host_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// TxR: workload key k -> value "v" of key "HKLM\Software\ktmsim\k".
class TxrAdapter : public AdapterOf<ktm::txr::TxrRm> {
 public:
  static constexpr const char* kParent = "Software\\ktmsim\\";
  static constexpr const char* kVolatileParent = "Software\\ktmsim\\volatile";
  static constexpr const char* kValueName = "v";
  static constexpr const char* kStableChild = "stable";

  TxrAdapter(std::unique_ptr<ktm::txr::TxrRm> rm, bool volatile_keys)
      : AdapterOf(std::move(rm)), volatile_keys_(volatile_keys) {}
  std::string HistoryKey(const std::string& key) const override {
    return absl::StrCat("HKLM\\", SubKey(key), "\\", kValueName);
  }
  bool SupportsDelete() const override { return true; }
  // Paged: the key (for a twin also the stable child it asks for), the keys
  // above it and the child counts (a delete needs them).
  bool Resident(const std::string& key, bool /*read*/) const override {
    return rm_const().Resident(NeededPath(key), true);
  }
  void Prefetch(const std::string& key, std::function<void()> ready) override {
    rm().Fetch(NeededPath(key), true, [ready = std::move(ready)](ktm::NTSTATUS) { ready(); });
  }
  // Paged: what Provision creates is read in first (at once otherwise).
  void Start(std::function<void(ktm::NTSTATUS)> done) override {
    rm().Start([this, done = std::move(done)](ktm::NTSTATUS s) {
      if (s != ktm::STATUS_SUCCESS) return done(s);
      const std::string path = absl::StrCat("HKLM\\", volatile_keys_ ? kVolatileParent : "Software\\ktmsim");
      rm().Fetch(path, false, [this, done](ktm::NTSTATUS) {
        Provision();
        done(ktm::STATUS_SUCCESS);
      });
    });
  }

 protected:
  // The application's key exists before its transactions run (non-transacted).
  void Provision() override {
    ktm::HANDLE handle = ktm::INVALID_HANDLE_VALUE;
    const std::string parent(kParent, std::char_traits<char>::length(kParent) - 1);  // without the trailing '\'
    if (rm().RegCreateKeyTransacted(ktm::txr::HKEY_LOCAL_MACHINE, parent, ktm::txr::REG_OPTION_NON_VOLATILE,
                                    ktm::txr::KEY_ALL_ACCESS, &handle, nullptr,
                                    ktm::INVALID_HANDLE_VALUE) == ktm::STATUS_SUCCESS) {
      (void)rm().RegCloseKey(handle);
    }
    // The volatile twins' parent, again at every start (a crash removed it).
    if (volatile_keys_ &&
        rm().RegCreateKeyTransacted(ktm::txr::HKEY_LOCAL_MACHINE, kVolatileParent, ktm::txr::REG_OPTION_VOLATILE,
                                    ktm::txr::KEY_ALL_ACCESS, &handle, nullptr,
                                    ktm::INVALID_HANDLE_VALUE) == ktm::STATUS_SUCCESS) {
      (void)rm().RegCloseKey(handle);
    }
  }

 public:

  ktm::NTSTATUS Write(ktm::HANDLE transaction, const std::string& key, const std::string& value) override {
    const bool twin = IsTwin(key);
    ktm::HANDLE handle = ktm::INVALID_HANDLE_VALUE;
    ktm::NTSTATUS s = rm().RegCreateKeyTransacted(
        ktm::txr::HKEY_LOCAL_MACHINE, SubKey(key),
        twin ? ktm::txr::REG_OPTION_VOLATILE : ktm::txr::REG_OPTION_NON_VOLATILE,
        twin ? ktm::txr::KEY_SET_VALUE | ktm::txr::KEY_CREATE_SUB_KEY : ktm::txr::KEY_SET_VALUE, &handle, nullptr,
        transaction);
    // STATUS_PENDING (paged: a key not in memory whose read failed) is no handle.
    if (!ktm::NT_SUCCESS(s) || s == ktm::STATUS_PENDING) return s;
    if (twin) RefuseStableChild(handle, transaction);
    s = rm().RegSetValueEx(handle, kValueName, ktm::txr::REG_SZ, ktm::txr::RegSz(value));
    Close(handle);
    return s;
  }

  ktm::NTSTATUS Read(ktm::HANDLE transaction, const std::string& key, std::string* value, bool* traced) override {
    *traced = true;
    value->clear();
    ktm::HANDLE handle = ktm::INVALID_HANDLE_VALUE;
    ktm::NTSTATUS s = rm().RegOpenKeyTransacted(ktm::txr::HKEY_LOCAL_MACHINE, SubKey(key), 0,
                                                ktm::txr::KEY_QUERY_VALUE, &handle, transaction);
    if (IsAbsent(s)) {
      *traced = false;
      return ktm::STATUS_SUCCESS;
    }
    if (!ktm::NT_SUCCESS(s) || s == ktm::STATUS_PENDING) return s;
    std::vector<uint8_t> data;
    s = rm().RegQueryValueEx(handle, kValueName, nullptr, &data);
    Close(handle);
    // A key without the value: the query traced the read of "" (absent).
    if (s == ktm::STATUS_OBJECT_NAME_NOT_FOUND) return ktm::STATUS_SUCCESS;
    value->assign(data.begin(), data.end());
    return s;
  }

  ktm::NTSTATUS Delete(ktm::HANDLE transaction, const std::string& key) override {
    ktm::NTSTATUS s = rm().RegDeleteKeyTransacted(ktm::txr::HKEY_LOCAL_MACHINE, SubKey(key), 0, transaction);
    return IsAbsent(s) ? ktm::STATUS_SUCCESS : s;
  }

 private:
  bool IsTwin(const std::string& key) const { return volatile_keys_ && !key.empty() && key[0] == 'v'; }
  std::string NeededPath(const std::string& key) const {
    return IsTwin(key) ? absl::StrCat("HKLM\\", SubKey(key), "\\", kStableChild) : absl::StrCat("HKLM\\", SubKey(key));
  }
  // "k<N>" -> Software\ktmsim\k<N>; its twin "v<N>" -> Software\ktmsim\volatile\k<N>.
  std::string SubKey(const std::string& key) const {
    if (!IsTwin(key)) return absl::StrCat(kParent, key);
    return absl::StrCat(kVolatileParent, "\\k", key.substr(1));
  }
  // RegCreateKeyEx: "a stable key cannot be created under a volatile one"
  // (ERROR_CHILD_MUST_BE_VOLATILE). The twin was just created or opened in
  // this transaction, so nothing else can refuse first; a granted child is
  // an engine bug (closed again so the run ends cleanly before the assert).
  void RefuseStableChild(ktm::HANDLE twin, ktm::HANDLE transaction) {
    ktm::HANDLE child = ktm::INVALID_HANDLE_VALUE;
    const ktm::NTSTATUS s = rm().RegCreateKeyTransacted(twin, kStableChild, ktm::txr::REG_OPTION_NON_VOLATILE,
                                                        ktm::txr::KEY_SET_VALUE, &child, nullptr, transaction);
    if (ktm::NT_SUCCESS(s)) Close(child);
    // STATUS_PENDING: paged, the child's record could not be read (a failed page read).
    KTM_ASSERT(s == ktm::STATUS_CHILD_MUST_BE_VOLATILE || s == ktm::STATUS_PENDING,
               "txr: a stable child under a volatile key got " + ktm::StatusName(s));
  }
  void Close(ktm::HANDLE handle) {
    const ktm::NTSTATUS s = rm().RegCloseKey(handle);
    KTM_ASSERT(s == ktm::STATUS_SUCCESS, "txr adapter: closing its own key handle: " + ktm::StatusName(s));
  }
  bool volatile_keys_;
};

}  // namespace

ktm::NTSTATUS RmAdapter::Delete(ktm::HANDLE, const std::string&) {
  KTM_ASSERT(false, "a delete on an RM kind without one (Validate allows delete_fraction only for txf and txr)");
  return ktm::STATUS_INVALID_PARAMETER;
}

ktm::NTSTATUS RmAdapter::MoveThenWrite(ktm::HANDLE, const std::string&, const std::string&, const std::string&) {
  KTM_ASSERT(false, "a move on an RM kind without one (Validate allows move_fraction only for txf)");
  return ktm::STATUS_INVALID_PARAMETER;
}

ktm::NTSTATUS RmAdapter::HoldWriterOpen(const std::string&, sim::TimeNs, std::function<void()>) {
  KTM_ASSERT(false, "a non-transacted open on an RM kind without one (Validate allows it only for txf)");
  return ktm::STATUS_INVALID_PARAMETER;
}

std::string VolatileTwin(const std::string& key) {
  KTM_ASSERT(!key.empty() && key[0] == 'k', "a volatile twin of a workload key k<N>, got " + key);
  return absl::StrCat("v", key.substr(1));
}

bool HasVolatileHistoryKeys(const RmSpec& spec) { return spec.volatile_fraction > 0 && spec.kind == "txr"; }

bool IsVolatileHistoryKey(const RmSpec& spec, std::string_view history_key) {
  static constexpr std::string_view kPrefix = "HKLM\\Software\\ktmsim\\volatile\\";
  return HasVolatileHistoryKeys(spec) && history_key.substr(0, kPrefix.size()) == kPrefix;
}

std::vector<RmKindInfo> BuiltInRmKinds() {
  std::vector<RmKindInfo> kinds;
  kinds.push_back({.name = "kv",
                   .description = "the example key-value RM (ktm/kv): keys k<N>, string values",
                   .make = [](const RmKindContext& c) -> std::unique_ptr<RmAdapter> {
                     const ktm::RmOptions rm = RmOptionsFor(c);
                     ktm::kv::KvOptions o;
                     o.name = rm.name;
                     o.rm_id = rm.rm_id;
                     o.durable = rm.durable;
                     o.single_phase = rm.single_phase;
                     o.vote_no_probability = rm.vote_no_probability;
                     o.reject_single_phase_probability = rm.reject_single_phase_probability;
                     o.response_delay_ns = rm.response_delay_ns;
                     o.snapshot_log_bytes = rm.snapshot_log_bytes;
                     o.observer = rm.observer;
                     return std::make_unique<KvAdapter>(
                         std::make_unique<ktm::kv::KvRm>(c.kernel, c.host, c.disk, c.tm, o));
                   }});
  kinds.push_back({.name = "txf",
                   .description = "Transactional NTFS (ktm/txf): key k<N> is the file \\d\\k<N>",
                   .supports_delete = true,
                   .supports_move = true,
                   .supports_nontransacted_opens = true,
                   .supports_request_outcome = true,
                   .make = [](const RmKindContext& c) -> std::unique_ptr<RmAdapter> {
                     ktm::txf::TxfOptions o;
                     o.rm = RmOptionsFor(c);
                     return std::make_unique<TxfAdapter>(
                         std::make_unique<ktm::txf::TxfRm>(c.kernel, c.host, c.disk, c.tm, o), c.host);
                   }});
  kinds.push_back({.name = "txr",
                   .description = "the Transactional Registry (ktm/txr): key k<N> is HKLM\\Software\\ktmsim\\k<N>",
                   .supports_delete = true,
                   .supports_volatile_keys = true,
                   .supports_request_outcome = true,
                   .make = [](const RmKindContext& c) -> std::unique_ptr<RmAdapter> {
                     ktm::txr::TxrOptions o;
                     o.rm = RmOptionsFor(c);
                     return std::make_unique<TxrAdapter>(
                         std::make_unique<ktm::txr::TxrRm>(c.kernel, c.host, c.disk, c.tm, o),
                         c.spec->volatile_fraction > 0);
                   }});
  return kinds;
}

}  // namespace harness
