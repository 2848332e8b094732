# syntax=docker/dockerfile:1
# fapi-revocation-gateway: public API on 8080 (PORT), management on 9464 (MANAGEMENT_PORT).
# Pin the base image by digest in your registry mirror (node:24.21.0-bookworm-slim@sha256:…).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

# --- build: every dependency, compile TypeScript (src/ and migrations/) into dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

# --- runtime: production dependencies and the compiled dist/ only
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Only for a throwaway container without DATABASE_URL: the embedded database then lives in /tmp,
# the one writable place (a read-only root filesystem and uid 1000 own nothing under /app).
ENV DATA_DIR=/tmp/revgw-data
WORKDIR /app
COPY package.json package-lock.json ./
# npm's cache and its debug logs (~/.npm/_logs, which `npm cache clean` leaves) stay out of the image.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
  && rm -rf "$(npm config get cache)" package-lock.json
COPY --from=build /app/dist ./dist
# Files stay owned by root and read-only for the process; the root filesystem can be mounted
# read-only (only /tmp needs to be writable). uid 1000 is the image's `node` user.
USER 1000:1000
EXPOSE 8080 9464
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.MANAGEMENT_PORT || 9464}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
