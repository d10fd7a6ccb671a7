# syntax=docker/dockerfile:1
# Three stages: the workflow bundle is built once here (not by every replica at start), and the runtime
# image holds production dependencies only, runs as `node`, and has the CA bundle the Temporal SDK needs
# for TLS to Temporal Cloud or a TLS-fronted cluster. Node: the minor release CI runs (.ci/run, NODE_VERSION).

# 1. Everything, to build the workflow bundle.
FROM node:22.23-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/build-workflows.ts ./scripts/build-workflows.ts
# --build-arg SEVSYNC_ENCRYPT_PAYLOADS=1 for a fleet that encrypts its workflow payloads (docs/temporal.md).
ARG SEVSYNC_ENCRYPT_PAYLOADS=0
RUN npx tsx scripts/build-workflows.ts /app/dist/workflow-bundle.js

# 2. Production dependencies only (patch-package applies patches/ on install: the postgres.js fix, the workflow stack-trace switch).
FROM node:22.23-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund \
  # Listed as a dependency for the dev server tooling; the worker and CLI never load it.
  && rm -rf node_modules/@temporalio/testing \
  && npm cache clean --force

# 3. The runtime.
FROM node:22.23-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
  SEVSYNC_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
  SEVSYNC_WORKER_HTTP_HOST=0.0.0.0 \
  SEVSYNC_WORKER_HTTP_PORT=9464
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY drizzle ./drizzle
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
USER node
EXPOSE 9464
ENTRYPOINT ["node", "bin/sevsync.cjs"]
CMD ["worker"]
