#!/usr/bin/env bash
# The image run two ways, as the Kubernetes manifests run it (uid 1000, read-only root, /data and
# /tmp writable): `tosia run` on a bundled sample, and `tosia serve` answering /health.
#   deploy/image/smoke.sh [IMAGE]
set -euo pipefail
image=${1:-localhost/tosia:latest}
podman=(podman --runtime /usr/sbin/runc)
run=("${podman[@]}" run --rm --read-only --tmpfs /data:U --user 1000:1000 --ulimit nofile=4096:4096 --ulimit nproc=4096:4096)

echo "1. tosia run on the bundled sample (no network)"
out=$("${run[@]}" --network none "$image" run --json samples/coughs-3_snr-25db_white_16k.wav)
node -e 'const r = JSON.parse(process.argv[1]); if (r.segments.length !== 3 || !r.diagnosis.label || r.model.execution_provider !== "cpu") { console.error("unexpected result", r.segments.length, r.diagnosis, r.model.execution_provider); process.exit(1); } console.log(`   ${r.segments.length} segments, ${r.diagnosis.label} ${r.diagnosis.score.toFixed(3)}, model ${r.model.name} ${r.model.version} on ${r.model.execution_provider} (onnxruntime-node)`)' "$out"
node_version=$("${run[@]}" --network none --entrypoint node "$image" --version)
echo "   node $node_version"
case "$node_version" in v24.*) ;; *) echo "expected Node 24 in the image"; exit 1 ;; esac

peers=$("${run[@]}" --network none --entrypoint node -w /app "$image" --input-type=module -e "for (const n of ['onnxruntime-node', '@azure/storage-blob', '@aws-sdk/client-s3']) await import(n); console.log('ok')")
echo "   the optional peers (onnxruntime-node, the Azure and AWS SDKs) load: $peers"
[ "$peers" = ok ] || exit 1
ffmpeg_line=$("${run[@]}" --network none "$image" doctor | grep -E '^\S+\s+ffmpeg ' || true)
echo "   $ffmpeg_line"
case "$ffmpeg_line" in ok*"/usr/bin/ffmpeg (found by: explicit, in use)"*) ;; *) echo "expected Debian's ffmpeg in use"; exit 1 ;; esac

echo "2. tosia serve answering /health"
port=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
name=tosia-smoke-$$
"${run[@]}" -d --name "$name" --network host "$image" serve --host 127.0.0.1 --port "$port" --data /data >/dev/null
trap '"${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 120); do
  if body=$(curl -sf "http://127.0.0.1:$port/health"); then echo "   /health: $body"; break; fi
  sleep 0.5
done
[ "${body:-}" = '{"status":"ok"}' ] || { echo "serve did not answer /health"; "${podman[@]}" logs "$name" | tail -20; exit 1; }
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")
echo "   /ready: $ready"
[ "$ready" = 200 ] || { "${podman[@]}" logs "$name" | tail -20; exit 1; }
"${podman[@]}" stop -t 30 "$name" >/dev/null
echo "   stopped on SIGTERM"
echo "   image size: $("${podman[@]}" image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
