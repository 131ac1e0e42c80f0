# tosia: the CLI, the server and the worker in one image, with the bundled model and Debian's
# ffmpeg (kept up to date by the distribution, unlike the static fallbacks npm would fetch).
# Not built on the project's machines (no container engine there): test/deploy/compose.test.ts
# checks that every command and flag compose.yaml gives it is accepted by the built CLI.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# ffmpeg-static (optional) is left out: the image uses Debian's ffmpeg
RUN npm ci --omit=optional
COPY tsconfig.json ./
COPY algos algos
COPY runtime runtime
COPY server server
COPY bin bin
COPY bench bench
COPY samples samples
RUN npx tsc -p tsconfig.json && npm prune --omit=dev --omit=optional

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json config.yml ./
COPY models/tosia-cough-demo.onnx models/tosia-cough-demo.json models/
COPY samples samples
ENV NODE_ENV=production TOSIA_FFMPEG=/usr/bin/ffmpeg
RUN mkdir /data && chown node:node /data
USER node
# tini passes SIGTERM on, so `tosia worker` drains and `tosia serve` finishes what it holds
ENTRYPOINT ["tini", "--", "node", "/app/dist/bin/tosia.js"]
CMD ["--help"]
