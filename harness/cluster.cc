// Cluster implementation: see cluster.h.
#include "harness/cluster.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "harness/schedule.h"
#include "sim/fault_kinds.h"
#include "ktm/api.h"
#include "ktm/assert.h"
#include "model/checkers.h"

namespace harness {
namespace {

// "k<n>", the workload's key names (as absl::StrCat("k", n), by hand: one
// per operation).
std::string KeyName(uint64_t n) {
  char text[21];
  text[0] = 'k';
  const char* end = std::to_chars(text + 1, text + sizeof text, n).ptr;
  return std::string(text, static_cast<size_t>(end - text));
}

// Rng::Derive(seed, absl::StrCat(prefix, n, suffix)) from the prefix's
// HashName (computed once: the workload derives streams per transaction and
// per arrival), continued over n's digits and the suffix.
sim::Rng NumberedStream(uint64_t seed, uint64_t prefix_hash, uint64_t n, std::string_view suffix = {}) {
  char digits[20];
  const char* end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  const uint64_t hash = sim::HashNameFrom(prefix_hash, std::string_view(digits, static_cast<size_t>(end - digits)));
  return sim::Rng::DeriveFromHash(seed, sim::HashNameFrom(hash, suffix));
}
const uint64_t kArrivalStreams = sim::HashName("workload/arrival/");
const uint64_t kTransactionStreams = sim::HashName("workload/tx/");

constexpr const char* kTmLogDisk = "tmlog";
constexpr const char* kDtcDisk = "dtc";
constexpr sim::TimeNs kOutcomePollNs = 1 * sim::kMillisecond;

std::string RmDiskName(const std::string& rm) { return "rm." + rm; }

ktm::Guid RmGuid(const std::string& name) {
  ktm::Guid g;
  g.hi = sim::HashName("rm-guid/" + name);
  g.lo = sim::HashName("rm-guid-lo/" + name) | 1;
  return g;
}

ktm::Guid DtcGuid(const std::string& host) {
  ktm::Guid g;
  g.hi = sim::HashName("dtc-guid/" + host);
  g.lo = sim::HashName("dtc-guid-lo/" + host) | 1;
  return g;
}

sim::Disk* FindDisk(sim::Host* host, const std::string& name) {
  for (size_t d = 0; d < host->disk_count(); ++d) {
    if (host->disk(d)->name() == name) return host->disk(d);
  }
  return nullptr;
}

// The kFinalValue events RecordFinalValues makes at least: one per workload
// key (and its volatile twin) per durable RM.
uint64_t FinalValuesExpected(const Scenario& scenario) {
  uint64_t count = 0;
  for (const RmSpec& rm : scenario.rms) {
    if (!rm.durable) continue;
    count += uint64_t{std::max<uint32_t>(scenario.workload.keys, 1)} * (rm.volatile_fraction > 0 ? 2 : 1);
  }
  return count;
}

}  // namespace

Cluster::Cluster(const Scenario& scenario, uint64_t seed, const RunOptions& options)
    : scenario_(scenario),
      seed_(seed),
      options_(options),
      recorder_(nullptr) {
  sim::WorldOptions wo;
  wo.seed = seed;
  wo.network = scenario.network;
  wo.keep_trace_events = options.keep_trace;
  wo.schedule = ScheduleOptionsFor(scenario);
  world_ = std::make_unique<sim::World>(wo);
  recorder_ = HistoryRecorder(&world_->scheduler());
  recorder_.Reserve(scenario.workload.transactions,
                    uint64_t{scenario.workload.ops_max} * scenario.workload.rms_per_tx_max,
                    FinalValuesExpected(scenario));
  recorder_.set_trigger([this](sim::CrashTrigger trigger, uint32_t host) {
    if (injector_) injector_->Trigger(trigger, host);
  });
  Build();
}

Cluster::~Cluster() {
  // RMs before kernels: an RM closes handles of its kernel.
  for (auto& h : hosts_) {
    h.rms.clear();
    h.dtc.reset();
    h.kernel.reset();
  }
}

void Cluster::Build() {
  for (size_t i = 0; i < scenario_.hosts.size(); ++i) {
    const HostSpec& spec = scenario_.hosts[i];
    HostRuntime rt;
    rt.host = world_->AddHost(spec.name);
    if (!spec.tm_volatile) rt.host->AddDisk(kTmLogDisk, spec.log_disk);
    host_index_[spec.name] = i;
    hosts_.push_back(std::move(rt));
  }
  for (size_t r = 0; r < scenario_.rms.size(); ++r) {
    const RmSpec& spec = scenario_.rms[r];
    rm_host_.push_back(host_index_.at(spec.host));
    HostRuntime& rt = hosts_.at(rm_host_.back());
    rt.rm_indexes.push_back(r);
    rm_index_[spec.name] = r;
    recorder_.NameRm(spec.name, RmGuid(spec.name));
    if (spec.durable) rt.host->AddDisk(RmDiskName(spec.name), spec.disk);
  }
  // A Dtc (and its log disk, added last so no other disk's index moves) on
  // every host with a durable TM, when the workload has distributed transactions.
  size_t durable_hosts = 0;
  for (const HostSpec& spec : scenario_.hosts) durable_hosts += spec.tm_volatile ? 0 : 1;
  distributed_ = scenario_.workload.distributed_fraction > 0 && durable_hosts >= 2;
  for (size_t i = 0; distributed_ && i < hosts_.size(); ++i) {
    if (scenario_.hosts[i].tm_volatile) continue;
    hosts_[i].has_dtc = true;
    hosts_[i].host->AddDisk(kDtcDisk, scenario_.hosts[i].log_disk);
  }
  for (size_t i = 0; i < hosts_.size(); ++i) {
    hosts_[i].host->set_on_crash([this, i] { OnCrash(i); });
    hosts_[i].host->set_on_restart([this, i] {
      Record(model::EventKind::kRestart, hosts_[i].host->id(), "");
      Boot(i);
    });
  }
  // Asked on every write: installed only when some RM can have volatile keys.
  if (std::any_of(scenario_.rms.begin(), scenario_.rms.end(), HasVolatileHistoryKeys)) {
    recorder_.set_volatile_keys([this](std::string_view rm, std::string_view key) {
      auto it = rm_index_.find(std::string(rm));
      return it != rm_index_.end() && IsVolatileHistoryKey(scenario_.rms[it->second], key);
    });
  }
  InstallTraceObserver();
}

void Cluster::InstallTraceObserver() {
  if (trace_hook_) {
    // A test's text hook wants every event as text: the recorder reads the
    // kinds it wants through a view of that text.
    world_->trace().set_observer([this](const sim::TraceEvent& e) {
      if (HistoryRecorder::WantsTraceKind(e.kind)) recorder_.OnTraceView(sim::TraceEventView(e).view());
      trace_hook_(e);
    });
    return;
  }
  // The recorder (and the explorer's hook) as the view observer: no text is
  // made for an event only they want.
  world_->trace().set_view_observer(
      [this](const sim::TraceView& e) {
        recorder_.OnTraceView(e);  // acts on its own kinds only
        if (trace_view_hook_ && (!trace_view_hook_wants_ || trace_view_hook_wants_(e.kind.text))) {
          trace_view_hook_(e);
        }
      },
      [this](std::string_view kind) {
        return HistoryRecorder::WantsTraceKind(kind) ||
               (trace_view_hook_ && (!trace_view_hook_wants_ || trace_view_hook_wants_(kind)));
      });
}

// ---------------------------------------------------------------------------
// Host software lifecycle.

void Cluster::Boot(size_t i) {
  HostRuntime& rt = hosts_[i];
  rt.kernel = std::make_unique<ktm::Kernel>(rt.host, options_.planted_bug);
  rt.ready = false;
  uint64_t incarnation = rt.host->incarnation();
  bool is_volatile = scenario_.hosts[i].tm_volatile;
  ktm::Kernel& k = *rt.kernel;
  auto on_tm = [this, i, incarnation](ktm::NTSTATUS s, ktm::HANDLE tm) {
    HostRuntime& r = hosts_[i];
    if (r.host->incarnation() != incarnation) return;
    if (s != ktm::STATUS_SUCCESS) {
      Record(model::EventKind::kDiskError, r.host->id(), "", "", "", "", "tm: " + ktm::StatusName(s));
      ResolveRefusedTm(i);
      return;
    }
    r.tm = tm;
    ktm::RecoverTransactionManager(*r.kernel, tm, [this, i, incarnation](ktm::NTSTATUS st) {
      HostRuntime& h = hosts_[i];
      if (h.host->incarnation() != incarnation) return;
      if (!ktm::NT_SUCCESS(st)) {
        Record(model::EventKind::kDiskError, h.host->id(), "", "", "", "", "tm recover: " + ktm::StatusName(st));
        ResolveRefusedTm(i);
        return;
      }
      if (h.has_dtc) return StartDtc(i);
      StartRms(i, 0);
    });
  };
  ktm::CreateTransactionManager(k, is_volatile ? "" : kTmLogDisk,
                                is_volatile ? ktm::TRANSACTION_MANAGER_VOLATILE : 0, on_tm);
}

void Cluster::StartRms(size_t i, size_t next) {
  HostRuntime& rt = hosts_[i];
  if (next == rt.rm_indexes.size()) {
    rt.ready = true;
    Record(model::EventKind::kRecovered, rt.host->id(), "");
    if (NextNumber() != 0) ScheduleArrival();
    return;
  }
  size_t r = rt.rm_indexes[next];
  const RmSpec& spec = scenario_.rms[r];
  auto rm = MakeRmAdapter(spec, RmGuid(spec.name), rt.kernel.get(), rt.host, FindDisk(rt.host, RmDiskName(spec.name)),
                          rt.tm, &recorder_);
  RmAdapter* raw = rm.get();
  if (rt.rms.size() <= r) rt.rms.resize(r + 1);
  rt.rms[r] = std::move(rm);
  uint64_t incarnation = rt.host->incarnation();
  raw->Start([this, i, next, incarnation, name = spec.name](ktm::NTSTATUS s) {
    HostRuntime& h = hosts_[i];
    if (h.host->incarnation() != incarnation) return;
    if (s != ktm::STATUS_SUCCESS) {
      Record(model::EventKind::kDiskError, h.host->id(), "", name, "", "", "rm start: " + ktm::StatusName(s));
      if (scenario_.faults.budget == "beyond") recorder_.ResolveRefusedRm(name, h.host->id(), "refused");
    } else {
      ResolveCutSinglePhaseCommits(rm_index_.at(name));
    }
    StartRms(i, next + 1);
  });
}

void Cluster::OnCrash(size_t i) {
  HostRuntime& rt = hosts_[i];
  Record(model::EventKind::kCrash, rt.host->id(), "");
  ResolveCrashedEnlistments(i);
  // The host's clients die with it: their slots go back to the workload.
  KTM_ASSERT(active_ >= rt.clients, "more clients on a host than active");
  active_ -= rt.clients;
  rt.clients = 0;
  rt.ready = false;
  rt.rms.clear();
  rt.dtc.reset();
  rt.kernel.reset();
  rt.tm = ktm::INVALID_HANDLE_VALUE;
  ScheduleArrival();  // other hosts may take the freed slots
}

// Beyond the recoverable budget a TM that detects damage to its own log
// refuses to start (docs/faults.md); its RMs then never start either. Like a
// refusing RM, that leaves their open transactions unavailable there, never
// half-applied. Under the recoverable budget a refusal stays unexplained.
void Cluster::ResolveRefusedTm(size_t i) {
  if (scenario_.faults.budget != "beyond") return;
  for (size_t r : hosts_[i].rm_indexes) {
    recorder_.ResolveRefusedRm(scenario_.rms[r].name, hosts_[i].host->id(), "tm refused");
  }
  // The root of a distributed transaction is gone for good too: its prepared
  // participants elsewhere wait in doubt for an answer that never comes.
  const uint32_t here = hosts_[i].host->id();
  recorder_.ResolveRefusedPairs(
      "root tm refused",
      [&](const std::string&, uint32_t begin_host, const std::string& rm, bool prepared) -> std::optional<uint32_t> {
        const std::optional<uint32_t> rm_host = ScenarioRmHost(rm);
        if (!prepared || begin_host != here || !rm_host || *rm_host == here) return std::nullopt;
        return rm_host;
      });
}

// Beyond the budget a Dtc that detects damage to its log refuses to start:
// the branches that cross its host (a transaction begun here with an RM on
// another host, or begun elsewhere with an RM here) lose the superior or the
// subordinate that would resolve them, so they are unavailable, like the
// open transactions of a refusing TM. Local transactions are the TM's and
// stay checked.
void Cluster::ResolveRefusedDtc(size_t i) {
  if (scenario_.faults.budget != "beyond") return;
  const uint32_t here = hosts_[i].host->id();
  recorder_.ResolveRefusedPairs(
      "dtc refused",
      [&](const std::string&, uint32_t begin_host, const std::string& rm, bool) -> std::optional<uint32_t> {
        const std::optional<uint32_t> rm_host = ScenarioRmHost(rm);
        if (!rm_host || begin_host == *rm_host || (begin_host != here && *rm_host != here)) return std::nullopt;
        return rm_host;
      });
}

// The host id a scenario RM runs on; nullopt for any other participant name.
std::optional<uint32_t> Cluster::ScenarioRmHost(const std::string& rm) const {
  const auto it = rm_index_.find(rm);
  if (it == rm_index_.end()) return std::nullopt;
  return hosts_[host_index_.at(scenario_.rms[it->second].host)].host->id();
}

void Cluster::ResolveCrashedEnlistments(size_t i) {
  std::set<std::string> rms_here, volatile_here;
  for (size_t r : hosts_[i].rm_indexes) {
    rms_here.insert(scenario_.rms[r].name);
    if (!scenario_.rms[r].durable) volatile_here.insert(scenario_.rms[r].name);
  }
  recorder_.ResolveCrashedRms(hosts_[i].host->id(), rms_here, volatile_here);
}

void Cluster::ResolveCutSinglePhaseCommits(size_t r) {
  RmAdapter* rm = RmOf(r);
  uint32_t host = hosts_.at(host_index_.at(scenario_.rms[r].host)).host->id();
  recorder_.ResolveCutSinglePhaseCommits(scenario_.rms[r].name, host,
                                         [rm](const std::string& uow) { return rm->ReplayedCommit(uow); });
}

void Cluster::StartDtc(size_t i) {
  HostRuntime& rt = hosts_[i];
  ktm::dist::DtcOptions o;
  o.name = scenario_.hosts[i].name;
  o.rm_id = DtcGuid(o.name);
  o.observer = &recorder_;
  o.answer_request_outcome = std::any_of(scenario_.rms.begin(), scenario_.rms.end(),
                                         [](const RmSpec& rm) { return rm.request_outcome_after_ns > 0; });
  rt.dtc = std::make_unique<ktm::dist::Dtc>(
      rt.kernel.get(), rt.host, FindDisk(rt.host, kDtcDisk), rt.tm, o,
      [this, i](ktm::HANDLE transaction, const ktm::dist::RemoteOp& op, std::string* value) {
        return RunRemoteOp(i, transaction, op, value);
      });
  uint64_t incarnation = rt.host->incarnation();
  rt.dtc->Start([this, i, incarnation](ktm::NTSTATUS s) {
    HostRuntime& h = hosts_[i];
    if (h.host->incarnation() != incarnation) return;
    if (s != ktm::STATUS_SUCCESS) {
      // The host still serves local transactions; remote ones fail to reach it.
      Record(model::EventKind::kDiskError, h.host->id(), "", "", "", "", "dtc start: " + ktm::StatusName(s));
      ResolveRefusedDtc(i);
    }
    StartRms(i, 0);
  });
}

ktm::NTSTATUS Cluster::RunRemoteOp(size_t i, ktm::HANDLE transaction, const ktm::dist::RemoteOp& op,
                                   std::string* value) {
  auto it = rm_index_.find(op.rm);
  if (it == rm_index_.end() || host_index_.at(scenario_.rms[it->second].host) != i) {
    return ktm::STATUS_INVALID_PARAMETER;
  }
  RmAdapter* rm = RmOf(it->second);
  if (rm == nullptr) return ktm::STATUS_RM_NOT_ACTIVE;
  if (op.write) return rm->Write(transaction, op.key, op.value);
  bool traced = true;
  ktm::NTSTATUS s = rm->Read(transaction, op.key, value, &traced);
  if (!traced) RecordAbsentRead(i, transaction, it->second, op.key);
  return s;
}

RmAdapter* Cluster::RmOf(size_t r) {
  const HostRuntime& rt = hosts_.at(rm_host_.at(r));
  return r < rt.rms.size() ? rt.rms[r].get() : nullptr;
}

// ---------------------------------------------------------------------------
// Workload: a client process per transaction, on the host of its RMs.

void Cluster::ScheduleArrival() {
  const uint64_t number = NextNumber();
  if (arrival_pending_ || number == 0) return;
  const WorkloadSpec& w = scenario_.workload;
  if (w.duration_ns > 0 && world_->scheduler().Now() >= w.duration_ns) return;
  if (active_ >= w.concurrency) return;
  arrival_pending_ = true;
  sim::TimeNs delay = 0;
  if (w.arrival_per_second > 0) {
    // The gap before transaction n: its own stream, so deleting another
    // transaction moves no gap. The gaps of the skipped transactions since
    // the last one started are waited too, so a transaction after a deleted
    // one arrives when it did (unless the concurrency limit held it back).
    auto mean = static_cast<sim::TimeNs>(1e9 / w.arrival_per_second);
    const sim::Latency gap =
        sim::Latency::Exponential(0, std::max<sim::TimeNs>(mean, 1), 50 * std::max<sim::TimeNs>(mean, 1));
    for (uint64_t n = last_number_ + 1; n <= number; ++n) {
      sim::Rng arrival = NumberedStream(seed_, kArrivalStreams, n);
      delay += gap.Sample(arrival);
    }
  }
  world_->scheduler().After(delay, [this] {
    arrival_pending_ = false;
    // No host ready: the next arrival comes when one is (StartRms), not
    // now - with back-to-back arrivals (arrival_per_second 0) that would
    // loop at one virtual instant for ever.
    if (StartTransaction()) ScheduleArrival();
  });
}

std::string Cluster::InjectedScheduleText() const { return injector_ ? injector_->Injected().ToText() : ""; }

uint64_t Cluster::NextNumber() const {
  const WorkloadSpec& w = scenario_.workload;
  for (uint64_t n = last_number_ + 1; n <= w.transactions; ++n) {
    if (std::find(w.skip.begin(), w.skip.end(), n) == w.skip.end()) return n;
  }
  return 0;
}

Cluster::ClientTx::ClientTx(uint64_t seed, uint64_t n)
    : number(n), rng(NumberedStream(seed, kTransactionStreams, n)), seed_(seed) {}

sim::Rng& Cluster::ClientTx::RmOps() {
  if (!rm_ops_rng_) rm_ops_rng_ = NumberedStream(seed_, kTransactionStreams, number, "/rm_ops");
  return *rm_ops_rng_;
}

bool Cluster::ClientAlive(const ClientTx& tx) const {
  const HostRuntime& rt = hosts_[tx.host];
  return rt.host->up() && rt.host->incarnation() == tx.incarnation && rt.kernel != nullptr;
}

bool Cluster::StartTransaction() {
  const WorkloadSpec& w = scenario_.workload;
  const uint64_t number = NextNumber();
  if (number == 0 || active_ >= w.concurrency) return true;  // nothing to start: ScheduleArrival says so too
  // Pick a host whose software is ready and that has RMs.
  std::vector<size_t>& ready = ready_scratch_;
  ready.clear();
  for (size_t i = 0; i < hosts_.size(); ++i) {
    if (hosts_[i].ready && !hosts_[i].rm_indexes.empty()) ready.push_back(i);
  }
  // Every choice of transaction n comes from streams of (seed, n): deleting
  // (skipping) another transaction leaves this one's choices as they were.
  auto tx = std::make_shared<ClientTx>(seed_, number);
  const bool distributed = distributed_ && tx->rng.Bernoulli(w.distributed_fraction) && PickDistributed(*tx);
  if (!distributed) {
    if (ready.empty()) return false;  // retried when a host becomes ready
    PickLocal(*tx, ready);
  }
  last_number_ = number;
  ++started_;
  tx->name = absl::StrCat("t", tx->number);
  HostRuntime& rt = hosts_[tx->host];
  tx->incarnation = rt.host->incarnation();
  const uint32_t want = static_cast<uint32_t>(tx->rms.size());
  double mix = tx->rng.UnitDouble();
  tx->read_only = mix < w.read_only_fraction;
  tx->end = (!tx->read_only && mix < w.read_only_fraction + w.rollback_fraction) ? ClientTx::End::kRollback
                                                                                 : ClientTx::End::kCommit;
  tx->async_commit = tx->rng.Bernoulli(w.async_commit_fraction);
  tx->ops_left = static_cast<uint32_t>(tx->rng.Range(w.ops_min, w.ops_max)) * want;
  uint32_t timeout_ms = static_cast<uint32_t>(w.timeout_ns / sim::kMillisecond);
  ktm::NTSTATUS s = ktm::CreateTransaction(*rt.kernel, 0, timeout_ms, tx->name, &tx->handle);
  KTM_ASSERT(s == ktm::STATUS_SUCCESS, "CreateTransaction failed: " + ktm::StatusName(s));
  ktm::Guid uow;
  (void)ktm::GetTransactionId(*rt.kernel, tx->handle, &uow);
  recorder_.NameTransaction(tx->name, uow);
  ++active_;
  ++rt.clients;
  Record(model::EventKind::kBegin, rt.host->id(), tx->name);
  Step(tx);
  return true;
}

void Cluster::PickLocal(ClientTx& tx, const std::vector<size_t>& ready) {
  const WorkloadSpec& w = scenario_.workload;
  tx.host = ready[tx.rng.Uniform(ready.size())];
  std::vector<size_t>& candidates = candidates_scratch_;
  candidates = hosts_[tx.host].rm_indexes;
  uint32_t want = static_cast<uint32_t>(tx.rng.Range(w.rms_per_tx_min, w.rms_per_tx_max));
  want = std::min<uint32_t>(std::max<uint32_t>(want, 1), static_cast<uint32_t>(candidates.size()));
  for (uint32_t j = 0; j < want; ++j) {
    size_t pick = tx.rng.Uniform(candidates.size());
    tx.rms.push_back(candidates[pick]);
    candidates.erase(candidates.begin() + static_cast<long>(pick));
  }
}

bool Cluster::PickDistributed(ClientTx& tx) {
  const WorkloadSpec& w = scenario_.workload;
  // The root: a ready host whose Dtc is up, with RMs on at least one other Dtc host.
  auto rm_host = [this](size_t r) { return rm_host_.at(r); };
  std::vector<size_t> roots;
  for (size_t i = 0; i < hosts_.size(); ++i) {
    if (!hosts_[i].ready || !hosts_[i].dtc || !hosts_[i].dtc->recovery_done()) continue;
    for (size_t j = 0; j < hosts_.size(); ++j) {
      if (j != i && hosts_[j].has_dtc && !hosts_[j].rm_indexes.empty()) {
        roots.push_back(i);
        break;
      }
    }
  }
  if (roots.empty()) return false;
  tx.host = roots[tx.rng.Uniform(roots.size())];
  std::vector<size_t> local = hosts_[tx.host].rm_indexes;
  std::vector<size_t> remote;
  for (size_t j = 0; j < hosts_.size(); ++j) {
    if (j == tx.host || !hosts_[j].has_dtc) continue;
    remote.insert(remote.end(), hosts_[j].rm_indexes.begin(), hosts_[j].rm_indexes.end());
  }
  auto take = [&tx](std::vector<size_t>& from, size_t k) {
    tx.rms.push_back(from[k]);
    from.erase(from.begin() + static_cast<long>(k));
  };
  uint32_t want = static_cast<uint32_t>(tx.rng.Range(w.rms_per_tx_min, w.rms_per_tx_max));
  want = std::min<uint32_t>(std::max<uint32_t>(want, 2), static_cast<uint32_t>(local.size() + remote.size()));
  // The first RM is local when the root has any; the second is on another host.
  if (!local.empty()) {
    take(local, tx.rng.Uniform(local.size()));
  } else {
    take(remote, tx.rng.Uniform(remote.size()));
  }
  std::vector<size_t> elsewhere;
  for (size_t k = 0; k < remote.size(); ++k) {
    if (rm_host(remote[k]) != rm_host(tx.rms[0])) elsewhere.push_back(k);
  }
  if (!elsewhere.empty()) take(remote, elsewhere[tx.rng.Uniform(elsewhere.size())]);
  std::vector<size_t> pool = local;
  pool.insert(pool.end(), remote.begin(), remote.end());
  while (tx.rms.size() < want && !pool.empty()) take(pool, tx.rng.Uniform(pool.size()));
  return true;
}

void Cluster::Step(std::shared_ptr<ClientTx> tx) {
  hosts_[tx->host].host->After(scenario_.workload.think_ns, [this, tx] {
    if (!ClientAlive(*tx)) return;
    if (tx->ops_left == 0) return EndTransaction(tx);
    DoOperation(tx);
  });
}

void Cluster::DoOperation(const std::shared_ptr<ClientTx>& tx) {
  --tx->ops_left;
  // The first operations visit each chosen RM once (so every RM a
  // transaction picked takes part), the rest pick at random.
  const size_t visit = tx->ops_done++;
  size_t r = visit < tx->rms.size() ? tx->rms[visit] : tx->rms[tx->rng.Uniform(tx->rms.size())];
  RmAdapter* rm = RmOf(r);
  const RmSpec& spec = scenario_.rms[r];
  std::string key = KeyName(tx->rng.Uniform(std::max<uint32_t>(scenario_.workload.keys, 1)));
  bool is_read = tx->read_only || tx->rng.Bernoulli(scenario_.workload.read_fraction);
  // Issue 18's operations draw from the transaction's own stream too, and
  // only where asked (older scenarios draw exactly as before).
  if (spec.volatile_fraction > 0 && tx->RmOps().Bernoulli(spec.volatile_fraction)) key = VolatileTwin(key);
  if (SkipsOperation(tx->number, visit + 1)) return SkipOperation(tx, r, is_read);
  if (rm_host_.at(r) != tx->host) return DoRemoteOperation(tx, r, is_read, key);
  // A paged RM's committed state may be on a page not in memory: read it first.
  if (rm && !rm->Resident(key, is_read)) {
    return rm->Prefetch(key, [this, tx, r, is_read, key] {
      if (ClientAlive(*tx)) DoLocalOperation(tx, r, is_read, key);
    });
  }
  DoLocalOperation(tx, r, is_read, key);
}

void Cluster::DoLocalOperation(const std::shared_ptr<ClientTx>& tx, size_t r, bool is_read, const std::string& key) {
  RmAdapter* rm = RmOf(r);
  const RmSpec& spec = scenario_.rms[r];
  ktm::NTSTATUS s = ktm::STATUS_RM_NOT_ACTIVE;
  if (rm && !is_read && spec.nontransacted_open_fraction > 0 &&
      tx->RmOps().Bernoulli(spec.nontransacted_open_fraction)) {
    HoldWriterOpen(*tx, r, *rm, key);
    return Step(tx);
  }
  if (rm && is_read) {
    std::string value;
    bool traced = true;
    s = rm->Read(tx->handle, key, &value, &traced);
    if (!traced) RecordAbsentRead(tx->host, tx->handle, r, key);
  } else if (rm) {
    s = LocalWrite(*tx, r, *rm, key);
  }
  if (s != ktm::STATUS_SUCCESS) {
    if (rm && spec.nontransacted_open_fraction > 0) {  // share-mode runs: the refusal's status, for the reader
      Record(model::EventKind::kOpen, hosts_[tx->host].host->id(), tx->name, spec.name, rm->HistoryKey(key), "",
             "refused " + ktm::StatusName(s));
    }
    // Conflict, timeout or an RM that is not there: the client gives up.
    tx->end = ClientTx::End::kRollback;
    tx->ops_left = 0;
  } else if (rm && tx->rng.Bernoulli(spec.disconnect_probability)) {
    (void)rm->Disconnect(tx->handle);
  }
  Step(tx);
}

bool Cluster::SkipsOperation(uint64_t number, uint64_t op) const {
  const std::vector<WorkloadSpec::OpRef>& skip = scenario_.workload.skip_ops;
  return std::any_of(skip.begin(), skip.end(),
                     [number, op](const WorkloadSpec::OpRef& s) { return s.transaction == number && s.op == op; });
}

// A skipped operation (workload.skip_ops) is not done, but makes the draws
// that a successful one would make (DoOperation, LocalWrite, HoldWriterOpen:
// the same streams, the same order) and numbers its write, so every later
// operation of the transaction draws and writes what it did before.
void Cluster::SkipOperation(const std::shared_ptr<ClientTx>& tx, size_t r, bool is_read) {
  const RmSpec& spec = scenario_.rms[r];
  if (host_index_.at(spec.host) != tx->host) {  // remote: DoRemoteOperation draws nothing more
    if (!is_read) ++tx->op_number;
    return Step(tx);
  }
  if (!is_read && spec.nontransacted_open_fraction > 0 && tx->RmOps().Bernoulli(spec.nontransacted_open_fraction)) {
    ++tx->op_number;  // HoldWriterOpen's id
    return Step(tx);
  }
  if (!is_read) {
    ++tx->op_number;
    if (spec.delete_fraction + spec.move_fraction > 0) {
      const double pick = tx->RmOps().UnitDouble();
      if (pick >= spec.delete_fraction && pick < spec.delete_fraction + spec.move_fraction) {
        (void)tx->RmOps().Uniform(std::max<uint32_t>(scenario_.workload.keys, 1));
      }
    }
  }
  (void)tx->rng.Bernoulli(spec.disconnect_probability);
  Step(tx);
}

ktm::NTSTATUS Cluster::LocalWrite(ClientTx& tx, size_t r, RmAdapter& rm, const std::string& key) {
  const RmSpec& spec = scenario_.rms[r];
  std::string value = WorkloadValue(scenario_.workload, absl::StrCat(tx.name, ".", ++tx.op_number));
  // Only RMs with deletes or moves draw (from their own stream): kv runs are unchanged.
  if (spec.delete_fraction + spec.move_fraction > 0) {
    double pick = tx.RmOps().UnitDouble();
    if (pick < spec.delete_fraction) return rm.Delete(tx.handle, key);
    if (pick < spec.delete_fraction + spec.move_fraction) {
      std::string from = absl::StrCat("k", tx.RmOps().Uniform(std::max<uint32_t>(scenario_.workload.keys, 1)));
      if (from != key) return rm.MoveThenWrite(tx.handle, from, key, value);
    }
  }
  return rm.Write(tx.handle, key, value);
}

void Cluster::HoldWriterOpen(ClientTx& tx, size_t r, RmAdapter& rm, const std::string& key) {
  const RmSpec& spec = scenario_.rms[r];
  const uint32_t host = hosts_[tx.host].host->id();
  std::string id = absl::StrCat(tx.name, ".", ++tx.op_number);  // names the open in the history
  const std::string file = rm.HistoryKey(key);
  ktm::NTSTATUS s = rm.HoldWriterOpen(key, spec.nontransacted_hold_ns, [this, host, name = spec.name, file, id] {
    Record(model::EventKind::kOpen, host, "", name, file, id, "close");
  });
  Record(model::EventKind::kOpen, host, "", spec.name, file, id,
         s == ktm::STATUS_SUCCESS ? std::string("write") : "refused " + ktm::StatusName(s));
}

void Cluster::RecordAbsentRead(size_t host_index, ktm::HANDLE transaction, size_t r, const std::string& key) {
  ktm::Guid uow;
  ktm::NTSTATUS s = ktm::GetTransactionId(*hosts_[host_index].kernel, transaction, &uow);
  KTM_ASSERT(s == ktm::STATUS_SUCCESS, "GetTransactionId of a transaction an RM just served: " + ktm::StatusName(s));
  RmAdapter* rm = RmOf(r);
  KTM_ASSERT(rm != nullptr, "an absent read on an RM that is not there");
  Record(model::EventKind::kRead, hosts_[host_index].host->id(), recorder_.TxName(uow), scenario_.rms[r].name,
         rm->HistoryKey(key), "", "absent");
}

void Cluster::DoRemoteOperation(const std::shared_ptr<ClientTx>& tx, size_t r, bool is_read,
                                const std::string& key) {
  const RmSpec& spec = scenario_.rms[r];
  ktm::dist::RemoteOp op;
  op.rm = spec.name;
  op.write = !is_read;
  op.key = key;
  if (!is_read) op.value = WorkloadValue(scenario_.workload, absl::StrCat(tx->name, ".", ++tx->op_number));
  ktm::dist::Dtc* dtc = hosts_[tx->host].dtc.get();
  KTM_ASSERT(dtc != nullptr, "a remote operation from a host without a Dtc");
  const uint32_t to = hosts_[host_index_.at(spec.host)].host->id();
  dtc->Operation(tx->handle, to, std::move(op), [this, tx](ktm::NTSTATUS s, std::string) {
    if (!ClientAlive(*tx)) return;
    if (s != ktm::STATUS_SUCCESS) {
      // Conflict, an RM or host that is not there, no answer: the client gives up.
      tx->end = ClientTx::End::kRollback;
      tx->ops_left = 0;
    }
    Step(tx);
  });
}

void Cluster::EndTransaction(const std::shared_ptr<ClientTx>& tx) {
  ktm::Kernel& k = *hosts_[tx->host].kernel;
  uint32_t host = hosts_[tx->host].host->id();
  if (tx->end == ClientTx::End::kRollback) {
    Record(model::EventKind::kRollbackRequest, host, tx->name);
    ktm::RollbackTransaction(k, tx->handle, [this, tx](ktm::NTSTATUS s) {
      if (!ClientAlive(*tx)) return;
      Finished(tx, s == ktm::STATUS_TRANSACTION_ALREADY_COMMITTED ? "committed" : "aborted");
    });
    return;
  }
  Record(model::EventKind::kCommitRequest, host, tx->name);
  tx->commit_request_ns = world_->scheduler().Now();
  if (tx->async_commit) {
    ktm::NTSTATUS s = ktm::CommitTransactionAsync(k, tx->handle);
    if (s == ktm::STATUS_TRANSACTION_ALREADY_ABORTED) return Finished(tx, "aborted");
    KTM_ASSERT(s == ktm::STATUS_SUCCESS, "CommitTransactionAsync: " + ktm::StatusName(s));
    return PollOutcome(tx);
  }
  ktm::CommitTransaction(k, tx->handle, [this, tx](ktm::NTSTATUS s) {
    if (!ClientAlive(*tx)) return;
    if (s == ktm::STATUS_SUCCESS) return Finished(tx, "committed");
    if (s == ktm::STATUS_TRANSACTION_ALREADY_ABORTED) return Finished(tx, "aborted");
    Finished(tx, nullptr);  // outcome unknown to the client (RM disconnected)
  });
}

void Cluster::PollOutcome(const std::shared_ptr<ClientTx>& tx) {
  hosts_[tx->host].host->After(kOutcomePollNs, [this, tx] {
    if (!ClientAlive(*tx)) return;
    ktm::TransactionInformation info;
    ktm::NTSTATUS s = ktm::GetTransactionInformation(*hosts_[tx->host].kernel, tx->handle, &info);
    KTM_ASSERT(s == ktm::STATUS_SUCCESS, "GetTransactionInformation: " + ktm::StatusName(s));
    if (info.outcome == ktm::TransactionOutcomeCommitted) return Finished(tx, "committed");
    if (info.outcome == ktm::TransactionOutcomeAborted) return Finished(tx, "aborted");
    PollOutcome(tx);
  });
}

void Cluster::Finished(const std::shared_ptr<ClientTx>& tx, const char* outcome) {
  HostRuntime& rt = hosts_[tx->host];
  if (outcome != nullptr) {
    Record(model::EventKind::kOutcome, rt.host->id(), tx->name, "", "", "", outcome);
    ++outcomes_;
    if (std::string(outcome) == "committed") {
      ++committed_;
      if (tx->commit_request_ns > 0) commit_latencies_.push_back(world_->scheduler().Now() - tx->commit_request_ns);
    } else {
      ++aborted_;
    }
  }
  (void)ktm::CloseHandle(*rt.kernel, tx->handle);
  KTM_ASSERT(rt.clients > 0 && active_ > 0, "a client finished twice");
  --rt.clients;
  --active_;
  ScheduleArrival();
}

// ---------------------------------------------------------------------------
// Fingerprint (harness/explore.h).

namespace {

uint64_t MixInto(uint64_t hash, uint64_t word) {
  // splitmix64 finaliser of (hash ^ word): order-sensitive, well spread.
  uint64_t z = (hash ^ word) + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t MixString(uint64_t hash, const std::string& text) { return MixInto(hash, sim::HashName(text)); }

}  // namespace

uint64_t Cluster::Fingerprint() const {
  uint64_t hash = MixInto(0, hosts_.size());
  for (const HostRuntime& rt : hosts_) {
    hash = MixInto(hash, (rt.host->up() ? 1 : 0) | (rt.ready ? 2 : 0) | (uint64_t{rt.clients} << 2));
    for (size_t index = 0; index < rt.rms.size(); ++index) {
      const RmAdapter* rm = rt.rms[index].get();
      if (rm == nullptr) continue;
      hash = MixInto(hash, index * 4 + (rm->online() ? 1 : 0) + (rm->recovery_done() ? 2 : 0));
      hash = MixInto(hash, rm->in_doubt());
      for (const auto& [key, value] : rm->committed()) hash = MixString(MixString(hash, key), value);
    }
    for (size_t d = 0; d < rt.host->disk_count(); ++d) hash = MixInto(hash, rt.host->disk(d)->Fingerprint());
  }
  hash = MixInto(hash, world_->network().Fingerprint());
  hash = MixInto(hash, recorder_.Fingerprint());
  for (const uint64_t counter : {started_, active_, outcomes_, committed_, aborted_}) hash = MixInto(hash, counter);
  return MixInto(hash, (arrival_pending_ ? 1 : 0) | (faults_stopped_ ? 2 : 0));
}

// ---------------------------------------------------------------------------
// The run.

void Cluster::RecordFinalValues() {
  // Beyond the budget a refusal may strand in-doubt transactions for good:
  // the keys they hold have no observable final value (history_recorder.h).
  const std::set<std::pair<std::string, std::string>> held =
      scenario_.faults.budget == "beyond" ? recorder_.ResolveStrandedInDoubt()
                                          : std::set<std::pair<std::string, std::string>>{};
  // Room for every workload key's final value now, before any RM's state is
  // copied out: growing the history while they are recorded would hold its
  // old and new arrays and an RM's committed map at once.
  recorder_.ReserveMore(FinalValuesExpected(scenario_));
  const uint32_t workload_keys = std::max<uint32_t>(scenario_.workload.keys, 1);
  for (size_t r = 0; r < scenario_.rms.size(); ++r) {
    RmAdapter* rm = RmOf(r);
    // A volatile RM keeps nothing across a crash by design: no final state to check.
    if (rm == nullptr || !rm->online() || !scenario_.rms[r].durable) continue;
    const std::string& rm_name = scenario_.rms[r].name;
    std::map<std::string, std::string> committed = rm->committed();
    uint32_t host = world_->host(static_cast<uint32_t>(host_index_.at(scenario_.rms[r].host)))->id();
    // One final value per key: found in `committed`, it leaves the map.
    auto record = [&](const std::string& key) {
      auto it = committed.find(key);
      if (held.count({rm_name, key}) == 0) {
        Record(model::EventKind::kFinalValue, host, "", rm_name, key, it == committed.end() ? "" : it->second);
      }
      if (it != committed.end()) committed.erase(it);
    };
    // Every workload key (absent ones too), then anything else the RM holds.
    for (uint32_t k = 0; k < workload_keys; ++k) {
      const std::string workload_key = absl::StrCat("k", k);
      record(rm->HistoryKey(workload_key));
      if (scenario_.rms[r].volatile_fraction > 0) record(rm->HistoryKey(VolatileTwin(workload_key)));
    }
    for (const auto& [key, value] : committed) {
      if (held.count({rm_name, key}) > 0) continue;
      Record(model::EventKind::kFinalValue, host, "", rm_name, key, value);
    }
  }
}

RunResult Cluster::Simulate() {
  sim::Scheduler& scheduler = world_->scheduler();
  const FaultSpec& f = scenario_.faults;
  sim::TimeNs faults_until = f.mode == FaultMode::kNone && !options_.schedule ? 0 : f.faults_until_ns;
  if (f.crash_on.empty() == false) faults_until = std::max(faults_until, f.faults_until_ns);
  // The recoverable budget holds the faults KTM must survive; the others
  // (a latent error or a corrupted sector under a log destroys data that has
  // no second copy) belong to the "beyond" budget (sim/fault_kinds.h, docs/faults.md).
  auto budgeted = [&f](const sim::FaultProbabilities& p) {
    return sim::WithinBudget(p, f.budget == "beyond" ? sim::FaultBudget::kBeyond : sim::FaultBudget::kRecoverable);
  };
  if (options_.schedule) {
    injector_ = std::make_unique<sim::FaultInjector>(world_.get(), *options_.schedule, faults_until);
  } else if (f.mode == FaultMode::kProbabilities) {
    injector_ = std::make_unique<sim::FaultInjector>(world_.get(), budgeted(f.probabilities), faults_until);
  } else if (f.mode == FaultMode::kSwarm) {
    sim::Rng swarm = sim::Rng::Derive(seed_, "swarm");
    injector_ = std::make_unique<sim::FaultInjector>(world_.get(), budgeted(sim::FaultProbabilities::Swarm(swarm)),
                                                     faults_until);
  } else if (f.mode == FaultMode::kSchedule) {
    auto schedule = sim::FaultSchedule::Parse(f.schedule_text);
    KTM_ASSERT(schedule.ok(), "scenario schedule was validated but does not parse");
    injector_ = std::make_unique<sim::FaultInjector>(world_.get(), *schedule, faults_until);
  }
  if (injector_ && !f.crash_on.empty() && !options_.schedule && f.mode != FaultMode::kSchedule) {
    sim::CrashTrigger trigger = sim::CrashTrigger::kNone;
    KTM_ASSERT(sim::ParseCrashTrigger(f.crash_on, &trigger), "faults.crash_on was validated: " + f.crash_on);
    injector_->SetTargetedCrashes(trigger, f.crash_on_probability);
  }
  if (injector_) injector_->Start();
  scheduler.At(faults_until, [this] {
    faults_stopped_ = true;
    Record(model::EventKind::kFaultsStop, sim::kNoHost, "");
  });
  for (size_t i = 0; i < hosts_.size(); ++i) Boot(i);

  // active_ first: NextNumber scans the skip list, and the loop asks after every event.
  auto workload_done = [this] { return active_ == 0 && NextNumber() == 0; };
  while (scheduler.Step()) {
    if (stop_requested_) break;
    if (scheduler.Now() >= scenario_.run_until_ns) break;
    if (faults_stopped_ && workload_done()) break;
    if (faults_stopped_ && scenario_.workload.duration_ns > 0 && scheduler.Now() >= scenario_.workload.duration_ns &&
        active_ == 0) {
      break;
    }
  }
  if (stop_requested_) {
    RunResult stopped;
    stopped.scenario = scenario_.name;
    stopped.seed = seed_;
    stopped.digest = world_->trace().digest();
    stopped.trace_events = world_->trace().count();
    return stopped;
  }
  sim::TimeNs settle_until = std::min(scenario_.run_until_ns,
                                      std::max(scheduler.Now(), faults_until) + scenario_.termination_bound_ns);
  scheduler.RunUntil(settle_until);
  RecordFinalValues();

  RunResult result;
  result.scenario = scenario_.name;
  result.seed = seed_;
  result.digest = world_->trace().digest();
  result.trace_events = world_->trace().count();
  result.transactions = started_;
  result.committed = committed_;
  result.aborted = aborted_;
  result.unresolved = started_ - outcomes_;
  result.sim_time_ns = scheduler.Now();
  if (injector_) {
    sim::FaultSchedule injected = injector_->Injected();
    result.faults_injected = injected.fault_count();
    result.schedule_text = injected.ToText();
  }
  if (options_.keep_trace) {
    result.trace_text = world_->trace().ToText();
    result.trace = world_->trace().events();
  }
  result.commit_latencies_ns = std::move(commit_latencies_);
  result.history = recorder_.TakeHistory(scheduler.Now());
  // tx_by_uow joins trace events to transactions: without a kept trace or a
  // text hook nobody reads it (RunResult::names).
  result.names = options_.keep_trace || trace_hook_ ? recorder_.names() : recorder_.RmNames();
  return result;
}

RunResult Cluster::Run() {
  RunResult result = Simulate();
  if (!stop_requested_) CheckHistory(scenario_, options_, &result);
  return result;
}

void CheckHistory(const Scenario& scenario, const RunOptions& options, RunResult* result) {
  // Beyond the recoverable budget only safety is promised: no termination.
  std::vector<std::string> rules = scenario.checkers;
  if (scenario.faults.budget == "beyond") {
    if (rules.empty()) rules = model::RuleNames();
    rules.erase(std::remove(rules.begin(), rules.end(), "termination"), rules.end());
  }
  // "conformance" is no model rule: the runner checks it (harness/conformance.h).
  const bool listed = !rules.empty();
  rules.erase(std::remove(rules.begin(), rules.end(), "conformance"), rules.end());
  for (auto& v : listed && rules.empty() ? std::vector<model::Violation>{}
                                         : model::CheckAll(result->history, rules, scenario.termination_bound_ns,
                                                          options.check_scratch)) {
    result->violations.push_back({v.rule, v.tx, v.message, v.events});
  }
  if (scenario.expect == Expect::kPass) {
    result->passed = result->violations.empty();
  } else {
    result->passed = std::any_of(result->violations.begin(), result->violations.end(), [&scenario](const Violation& v) {
      return scenario.expect_rule.empty() || v.rule == scenario.expect_rule;
    });
  }
}

}  // namespace harness
