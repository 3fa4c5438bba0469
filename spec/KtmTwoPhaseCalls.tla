------------------------- MODULE KtmTwoPhaseCalls --------------------------
(***************************************************************************)
(* KtmTwoPhase as KTM's API lets it run.  An RM tells the TM its vote by a *)
(* call into the TM, not by a message: PrepareComplete (a yes vote) and    *)
(* RollbackEnlistment (a no vote).  While the TM is undecided the TM's     *)
(* reaction happens inside that call: it takes the Prepared message        *)
(* (TMRcvPrepared) or aborts (TMAbort) before anything else can happen.    *)
(* The state between the RM's step and the TM's is visited (the trace      *)
(* shows the vote first), but the TM's step is its only successor.  After  *)
(* the TM decided, every step is KtmTwoPhase's (an RM may still vote yes:  *)
(* its PrepareComplete finds the transaction aborted).                     *)
(*                                                                         *)
(* The states of KtmTwoPhase this reaches are exactly those with at most   *)
(* one RM in flight (AtMostOneRmInFlight): with RM = {rm1, rm2, rm3}, 256  *)
(* of the 288.  Executable twin: model/spec_two_phase.{h,cc}               *)
(* (TwoPhaseKtmCalls); tests/conformance_test.cc checks the 256, that the  *)
(* runs' steps are its steps, and that the default suite reaches all 256.  *)
(***************************************************************************)
EXTENDS FiniteSets

CONSTANT RM

VARIABLES rmState, tmState, tmPrepared, msgs

vars == <<rmState, tmState, tmPrepared, msgs>>

TP == INSTANCE KtmTwoPhase

\* r's Prepared message is sent and the undecided TM has not taken it yet.
PreparedInFlight(r) ==
  /\ tmState = "init"
  /\ [type |-> "Prepared", rm |-> r] \in msgs
  /\ r \notin tmPrepared

\* r voted no and the TM has not aborted yet.
NoVoteInFlight(r) ==
  /\ tmState = "init"
  /\ rmState[r] = "aborted"

InFlight == {r \in RM : PreparedInFlight(r) \/ NoVoteInFlight(r)}

Init == TP!Init

Next ==
  IF InFlight # {}
    THEN \/ \E r \in RM : PreparedInFlight(r) /\ TP!TMRcvPrepared(r)
         \/ (\E r \in RM : NoVoteInFlight(r)) /\ TP!TMAbort
    ELSE TP!Next

Spec == Init /\ [][Next]_vars

TypeOK == TP!TypeOK
Consistent == TP!Consistent
AtMostOneRmInFlight == Cardinality(InFlight) <= 1

\* Every behaviour of KtmTwoPhaseCalls is one of KtmTwoPhase's.
ImplementsTwoPhase == TP!Spec
=============================================================================
