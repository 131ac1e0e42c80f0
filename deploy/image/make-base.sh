#!/usr/bin/env bash
# A Debian bookworm base image made here with debootstrap, for machines that reach Debian's
# packages but no container registry. Users with a registry keep the official base
# (docker.io/library/debian:bookworm-slim), which the Dockerfile defaults to.
#   deploy/image/make-base.sh [IMAGE] [DIR]
set -euo pipefail
image=${1:-localhost/bookworm-base:local}
dir=${2:-.cache/image-base}
podman=(podman --runtime /usr/sbin/runc)
if "${podman[@]}" image exists "$image"; then echo "$image exists"; exit 0; fi
# the mirror this machine's apt uses
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -x "$dir/usr/bin/apt-get" ]; then
  rm -rf "$dir"
  echo "debootstrap --variant=minbase bookworm $dir $mirror"
  debootstrap --variant=minbase bookworm "$dir" "$mirror" >/dev/null
fi
tar -C "$dir" -c . | "${podman[@]}" import - "$image" >/dev/null
echo "$image imported"
