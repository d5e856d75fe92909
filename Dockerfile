# pophook image: the TypeScript sources run through tsx (a production dependency), so there is no build
# step; one stage installs production dependencies, the next copies them beside the sources and runs as
# the unprivileged `node` user. `demo` (used only by the compose demo profile) adds the demo POP3 server
# and receiver; the default target, `runtime`, is last so a plain `docker build .` gives the service image.

FROM node:22-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:22-slim AS base
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY schema ./schema
COPY src ./src
COPY workers ./workers
USER node

# Demo only: the test suite's fake POP3 server (no dev dependency) and the demo scripts, started with tsx.
FROM base AS demo
COPY test/helpers/fake-pop3-server.ts ./test/helpers/fake-pop3-server.ts
COPY deploy/demo ./deploy/demo
ENTRYPOINT ["node", "--import", "tsx"]

FROM base AS runtime
# /healthz of pophook's HTTP server when the config enables it and POPHOOK_HTTP_PORT names its port
# (docker-compose.yml sets both); without POPHOOK_HTTP_PORT there is nothing to ask, so a running
# container counts as healthy. fetch is built into Node 22: no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const p = process.env.POPHOOK_HTTP_PORT; if (!p) process.exit(0); fetch(`http://127.0.0.1:${p}/healthz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));"]
ENTRYPOINT ["node", "bin/pophook.js"]
CMD ["--help"]
