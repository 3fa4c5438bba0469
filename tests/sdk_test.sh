#!/usr/bin/env bash
# The sdk test (label sdk, tests/sdk_tests.cmake): installs ktmsim into a
# temporary prefix, builds examples/ against it with nothing but
# find_package(ktmsim), runs the ledger example's scenarios through
# --plugin with the installed binary, checks that each planted bug of the
# ledger fails its scenario, and that bad plugins are refused with one line
# and exit 2, and runs `ktmsim conform` on the ledger: the clean RM passes
# every rule, each planted bug fails exactly its rule.
# usage: sdk_test.sh SOURCE_DIR BUILD_DIR NO_SYMBOL.so WRONG_VERSION.so DUPLICATE_KIND.so FAILING_REGISTER.so
set -euo pipefail
src=$1 build=$2 no_symbol=$3 wrong_version=$4 duplicate_kind=$5 failing_register=$6
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "sdk_test: FAIL: $*" >&2; exit 1; }

# 1. Install; the package has a config and a version file.
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
pkg=$tmp/prefix/lib/cmake/ktmsim
for f in ktmsimConfig.cmake ktmsimConfigVersion.cmake ktmsimTargets.cmake; do
  [[ -f $pkg/$f ]] || fail "the install has no $pkg/$f"
done
grep -q 'find_dependency(absl' "$pkg/ktmsimConfig.cmake" || fail "ktmsimConfig.cmake does not find absl"
[[ -f $tmp/prefix/include/ktm/rm_base.h && -f $tmp/prefix/include/harness/plugin_api.h ]] ||
  fail "headers not installed"
ktmsim=$tmp/prefix/bin/ktmsim
[[ -x $ktmsim ]] || fail "ktmsim not installed"

# 2. Build examples/ out of tree against the prefix only (ccache: the
#    objects are cached between runs of this test).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# A sanitizer build installs instrumented libraries (KTMSIM_SDK_SANITIZE_FLAGS, tests/sdk_tests.cmake).
san=${KTMSIM_SDK_SANITIZE_FLAGS:-}
cmake -S "$src/examples" -B "$tmp/examples" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" "-DCMAKE_CXX_FLAGS=$san" "-DCMAKE_EXE_LINKER_FLAGS=$san" \
  "-DCMAKE_SHARED_LINKER_FLAGS=$san" "-DCMAKE_MODULE_LINKER_FLAGS=$san" \
  -DCMAKE_PREFIX_PATH="$tmp/prefix" "${launcher[@]}" >/dev/null ||
  fail "configuring examples/ against the installed package"
ninja -C "$tmp/examples" >/dev/null || fail "building examples/"
plugin=$tmp/examples/ledger/libledger_plugin.so
[[ -f $plugin ]] || fail "no $plugin"
"$tmp/examples/ledger/ledger_link_check" >/dev/null || fail "ledger_link_check (linked against ktmsim::ktm) failed"

# 3. The example's scenarios pass through --plugin; without it the kind is unknown.
"$ktmsim" run "$src/examples/ledger/scenarios" --plugin "$plugin" --seeds 8 --jobs 2 --quiet \
  --out "$tmp/out-clean" >/dev/null || fail "the ledger scenarios failed with the clean ledger (see $tmp/out-clean)"
set +e
"$ktmsim" run "$src/examples/ledger/scenarios" --seeds 1 --quiet --out "$tmp/out-none" >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 2 ]] || fail "without --plugin the ledger kind must be unknown (exit 2), got exit $rc"

