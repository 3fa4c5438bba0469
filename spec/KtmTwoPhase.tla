---------------------------- MODULE KtmTwoPhase ----------------------------
(***************************************************************************)
(* Two-phase commit with one TM and the RMs of one transaction, at the     *)
(* level at which KTM runs it for a transaction with N enlistments:        *)
(* an RM prepares and says so (Prepared message: KTM's PrepareComplete),   *)
(* the TM collects the Prepared messages (the enlistment moves to          *)
(* Prepared), decides commit once it has all of them (the transaction      *)
(* moves to Committed after the commit record is forced) or abort at any   *)
(* time before (Aborted), and the RMs learn the decision (COMMIT or        *)
(* ROLLBACK notification).  An RM may abort on its own while working (a    *)
(* "no" vote, RollbackEnlistment).                                         *)
(*                                                                         *)
(* Only safety is specified.  msgs is the set of every message ever sent:  *)
(* loss, duplication and reordering are receiving a message never, twice   *)
(* or late, all of which the spec already allows.                          *)
(* spec/README.md maps every variable and action to engine states and      *)
(* trace events.  Executable twin: model/spec_two_phase.{h,cc} (TwoPhase). *)
(* With RM = {rm1, rm2, rm3} TLC finds 288 distinct states.                *)
(***************************************************************************)
CONSTANT RM

VARIABLES
  rmState,     \* rmState[r]: "working", "prepared", "committed" or "aborted"
  tmState,     \* "init" (undecided), "committed" or "aborted"
  tmPrepared,  \* the RMs whose Prepared message the TM has received
  msgs         \* every message sent so far

vars == <<rmState, tmState, tmPrepared, msgs>>

Messages ==
  [type : {"Prepared"}, rm : RM] \cup [type : {"Commit", "Abort"}]

TypeOK ==
  /\ rmState \in [RM -> {"working", "prepared", "committed", "aborted"}]
  /\ tmState \in {"init", "committed", "aborted"}
  /\ tmPrepared \subseteq RM
  /\ msgs \subseteq Messages

Init ==
  /\ rmState = [r \in RM |-> "working"]
  /\ tmState = "init"
  /\ tmPrepared = {}
  /\ msgs = {}

\* ---- the TM ----
TMRcvPrepared(r) ==
  /\ tmState = "init"
  /\ [type |-> "Prepared", rm |-> r] \in msgs
  /\ tmPrepared' = tmPrepared \cup {r}
  /\ UNCHANGED <<rmState, tmState, msgs>>

TMCommit ==
  /\ tmState = "init"
  /\ tmPrepared = RM
  /\ tmState' = "committed"
  /\ msgs' = msgs \cup {[type |-> "Commit"]}
  /\ UNCHANGED <<rmState, tmPrepared>>

TMAbort ==
  /\ tmState = "init"
  /\ tmState' = "aborted"
  /\ msgs' = msgs \cup {[type |-> "Abort"]}
  /\ UNCHANGED <<rmState, tmPrepared>>

\* ---- an RM ----
RMPrepare(r) ==
  /\ rmState[r] = "working"
  /\ rmState' = [rmState EXCEPT ![r] = "prepared"]
  /\ msgs' = msgs \cup {[type |-> "Prepared", rm |-> r]}
  /\ UNCHANGED <<tmState, tmPrepared>>

\* A "no" vote.  KTM's RM does tell the TM (RollbackEnlistment); the TM's
\* reaction is its own step TMAbort, so no message is needed here.
RMChooseToAbort(r) ==
  /\ rmState[r] = "working"
  /\ rmState' = [rmState EXCEPT ![r] = "aborted"]
  /\ UNCHANGED <<tmState, tmPrepared, msgs>>

RMRcvCommitMsg(r) ==
  /\ [type |-> "Commit"] \in msgs
  /\ rmState' = [rmState EXCEPT ![r] = "committed"]
  /\ UNCHANGED <<tmState, tmPrepared, msgs>>

RMRcvAbortMsg(r) ==
  /\ [type |-> "Abort"] \in msgs
  /\ rmState' = [rmState EXCEPT ![r] = "aborted"]
  /\ UNCHANGED <<tmState, tmPrepared, msgs>>

Next ==
  \/ TMCommit \/ TMAbort
  \/ \E r \in RM : \/ TMRcvPrepared(r) \/ RMPrepare(r) \/ RMChooseToAbort(r)
                   \/ RMRcvCommitMsg(r) \/ RMRcvAbortMsg(r)

Spec == Init /\ [][Next]_vars

Consistent ==
  \A r1, r2 \in RM : ~(rmState[r1] = "aborted" /\ rmState[r2] = "committed")

\* KtmTwoPhase implements KtmTCommit (check with TLC as a property).
TC == INSTANCE KtmTCommit
ImplementsTCommit == TC!Spec
=============================================================================
