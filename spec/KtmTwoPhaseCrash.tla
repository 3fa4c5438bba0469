------------------------- MODULE KtmTwoPhaseCrash --------------------------
(***************************************************************************)
(* KtmTwoPhase with crashes and recovery of the TM and of each RM, as KTM  *)
(* survives them: what is on a log survives, the rest is lost.             *)
(*                                                                         *)
(*  - The TM logs (and forces) its commit decision before anyone hears of  *)
(*    it, so tmState survives a TM crash; what it had collected            *)
(*    (tmPrepared) is volatile and is lost.  After recovery an undecided   *)
(*    transaction may be aborted (presumed abort: TMRecover, then TMAbort).*)
(*  - An RM forces its prepare record before it says Prepared, and its     *)
(*    commit or abort before it acknowledges it: prepared, committed and   *)
(*    aborted survive an RM crash; the work of a working RM is lost, so    *)
(*    the RM is aborted.                                                   *)
(*  - A process that is down takes no protocol step.  Messages already     *)
(*    sent stay in msgs (safety only: they may be received later or never).*)
(*                                                                         *)
(* In the spirit of 2PCwithBTM (TM and RM failures; see KtmTwoPhaseBTM for *)
(* that module's own semantics), but with recovery: KTM brings a crashed   *)
(* TM or RM back rather than handing over to a backup.  With nobody        *)
(* crashing it is KtmTwoPhase.  Executable twin: model/spec_two_phase.     *)
(* {h,cc} (TwoPhaseCrash).  With RM = {rm1, rm2, rm3}: 2,334 states.       *)
(***************************************************************************)
CONSTANT RM

VARIABLES rmState, tmState, tmPrepared, msgs,
          tmUp,   \* the TM is running
          rmUp    \* rmUp[r]: RM r is running

TP == INSTANCE KtmTwoPhase

vars == <<rmState, tmState, tmPrepared, msgs, tmUp, rmUp>>

TypeOK ==
  /\ TP!TypeOK
  /\ tmUp \in BOOLEAN
  /\ rmUp \in [RM -> BOOLEAN]

Init ==
  /\ TP!Init
  /\ tmUp = TRUE
  /\ rmUp = [r \in RM |-> TRUE]

\* The protocol's steps, taken only by processes that are up.
TMStep ==
  /\ tmUp
  /\ \/ TP!TMCommit \/ TP!TMAbort \/ \E r \in RM : TP!TMRcvPrepared(r)
  /\ UNCHANGED <<tmUp, rmUp>>

RMStep(r) ==
  /\ rmUp[r]
  /\ \/ TP!RMPrepare(r) \/ TP!RMChooseToAbort(r)
     \/ TP!RMRcvCommitMsg(r) \/ TP!RMRcvAbortMsg(r)
  /\ UNCHANGED <<tmUp, rmUp>>

TMCrash ==
  /\ tmUp
  /\ tmUp' = FALSE
  /\ tmPrepared' = {}
  /\ UNCHANGED <<rmState, tmState, msgs, rmUp>>

TMRecover ==
  /\ ~tmUp
  /\ tmUp' = TRUE
  /\ UNCHANGED <<rmState, tmState, tmPrepared, msgs, rmUp>>

RMCrash(r) ==
  /\ rmUp[r]
  /\ rmUp' = [rmUp EXCEPT ![r] = FALSE]
  /\ rmState' = IF rmState[r] = "working"
                  THEN [rmState EXCEPT ![r] = "aborted"]
                  ELSE rmState
  /\ UNCHANGED <<tmState, tmPrepared, msgs, tmUp>>

RMRecover(r) ==
  /\ ~rmUp[r]
  /\ rmUp' = [rmUp EXCEPT ![r] = TRUE]
  /\ UNCHANGED <<rmState, tmState, tmPrepared, msgs, tmUp>>

Next ==
  \/ TMStep \/ TMCrash \/ TMRecover
  \/ \E r \in RM : RMStep(r) \/ RMCrash(r) \/ RMRecover(r)

Spec == Init /\ [][Next]_vars

Consistent == TP!Consistent
=============================================================================
