# Trusty's container image (docs/container.md). Two stages: the build stage has the compilers the
# native addons (better-sqlite3, bcrypt) and TypeScript need; the runtime stage has only the
# bundles, the production node_modules and the files the server reads at run time.
# Node 24 is the current LTS; the major is pinned so a rebuild never changes it silently.

FROM node:24-bookworm-slim AS build
# python3, make and g++: node-gyp, for a native addon without a prebuilt binary for this platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The lock file alone first: the dependency layer is reused while only the sources change.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/ scripts/
COPY src/ src/
# dist/trusty.cjs (the entry), dist/trusty.mjs (the server), dist/trusty-cli.mjs (the CLI); then
# the dev dependencies (TypeScript, esbuild, vitest...) leave node_modules.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund
# Read at run time from the folder holding package.json (src/infrastructure/project-root.ts).
COPY bin/ bin/
COPY migrations/ migrations/
COPY templates/ templates/
COPY locales/ locales/
COPY public/ public/
# The demo configuration, so that `docker run` starts as is. It holds demo secrets: mount your
# own over /app/config.yaml (or set TRUSTY_CONFIG) rather than baking a real one into an image.
COPY config.yaml ./

FROM node:24-bookworm-slim
# tini: a tiny init as PID 1 that forwards SIGTERM to node and reaps zombies, so node is never
# PID 1 (which ignores signals it has no handler for and reaps nothing).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /data \
 && chown node:node /data \
 && chmod 0700 /data
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATABASE_PATH=/data/trusty.db
WORKDIR /app
# Owned by root, read-only to the server: the running user can write nothing but /data.
COPY --from=build /app/package.json ./
COPY --from=build /app/config.yaml ./
COPY --from=build /app/node_modules/ node_modules/
COPY --from=build /app/dist/trusty.cjs /app/dist/trusty.mjs /app/dist/trusty-cli.mjs dist/
COPY --from=build /app/bin/ bin/
COPY --from=build /app/migrations/ migrations/
COPY --from=build /app/templates/ templates/
COPY --from=build /app/locales/ locales/
COPY --from=build /app/public/ public/
# The database, and in it the signing keys (private keys included, sealed when TRUSTY_KEK is
# set: docs/keys.md). Keep TRUSTY_KEK in the environment, never on this volume.
VOLUME /data
USER node
EXPOSE 8081
# /health is 200 once migrated, keyed and seeded. fetch is built into node: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8081) + '/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["tini", "--"]
# node itself, not `npm start` (which builds first and puts npm between the signal and node);
# the same flags as `npm start`.
CMD ["node", "--max-semi-space-size=8", "dist/trusty.cjs"]
