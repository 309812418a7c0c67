#!/usr/bin/env bash
# The hardening probes of issue #12 that need no chat server, run against
# one kotae binary (debug or release); each prints what kotae says.
# Usage: tools/hardening-probes.sh target/release/kotae
K="$(realpath "$1")"; ROOT="$(cd "$(dirname "$0")/.." && pwd)"; W=$(mktemp -d); cd "$W"
cp -r "$ROOT/knowledge" k
say() { printf '\n### %s\n' "$*"; }
say "1 bad byte on stdin"; printf 'Who announced the closure?\n\xff bad\nWhere were the Japan Centers?\n' | $K ask --json | cut -c1-110; echo "rc=${PIPESTATUS[1]}"
say "14 blank line keeps 1:1"; printf 'Who announced the closure?\n\nWhere were the Japan Centers?\n' | $K ask --json | wc -l
say "3 50 MB invalid file under 512 MiB"; cp -r k k3; python3 -c 'open("k3/facts/bad.toml","w").write("id = = =\n"*(50_000_000//9))'; /usr/bin/time -f 'peak %M KB, %e s' prlimit --as=$((512*1024*1024)) $K check k3 2>&1 | tail -3; echo "rc=${PIPESTATUS[0]}"
say "4 symlink to /dev/zero"; cp -r k k4; ln -s /dev/zero k4/facts/zero.toml; timeout 20 $K check k4 2>&1 | tail -2; echo "rc=${PIPESTATUS[0]}"
say "5 fifo named .toml"; cp -r k k5; mkfifo k5/facts/pipe.toml; timeout 20 $K check k5 2>&1 | tail -2; echo "rc=${PIPESTATUS[0]}"
say "6 duplicate source id, alias in two groups, url https://"; cp -r k k6
python3 - <<'PY'
s=open("k6/sources.toml").read(); first=s.index("[[source]]"); end=s.index("[[source]]",first+1)
open("k6/sources.toml","a").write("\n"+s[first:end].replace('url = "','url = "https://" # ',1))
a=open("k6/aliases.toml").read(); open("k6/aliases.toml","a").write('\n[[alias]]\nnames = ["Vladivostok", "Владивосток2"]\n')
PY
$K check k6 2>&1 | tail -4; echo "rc=${PIPESTATUS[0]}"
say "7 config: not a url / empty token / ftp"; KOTAE_MATRIX_HOMESERVER='not a url' KOTAE_MATRIX_USER=u KOTAE_MATRIX_PASSWORD=p $K config check 2>&1 | tail -1; KOTAE_DISCORD_TOKEN= $K config check 2>&1 | tail -1; KOTAE_MATRIX_HOMESERVER='ftp://x' KOTAE_MATRIX_USER=u KOTAE_MATRIX_PASSWORD=p $K config check 2>&1 | tail -1
say "8 secret printed?"; KOTAE_DISCORD_TOKEN_FILE='MTIzNDU2.secret-token-value' $K config check 2>&1 | tail -1 | grep -c 'secret-token-value'
say "9 config rough edges"; printf '[http\nlisten = 1\n' > bad.toml; $K config check --config bad.toml 2>&1 | tail -1; printf 'correction_window_days = "seven"\n' > typed.toml; $K config check --config typed.toml 2>&1 | tail -1; KOTAE_LOG_LEVEL=loud KOTAE_DISCORD_TOKEN=x $K config check 2>&1 | tail -1; echo tok > t; KOTAE_DISCORD_TOKEN=x KOTAE_DISCORD_TOKEN_FILE=t $K config check 2>&1 | tail -1
say "10 state dir errors name the path"; echo q | $K chat --state-dir /proc/nope 2>&1 | tail -1; touch f; echo q | $K chat --state-dir f/sub 2>&1 | tail -1
say "13 eval counts unaskable cases"; printf '[[case]]\nq = "Who announced the closure?"\nlang = "en"\nexpect = ["closure-announcement"]\n[[case]]\nq = " "\nlang = "en"\nexpect = ["closure-announcement"]\n[[case]]\nq = ""\nlang = "en"\nexpect = []\n' > set.toml; $K eval set.toml 2>&1 | grep -E 'top-1|declined|pass|FAIL'
say "15 missing facts dir, odd file name"; mkdir k15; cp k/sources.toml k15/; $K check k15 2>&1 | tail -2; cp -r k k15b; cp k/facts/closure.toml "k15b/facts/new
line.toml"; $K check k15b 2>&1 | tail -2
rm -rf "$W"
