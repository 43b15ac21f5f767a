# Telemux: build with `docker build -t telemux .` (docker-compose.yml does it for you).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY config ./config
COPY scripts/telemux.sh ./scripts/telemux.sh
USER node
# 9091 Mixer gRPC (Report/Check), 42422 mesh metrics (/metrics), 15014 admin (self-metrics, health, /api/v1).
EXPOSE 9091 42422 15014
# The launcher picks the Node flags (and --single-threaded-gc when the container is pinned to one CPU).
ENTRYPOINT ["sh", "/app/scripts/telemux.sh"]
# In a container the admin port must listen beyond loopback to be scraped; set TELEMUX_ADMIN_TOKEN to
# protect its /api/v1 (config and stat), which the image's default command requires.
CMD ["serve", "--admin-address", "0.0.0.0:15014"]
