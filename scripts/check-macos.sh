#!/bin/bash
# Type-checks (and lints) the worker for macOS from Linux, without a macOS SDK:
#   rustup target add aarch64-apple-darwin   # once
#   scripts/check-macos.sh
# `cargo check` and `clippy` never link, so the C sources of dependencies (ring, bundled
# SQLite) are "compiled" by a stand-in that emits empty Mach-O objects (needs clang and
# llvm-ar). Our Rust code, every `#[cfg(target_os = "macos")]` item and test included, is
# checked for real. This proves nothing about running on a Mac.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
mkdir -p "$target_dir"
stub="$target_dir/macos-check-cc.sh"
cat > "$stub" <<'STUB'
#!/bin/bash
out=""; compile=0; prev=""
for arg in "$@"; do
  [ "$prev" = "-o" ] && out="$arg"
  [ "$arg" = "-c" ] && compile=1
  prev="$arg"
done
if [ "$compile" = 1 ] && [ -n "$out" ]; then
  exec clang --target=arm64-apple-macos11 -c -x c /dev/null -o "$out"
fi
exec clang "$@"
STUB
chmod +x "$stub"
export CC_aarch64_apple_darwin="$PWD/$stub" AR_aarch64_apple_darwin=llvm-ar
cargo clippy -p openclaw-worker --all-targets --target aarch64-apple-darwin -- -D warnings
