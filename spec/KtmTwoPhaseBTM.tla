-------------------------- MODULE KtmTwoPhaseBTM ---------------------------
(***************************************************************************)
(* Commit with a TM that may fail once it has decided, a backup TM (BTM)   *)
(* that then decides from what the RMs show, and RMs of which at most one  *)
(* may fail for good.  Written directly as a next-state relation with      *)
(* program counters, following the behaviour of the PlusCal algorithm of   *)
(* 2PCwithBTM in the TLA+ examples (our own text), so TLC's state count is *)
(* that module's: 1,245 with 3 RMs and RMMAYFAIL = TMMAYFAIL = TRUE.  It   *)
(* is the cross-check of the failure semantics; KTM's own crash behaviour, *)
(* with recovery instead of a backup, is KtmTwoPhaseCrash.                 *)
(* Executable twin: model/spec_btm.{h,cc} (TwoPhaseBTM).                   *)
(***************************************************************************)
CONSTANTS RM, RMMAYFAIL, TMMAYFAIL

VARIABLES
  rmState,  \* "working", "prepared", "committed", "aborted" or "failed"
  tmState,  \* "init", "commit", "abort" or "hidden" (the TM has failed)
  pc        \* program counters: each RM, the TM (0) and the BTM (10)

vars == <<rmState, tmState, pc>>
TM == 0
BTM == 10

CanCommit == \/ \A r \in RM : rmState[r] = "prepared"
             \/ \E r \in RM : rmState[r] = "committed"
CanAbort == /\ \E r \in RM : rmState[r] \in {"aborted", "failed"}
            /\ \A r \in RM : rmState[r] /= "committed"

Init ==
  /\ rmState = [r \in RM |-> "working"]
  /\ tmState = "init"
  /\ pc = [p \in RM \cup {TM, BTM} |->
             IF p \in RM THEN "RS" ELSE IF p = TM THEN "TS" ELSE "BTS"]

SetRm(r, s) == rmState' = [rmState EXCEPT ![r] = s]

\* One turn of RM r's loop: prepare, commit, abort or fail while undecided;
\* leave the loop once decided or failed.
RS(r) ==
  /\ pc[r] = "RS"
  /\ IF rmState[r] \in {"working", "prepared"}
       THEN /\ \/ rmState[r] = "working" /\ SetRm(r, "prepared")
               \/ tmState = "commit" /\ SetRm(r, "committed")
               \/ (rmState[r] = "working" \/ tmState = "abort") /\ SetRm(r, "aborted")
               \/ IF RMMAYFAIL /\ \A q \in RM : rmState[q] /= "failed"
                    THEN SetRm(r, "failed")
                    ELSE UNCHANGED rmState
            /\ UNCHANGED pc
       ELSE /\ pc' = [pc EXCEPT ![r] = "Done"]
            /\ UNCHANGED rmState
  /\ UNCHANGED tmState

GoTm(from, to) == pc[TM] = from /\ pc' = [pc EXCEPT ![TM] = to]
TS == /\ \/ GoTm("TS", "TC") /\ CanCommit
         \/ GoTm("TS", "TA") /\ CanAbort
      /\ UNCHANGED <<rmState, tmState>>
TC == GoTm("TC", "F1") /\ tmState' = "commit" /\ UNCHANGED rmState
TA == GoTm("TA", "F2") /\ tmState' = "abort" /\ UNCHANGED rmState
\* The TM fails right after its decision (when it may fail at all).
Fail == tmState' = (IF TMMAYFAIL THEN "hidden" ELSE tmState)
F1 == GoTm("F1", "Done") /\ Fail /\ UNCHANGED rmState
F2 == GoTm("F2", "Done") /\ Fail /\ UNCHANGED rmState

GoBtm(from, to) == pc[BTM] = from /\ pc' = [pc EXCEPT ![BTM] = to]
BTS == /\ tmState = "hidden"
       /\ \/ GoBtm("BTS", "BTC") /\ CanCommit
          \/ GoBtm("BTS", "BTA") /\ CanAbort
       /\ UNCHANGED <<rmState, tmState>>
BTC == GoBtm("BTC", "Done") /\ tmState' = "commit" /\ UNCHANGED rmState
BTA == GoBtm("BTA", "Done") /\ tmState' = "abort" /\ UNCHANGED rmState

Finished == (\A p \in DOMAIN pc : pc[p] = "Done") /\ UNCHANGED vars

Next == TS \/ TC \/ TA \/ F1 \/ F2 \/ BTS \/ BTC \/ BTA \/ Finished
        \/ \E r \in RM : RS(r)

Spec == Init /\ [][Next]_vars

TypeOK ==
  /\ rmState \in [RM -> {"working", "prepared", "committed", "aborted", "failed"}]
  /\ tmState \in {"init", "commit", "abort", "hidden"}

Consistent ==
  \A r1, r2 \in RM : ~(rmState[r1] = "aborted" /\ rmState[r2] = "committed")
=============================================================================
