#!/usr/bin/env bash
# Builds the GPU bundle: everything a GPU host needs to run ivkit without a JDK or Maven.
#
#   bundle/gpu-bundle.sh          mvn -Pcuda (our CUDA kernels + libtorch's CUDA jar), then the bundle
#   bundle/gpu-bundle.sh --cpu    the same layout with the CPU libtorch jar (no 458 MB download, no GPU): what CI
#                                 builds and runs to prove the jlinked runtime and the launcher work
#
# Output under target/gpu-bundle/ (repo root):
#   ivkit/            bin/ivkit (launcher), runtime/ (jlinked Java 17), lib/ (ivkit.jar and its small dependencies)
#   ivkit.tar.gz      that folder, packed (~60 MB)
#   libtorch/         libtorch's native jars (pytorch-*-linux-x86_64[-gpu].jar, the CUDA preset's jar), kept apart:
#                     they are 90-460 MB, change only with libtorch's version, and are copied once per host
# On the GPU host: unpack ivkit.tar.gz, put libtorch/ beside ivkit/ (or point IVKIT_LIBTORCH at it), then
#   ivkit/bin/ivkit demo --device cuda
# The host needs an NVIDIA driver, the CUDA 13 runtime libraries, cuDNN 9 and NCCL 2 on its library path (the
# presets ship no redistributable CUDA libraries); nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=0
case "${1:-}" in
  --cpu) cpu=1 ;;
  "") ;;
  *) echo "usage: bundle/gpu-bundle.sh [--cpu]" >&2; exit 2 ;;
esac

command -v jlink >/dev/null || { echo "gpu-bundle: jlink not found (needs a full JDK 17, not a JRE)" >&2; exit 1; }

if [ "$cpu" = 1 ]; then
  mvn -B -ntp -q -Pcuda -Dpytorch.classifier=linux-x86_64 -DskipTests -pl java package
else
  mvn -B -ntp -q -Pcuda -DskipTests -pl java package
fi

out=target/gpu-bundle
rm -rf "$out.tmp"
mkdir -p "$out.tmp/ivkit/bin" "$out.tmp/ivkit/lib" "$out.tmp/libtorch"

# libtorch's native jars (and the CUDA preset's platform jar) go apart; every other jar travels with ivkit.
cp java/target/ivkit.jar "$out.tmp/ivkit/lib/"
for j in java/target/lib/*.jar; do
  case "$(basename "$j")" in
    pytorch-*-linux-x86_64*.jar|cuda-*-linux-x86_64*.jar) cp "$j" "$out.tmp/libtorch/" ;;
    *) cp "$j" "$out.tmp/ivkit/lib/" ;;
  esac
done
ls "$out.tmp/libtorch/"pytorch-*-linux-x86_64*.jar >/dev/null

# Java modules the jars use (jdeps on ivkit.jar and its dependencies): java.base, java.management (thread/RSS figures),
# java.logging and java.desktop (JNA and DJL reference them), jdk.unsupported (JavaCPP's Unsafe).
jlink --add-modules java.base,java.logging,java.management,java.desktop,jdk.unsupported \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$out.tmp/ivkit/runtime"

cat > "$out.tmp/ivkit/bin/ivkit" <<'EOF'
#!/usr/bin/env bash
# ivkit launcher of the GPU bundle: the jlinked runtime beside it, ivkit's jars in ../lib, libtorch's native jars in
# $IVKIT_LIBTORCH (default: ../../libtorch, the folder beside the unpacked bundle).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
libtorch="${IVKIT_LIBTORCH:-$here/../libtorch}"
if ! ls "$libtorch"/pytorch-*-linux-x86_64*.jar >/dev/null 2>&1; then
  echo "ivkit: no libtorch jar in $libtorch (set IVKIT_LIBTORCH to the bundle's libtorch folder)" >&2
  exit 2
fi
export OPT_OUT_TRACKING=true
exec "$here/runtime/bin/java" ${IVKIT_JAVA_OPTS:-} -Dai.djl.offline=true -cp "$here/lib/*:$libtorch/*" dev.ivkit.cli.Main "$@"
EOF
chmod +x "$out.tmp/ivkit/bin/ivkit"

tar -C "$out.tmp" -czf "$out.tmp/ivkit.tar.gz" ivkit
rm -rf "$out"
mv "$out.tmp" "$out"
echo "gpu-bundle: $out/ivkit.tar.gz ($(du -h "$out/ivkit.tar.gz" | cut -f1)), libtorch jars in $out/libtorch ($(du -sh "$out/libtorch" | cut -f1))"
