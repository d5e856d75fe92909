# pophook image. `builder` installs every dependency and bundles the TypeScript into dist/ with V8's code
# cache of the bundles (scripts/build.mjs, what npm's prepare script runs); `deps` installs production
# dependencies only (--ignore-scripts: prepare would need the dev dependencies); `base` puts those beside dist/, bin/ and schema/ and runs as the
# unprivileged `node` user: no TypeScript loader at run time. `demo` (used only by the compose demo profile)
# runs the demo POP3 server and receiver from their sources with tsx; the default target, `runtime`, is
# last so a plain `docker build .` gives the service image.

FROM node:24-slim AS builder
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY schema ./schema
COPY src ./src
COPY workers ./workers
# The build writes V8's code cache of the bundles under the bin's node flags (its first line), with the
# node of this image, the one the runtime stage runs.
COPY bin ./bin
RUN npm run build

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS base
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY schema ./schema
COPY --from=builder /app/dist ./dist
USER node

# Demo only: the test suite's fake POP3 server and the demo scripts, run from their sources through tsx (a
# dev dependency, so this stage builds on the builder's full install).
FROM builder AS demo
ENV NODE_ENV=production
COPY test/helpers/fake-pop3-server.ts ./test/helpers/fake-pop3-server.ts
COPY deploy/demo ./deploy/demo
USER node
ENTRYPOINT ["node", "--import", "tsx"]

FROM base AS runtime
# /healthz of pophook's HTTP server when the config enables it and POPHOOK_HTTP_PORT names its port
# (docker-compose.yml sets both); without POPHOOK_HTTP_PORT there is nothing to ask, so a running
# container counts as healthy. fetch is built into Node: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p = process.env.POPHOOK_HTTP_PORT; if (!p) process.exit(0); fetch(`http://127.0.0.1:${p}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
ENTRYPOINT ["/app/bin/pophook.js"]
CMD ["--help"]