# 4. Each planted bug fails its scenario (exit 1: some run failed), by the
#    checker rule it breaks, and by no other.
declare -A bug_rule=([lose_replayed_commits]=durability [dirty_read]=isolation)
declare -A bug_other=([lose_replayed_commits]=isolation [dirty_read]='atomicity\|durability')
for bug in lose_replayed_commits dirty_read; do
  set +e
  "$ktmsim" run "$src/examples/ledger/bugs/$bug.toml" --plugin "$plugin" --seeds 30 --jobs 2 --quiet \
    --failure_folders_max 3 --out "$tmp/out-$bug" >/dev/null 2>&1
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "planted bug $bug: expected failed runs (exit 1), got exit $rc"
  grep -q "\"rule\": *\"${bug_rule[$bug]}\"" "$tmp"/out-$bug/failures/*/result.json ||
    fail "planted bug $bug: no ${bug_rule[$bug]} violation in its failure folders"
  # The run's identity names the plugin: failure folders replay without being told.
  for script in "$tmp"/out-$bug/failures/*/replay.sh; do
    grep -q -- "--plugin $plugin" "$script" || fail "planted bug $bug: $script does not pass --plugin"
  done
  if grep -q "\"rule\": *\"\(${bug_other[$bug]}\)\"" "$tmp"/out-$bug/failures/*/result.json; then
    fail "planted bug $bug: a violation of another rule (${bug_other[$bug]})"
  fi
done

# 5. conform: the clean ledger passes every rule; each planted bug fails
#    exactly the rule it breaks, with failure folders whose replay commands
#    carry --plugin; a JUnit file with a testcase per rule.
rules=(prepare_durable commit_idempotent answer_notifications no_work_after_prepare recover_enlistment
  wait_out_indoubt durable_after_commit)
declare -A bug_of=([prepare_durable]=prepare_complete_early [commit_idempotent]=reapply_commit
  [answer_notifications]=ignore_rollback [no_work_after_prepare]=work_after_prepare
  [recover_enlistment]=skip_recover_enlistment [wait_out_indoubt]=decide_in_doubt
  [durable_after_commit]=lose_replayed_commits)
"$ktmsim" conform --plugin "$plugin" --kind ledger --out "$tmp/conform-clean" >"$tmp/conform.out" 2>"$tmp/conform.err" ||
  fail "conform on the clean ledger failed: $(cat "$tmp/conform.out")"
for rule in "${rules[@]}"; do
  grep -q "^PASS $rule " "$tmp/conform.out" || fail "conform clean: no PASS line for $rule"
done
grep -q '^conform: \[8/8\]' "$tmp/conform.err" || fail "conform: no k/N progress on stderr"
[[ $(grep -c '<testcase ' "$tmp/conform-clean/junit.xml") == 7 ]] || fail "conform: junit.xml has not 7 testcases"
for rule in "${rules[@]}"; do
  bug=${bug_of[$rule]}
  set +e
  "$ktmsim" conform --plugin "$plugin" --kind ledger --rm-option "bug=$bug" --quiet --out "$tmp/conform-$bug" \
    >"$tmp/conform.out" 2>&1
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "conform with bug $bug: expected exit 1, got $rc: $(cat "$tmp/conform.out")"
  failed=$(grep '^FAIL ' "$tmp/conform.out" | awk '{print $2}' | tr '\n' ' ')
  [[ $failed == "$rule " ]] || fail "conform with bug $bug: expected exactly $rule to fail, got: $failed"
  grep -q '<failure message=' "$tmp/conform-$bug/junit.xml" || fail "conform with bug $bug: no <failure> in junit.xml"
  replay=$(grep -m1 'replay (in ' "$tmp/conform.out" | sed 's/.*): //')
  [[ $replay == *"--plugin $plugin"* ]] || fail "conform with bug $bug: replay command without --plugin: $replay"
  [[ $replay == *"--rm-contract"* ]] || fail "conform with bug $bug: replay command without --rm-contract: $replay"
  # The replay command runs from the report directory, reproduces the run
  # and judges it as conform did: it fails the same rule.
  read -r -a words <<<"$replay"
  set +e
  (cd "$tmp/conform-$bug" && "$ktmsim" "${words[@]:1}" >"$tmp/replay.out" 2>"$tmp/replay.err")
  rc=$?
  set -e
  [[ $rc == 1 ]] || fail "conform with bug $bug: the replay command should fail (exit 1), got $rc: $replay: $(cat "$tmp/replay.err")"
  grep -q "rm\.$rule" "$tmp/replay.out" || fail "conform with bug $bug: replay does not report rm.$rule: $(cat "$tmp/replay.out")"
done

set +e
"$ktmsim" conform --plugin "$plugin" --kind ledger --rm-option bug=no_such_bug --out "$tmp/conform-bad" \
  >/dev/null 2>"$tmp/conform-bad.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "conform with an unknown bug: expected exit 2, got $rc"
grep -q "unknown ledger bug 'no_such_bug'" "$tmp/conform-bad.err" || fail "conform: the bad --rm-option is not named"
[[ ! -e $tmp/conform-bad ]] || fail "conform with a bad --rm-option wrote a report"

# 6. RM options are checked when the scenario loads: file:line, exit 2.
cat >"$tmp/bad_option.toml" <<'TOML'
[[hosts]]
name = "n1"

[[rms]]
name = "l1"
host = "n1"
kind = "ledger"

[rms.options]
bug = "no_such_bug"
TOML
set +e
"$ktmsim" run "$tmp/bad_option.toml" --plugin "$plugin" --seeds 1 --quiet --out "$tmp/out-bad-option" \
  >/dev/null 2>"$tmp/bad_option.err"
rc=$?
set -e
[[ $rc == 2 ]] || fail "an unknown ledger bug must be refused at load (exit 2), got $rc"
grep -q "bad_option.toml:10:.*unknown ledger bug 'no_such_bug'" "$tmp/bad_option.err" ||
  fail "the refused option is not reported at file:line: $(cat "$tmp/bad_option.err")"

# 7. Bad plugins: one line on stderr, exit 2, nothing run.
refuse() {  # refuse NAME PATH EXPECTED-TEXT
  local name=$1 path=$2 want=$3 rc
  set +e
  "$ktmsim" run "$src/examples/ledger/scenarios" --plugin "$plugin" --plugin "$path" --seeds 1 --quiet \
    --out "$tmp/out-bad-$name" >"$tmp/bad.out" 2>"$tmp/bad.err"
  rc=$?
  set -e
  [[ $rc == 2 ]] || fail "bad plugin $name: expected exit 2, got $rc"
  [[ $(wc -l <"$tmp/bad.err") == 1 ]] || fail "bad plugin $name: expected one line on stderr, got: $(cat "$tmp/bad.err")"
  grep -q -- "$want" "$tmp/bad.err" || fail "bad plugin $name: expected '$want' in: $(cat "$tmp/bad.err")"
  [[ ! -e $tmp/out-bad-$name ]] || fail "bad plugin $name: a report was written"
}
echo "not a shared library" >"$tmp/text.so"
refuse not_elf "$tmp/text.so" "plugin $tmp/text.so: "
refuse missing "$tmp/missing.so" "No such file"
refuse no_symbol "$no_symbol" "no ktmsim_plugin_register symbol"
refuse wrong_version "$wrong_version" "built for SDK version 3, this ktmsim has SDK version 2"
refuse duplicate_kind "$duplicate_kind" 'RM kind "kv" is registered twice'
refuse failing_register "$failing_register" "registration failed (returned 3)"
refuse twice "$plugin" 'RM kind "ledger" is registered twice'
echo "sdk_test: OK"
