---------------------------- MODULE KtmTCommit ----------------------------
(***************************************************************************)
(* Transaction commit as the RMs see it, with no TM and no messages: each  *)
(* RM works, may get ready (prepared), and the RMs end all committed or    *)
(* all aborted.  The top of the ladder: KtmTwoPhase implements it.         *)
(* Executable twin: model/spec_tcommit.{h,cc} (class TCommit).             *)
(* With RM = {rm1, rm2, rm3} TLC finds 34 distinct states.                 *)
(***************************************************************************)
CONSTANT RM                 \* the resource managers (KTM: the enlistments)

VARIABLE rmState            \* rmState[r]: where RM r is

Phases == {"working", "prepared", "committed", "aborted"}

TypeOK == rmState \in [RM -> Phases]

Init == rmState = [r \in RM |-> "working"]

\* Commit is possible once nobody is still working or has aborted.
AllReady == \A r \in RM : rmState[r] \in {"prepared", "committed"}

\* Abort is possible as long as nobody has committed.
NobodyCommitted == \A r \in RM : rmState[r] /= "committed"

Prepare(r) ==
  /\ rmState[r] = "working"
  /\ rmState' = [rmState EXCEPT ![r] = "prepared"]

DecideCommit(r) ==
  /\ rmState[r] = "prepared"
  /\ AllReady
  /\ rmState' = [rmState EXCEPT ![r] = "committed"]

DecideAbort(r) ==
  /\ rmState[r] \in {"working", "prepared"}
  /\ NobodyCommitted
  /\ rmState' = [rmState EXCEPT ![r] = "aborted"]

Next == \E r \in RM : Prepare(r) \/ DecideCommit(r) \/ DecideAbort(r)

Spec == Init /\ [][Next]_rmState

\* No RM commits while another aborts.
Consistent ==
  \A r1, r2 \in RM : ~(rmState[r1] = "aborted" /\ rmState[r2] = "committed")
=============================================================================
