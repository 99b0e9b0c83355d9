# Storyline service image, in two stages: a build stage with the development dependencies runs
# `npm run build`; the runtime stage has only the production dependencies (no tsx, no esbuild,
# no embedded PostgreSQL: set DATABASE_URL) and the built JavaScript.
#
# Build: docker build -t storyline .
# Run:   docker run --init -p 3000:3000 -e DATABASE_URL=postgres://... storyline
#        (--init gives a tiny init as PID 1 that forwards SIGTERM and reaps
#        children; docker-compose.yml sets `init: true` for the same effect.)

ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

# Dependencies first, so code edits do not invalidate this layer.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
    && npm cache clean --force

# The code stays owned by root: read-only for the service user. dist/ holds the compiled server
# (dist/src), its migrations (dist/migrations) and the browser assets (dist/assets).
COPY bin ./bin
COPY events ./events
COPY --from=build /build/dist ./dist

USER node
EXPOSE 3000

# The slim image has no curl: probe readiness (database reachable, migrations applied) with node.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node runs directly (no shell, no npm wrapper) and receives SIGTERM itself.
CMD ["node", "bin/storyline.js", "serve"]
