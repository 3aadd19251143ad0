#!/usr/bin/env bash
# SHA-256 throughput of cordon's executor verification next to sha256sum and Python's hashlib, on
# the same file in the same run (numbers for issue notes; never a test).
#
#   bench/run_sha256.sh [--bench PATH/TO/cordon-bench] [--size-mb N] [--iterations N]
#
# Defaults: cordon-bench from build/ (or $CORDON_BENCH), a 256 MB file of random bytes in a private
# temporary folder, 5 iterations; every tool gets the same warm page cache and its best run counts.
# Python is timed in-process (hashlib.file_digest with the OpenSSL-backed sha256; also the
# interpreter's own non-OpenSSL _sha256 when present), so interpreter start-up is not counted;
# sha256sum is timed as a process (start-up is < 1 ms of a 256 MB run). Prints one line per tool,
# the ratios, and whether the CPU has SHA-NI (/proc/cpuinfo flag sha_ni).
set -euo pipefail
cd "$(dirname "$0")/.."

bench=${CORDON_BENCH:-build/bench/cordon-bench}
size_mb=256
iterations=5
while [ $# -gt 0 ]; do
  case "$1" in
    --bench) bench=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_sha256.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "run_sha256.sh: no cordon-bench at $bench (build it: ninja -C build bench/cordon-bench, or pass --bench)" >&2; exit 2; }
[ "$size_mb" -ge 100 ] || { echo "run_sha256.sh: use at least 100 MB" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cordon-sha-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
file="$work/data.bin"
head -c "$((size_mb * 1000 * 1000))" /dev/urandom > "$file"
bytes=$(wc -c < "$file" | tr -d ' ')
cat "$file" > /dev/null  # warm the page cache for everyone

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n1)
if grep -qw sha_ni /proc/cpuinfo 2>/dev/null; then sha_ni=yes; else sha_ni=no; fi

# cordon (Crypto++ through detail::sha256_of_file, 1 MiB pread()s)
cordon_json=$("$bench" sha256 "$file" --iterations "$iterations")
cordon_mb=$(printf '%s' "$cordon_json" | sed -nE 's/.*"best_mb_s":([0-9.]+).*/\1/p')
cordon_digest=$(printf '%s' "$cordon_json" | sed -nE 's/.*"sha256":"([0-9a-f]+)".*/\1/p')
cordon_shains=$(printf '%s' "$cordon_json" | sed -nE 's/.*"sha_instructions":(true|false).*/\1/p')

# coreutils sha256sum, as a process
best_s=""
for _ in $(seq "$iterations"); do
  s=$(date +%s.%N); sum_digest=$(sha256sum "$file" | cut -d' ' -f1); e=$(date +%s.%N)
  best_s=$(awk -v a="$best_s" -v d="$(awk -v s="$s" -v e="$e" 'BEGIN{print e-s}')" 'BEGIN{ if (a == "" || d < a) print d; else print a }')
done
sum_mb=$(awk -v b="$bytes" -v s="$best_s" 'BEGIN { printf "%.1f", b / 1e6 / s }')

# Python hashlib, in-process
py_out=$(python3 - "$file" "$iterations" <<'EOF'
import hashlib, os, sys, time
path, n = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(path)
def best(make):
    top, digest = 0.0, ""
    for _ in range(n):
        t = time.perf_counter()
        with open(path, "rb") as f:
            if hasattr(hashlib, "file_digest"):
                h = hashlib.file_digest(f, make)
            else:
                h = make()
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        top = max(top, size / 1e6 / (time.perf_counter() - t))
        digest = h.hexdigest()
    return top, digest
mb, d = best(hashlib.sha256)
print(f"openssl {mb:.1f} {d} {hashlib.sha256.__name__} {sys.version.split()[0]}")
try:
    import _sha256 as builtin  # CPython's own implementation (3.11), no OpenSSL
    mb, d = best(builtin.sha256)
    print(f"builtin {mb:.1f} {d}")
except ImportError:
    try:
        import _sha2 as builtin  # 3.12+ (HACL*)
        mb, d = best(builtin.sha256)
        print(f"builtin {mb:.1f} {d}")
    except ImportError:
        pass
EOF
)
read -r _ py_mb py_digest py_impl py_version <<< "$(printf '%s\n' "$py_out" | grep '^openssl ')"
builtin_line=$(printf '%s\n' "$py_out" | grep '^builtin ' || true)

if [ "$cordon_digest" != "$sum_digest" ] || [ "$cordon_digest" != "$py_digest" ]; then
  echo "run_sha256.sh: digests differ: cordon $cordon_digest, sha256sum $sum_digest, hashlib $py_digest" >&2
  exit 1
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "CPU: ${cpu:-unknown}; sha_ni in /proc/cpuinfo: $sha_ni; Crypto++ uses SHA instructions: $cordon_shains"
echo "file: $bytes bytes (random), page cache warm, best of $iterations; all digests equal ($cordon_digest)"
printf '%-44s %10s MB/s\n' "cordon-bench sha256 (Crypto++)" "$cordon_mb"
printf '%-44s %10s MB/s   cordon is %sx\n' "sha256sum (coreutils)" "$sum_mb" "$(ratio "$cordon_mb" "$sum_mb")"
printf '%-44s %10s MB/s   cordon is %sx\n' "python $py_version hashlib.sha256 ($py_impl)" "$py_mb" "$(ratio "$cordon_mb" "$py_mb")"
if [ -n "$builtin_line" ]; then
  read -r _ b_mb _ <<< "$builtin_line"
  printf '%-44s %10s MB/s   cordon is %sx\n' "python builtin sha256 (no OpenSSL)" "$b_mb" "$(ratio "$cordon_mb" "$b_mb")"
fi
